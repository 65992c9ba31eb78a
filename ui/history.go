package ui

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan/history"
)

// histRow is one row of the history list: a generation, or a fragment of
// a copy that was partly overwritten.
type histRow struct {
	gen  *history.Generation
	frag *history.Copy
}

// historyPane lists the metadata generations of one VG, oldest first, with
// the diff of the selected one against the previous or a chosen base.
type historyPane struct {
	vgName string // the VG's current name
	vgUUID string
	gens   []*history.Generation
	rows   []histRow
	cursor int
	offset int
	base   int // row index of the chosen base, -1 for "the previous one"
	width  int
	height int

	raw     []string // lines of the diff
	diff    []string // the same, wrapped to the pane
	diffTop int
	diffFor [2]int              // rows the diff was computed for
	cache   map[[2]int][]string // diffs already computed, by rows
}

func (h *historyPane) setSize(w, ht int) {
	h.width, h.height = w, ht
	h.wrap()
	h.clamp()
}

// wrap fits the diff lines to the pane, continuation lines indented.
func (h *historyPane) wrap() {
	h.diff = h.diff[:0]
	for _, l := range h.raw {
		for i, p := range wrapText(l, max(h.width-4, 10)) {
			if i > 0 {
				p = "    " + p
			}
			h.diff = append(h.diff, p)
		}
	}
}

// listH is the height of the generation list; the diff gets the rest.
func (h *historyPane) listH() int {
	n := max(min(len(h.rows), (h.height-3)*2/5), 3)
	return min(n, max(h.height-6, 1))
}

func (h *historyPane) diffH() int { return max(h.height-h.listH()-2, 1) }

func (h *historyPane) clamp() {
	h.cursor = max(min(h.cursor, len(h.rows)-1), 0)
	lh := h.listH()
	if h.cursor < h.offset {
		h.offset = h.cursor
	}
	if h.cursor >= h.offset+lh {
		h.offset = h.cursor - lh + 1
	}
	h.offset = max(min(h.offset, len(h.rows)-lh), 0)
	h.diffTop = max(min(h.diffTop, len(h.diff)-h.diffH()), 0)
}

func (h *historyPane) move(d int) {
	h.cursor += d
	h.clamp()
}

func (h *historyPane) click(row int) {
	// row 0 is the title line
	if row >= 1 && row <= h.listH() {
		h.cursor = h.offset + row - 1
		h.clamp()
	}
}

func (h *historyPane) selected() histRow {
	if h.cursor < 0 || h.cursor >= len(h.rows) {
		return histRow{}
	}
	return h.rows[h.cursor]
}

// baseRow is the row the selection is compared with: the chosen base, or
// the previous parsed generation.
func (h *historyPane) baseRow() int {
	if h.base >= 0 {
		return h.base
	}
	for i := h.cursor - 1; i >= 0; i-- {
		if g := h.rows[i].gen; g != nil && g.VG != nil {
			return i
		}
	}
	return -1
}

// asyncDiffLVs is the number of LVs (both sides) above which a diff is
// computed in the background, so that moving through the list of a large
// VG stays instant.
const asyncDiffLVs = 200

// diffDoneMsg carries a diff computed in the background.
type diffDoneMsg struct {
	pane  *historyPane
	key   [2]int
	lines []string
}

// updateDiff shows the diff of the selection against its base: from the
// cache, computed at once for small VGs, or in the background (the
// returned command) for large ones.
func (h *historyPane) updateDiff() tea.Cmd {
	b := h.baseRow()
	k := [2]int{h.cursor, b}
	if h.diffFor == k && h.raw != nil {
		return nil
	}
	h.diffFor = k
	h.diffTop = 0
	if c, ok := h.cache[k]; ok {
		h.raw = c
		h.wrap()
		return nil
	}
	r := h.selected()
	if b >= 0 && r.gen != nil && r.gen.VG != nil && len(r.gen.VG.LVs)+len(h.rows[b].gen.VG.LVs) > asyncDiffLVs {
		h.raw = []string{fmt.Sprintf("comparing seqno %d with seqno %d…", h.rows[b].gen.Seqno, r.gen.Seqno)}
		h.wrap()
		return func() tea.Msg { return diffDoneMsg{pane: h, key: k, lines: h.diffLines(k)} }
	}
	h.setDiff(k, h.diffLines(k))
	return nil
}

// setDiff stores a computed diff and shows it if it is still wanted.
func (h *historyPane) setDiff(k [2]int, lines []string) {
	if h.cache == nil || len(h.cache) > 256 {
		h.cache = map[[2]int][]string{}
	}
	h.cache[k] = lines
	if h.diffFor == k {
		h.raw = lines
		h.wrap()
	}
}

// diffLines computes the diff of row k[0] against row k[1] (-1: none). It
// only reads the rows, so it may run in the background.
func (h *historyPane) diffLines(k [2]int) []string {
	var out []string
	r := h.rows[k[0]]
	b := k[1]
	switch {
	case r.frag != nil:
		out = fragmentLines(r.frag)
	case r.gen == nil:
		out = []string{"no generation selected"}
	case r.gen.VG == nil:
		out = []string{fmt.Sprintf("seqno %d does not parse: %v", r.gen.Seqno, r.gen.ParseErr)}
	case b < 0:
		out = []string{fmt.Sprintf("seqno %d is the oldest generation found: nothing to compare it with", r.gen.Seqno),
			"b on another generation compares against it"}
	default:
		d := history.Diff(h.rows[b].gen.VG, r.gen.VG)
		var sb strings.Builder
		if err := d.WriteText(&sb); err != nil {
			sb.Reset()
			sb.WriteString("✗ " + err.Error())
		}
		out = strings.Split(strings.TrimRight(sb.String(), "\n"), "\n")
	}
	if g := r.gen; g != nil {
		var where []string
		for _, c := range g.Copies {
			where = append(where, fmt.Sprintf("%s mda%d @%#x", filepath.Base(c.Path()), c.Area.Index, c.Offset))
		}
		found := "found at " + strings.Join(where, ", ")
		if !g.Verified {
			found += " (no slot checksum confirms it: ~)"
		}
		out = append([]string{found}, out...)
	}
	return out
}

func fragmentLines(c *history.Copy) []string {
	f := c.Fragment
	out := []string{fmt.Sprintf("fragment at %s mda%d %s, %d bytes survive", filepath.Base(c.Path()), c.Area.Index, offText(c.Offset), c.Size),
		"why: " + f.Reason}
	if c.HasSeqno {
		out = append(out, fmt.Sprintf("seqno %d", c.Seqno))
	}
	if f.Description != "" {
		out = append(out, fmt.Sprintf("description %q", f.Description))
	}
	if f.CreationTime != 0 {
		out = append(out, "written "+timeText(f.CreationTime)+" by "+f.CreationHost)
	}
	if len(f.LVs) > 0 {
		out = append(out, "LVs seen: "+strings.Join(f.LVs, ", "))
	}
	if f.Match != nil {
		out = append(out, fmt.Sprintf("part of generation seqno %d", f.Match.Seqno))
	}
	return out
}

// genState is the word that says what a generation is.
func genState(g *history.Generation) string {
	switch {
	case g.Current:
		return "current"
	case g.Committed:
		return "committed"
	case g.Precommitted:
		return "precommitted"
	}
	return "stale"
}

// shortTime is "MM-DD hh:mm" in UTC.
func shortTime(t int64) string {
	if t == 0 {
		return "-"
	}
	return timeText(t)[5:16]
}

func whereText(cs []*history.Copy) string {
	if len(cs) == 0 {
		return "-"
	}
	c := cs[0]
	s := fmt.Sprintf("%s mda%d @%#x", filepath.Base(c.Path()), c.Area.Index, c.Offset)
	if len(cs) > 1 {
		s += fmt.Sprintf(" +%d", len(cs)-1)
	}
	return s
}

func (h *historyPane) view(st *Styles, travel *vgView) string {
	var out []string
	nf := 0
	for _, r := range h.rows {
		if r.frag != nil {
			nf++
		}
	}
	title := fmt.Sprintf("VG %s: %d generations", h.vgName, len(h.rows)-nf)
	switch {
	case nf == 1:
		title += ", 1 fragment"
	case nf > 1:
		title += fmt.Sprintf(", %d fragments", nf)
	}
	out = append(out, ansi.Truncate(st.Pane.Title.Render(title), h.width, "…"))
	lh := h.listH()
	for i := h.offset; i < h.offset+lh; i++ {
		if i >= len(h.rows) {
			out = append(out, "")
			continue
		}
		out = append(out, h.rowLine(st, i, travel))
	}
	b := h.baseRow()
	sep := "diff"
	if r := h.selected(); r.gen != nil && b >= 0 {
		sep = fmt.Sprintf("diff seqno %d → %d", h.rows[b].gen.Seqno, r.gen.Seqno)
		if h.base >= 0 {
			sep += " (chosen base; b again: previous)"
		}
	}
	if len(h.diff) > h.diffH() {
		sep += fmt.Sprintf(" · lines %d–%d of %d (J/K)", h.diffTop+1, min(h.diffTop+h.diffH(), len(h.diff)), len(h.diff))
	}
	out = append(out, ansi.Truncate(st.Diff.Hunk.Render("── "+sep+" "+strings.Repeat("─", h.width)), h.width, ""))
	for i := h.diffTop; i < h.diffTop+h.diffH(); i++ {
		if i >= len(h.diff) {
			out = append(out, "")
			continue
		}
		out = append(out, ansi.Truncate(diffLine(st, h.diff[i]), h.width, "…"))
	}
	return strings.Join(out, "\n")
}

func (h *historyPane) rowLine(st *Styles, i int, travel *vgView) string {
	r := h.rows[i]
	cur := "  "
	if i == h.cursor {
		cur = st.Tree.Cursor.Render("›") + " "
	}
	mark := " "
	switch {
	case i == h.base:
		mark = "B"
	case r.gen != nil && travel != nil && travel.asOf != nil && travel.asOf.Seqno == r.gen.Seqno:
		mark = "⏪"
	}
	var line string
	if r.frag != nil {
		c := r.frag
		seq := "?"
		if c.HasSeqno {
			seq = fmt.Sprint(c.Seqno)
		}
		if h.width >= 100 {
			line = fmt.Sprintf("%6s  %-19s  %-12s   %-28s  %s", seq, "-", "fragment", ansi.Truncate(whereText([]*history.Copy{c}), 28, "…"), c.Fragment.Reason)
		} else {
			line = fmt.Sprintf("%5s %-9s   %-11s  %s", seq, "fragment", "", c.Fragment.Reason)
		}
		line = st.Muted.Render(line)
	} else {
		g := r.gen
		state := genState(g)
		chk := "✓"
		switch {
		case g.VG == nil:
			chk = "✗"
		case !g.Verified:
			chk = "~"
		}
		desc := strings.TrimPrefix(g.Description, "Write from ")
		if h.width >= 100 {
			line = fmt.Sprintf("%6d  %-19s  %-12s %s %-28s  %s", g.Seqno, timeText(g.CreationTime), state, chk, ansi.Truncate(whereText(g.Copies), 28, "…"), desc)
		} else {
			line = fmt.Sprintf("%5d %-9s %s %s  %s", g.Seqno, state, chk, shortTime(g.CreationTime), desc)
		}
		if g.Current {
			line = st.Bold.Render(line)
		}
	}
	s := cur + mark + line
	if i == h.cursor {
		p := ansi.Truncate(ansi.Strip(mark+line), h.width-2, "…")
		p += strings.Repeat(" ", max(h.width-2-ansi.StringWidth(p), 0))
		return cur + st.Tree.Selected.Render(p)
	}
	return ansi.Truncate(s, h.width, "…")
}

// loadHistory runs the history scan once per result.
func (m *Model) loadHistory() *history.History {
	if m.history == nil {
		m.history = history.Scan(m.res, history.Options{})
	}
	return m.history
}

// openHistory shows the history of the VG of n.
func (m *Model) openHistory(n *node) tea.Cmd {
	if n == nil || n.vg == nil {
		m.setStatus("✗ select a VG or something in it to see its history", levelErr)
		return nil
	}
	v := n.vg
	h := m.loadHistory()
	uuid := v.current.Meta.UUID
	gens := h.VG(uuid)
	if len(gens) == 0 {
		m.setStatus("✗ no metadata generation of VG "+v.current.Meta.Name+" was found in the metadata areas", levelErr)
		return nil
	}
	hp := &historyPane{vgName: v.current.Meta.Name, vgUUID: uuid, gens: gens, base: -1}
	for _, g := range gens {
		hp.rows = append(hp.rows, histRow{gen: g})
	}
	key := model.BareUUID(uuid)
	for _, c := range h.Fragments() {
		if c.Fragment.Match == nil && c.Area.OwnerUUID == key {
			hp.rows = append(hp.rows, histRow{frag: c})
		}
	}
	// Select the generation the tree shows.
	want := v.vg.Meta.Seqno
	for i, r := range hp.rows {
		if r.gen != nil && r.gen.Seqno == want {
			hp.cursor = i
		}
	}
	m.hist = hp
	m.layout()
	hp.clamp()
	cmd := hp.updateDiff()
	m.right = viewHistory
	m.focus = focusRight
	return cmd
}

// histChanged updates the diff after the history selection moved.
func (m *Model) histChanged() tea.Cmd {
	if m.hist != nil {
		return m.hist.updateDiff()
	}
	return nil
}

// viewOf returns the tree's view of the history pane's VG.
func (m *Model) viewOf(uuid string) *vgView {
	for _, v := range m.views {
		if model.BareUUID(v.current.Meta.UUID) == model.BareUUID(uuid) {
			return v
		}
	}
	return nil
}

func (m *Model) updateHistoryKeys() {
	k := m.keys.History
	setAll(k, true)
	r := m.hist.selected()
	parsed := r.gen != nil && r.gen.VG != nil
	k.Base.SetEnabled(parsed)
	k.Travel.SetEnabled(parsed)
	k.Text.SetEnabled(parsed)
	v := m.viewOf(m.hist.vgUUID)
	k.Present.SetEnabled(v != nil && v.travelling())
	long := len(m.hist.diff) > m.hist.diffH()
	k.DiffDown.SetEnabled(long)
	k.DiffUp.SetEnabled(long)
}

func (m *Model) historyKey(msg tea.KeyMsg) tea.Cmd {
	k := m.keys.History
	h := m.hist
	if moveKeys(msg, &k.MoveKeys, h.listH(), h.move, func() { h.cursor = 0; h.clamp() }, func() { h.cursor = len(h.rows) - 1; h.clamp() }) {
		return h.updateDiff()
	}
	switch {
	case key.Matches(msg, k.Base):
		if h.base == h.cursor {
			h.base = -1
		} else {
			h.base = h.cursor
		}
		return h.updateDiff()
	case key.Matches(msg, k.DiffDown):
		h.diffTop += max(h.diffH()/2, 1)
		h.clamp()
	case key.Matches(msg, k.DiffUp):
		h.diffTop -= max(h.diffH()/2, 1)
		h.clamp()
	case key.Matches(msg, k.Travel):
		m.travel(h.selected().gen)
	case key.Matches(msg, k.Present):
		if v := m.viewOf(h.vgUUID); v != nil {
			m.present(v)
		}
	case key.Matches(msg, k.Text):
		m.generationText(h.selected().gen)
	case key.Matches(msg, k.Back):
		m.back()
	}
	return nil
}
