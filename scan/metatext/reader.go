package metatext

import (
	"fmt"

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
}

func where(n *Node) string {
	path := n.shortPath()
	if path == "" {
		path = "top level"
	}
	if n.Line > 0 {
		return fmt.Sprintf("line %d: %s", n.Line, path)
	}
	return path
}

// note records an anomaly about node n.
func (b *builder) note(n *Node, format string, args ...any) {
	if len(b.vg.Anomalies) >= MaxAnomalies {
		b.moreNotes++
		return
	}
	b.vg.Anomalies = append(b.vg.Anomalies, where(n)+": "+fmt.Sprintf(format, args...))
}

// fail records a problem (something LVM would refuse) about node n. It
// is also recorded as an anomaly.
func (b *builder) fail(n *Node, format string, args ...any) {
	if len(b.problems) >= MaxAnomalies {
		b.moreProblems++
		b.moreNotes++
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

// finish appends the counts of unlisted anomalies and problems.
func (b *builder) finish() {
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
	if c.Section {
		s.b.fail(c, "expected a value, found a section")
		return nil
	}
	return c
}

// get returns the key's value node without reporting anything; nil if
// absent or a section.
func (s sec) get(key string) *Node {
	if c := s.n.Get(key); c != nil && !c.Section {
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
	if !c.Section {
		s.b.fail(c, "expected a section, found a %s value", c.Value.Kind)
		return nil
	}
	return c
}

func (s sec) str(key string, required bool) string {
	c := s.value(key, required)
	if c == nil {
		return ""
	}
	if c.Value.Kind != String {
		s.b.fail(c, "expected a string, found %s %s", c.Value.Kind, brief(c.Value))
		return ""
	}
	return c.Value.Str
}

// words reads an array of strings. Present but empty gives a non-nil
// empty slice; absent gives nil.
func (s sec) words(key string, required bool) []string {
	c := s.value(key, required)
	if c == nil {
		return nil
	}
	if c.Value.Kind != Array {
		s.b.fail(c, "expected an array of strings, found %s %s", c.Value.Kind, brief(c.Value))
		return nil
	}
	out := make([]string, 0, len(c.Value.Items))
	for _, it := range c.Value.Items {
		if it.Kind != String {
			s.b.fail(c, "expected an array of strings, found element %s %s", it.Kind, brief(it))
			continue
		}
		out = append(out, it.Str)
	}
	return out
}

// i64 reads a signed integer; ok is false if absent or wrong.
func (s sec) i64(key string, required bool) (v int64, ok bool) {
	c := s.value(key, required)
	if c == nil {
		return 0, false
	}
	if c.Value.Kind != Int {
		s.b.fail(c, "expected an integer, found %s %s", c.Value.Kind, brief(c.Value))
		return 0, false
	}
	if c.Value.Overflow {
		s.b.fail(c, "integer out of the 64-bit range")
		return 0, false
	}
	return c.Value.Int, true
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
	for _, c := range s.n.Children {
		if c.Section {
			out = append(out, c)
		}
	}
	return out
}

// unknownKeys notes every child whose name is not in known.
func (s sec) unknownKeys(known map[string]bool) {
	for _, c := range s.n.Children {
		if !known[c.Name] {
			s.b.note(c, "unknown key %q", clip(c.Name))
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

// params converts a section's items into verbatim model parameters.
func params(n *Node) []model.Param {
	out := make([]model.Param, 0, len(n.Children))
	for _, c := range n.Children {
		if c.Section {
			out = append(out, model.Param{Key: c.Name, Value: params(c)})
		} else {
			out = append(out, model.Param{Key: c.Name, Value: c.Value.Any()})
		}
	}
	return out
}

// paramsExcept is params without the keys in skip.
func paramsExcept(n *Node, skip map[string]bool) []model.Param {
	var out []model.Param
	for _, p := range params(n) {
		if !skip[p.Key] {
			out = append(out, p)
		}
	}
	return out
}
