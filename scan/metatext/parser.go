package metatext

import (
	"fmt"
	"strings"
)

// MaxAnomalies caps the anomalies recorded in a document and, separately,
// the anomalies and the problems recorded for a VG; the rest are counted
// in a final "N more" entry.
const MaxAnomalies = 1000

// MaxDepth is the deepest section nesting accepted (path keys such as
// "a/b/c" count one level per component). LVM writes at most 5.
const MaxDepth = 64

// ParseTree parses text in LVM's configuration syntax into a document.
// The text ends at its first NUL byte. A *SyntaxError is returned for
// text that does not follow the syntax; nothing else is an error.
//
// Grammar (spec section 3):
//
//	document = { item } ;
//	item     = name ( "{" { item } "}" | "=" value ) ;
//	value    = scalar | "[" [ scalar { [ "," ] scalar } [ "," ] ] "]" ;
//
// A name (quoted or not) containing '/' creates nested sections: "a/b = 1"
// is "a { b = 1 }". Each intermediate name is looked up as usual (first
// item of that name); if that item is a section the key goes into it, so
// that lookups find the key, otherwise a new section is added.
func ParseTree(text []byte) (*Document, error) {
	doc := &Document{Root: &Node{Section: true}}
	p := &parser{doc: doc}
	p.lx = newLexer(text, doc)
	if err := p.items(doc.Root, 0, token{}); err != nil {
		return nil, err
	}
	if n := p.lx.suppressed; n > 0 {
		doc.Anomalies = append(doc.Anomalies, Anomaly{Msg: fmt.Sprintf("%d more anomalies not listed", n)})
	}
	return doc, nil
}

type parser struct {
	lx  *lexer
	doc *Document
}

// items parses the items of sec up to its closing brace (open is the
// opening brace token) or, for the root (open.kind == tEOF), to the end.
func (p *parser) items(sec *Node, depth int, open token) error {
	closing := open.kind == tLBrace
	for {
		t, err := p.lx.next(false)
		if err != nil {
			return err
		}
		switch t.kind {
		case tEOF:
			if closing {
				return p.lx.errAt(t.off, "unexpected end of input: section %q opened at line %d is not closed", clip(sec.Name), open.line)
			}
			return nil
		case tRBrace:
			if !closing {
				return p.lx.errAt(t.off, "unexpected '}' outside any section")
			}
			return nil
		case tString, tWord:
			if err := p.item(sec, depth, t); err != nil {
				return err
			}
		default:
			return p.lx.errAt(t.off, "expected a name, found %s", t.describe())
		}
	}
}

// item parses what follows a name: a section or "= value".
func (p *parser) item(sec *Node, depth int, name token) error {
	parts := strings.Split(name.text, "/")
	for _, part := range parts {
		if part == "" {
			if name.text == "" {
				return p.lx.errAt(name.off, "empty name")
			}
			return p.lx.errAt(name.off, "empty path component in name %q", clip(name.text))
		}
	}
	if depth+len(parts) > MaxDepth {
		return p.lx.errAt(name.off, "sections nested deeper than %d", MaxDepth)
	}
	if len(parts) > 1 {
		p.lx.anomaly(name.line, "key %q uses '/' to create nested sections (LVM never writes this)", clip(name.text))
	}
	// Find or create the intermediate sections of a path name.
	for _, part := range parts[:len(parts)-1] {
		next := sec.Get(part)
		if next == nil || !next.Section {
			next = &Node{Name: part, Line: name.line, Col: name.col, Section: true}
			p.add(sec, next)
		}
		sec = next
		depth++
	}
	n := &Node{Name: parts[len(parts)-1], Line: name.line, Col: name.col}
	t, err := p.lx.next(false)
	if err != nil {
		return err
	}
	switch t.kind {
	case tLBrace:
		n.Section = true
		n.Comment = p.lx.trailingComment()
		p.add(sec, n)
		p.lx.depth = depth + 1
		err = p.items(n, depth+1, t)
		p.lx.depth = depth
		return err
	case tEq:
		v, err := p.value()
		if err != nil {
			return err
		}
		n.Value = v
		n.Comment = p.lx.trailingComment()
		p.add(sec, n)
		return nil
	}
	return p.lx.errAt(t.off, "expected '=' or '{' after %q, found %s", clip(name.text), t.describe())
}

func (p *parser) add(sec, n *Node) {
	if first := sec.add(n); first != nil {
		what := "key"
		if n.Section {
			what = "section"
		}
		where := sec.shortPath()
		if where == "" {
			where = "top level"
		}
		p.lx.anomaly(n.Line, "duplicate %s %q in %s (first at line %d); lookups use the first", what, clip(n.Name), where, first.Line)
	}
}

// value parses a scalar or an array after '='.
func (p *parser) value() (Value, error) {
	t, err := p.lx.next(true)
	if err != nil {
		return Value{}, err
	}
	if t.kind == tLBrack {
		return p.array(t)
	}
	return p.scalar(t)
}

func (p *parser) scalar(t token) (Value, error) {
	v := Value{Line: t.line}
	switch t.kind {
	case tInt:
		v.Kind, v.Int, v.Overflow = Int, t.i, t.overflow
	case tFloat:
		v.Kind, v.Float = Float, t.f
	case tString:
		v.Kind, v.Str = String, t.text
	case tWord:
		v.Kind, v.Str, v.Bare = String, t.text, true
		p.lx.anomaly(t.line, "unquoted word %q used as a string value (LVM never writes this)", clip(t.text))
	case tLBrack:
		return v, p.lx.errAt(t.off, "nested arrays are not allowed")
	default:
		return v, p.lx.errAt(t.off, "expected a value, found %s", t.describe())
	}
	return v, nil
}

// array parses the elements after '['. Commas are optional between
// elements and one may trail; "[,]" and "[1,,2]" are errors.
func (p *parser) array(open token) (Value, error) {
	v := Value{Kind: Array, Line: open.line}
	afterItem := false // an element was just read, so a comma may follow
	for {
		t, err := p.lx.next(true)
		if err != nil {
			return v, err
		}
		switch t.kind {
		case tRBrack:
			return v, nil
		case tEOF:
			return v, p.lx.errAt(t.off, "unexpected end of input: array opened at line %d is not closed", open.line)
		case tComma:
			if !afterItem {
				return v, p.lx.errAt(t.off, "unexpected ',' in array")
			}
			afterItem = false
			continue
		}
		item, err := p.scalar(t)
		if err != nil {
			return v, err
		}
		v.Items = append(v.Items, item)
		afterItem = true
	}
}
