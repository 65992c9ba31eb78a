package metatext

import (
	"bytes"
	"fmt"
	"math"
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

// token is a token as a byte range of the source: nothing is copied
// until a caller asks for the text.
type token struct {
	kind    tokKind
	off     int  // first byte (the quote of a string)
	end     int  // just past the last byte (the closing quote)
	escaped bool // a double-quoted string holding a backslash
	line    int
	col     int
}

// lexer splits the text into tokens. Which rules apply to a word depends
// on whether a value is expected, so the parser says so on every call.
//
// The same lexer re-reads values of a parsed document on demand (quiet):
// it then records neither comments nor anomalies.
type lexer struct {
	src       []byte
	pos       int
	line      int
	lineStart int // offset of the first byte of the current line
	depth     int // section depth, recorded with comments
	quiet     bool
	top       int // top-level comments kept
	nested    int // comments kept inside sections
	// suppressed counts anomalies beyond MaxAnomalies.
	suppressed int
	doc        *Document
}

func newLexer(src []byte, doc *Document) *lexer {
	return &lexer{src: src, line: 1, doc: doc}
}

// relex returns a quiet lexer positioned at off, which is on line line.
func relex(src []byte, off, line int) *lexer {
	return &lexer{src: src, pos: off, line: line, lineStart: off, quiet: true}
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
	if lx.quiet {
		return
	}
	if len(lx.doc.Anomalies) >= MaxAnomalies {
		lx.suppressed++
		return
	}
	lx.doc.Anomalies = append(lx.doc.Anomalies, Anomaly{Line: line, Msg: fmt.Sprintf(format, args...)})
}

// skip passes over whitespace and comments, recording the first
// MaxComments comments of the top level and the first MaxComments inside
// sections, and counting the others.
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
			if !lx.quiet {
				kept := &lx.nested
				if lx.depth == 0 {
					kept = &lx.top
				}
				if *kept < MaxComments {
					*kept++
					lx.doc.Comments = append(lx.doc.Comments, Comment{
						Line:  lx.line,
						Depth: lx.depth,
						Text:  strings.TrimSpace(string(lx.src[lx.pos+1 : end])),
					})
				} else {
					lx.doc.OmittedComments++
				}
			}
			lx.pos = end
		default:
			return
		}
	}
}

// trailingComment returns the comment that follows offset pos on its
// line, if only blanks come before it.
func trailingComment(src []byte, pos int) string {
	for i := pos; i < len(src); i++ {
		switch c := src[i]; {
		case c == '#':
			end := bytes.IndexByte(src[i:], '\n')
			if end < 0 {
				end = len(src) - i
			}
			return strings.TrimSpace(string(src[i+1 : i+end]))
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
		t.kind, t.end = tEOF, lx.pos
		return t, nil
	}
	c := lx.src[lx.pos]
	switch c {
	case '{', '}', '[', ']', ',', '=':
		t.kind = punct(c)
		lx.pos++
		t.end = lx.pos
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
	t.kind, t.end = tWord, end
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
	i := lx.pos + 1
	for ; i < len(lx.src); i++ {
		c := lx.src[i]
		if c == '\\' {
			t.escaped = true
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
	t.kind, t.end = tString, i+1
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
	t.kind, t.end = tString, start+i+1
	lx.advanceTo(start + i + 1)
	return t, nil
}

// raw returns the bytes of a token: the content of a string without its
// quotes (escapes not decoded), the word or number as written.
func (lx *lexer) raw(t token) []byte {
	if t.kind == tString {
		return lx.src[t.off+1 : t.end-1]
	}
	return lx.src[t.off:t.end]
}

// text returns the decoded text of a string, word or number token.
func (lx *lexer) text(t token) string {
	if t.escaped {
		return unescape(lx.raw(t))
	}
	return string(lx.raw(t))
}

// describe names the token for error messages.
func (lx *lexer) describe(t token) string {
	switch t.kind {
	case tString, tWord, tInt, tFloat:
		b := lx.raw(t)
		if len(b) > 80 {
			b = b[:80] // enough for the 40 characters shown once decoded
		}
		s := string(b)
		if t.escaped {
			s = unescape(b)
		}
		if len(s) > 40 {
			s = s[:40] + "..."
		}
		return fmt.Sprintf("%s %q", t.kind, s)
	}
	return t.kind.String()
}

// clipBytes is clip for a name or text still in the source.
func clipBytes(b []byte) string {
	const max = 64
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
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
	if i < len(lx.src) && !endsNumber(lx.src[i]) {
		end := i
		for end < len(lx.src) && !endsNumber(lx.src[end]) {
			end++
		}
		return t, lx.errAt(t.off, "malformed number %q", clipBytes(lx.src[lx.pos:end]))
	}
	text := lx.src[lx.pos:i]
	if digits == 0 || dots > 1 {
		return t, lx.errAt(t.off, "malformed number %q", clipBytes(text))
	}
	t.end = i
	lx.pos = i
	if dots == 1 {
		t.kind = tFloat
		if !lx.quiet {
			if floatOverflows(text) {
				// Only a range error is possible here; the value is ±Inf.
				lx.anomaly(t.line, "float %s out of range", text)
			}
			lx.anomaly(t.line, "float value %s (LVM never writes floats in metadata)", text)
		}
		return t, nil
	}
	t.kind = tInt
	v, overflow, octal, bad := parseInt(text)
	if bad != 0 {
		return t, lx.errAt(t.off, "number %q has a leading zero, which makes it octal, but contains the digit %c", clipBytes(text), bad)
	}
	if overflow {
		lx.anomaly(t.line, "integer %s does not fit in 64 bits", text)
	}
	if octal {
		lx.anomaly(t.line, "integer %s has a leading zero: read as octal %d, as LVM (strtoll base 0) does", text, v)
	}
	return t, nil
}

func floatOverflows(text []byte) bool {
	_, err := strconv.ParseFloat(string(text), 64)
	return err != nil
}

// parseFloat converts a float token.
func parseFloat(text []byte) float64 {
	f, _ := strconv.ParseFloat(string(text), 64)
	return f
}

// parseInt converts like C strtoll with base 0: a leading zero makes the
// number octal ("010" is 8); bad is then an 8 or 9 found among the
// digits. Out-of-range values saturate and set overflow. text is an
// optional sign and at least one digit.
func parseInt(text []byte) (v int64, overflow, octal bool, bad byte) {
	s := text
	neg := false
	if s[0] == '+' || s[0] == '-' {
		neg = s[0] == '-'
		s = s[1:]
	}
	base := uint64(10)
	if len(s) > 1 && s[0] == '0' {
		if j := bytes.IndexAny(s, "89"); j >= 0 {
			return 0, false, true, s[j]
		}
		base, octal = 8, true
		s = s[1:]
	}
	// Accumulate the magnitude; the limit is 2^63 for a negative number.
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	var u uint64
	for _, c := range s {
		d := uint64(c - '0')
		if u > (limit-d)/base {
			overflow = true
			u = limit
			break
		}
		u = u*base + d
	}
	if neg {
		return int64(-u), overflow, octal, 0 //nolint:gosec // -2^63 wraps to itself
	}
	return int64(u), overflow, octal, 0
}
