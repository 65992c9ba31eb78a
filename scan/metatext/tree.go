package metatext

import (
	"bytes"
	"fmt"
	"hash/maphash"
	"iter"
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
//
// The elements of an array are not stored: they are read again from the
// text, one at a time, by [Value.All], so that an array costs nothing per
// element however long it is.
type Value struct {
	Kind  ValueKind
	Int   int64   // Kind == Int
	Float float64 // Kind == Float
	Str   string  // Kind == String, escapes decoded
	// Bare is set on a String written as an unquoted word.
	Bare bool
	// Overflow is set on an Int that did not fit in 64 bits; Int then
	// holds the saturated value (as C strtoll would return).
	Overflow bool
	// Line is where the value starts.
	Line int

	arr arrayRef
}

// arrayRef locates the elements of an array in the text.
type arrayRef struct {
	src  []byte
	off  int // just past the '['
	line int // line of the '['
	n    int
}

// Len returns the number of elements of an array (0 for a scalar).
func (v Value) Len() int { return v.arr.n }

// All returns the elements of an array in order, read from the text as
// they are asked for; nothing for a scalar.
func (v Value) All() iter.Seq2[int, Value] {
	return func(yield func(int, Value) bool) {
		if v.Kind != Array || v.arr.n == 0 {
			return
		}
		lx := relex(v.arr.src, v.arr.off, v.arr.line)
		for i := 0; i < v.arr.n; {
			t, err := lx.next(true)
			if err != nil || t.kind == tRBrack || t.kind == tEOF {
				return // cannot happen: the array was read once already
			}
			if t.kind == tComma {
				continue
			}
			if !yield(i, lx.scalar(t)) {
				return
			}
			i++
		}
	}
}

// Items returns the elements of an array as a slice (nil for a scalar or
// an empty array). It costs a Value per element: for arrays of unknown
// length, use All.
func (v Value) Items() []Value {
	if v.arr.n == 0 {
		return nil
	}
	out := make([]Value, 0, v.arr.n)
	for _, it := range v.All() {
		out = append(out, it)
	}
	return out
}

// scalar converts a scalar token that was read before.
func (lx *lexer) scalar(t token) Value {
	v := Value{Line: t.line}
	switch t.kind {
	case tInt:
		v.Kind = Int
		v.Int, v.Overflow, _, _ = parseInt(lx.raw(t))
	case tFloat:
		v.Kind, v.Float = Float, parseFloat(lx.raw(t))
	case tString:
		v.Kind, v.Str = String, lx.text(t)
	case tWord:
		v.Kind, v.Str, v.Bare = String, lx.text(t), true
	}
	return v
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
		out := make([]any, 0, v.Len())
		for _, it := range v.All() {
			out = append(out, it.Any())
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
		parts := make([]string, 0, v.Len())
		for _, it := range v.All() {
			parts = append(parts, it.String())
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return "<invalid>"
}

// brief renders a value for messages, bounded in length.
func brief(v Value) string {
	const max = 60
	if v.Kind == Array && v.Len() > 6 {
		var first Value
		for _, it := range v.All() {
			first = it
			break
		}
		return fmt.Sprintf("[%s, ... %d elements]", brief(first), v.Len())
	}
	if v.Kind == String && len(v.Str) > max {
		v.Str = v.Str[:max] + "..."
	}
	return v.String()
}

// rec is how a document stores a node: 24 bytes of offsets into the
// text, whatever the node holds. Names and values are read again from
// the text when asked for.
type rec struct {
	name   uint32 // offset of the name (past a quote) in the text (offBits) and its length if short; with fNameStr an index into Document.strs
	meta   uint32 // line of the name (lineBits) and flags
	parent uint32
	next   uint32 // next sibling; 0 for none (0 is the root)
	a, b   uint32 // section: first and last child (0: none); key: offset of the value, number of array elements
}

// lineBits holds the line of a MaxTextSize text.
const lineBits = 27

// offBits holds an offset into a MaxTextSize text; the bits above hold
// the length of a name shorter than 64 bytes (0: longer, found by
// scanning the text).
const offBits = 26

const (
	fSection = 1 << (lineBits + iota)
	fNameStr // the name is in Document.strs (it had escapes to decode)
	fQuoted  // the name was double-quoted
	fSingle  // the name was single-quoted
	fPath    // a section made by a path name ("a" of "a/b = 1"), without a brace of its own
)

func (r *rec) line() int           { return int(r.meta & (1<<lineBits - 1)) }
func (r *rec) is(flag uint32) bool { return r.meta&flag != 0 }

const slabBits = 14 // records per slab: 16384 (384 KiB)

// Node is a section or a key/value pair of the configuration tree. A
// *Node is a handle onto the document that holds it: two lookups of one
// node give two handles, compared with [Node.Same].
type Node struct {
	d *Document
	i uint32
}

// Document is a parsed configuration text. It refers to the text it was
// parsed from, which must not change while the document is in use.
type Document struct {
	// Root is an unnamed section holding the top-level items.
	Root *Node
	// Comments are the comments in file order: the first MaxComments at
	// the top level and the first MaxComments inside sections.
	Comments []Comment
	// OmittedComments counts the comments not listed.
	OmittedComments int
	// Anomalies are the lexical and structural oddities accepted.
	Anomalies []Anomaly

	src    []byte
	slabs  [][]rec
	n      uint32                // records in use
	strs   []string              // decoded names; strs[0] is the root's
	strOff []uint32              // where each of strs is in the text (past its quote)
	index  map[uint32]*nameIndex // child lookup of the sections with many children
	seed   maphash.Seed
}

func (d *Document) rec(i uint32) *rec { return &d.slabs[i>>slabBits][i&(1<<slabBits-1)] }

// newRec adds a record; the caller has checked MaxItems. The first slab
// starts at what the text can fill and doubles as needed (no *rec is held
// across a call), the others are full size.
func (d *Document) newRec() (uint32, *rec) {
	i := d.n
	switch {
	case len(d.slabs) == 0:
		d.slabs = append(d.slabs, make([]rec, min(1<<slabBits, len(d.src)/4+4)))
	case int(i>>slabBits) == len(d.slabs):
		d.slabs = append(d.slabs, make([]rec, 1<<slabBits))
	case i>>slabBits == 0 && int(i) == len(d.slabs[0]):
		grown := make([]rec, min(1<<slabBits, 2*len(d.slabs[0])))
		copy(grown, d.slabs[0])
		d.slabs[0] = grown
	}
	d.n++
	return i, d.rec(i)
}

func (d *Document) node(i uint32) *Node { return &Node{d: d, i: i} }

// nameBytes returns the name of record r without copying it: the text
// from its offset up to the end of the word or quoted string, or up to
// a '/' that separates path components.
func (d *Document) nameBytes(r *rec) []byte {
	if r.is(fNameStr) {
		return []byte(d.strs[r.name])
	}
	off := r.name & (1<<offBits - 1)
	if n := r.name >> offBits; n != 0 {
		return d.src[off : off+n]
	}
	src := d.src[off:]
	switch {
	case r.is(fQuoted):
		return src[:indexEither(src, '"', '/')]
	case r.is(fSingle):
		return src[:indexEither(src, '\'', '/')]
	}
	for i, c := range src {
		if c == '/' || endsWord(c) {
			return src[:i]
		}
	}
	return src
}

// indexEither is the index of the first x or y in b, or len(b).
func indexEither(b []byte, x, y byte) int {
	for i, c := range b {
		if c == x || c == y {
			return i
		}
	}
	return len(b)
}

// nameOff is the offset of the name in the text (past a quote).
func (d *Document) nameOff(r *rec) int {
	if r.is(fNameStr) {
		return int(d.strOff[r.name])
	}
	return int(r.name & (1<<offBits - 1))
}

func (n *Node) r() *rec { return n.d.rec(n.i) }

// Same reports whether n and m are the same node of the same document.
func (n *Node) Same(m *Node) bool {
	if n == nil || m == nil {
		return n == m
	}
	return n.d == m.d && n.i == m.i
}

// Name is the node's name (empty for the root).
func (n *Node) Name() string {
	r := n.r()
	if r.is(fNameStr) {
		return n.d.strs[r.name]
	}
	return string(n.d.nameBytes(r))
}

// Line is the line of the node's name.
func (n *Node) Line() int { return n.r().line() }

// Col is the byte column of the node's name in its line (of the quote
// of a quoted name, of the component for a path name such as "a/b").
func (n *Node) Col() int {
	if n.i == 0 {
		return 0
	}
	r := n.r()
	off := n.d.nameOff(r)
	if r.is(fQuoted|fSingle) && off > 0 && (n.d.src[off-1] == '"' || n.d.src[off-1] == '\'') {
		off--
	}
	return 1 + off - (bytes.LastIndexByte(n.d.src[:off], '\n') + 1)
}

// Kind is the kind of a key's value (0 for a section), known from the
// first bytes of the value.
func (n *Node) Kind() ValueKind {
	r := n.r()
	if r.is(fSection) {
		return 0
	}
	src := n.d.src[r.a:]
	switch c := src[0]; {
	case c == '[':
		return Array
	case c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.':
		for _, c := range src {
			switch {
			case c == '.':
				return Float
			case c >= '0' && c <= '9' || c == '+' || c == '-':
			default:
				return Int
			}
		}
		return Int
	}
	return String
}

// Section reports whether the node is a section (else a key).
func (n *Node) Section() bool { return n.r().is(fSection) }

// Children returns the items of a section in file order, duplicates
// included.
func (n *Node) Children() iter.Seq[*Node] {
	return func(yield func(*Node) bool) {
		if n == nil {
			return
		}
		r := n.r()
		if !r.is(fSection) {
			return
		}
		for i := r.a; i != 0; i = n.d.rec(i).next {
			if !yield(n.d.node(i)) {
				return
			}
		}
	}
}

// NumChildren counts the items of a section.
func (n *Node) NumChildren() int {
	k := 0
	for range n.Children() {
		k++
	}
	return k
}

// valueLine is the line where the value of key r starts.
func (d *Document) valueLine(r *rec) int {
	return r.line() + bytes.Count(d.src[d.nameOff(r):r.a], []byte{'\n'})
}

// Value returns the value of a key (the zero Value for a section).
func (n *Node) Value() Value {
	r := n.r()
	if r.is(fSection) {
		return Value{}
	}
	lx := relex(n.d.src, int(r.a), n.d.valueLine(r))
	t, err := lx.next(true)
	if err != nil {
		return Value{} // cannot happen: the value was read once already
	}
	if t.kind == tLBrack {
		return Value{Kind: Array, Line: t.line, arr: arrayRef{src: n.d.src, off: t.end, line: t.line, n: int(r.b)}}
	}
	return lx.scalar(t)
}

// Comment is the text of a comment that follows the value (or the
// opening brace of a section) on the same line, without the leading '#'
// and surrounding blanks. Empty if none.
func (n *Node) Comment() string {
	d := n.d
	r := n.r()
	if r.is(fSection) {
		if n.i == 0 || r.is(fPath) {
			return ""
		}
		// The brace follows the name: find the end of the name token.
		var end int
		off := d.nameOff(r)
		switch {
		case r.is(fNameStr):
			t, err := relex(d.src, off-1, r.line()).next(false)
			if err != nil {
				return ""
			}
			end = t.end
		case r.is(fQuoted):
			end = off + bytes.IndexByte(d.src[off:], '"') + 1
		case r.is(fSingle):
			end = off + bytes.IndexByte(d.src[off:], '\'') + 1
		default:
			end = off
			for end < len(d.src) && !endsWord(d.src[end]) {
				end++
			}
		}
		t, err := relex(d.src, end, r.line()).next(false)
		if err != nil || t.kind != tLBrace {
			return ""
		}
		return trailingComment(d.src, t.end)
	}
	lx := relex(d.src, int(r.a), r.line())
	t, err := lx.next(true)
	if err != nil {
		return ""
	}
	if t.kind == tLBrack {
		for t.kind != tRBrack && t.kind != tEOF && err == nil {
			t, err = lx.next(true)
		}
		if err != nil {
			return ""
		}
	}
	return trailingComment(d.src, t.end)
}

// Parent returns the enclosing section, nil for the document root.
func (n *Node) Parent() *Node {
	if n == nil || n.i == 0 {
		return nil
	}
	return n.d.node(n.r().parent)
}

// Path is the slash-separated path of the node from the document root
// (e.g. "vg/logical_volumes/root/segment1").
func (n *Node) Path() string { return n.path(false) }

// shortPath is Path with each component clipped, for messages.
func (n *Node) shortPath() string { return n.path(true) }

func (n *Node) path(short bool) string {
	var parts []string
	for i := n.i; i != 0; i = n.d.rec(i).parent {
		b := n.d.nameBytes(n.d.rec(i))
		if short {
			parts = append(parts, clipBytes(b))
		} else {
			parts = append(parts, string(b))
		}
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
	if i, ok := n.d.lookup(n.i, []byte(name)); ok {
		return n.d.node(i)
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

// indexFrom is the number of children from which a section gets a hash
// index; smaller sections are searched in order.
const indexFrom = 8

// nameIndex maps the names of a section's children to the first child of
// each name: open addressing, at most 3/4 full. A slot holds 32 bits of
// the name's hash, which also place it, and the record index + 1 (0:
// free), so that probes rarely touch a record and growing hashes nothing.
type nameIndex struct {
	slots []uint64
	n     int
}

// lookup returns the first child of section sec named name.
func (d *Document) lookup(sec uint32, name []byte) (uint32, bool) {
	r := d.rec(sec)
	if !r.is(fSection) {
		return 0, false
	}
	if ix := d.index[sec]; ix != nil {
		return d.find(ix, name, maphash.Bytes(d.seed, name))
	}
	for i := r.a; i != 0; i = d.rec(i).next {
		if bytes.Equal(d.nameBytes(d.rec(i)), name) {
			return i, true
		}
	}
	return 0, false
}

func (d *Document) find(ix *nameIndex, name []byte, h uint64) (uint32, bool) {
	if len(ix.slots) == 0 {
		return 0, false
	}
	h &= 1<<32 - 1
	mask := uint64(len(ix.slots) - 1)
	for p := h & mask; ; p = (p + 1) & mask {
		s := ix.slots[p]
		if s == 0 {
			return 0, false
		}
		if s>>32 == h && bytes.Equal(d.nameBytes(d.rec(uint32(s)-1)), name) {
			return uint32(s) - 1, true
		}
	}
}

// insert adds child to ix unless a child of its name is there already.
func (d *Document) insert(ix *nameIndex, child uint32) {
	name := d.nameBytes(d.rec(child))
	h := maphash.Bytes(d.seed, name)
	if _, ok := d.find(ix, name, h); !ok {
		d.place(ix, child, h)
	}
}

// place adds child, whose name (of hash h) is not in ix, growing ix as
// needed.
func (d *Document) place(ix *nameIndex, child uint32, h uint64) {
	if 4*(ix.n+1) > 3*len(ix.slots) {
		old := ix.slots
		ix.slots = make([]uint64, max(32, 2*len(old)))
		for _, s := range old {
			if s != 0 {
				ix.put(s)
			}
		}
	}
	ix.put((h&(1<<32-1))<<32 | uint64(child+1))
	ix.n++
}

func (ix *nameIndex) put(s uint64) {
	mask := uint64(len(ix.slots) - 1)
	p := s >> 32 & mask
	for ix.slots[p] != 0 {
		p = (p + 1) & mask
	}
	ix.slots[p] = s
}

// add appends child to section sec and returns the earlier child of the
// same name, if any.
func (d *Document) add(sec, child uint32) (first uint32, dup bool) {
	s, c := d.rec(sec), d.rec(child)
	c.parent = sec
	name := d.nameBytes(c)
	if ix := d.index[sec]; ix != nil {
		h := maphash.Bytes(d.seed, name)
		if first, dup = d.find(ix, name, h); !dup {
			d.place(ix, child, h)
		}
	} else {
		k := 0
		for i := s.a; i != 0; i = d.rec(i).next {
			if !dup && bytes.Equal(d.nameBytes(d.rec(i)), name) {
				first, dup = i, true
			}
			k++
		}
		if k+1 >= indexFrom {
			ix := &nameIndex{}
			for i := s.a; i != 0; i = d.rec(i).next {
				d.insert(ix, i)
			}
			d.insert(ix, child)
			if d.index == nil {
				d.index = map[uint32]*nameIndex{}
			}
			d.index[sec] = ix
		}
	}
	if s.a == 0 {
		s.a = child
	} else {
		d.rec(s.b).next = child
	}
	s.b = child
	return first, dup
}

// Comment is one comment of the text.
type Comment struct {
	Line  int
	Depth int    // section nesting depth where it appeared (0 = top level)
	Text  string // after '#', with surrounding blanks removed
}
