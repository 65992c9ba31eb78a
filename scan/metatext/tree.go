package metatext

import (
	"fmt"
	"strconv"
	"strings"
)

// ValueKind is the type of a scalar or array value.
type ValueKind uint8

// Kinds of values.
const (
	Int    ValueKind = iota + 1 // signed 64-bit integer
	Float                       // float64 (never written by LVM)
	String                      // quoted string or bare word
	Array                       // list of scalars, possibly of mixed kinds
)

var kindNames = [...]string{"", "integer", "float", "string", "array"}

func (k ValueKind) String() string {
	if int(k) < len(kindNames) && k != 0 {
		return kindNames[k]
	}
	return "invalid"
}

// Value is the value of a key: a scalar or an array of scalars.
type Value struct {
	Kind  ValueKind
	Int   int64   // Kind == Int
	Float float64 // Kind == Float
	Str   string  // Kind == String, escapes decoded
	Items []Value // Kind == Array; nil for an empty array
	// Bare is set on a String written as an unquoted word.
	Bare bool
	// Overflow is set on an Int that did not fit in 64 bits; Int then
	// holds the saturated value (as C strtoll would return).
	Overflow bool
	// Line is where the value starts.
	Line int
}

// Any converts the value into plain Go values: int64, float64, string or
// []any (with the same element types).
func (v Value) Any() any {
	switch v.Kind {
	case Int:
		return v.Int
	case Float:
		return v.Float
	case String:
		return v.Str
	case Array:
		out := make([]any, len(v.Items))
		for i, it := range v.Items {
			out[i] = it.Any()
		}
		return out
	}
	return nil
}

// String renders the value in config syntax (for messages).
func (v Value) String() string {
	switch v.Kind {
	case Int:
		return strconv.FormatInt(v.Int, 10)
	case Float:
		return strconv.FormatFloat(v.Float, 'g', -1, 64)
	case String:
		return strconv.Quote(v.Str)
	case Array:
		parts := make([]string, len(v.Items))
		for i, it := range v.Items {
			parts[i] = it.String()
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return "<invalid>"
}

// brief renders a value for messages, bounded in length.
func brief(v Value) string {
	const max = 60
	if v.Kind == Array && len(v.Items) > 6 {
		return fmt.Sprintf("[%s, ... %d elements]", brief(v.Items[0]), len(v.Items))
	}
	if v.Kind == String && len(v.Str) > max {
		v.Str = v.Str[:max] + "..."
	}
	return v.String()
}

// Node is a section or a key/value pair of the configuration tree.
type Node struct {
	Name    string
	Line    int // line of the name
	Col     int // column of the name
	Section bool
	// Children are the items of a section in file order, duplicates
	// included.
	Children []*Node
	// Value is the value of a key (Section == false).
	Value Value
	// Comment is the text of a comment that follows the value (or the
	// opening brace of a section) on the same line, without the leading
	// '#' and surrounding blanks. Empty if none.
	Comment string

	parent *Node
	index  map[string]int // first child index by name
}

// Parent returns the enclosing section, nil for the document root.
func (n *Node) Parent() *Node { return n.parent }

// Path is the slash-separated path of the node from the document root
// (e.g. "vg/logical_volumes/root/segment1").
func (n *Node) Path() string {
	if n.parent == nil {
		return n.Name
	}
	var parts []string
	for p := n; p != nil && p.parent != nil; p = p.parent {
		parts = append(parts, p.Name)
	}
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return strings.Join(parts, "/")
}

// shortPath is Path with each component clipped, for messages.
func (n *Node) shortPath() string {
	var parts []string
	for p := n; p != nil && p.parent != nil; p = p.parent {
		parts = append(parts, clip(p.Name))
	}
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return strings.Join(parts, "/")
}

// Get returns the first child with the given name (as LVM's lookups do),
// or nil.
func (n *Node) Get(name string) *Node {
	if n == nil {
		return nil
	}
	if n.index != nil {
		if i, ok := n.index[name]; ok {
			return n.Children[i]
		}
		return nil
	}
	for _, c := range n.Children {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Lookup follows a slash-separated path of names from n, taking the first
// match at every level.
func (n *Node) Lookup(path string) *Node {
	cur := n
	for _, part := range strings.Split(path, "/") {
		cur = cur.Get(part)
		if cur == nil {
			return nil
		}
	}
	return cur
}

// add appends child to the section n and reports the earlier child of
// the same name, if any.
func (n *Node) add(child *Node) (first *Node) {
	child.parent = n
	if n.index == nil {
		n.index = make(map[string]int)
	}
	if i, ok := n.index[child.Name]; ok {
		first = n.Children[i]
	} else {
		n.index[child.Name] = len(n.Children)
	}
	n.Children = append(n.Children, child)
	return first
}

// Comment is one comment of the text.
type Comment struct {
	Line  int
	Depth int    // section nesting depth where it appeared (0 = top level)
	Text  string // after '#', with surrounding blanks removed
}

// Document is a parsed configuration text.
type Document struct {
	// Root is an unnamed section holding the top-level items.
	Root *Node
	// Comments are all comments in file order.
	Comments []Comment
	// Anomalies are the lexical and structural oddities accepted.
	Anomalies []Anomaly
}
