package metatext

import (
	"fmt"
	"strings"

	"github.com/lvminspect/lvminspect/model"
)

// builder converts a document into a model.VG, collecting anomalies and
// the problems that LVM would refuse.
type builder struct {
	vg       *model.VG
	problems []string
	pvs      map[string]*model.PV // by label
	lvNames  map[string]bool

	moreNotes, moreProblems int // beyond MaxAnomalies

	segments     int  // segment sections and thin pool messages read
	segmentsSaid bool // the MaxSegments problem was recorded

	// curLV is the LV being read: a problem found in it makes that LV
	// invalid (model.LV.Invalid), not the whole VG.
	curLV      *model.LV
	lvProblems map[*model.LV][]string
}

func where(n *Node) string {
	path := n.shortPath()
	if path == "" {
		path = "top level"
	}
	if n.Line() > 0 {
		return fmt.Sprintf("line %d: %s", n.Line(), path)
	}
	return path
}

// note records an anomaly about node n.
func (b *builder) note(n *Node, format string, args ...any) {
	if b.notesFull() {
		return
	}
	b.vg.Anomalies = append(b.vg.Anomalies, where(n)+": "+fmt.Sprintf(format, args...))
}

// notesFull reports whether no further anomaly would be listed, and then
// counts one: callers skip building a message nobody will see.
func (b *builder) notesFull() bool {
	if len(b.vg.Anomalies) >= MaxAnomalies {
		b.moreNotes++
		return true
	}
	return false
}

// problemsFull is notesFull for problems.
func (b *builder) problemsFull() bool {
	if len(b.problems) >= MaxAnomalies {
		b.moreProblems++
		b.moreNotes++
		return true
	}
	return false
}

// fail records a problem (something LVM would refuse) about node n. It
// is also recorded as an anomaly.
func (b *builder) fail(n *Node, format string, args ...any) {
	if lv := b.curLV; lv != nil {
		msg := where(n) + ": " + fmt.Sprintf(format, args...)
		if b.lvProblems == nil {
			b.lvProblems = map[*model.LV][]string{}
		}
		if len(b.lvProblems[lv]) < 8 {
			b.lvProblems[lv] = append(b.lvProblems[lv], msg)
		}
		b.note(n, "invalid LV %s: %s", clip(lv.Name), fmt.Sprintf(format, args...))
		return
	}
	b.failVG(n, format, args...)
}

// failVG records a problem that makes the whole VG's metadata invalid,
// wherever it is found (a limit of this reader).
func (b *builder) failVG(n *Node, format string, args ...any) {
	if b.problemsFull() {
		return
	}
	msg := where(n) + ": " + fmt.Sprintf(format, args...)
	b.problems = append(b.problems, msg)
	if len(b.vg.Anomalies) >= MaxAnomalies {
		b.moreNotes++
		return
	}
	b.vg.Anomalies = append(b.vg.Anomalies, "invalid: "+msg)
}

// finish appends the counts of unlisted anomalies and problems, and
// marks the LVs found invalid.
func (b *builder) finish() {
	for lv, ps := range b.lvProblems {
		lv.Invalid = strings.Join(ps, "; ")
	}
	if b.moreNotes > 0 {
		b.vg.Anomalies = append(b.vg.Anomalies, fmt.Sprintf("%d more anomalies not listed", b.moreNotes))
	}
	if b.moreProblems > 0 {
		b.problems = append(b.problems, fmt.Sprintf("%d more problems not listed", b.moreProblems))
	}
}

// sec reads the keys of one section.
type sec struct {
	b *builder
	n *Node
}

// value returns the key's node, or nil if it is absent (a problem if
// required) or is a section (always a problem).
func (s sec) value(key string, required bool) *Node {
	c := s.n.Get(key)
	if c == nil {
		if required {
			s.b.fail(s.n, "required key %q is missing", key)
		}
		return nil
	}
	if c.Section() {
		s.b.fail(c, "expected a value, found a section")
		return nil
	}
	return c
}

// get returns the key's value node without reporting anything; nil if
// absent or a section.
func (s sec) get(key string) *Node {
	if c := s.n.Get(key); c != nil && !c.Section() {
		return c
	}
	return nil
}

// section returns the named subsection, or nil.
func (s sec) section(key string, required bool) *Node {
	c := s.n.Get(key)
	if c == nil {
		if required {
			s.b.fail(s.n, "required section %q is missing", key)
		}
		return nil
	}
	if !c.Section() {
		s.b.fail(c, "expected a section, found a %s value", c.Value().Kind)
		return nil
	}
	return c
}

func (s sec) str(key string, required bool) string {
	c := s.value(key, required)
	if c == nil {
		return ""
	}
	v := c.Value()
	if v.Kind != String {
		s.b.fail(c, "expected a string, found %s %s", v.Kind, brief(v))
		return ""
	}
	return v.Str
}

// words reads an array of strings. Present but empty gives a non-nil
// empty slice; absent gives nil.
func (s sec) words(key string, required bool) []string {
	c := s.value(key, required)
	if c == nil {
		return nil
	}
	v := c.Value()
	if v.Kind != Array {
		s.b.fail(c, "expected an array of strings, found %s %s", v.Kind, brief(v))
		return nil
	}
	s.b.tooLong(c, v)
	out := make([]string, 0, min(v.Len(), MaxArrayItems))
	var bad Value
	nbad := 0
	for i, it := range v.All() {
		if i == MaxArrayItems {
			break
		}
		if it.Kind != String {
			if nbad == 0 {
				bad = it
			}
			nbad++
			continue
		}
		out = append(out, it.Str)
	}
	switch {
	case nbad == 1:
		s.b.fail(c, "expected an array of strings, found element %s %s", bad.Kind, brief(bad))
	case nbad > 1:
		s.b.fail(c, "expected an array of strings, found element %s %s (and %d more elements that are not strings)", bad.Kind, brief(bad), nbad-1)
	}
	return out
}

// i64 reads a signed integer; ok is false if absent or wrong.
func (s sec) i64(key string, required bool) (v int64, ok bool) {
	c := s.value(key, required)
	if c == nil {
		return 0, false
	}
	val := c.Value()
	if val.Kind != Int {
		s.b.fail(c, "expected an integer, found %s %s", val.Kind, brief(val))
		return 0, false
	}
	if val.Overflow {
		s.b.fail(c, "integer out of the 64-bit range")
		return 0, false
	}
	return val.Int, true
}

// u64 reads a non-negative integer; a negative value is a problem.
func (s sec) u64(key string, required bool) (v uint64, ok bool) {
	i, ok := s.i64(key, required)
	if !ok {
		return 0, false
	}
	if i < 0 {
		s.b.fail(s.get(key), "negative value %d where a non-negative number is expected", i)
		return 0, false
	}
	return uint64(i), true
}

func (s sec) u64v(key string, required bool) uint64 {
	v, _ := s.u64(key, required)
	return v
}

func (s sec) i64v(key string, required bool) int64 {
	v, _ := s.i64(key, required)
	return v
}

func (s sec) i64p(key string) *int64 {
	if v, ok := s.i64(key, false); ok {
		return &v
	}
	return nil
}

func (s sec) u64p(key string) *uint64 {
	if v, ok := s.u64(key, false); ok {
		return &v
	}
	return nil
}

// subsections returns the node's children that are sections.
func (s sec) subsections() []*Node {
	var out []*Node
	for c := range s.n.Children() {
		if c.Section() {
			out = append(out, c)
		}
	}
	return out
}

// unknownKeys notes every child whose name is not in known.
func (s sec) unknownKeys(known map[string]bool) {
	for c := range s.n.Children() {
		if !s.b.known(c, known) {
			s.b.note(c, "unknown key %q", clip(c.Name()))
		}
	}
}

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// known reports whether the name of c is in the set, without copying
// it; when it is not and no further anomaly would be listed, it counts
// the note and reports true, so that the caller builds no message.
func (b *builder) known(c *Node, set map[string]bool) bool {
	if set[string(c.d.nameBytes(c.r()))] {
		return true
	}
	return b.notesFull()
}

// tooLong notes an array longer than MaxArrayItems.
func (b *builder) tooLong(n *Node, v Value) {
	if v.Len() <= MaxArrayItems {
		return
	}
	b.note(n, "array of %d elements: only the first %d are read (a limit of this reader)", v.Len(), MaxArrayItems)
}

// params converts a section's items into verbatim model parameters: at
// most MaxParams of them, arrays cut at MaxArrayItems elements.
func (b *builder) params(n *Node) []model.Param {
	out := make([]model.Param, 0, min(n.NumChildren(), MaxParams))
	for c := range n.Children() {
		if len(out) == MaxParams {
			b.note(n, "section of %d items: only the first %d are kept verbatim (a limit of this reader)", n.NumChildren(), MaxParams)
			break
		}
		if c.Section() {
			out = append(out, model.Param{Key: c.Name(), Value: b.params(c)})
			continue
		}
		v := c.Value()
		if v.Kind != Array {
			out = append(out, model.Param{Key: c.Name(), Value: v.Any()})
			continue
		}
		b.tooLong(c, v)
		items := make([]any, 0, min(v.Len(), MaxArrayItems))
		for i, it := range v.All() {
			if i == MaxArrayItems {
				break
			}
			items = append(items, it.Any())
		}
		out = append(out, model.Param{Key: c.Name(), Value: items})
	}
	return out
}

// paramsExcept is params without the keys in skip.
func (b *builder) paramsExcept(n *Node, skip map[string]bool) []model.Param {
	var out []model.Param
	for _, p := range b.params(n) {
		if !skip[p.Key] {
			out = append(out, p)
		}
	}
	return out
}
