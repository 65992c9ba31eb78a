package ui

import (
	"fmt"
	"strings"

	"github.com/lvminspect/lvminspect/internal/format"
	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/md"
)

// The md layer in the tree: each array the scan assembled is a root after
// the inputs given, with a row per member (by role) and per missing
// role, then what the array holds, as for any disk. A device that is a
// member (an input, a partition, a container's disk, what an LV holds)
// has a row saying which array it belongs to, which opens its superblock
// in the hex view, and one for its write-intent bitmap when it has one.

// mdRef is where a member's superblock is used: its array and its index
// in the array's members.
type mdRef struct {
	arr *scan.Node
	i   int
}

// mdIndex finds, for every superblock of a member of an array, the array
// and the member.
func mdIndex(res *scan.Result) map[*md.Superblock]mdRef {
	out := map[*md.Superblock]mdRef{}
	for _, a := range res.MDNodes {
		if a.Array == nil {
			continue
		}
		for i, m := range a.Array.Members {
			if m.SB != nil {
				out[m.SB] = mdRef{a, i}
			}
		}
	}
	return out
}

// mdNode is an array: its members, the roles no member holds, then what
// it holds (when it could be read).
func (c *treeCtx) mdNode(a *scan.Node) *node {
	in := c.mdInputs[a]
	if in != nil {
		c.placed[in] = true
	}
	n := &node{kind: kMD, name: mdName(a), dev: a, arr: a, in: in, member: -1, expanded: true, damaged: mdDamaged(a, in)}
	if arr := a.Array; arr != nil {
		for i := range arr.Members {
			m := &arr.Members[i]
			n.children = append(n.children, &node{kind: kMDMember, name: memberRowName(m), arr: a, member: i,
				dev: c.devs[m.Device], damaged: memberBad(m.State)})
		}
		for _, r := range arr.MissingRoles {
			n.children = append(n.children, &node{kind: kMDMissing, name: fmt.Sprintf("role %d", r), arr: a, member: -1,
				role: r, damaged: true})
		}
	}
	n.children = append(n.children, c.luksRows(a)...) // the array holds a LUKS header
	if in != nil {
		n.children = append(n.children, c.contentChildren(in)...)
	}
	return n
}

// mdRows are the rows of a member device: which array it is of (its
// superblock) and its write-intent bitmap.
func (c *treeCtx) mdRows(d *scan.Node) []*node {
	if d == nil || d.MD == nil {
		return nil
	}
	ref, ok := c.mdOf[d.MD]
	if !ok {
		ref.i = -1
	}
	out := []*node{{kind: kMDSuper, name: memberOfText(ref), dev: d, arr: ref.arr, member: ref.i, damaged: !sbCheck(d).OK}}
	if _, ok := mdStructure(d, "md_bitmap"); ok {
		out = append(out, &node{kind: kMDBitmap, name: "md write-intent bitmap", dev: d, arr: ref.arr, member: ref.i})
	}
	return out
}

// mdName is how the tree names an array: its id without "md:" (md0, or
// the UUID when two arrays share a name).
func mdName(a *scan.Node) string { return strings.TrimPrefix(a.ID, "md:") }

// mdDamaged: the array is not read (refused, or its members could not be
// put together) or has an error-level problem.
func mdDamaged(a *scan.Node, in *scan.InputResult) bool {
	if a.Device() == nil || (a.Array != nil && a.Array.Refused != "") {
		return true
	}
	for _, p := range mdProblems(a, in) {
		if p.Severity == scan.SevError {
			return true
		}
	}
	return false
}

// mdProblems are an array's problems: its input's, which begin with the
// array's own, when it was read.
func mdProblems(a *scan.Node, in *scan.InputResult) []scan.Problem {
	if in != nil {
		return in.Problems
	}
	return a.Problems
}

// mdState is the array's state as scan --json says it: clean, active
// (written to when last seen) or refused (not read).
func mdState(a *scan.Node) string {
	switch {
	case a.Array == nil || a.Array.Refused != "" || a.Device() == nil:
		return "refused"
	case a.Array.Clean:
		return "clean"
	}
	return "active"
}

// mdBadge is an array's row: level, layout, size, and what is wrong.
func mdBadge(n *node) string {
	a := n.arr.Array
	if a == nil {
		return "✗ no array" + damagedWord(n)
	}
	parts := []string{a.Level, a.Layout}
	if n.arr.Device() != nil {
		parts = append(parts, format.Size(n.arr.Size))
	}
	switch {
	case mdState(n.arr) == "refused":
		parts = append(parts, "✗ NOT READ")
	case a.Degraded:
		parts = append(parts, "degraded")
	}
	s := joinNonEmpty(" ", parts...)
	if n.damaged || serious(mdProblems(n.arr, n.in)) {
		s += " !"
	}
	return s
}

// roleText names a member's role: "role 2", or its state for a member
// without one (spare, faulty, journal), as scan names it.
func roleText(m *md.ArrayMember) string {
	if m.Role >= 0 {
		return fmt.Sprintf("role %d", m.Role)
	}
	return m.State
}

// memberRowName is an array's member row: its role and its device.
func memberRowName(m *md.ArrayMember) string {
	return joinNonEmpty(" ", roleText(m), m.Device)
}

// memberBad reports the states of a member that is not used because
// something is wrong with it.
func memberBad(state string) bool {
	switch state {
	case md.StateFaulty, md.StateStale, md.StateDuplicate, md.StateConflict, md.StateInvalid, md.StateOutside:
		return true
	}
	return false
}

// memberOfText says which array a member device belongs to and its role,
// as scan's tree does.
func memberOfText(ref mdRef) string {
	if ref.arr == nil || ref.arr.Array == nil || ref.i < 0 || ref.i >= len(ref.arr.Array.Members) {
		return "md member (no array assembled)"
	}
	m := &ref.arr.Array.Members[ref.i]
	if m.Role >= 0 {
		return fmt.Sprintf("member of %s, role %d", ref.arr.ID, m.Role)
	}
	return fmt.Sprintf("member of %s, %s", ref.arr.ID, m.State)
}

// arrayMember is the member a row stands for, if any.
func (n *node) arrayMember() *md.ArrayMember {
	if n.arr == nil || n.arr.Array == nil || n.member < 0 || n.member >= len(n.arr.Array.Members) {
		return nil
	}
	return &n.arr.Array.Members[n.member]
}

// isMDStructure reports a structure the md layer put on a member device
// (its superblock, its bitmap's header): its offsets are in the member,
// not in a container's file.
func isMDStructure(st model.Structure) bool {
	return strings.HasPrefix(st.Name, "md_superblock") || st.Name == "md_bitmap"
}

// mdStructure is a member device's structure whose name starts with
// prefix.
func mdStructure(d *scan.Node, prefix string) (model.Structure, bool) {
	for _, st := range d.Structures {
		if isMDStructure(st) && strings.HasPrefix(st.Name, prefix) {
			return st, true
		}
	}
	return model.Structure{}, false
}

// mdFields are the fields of a member device's md structures, offsets
// from the member's start plus shift.
func mdFields(d *scan.Node, shift int64) []model.Field {
	if d == nil || d.MD == nil {
		return nil
	}
	var out []model.Field
	for _, st := range d.Structures {
		if !isMDStructure(st) {
			continue
		}
		for _, f := range st.Fields {
			f.Off += shift
			out = append(out, f)
		}
	}
	return out
}

// sbCheck is the check of a member's superblock checksum: the sb_csum
// field's, as the hex view shows it, or the decoder's verdict.
func sbCheck(d *scan.Node) model.Check {
	if st, ok := mdStructure(d, "md_superblock"); ok {
		for _, f := range st.Fields {
			if f.Name == "sb_csum" && f.Check != nil {
				return *f.Check
			}
		}
	}
	sb := d.MD
	if sb == nil {
		return model.Check{OK: true}
	}
	return model.Check{OK: sb.ChecksumOK || sb.ChecksumFolded, Stored: fmt.Sprintf("%#08x", sb.CsumStored),
		Computed: fmt.Sprintf("%#08x", sb.CsumComputed)}
}
