package metatext

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

type tokKind uint8

const (
	tEOF tokKind = iota
	tLBrace
	tRBrace
	tLBrack
	tRBrack
	tComma
	tEq
	tString // quoted string ("..." or '...')
	tWord   // unquoted name or bare word
	tInt
	tFloat
)

var tokNames = [...]string{"end of input", "'{'", "'}'", "'['", "']'", "','", "'='", "string", "word", "integer", "float"}

func (k tokKind) String() string { return tokNames[k] }

type token struct {
	kind     tokKind
	text     string // decoded string, word, or number as written
	i        int64
	f        float64
	overflow bool
	off      int
	line     int
	col      int
}

// describe names the token for error messages.
func (t token) describe() string {
	switch t.kind {
	case tString, tWord, tInt, tFloat:
		s := t.text
		if len(s) > 40 {
			s = s[:40] + "..."
		}
		return fmt.Sprintf("%s %q", t.kind, s)
	}
	return t.kind.String()
}

// lexer splits the text into tokens. Which rules apply to a word depends
// on whether a value is expected, so the parser says so on every call.
type lexer struct {
	src       []byte
	pos       int
	line      int
	lineStart int // offset of the first byte of the current line
	depth     int // section depth, recorded with comments
	// suppressed counts anomalies beyond MaxAnomalies.
	suppressed int
	doc        *Document
}

func newLexer(src []byte, doc *Document) *lexer {
	if i := bytes.IndexByte(src, 0); i >= 0 {
		src = src[:i] // the text ends at the first NUL
	}
	return &lexer{src: src, line: 1, doc: doc}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// endsWord reports whether c ends a name or a bare word.
func endsWord(c byte) bool {
	return isSpace(c) || c == '#' || c == '=' || c == '{' || c == '}'
}

// endsNumber reports whether c may follow a number.
func endsNumber(c byte) bool {
	return endsWord(c) || c == ',' || c == ']' || c == '[' || c == '"' || c == '\''
}

func (lx *lexer) errAt(off int, format string, args ...any) *SyntaxError {
	line, col := lx.position(off)
	return &SyntaxError{Line: line, Col: col, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// position computes line and column of an offset at or after the start
// of the current line, or anywhere before it (slower, errors only).
func (lx *lexer) position(off int) (line, col int) {
	if off >= lx.lineStart {
		return lx.line, off - lx.lineStart + 1
	}
	line = 1 + bytes.Count(lx.src[:off], []byte{'\n'})
	start := bytes.LastIndexByte(lx.src[:off], '\n') + 1
	return line, off - start + 1
}

func (lx *lexer) anomaly(line int, format string, args ...any) {
	if len(lx.doc.Anomalies) >= MaxAnomalies {
		lx.suppressed++
		return
	}
	lx.doc.Anomalies = append(lx.doc.Anomalies, Anomaly{Line: line, Msg: fmt.Sprintf(format, args...)})
}

// skip passes over whitespace and comments, recording the comments.
func (lx *lexer) skip() {
	for lx.pos < len(lx.src) {
		c := lx.src[lx.pos]
		switch {
		case c == '\n':
			lx.pos++
			lx.line++
			lx.lineStart = lx.pos
		case isSpace(c):
			lx.pos++
		case c == '#':
			end := bytes.IndexByte(lx.src[lx.pos:], '\n')
			if end < 0 {
				end = len(lx.src)
			} else {
				end += lx.pos
			}
			lx.doc.Comments = append(lx.doc.Comments, Comment{
				Line:  lx.line,
				Depth: lx.depth,
				Text:  strings.TrimSpace(string(lx.src[lx.pos+1 : end])),
			})
			lx.pos = end
		default:
			return
		}
	}
}

// trailingComment returns the comment that follows on the current line,
// if only blanks come before it. It consumes nothing.
func (lx *lexer) trailingComment() string {
	for i := lx.pos; i < len(lx.src); i++ {
		switch c := lx.src[i]; {
		case c == '#':
			end := bytes.IndexByte(lx.src[i:], '\n')
			if end < 0 {
				end = len(lx.src) - i
			}
			return strings.TrimSpace(string(lx.src[i+1 : i+end]))
		case c == '\n' || !isSpace(c):
			return ""
		}
	}
	return ""
}

// next returns the next token. value says whether a value is expected,
// which makes a word starting with a digit, '+', '-' or '.' a number.
func (lx *lexer) next(value bool) (token, error) {
	lx.skip()
	t := token{off: lx.pos, line: lx.line, col: lx.pos - lx.lineStart + 1}
	if lx.pos >= len(lx.src) {
		t.kind = tEOF
		return t, nil
	}
	c := lx.src[lx.pos]
	switch c {
	case '{', '}', '[', ']', ',', '=':
		t.kind = punct(c)
		lx.pos++
		return t, nil
	case '"':
		return lx.doubleQuoted(t)
	case '\'':
		return lx.singleQuoted(t)
	}
	if value && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
		return lx.number(t)
	}
	end := lx.pos
	for end < len(lx.src) && !endsWord(lx.src[end]) {
		end++
	}
	t.kind = tWord
	t.text = string(lx.src[lx.pos:end])
	lx.pos = end
	return t, nil
}

func punct(c byte) tokKind {
	switch c {
	case '{':
		return tLBrace
	case '}':
		return tRBrace
	case '[':
		return tLBrack
	case ']':
		return tRBrack
	case ',':
		return tComma
	}
	return tEq
}

// advanceTo moves to end, counting the newlines passed.
func (lx *lexer) advanceTo(end int) {
	for {
		i := bytes.IndexByte(lx.src[lx.pos:end], '\n')
		if i < 0 {
			break
		}
		lx.pos += i + 1
		lx.line++
		lx.lineStart = lx.pos
	}
	lx.pos = end
}

// doubleQuoted scans "...": a backslash makes the next byte part of the
// string; only \" and \\ are decoded, other sequences are kept as written.
func (lx *lexer) doubleQuoted(t token) (token, error) {
	start := lx.pos + 1
	escaped := false
	i := start
	for ; i < len(lx.src); i++ {
		c := lx.src[i]
		if c == '\\' {
			escaped = true
			i++
			continue
		}
		if c == '"' {
			break
		}
	}
	if i >= len(lx.src) {
		return t, lx.errAt(t.off, "unterminated string")
	}
	raw := lx.src[start:i]
	t.kind = tString
	if escaped {
		t.text = unescape(raw)
	} else {
		t.text = string(raw)
	}
	lx.advanceTo(i + 1)
	return t, nil
}

func unescape(raw []byte) string {
	var b strings.Builder
	b.Grow(len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '\\' && i+1 < len(raw) {
			n := raw[i+1]
			if n != '"' && n != '\\' {
				b.WriteByte(c)
			}
			b.WriteByte(n)
			i++
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// singleQuoted scans '...' with no escapes at all.
func (lx *lexer) singleQuoted(t token) (token, error) {
	start := lx.pos + 1
	i := bytes.IndexByte(lx.src[start:], '\'')
	if i < 0 {
		return t, lx.errAt(t.off, "unterminated string")
	}
	t.kind = tString
	t.text = string(lx.src[start : start+i])
	lx.advanceTo(start + i + 1)
	return t, nil
}

// number scans a sign, digits and at most one '.'.
func (lx *lexer) number(t token) (token, error) {
	i := lx.pos
	if c := lx.src[i]; c == '+' || c == '-' {
		i++
	}
	digits, dots := 0, 0
	for ; i < len(lx.src); i++ {
		c := lx.src[i]
		if c >= '0' && c <= '9' {
			digits++
		} else if c == '.' {
			dots++
		} else {
			break
		}
	}
	text := string(lx.src[lx.pos:i])
	if i < len(lx.src) && !endsNumber(lx.src[i]) {
		end := i
		for end < len(lx.src) && !endsNumber(lx.src[end]) {
			end++
		}
		return t, lx.errAt(t.off, "malformed number %q", clip(string(lx.src[lx.pos:end])))
	}
	if digits == 0 || dots > 1 {
		return t, lx.errAt(t.off, "malformed number %q", clip(text))
	}
	t.text = text
	lx.pos = i
	if dots == 1 {
		t.kind = tFloat
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			// Only a range error is possible here; f is ±Inf.
			lx.anomaly(t.line, "float %s out of range", text)
		}
		t.f = f
		lx.anomaly(t.line, "float value %s (LVM never writes floats in metadata)", text)
		return t, nil
	}
	t.kind = tInt
	return t, lx.integer(&t)
}

// integer converts like C strtoll with base 0: a leading zero makes the
// number octal ("010" is 8) and then 8 or 9 is an error. Out-of-range
// values saturate and are flagged.
func (lx *lexer) integer(t *token) error {
	s := t.text
	sign := ""
	if s[0] == '+' || s[0] == '-' {
		sign, s = s[:1], s[1:]
	}
	base := 10
	if len(s) > 1 && s[0] == '0' {
		if j := strings.IndexAny(s, "89"); j >= 0 {
			return lx.errAt(t.off, "number %q has a leading zero, which makes it octal, but contains the digit %c", clip(t.text), s[j])
		}
		base = 8
		s = s[1:]
	}
	v, err := strconv.ParseInt(sign+s, base, 64)
	if err != nil {
		// Digits were checked, so this is a range error; v is saturated.
		t.overflow = true
		lx.anomaly(t.line, "integer %s does not fit in 64 bits", t.text)
	}
	if base == 8 {
		lx.anomaly(t.line, "integer %s has a leading zero: read as octal %d, as LVM (strtoll base 0) does", t.text, v)
	}
	t.i = v
	return nil
}
