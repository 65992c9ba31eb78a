package ui

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/lvminspect/lvminspect/internal/format"
	"github.com/lvminspect/lvminspect/internal/termsafe"
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
// the diff of the selected one (B) against the previous one or a chosen
// base (A). The history scan and every diff run in commands.
type historyPane struct {
	s    *session
	h    host
	keys *HistoryKeys
	acts []action

	vgName string // the VG's current name
	vgUUID string
	gens   []*history.Generation
	rows   []histRow
	want   *vgView // the VG to show once the history is scanned
	empty  string  // why there is nothing to list
	cursor int
	offset int
	base   int // row index of the chosen base (A), -1 for "the previous one"
	width  int
	height int

	raw     []string // lines of the diff
	diff    []string // the same, wrapped to the pane
	diffTop int
	diffFor [2]int              // rows the diff is for
	cache   map[[2]int][]string // diffs already computed, by rows

	lastSearch string
}

// diffDoneMsg carries a diff computed in the background.
type diffDoneMsg struct {
	vgUUID string
	key    [2]int
	lines  []string
}

func newHistoryPane(s *session, h host, k *HistoryKeys) *historyPane {
	p := &historyPane{s: s, h: h, keys: k, base: -1}
	has := func() bool { return len(p.rows) > 0 }
	parsed := func() bool { r := p.selected(); return r.gen != nil && r.gen.Parses() }
	mv := moveActions(&k.MoveKeys, p.listH, p.move, func() { p.cursor = 0; p.clamp() },
		func() { p.cursor = len(p.rows) - 1; p.clamp() }, func() tea.Cmd { return p.updateDiff() })
	for i := range mv {
		mv[i].on = has
	}
	p.acts = append(mv,
		action{b: &k.Travel, on: parsed, do: func() tea.Cmd { return travel(p.s, p.h, p.vgUUID, p.gens, p.selected().gen) }},
		action{b: &k.Present, on: func() bool { v := p.s.viewOf(p.vgUUID); return v != nil && v.travelling() }, do: func() tea.Cmd {
			return present(p.s, p.h, p.s.viewOf(p.vgUUID))
		}},
		action{b: &k.Base, on: parsed, do: p.setBase},
		action{b: &k.Text, on: parsed, do: func() tea.Cmd { generationText(p.s, p.h, p.vgUUID, p.selected().gen); return nil }},
		action{b: &k.DiffDown, on: has, do: func() tea.Cmd { p.diffTop += max(p.diffH()/2, 1); p.clamp(); return nil }},
		action{b: &k.DiffUp, on: has, do: func() tea.Cmd { p.diffTop -= max(p.diffH()/2, 1); p.clamp(); return nil }},
		action{b: &k.Search, on: has, do: func() tea.Cmd {
			p.h.prompt("search generations (names, UUIDs, tags, descriptions): ", "", p.search)
			return nil
		}},
		action{b: &k.Next, on: func() bool { return has() && p.lastSearch != "" }, do: func() tea.Cmd { return p.search(p.lastSearch) }},
		action{b: &k.Back, do: h.back},
	)
	return p
}

func (p *historyPane) Title() string     { return "History" }
func (p *historyPane) Keys() keySet      { return p.keys }
func (p *historyPane) actions() []action { return p.acts }

func (p *historyPane) SetSize(w, h int) {
	if w != p.width || h != p.height {
		p.width, p.height = w, h
		p.wrap()
		p.clamp()
	}
}

// show implements rightPane: the history of n's VG. Moving in the tree
// keeps it only on a VG: any other item shows its details.
func (p *historyPane) show(n *node, explicit bool) (tea.Cmd, error) {
	if n == nil || n.vg == nil {
		return nil, fmt.Errorf("select a VG or something in it to see its history")
	}
	if !explicit && n.kind != kVG {
		return nil, fmt.Errorf("the history follows VGs only")
	}
	if p.want == nil && p.rows != nil && model.BareUUID(p.vgUUID) == model.BareUUID(n.vg.current.Meta.UUID) {
		return nil, nil // already shown
	}
	h, cmd := p.s.history()
	p.vgName, p.vgUUID = n.vg.current.Meta.Name, n.vg.current.Meta.UUID
	if h == nil {
		p.want, p.rows, p.empty = n.vg, nil, ""
		return cmd, nil
	}
	return p.build(n.vg, h), nil
}

// build lists the generations of v's VG and selects the one the tree
// shows.
func (p *historyPane) build(v *vgView, h *history.History) tea.Cmd {
	p.want = nil
	uuid := v.current.Meta.UUID
	p.vgName, p.vgUUID = v.current.Meta.Name, uuid
	p.gens, p.rows, p.cursor, p.offset, p.base = h.VG(uuid), nil, 0, 0, -1
	p.raw, p.diff, p.cache, p.diffFor = nil, nil, map[[2]int][]string{}, [2]int{-1, -1}
	p.empty = ""
	if len(p.gens) == 0 {
		p.empty = "no metadata generation of VG " + p.vgName + " was found in the metadata areas"
		return nil
	}
	for _, g := range p.gens {
		p.rows = append(p.rows, histRow{gen: g})
	}
	key := model.BareUUID(uuid)
	for _, c := range h.Fragments() {
		if c.Fragment.Match == nil && c.Area.OwnerUUID == key {
			p.rows = append(p.rows, histRow{frag: c})
		}
	}
	want := v.vg.Meta.Seqno
	for i, r := range p.rows {
		if r.gen != nil && r.gen.Seqno == want {
			p.cursor = i
		}
	}
	p.clamp()
	return p.updateDiff()
}

func (p *historyPane) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		cmd, _ := dispatch(msg, p.acts)
		return cmd
	case tea.MouseMsg:
		if d := wheel(msg); d != 0 {
			p.move(d)
		} else if msg.Button == tea.MouseButtonLeft && msg.Action == tea.MouseActionPress {
			p.click(msg.Y)
		}
		return p.updateDiff()
	case historyMsg:
		if p.want != nil && msg.h != nil {
			return p.build(p.want, msg.h)
		}
	case diffDoneMsg:
		if msg.vgUUID == p.vgUUID && p.rows != nil {
			if p.cache == nil || len(p.cache) > 256 {
				p.cache = map[[2]int][]string{}
			}
			p.cache[msg.key] = msg.lines
			if p.diffFor == msg.key {
				p.raw = msg.lines
				p.wrap()
				p.clamp()
			}
		}
	}
	return nil
}

// setBase makes the selection the base (A) the others are compared with;
// b on the base again returns to comparing each with its previous one.
func (p *historyPane) setBase() tea.Cmd {
	if p.base == p.cursor {
		p.base = -1
		p.h.setStatus("each generation is compared with the previous one again", levelInfo)
	} else {
		p.base = p.cursor
		p.h.setStatus(fmt.Sprintf("A = seqno %d: select another generation to compare it with", p.rows[p.cursor].gen.Seqno), levelInfo)
	}
	return p.updateDiff()
}

// search selects the next generation whose VG, LVs or PVs have a name,
// UUID or tag containing q, or whose description or host does.
func (p *historyPane) search(q string) tea.Cmd {
	p.lastSearch = q
	lq := strings.ToLower(strings.TrimSpace(q))
	if lq == "" || len(p.rows) == 0 {
		return nil
	}
	for k := 1; k <= len(p.rows); k++ {
		i := (p.cursor + k) % len(p.rows)
		if matches(lq, rowSearchText(p.rows[i])...) {
			p.cursor = i
			p.clamp()
			p.h.setStatus(fmt.Sprintf("found %q in %s · n: next match", q, rowName(p.rows[i])), levelInfo)
			return p.updateDiff()
		}
	}
	p.h.setStatus(fmt.Sprintf("no generation has %q in a name, UUID, tag or description", q), levelWarn)
	return nil
}

func rowName(r histRow) string {
	if r.frag != nil {
		return "a fragment"
	}
	return fmt.Sprintf("seqno %d", r.gen.Seqno)
}

// rowSearchText is what / matches in the history list.
func rowSearchText(r histRow) []string {
	if c := r.frag; c != nil {
		out := []string{c.Fragment.Description, c.Fragment.CreationHost, c.Fragment.Reason}
		return append(out, c.Fragment.LVs...)
	}
	g := r.gen
	out := []string{strconv.FormatUint(g.Seqno, 10), g.VGName, g.Description, g.CreationHost}
	out = append(out, g.LVs...)
	if vg := g.VG; vg != nil { // a model kept (a dropped one is not parsed again for a search)
		out = append(out, vg.UUID, vg.Description)
		out = append(out, vg.Tags...)
		for _, lv := range vg.LVs {
			out = append(out, lv.Name, lv.UUID)
			out = append(out, lv.Tags...)
		}
		for _, pv := range vg.PVs {
			out = append(out, pv.UUID, pv.Device)
			out = append(out, pv.Tags...)
		}
	}
	return out
}

// wrap fits the diff lines to the pane, continuation lines indented.
func (p *historyPane) wrap() {
	p.diff = p.diff[:0]
	for _, l := range p.raw {
		for i, w := range wrapText(l, max(p.width-4, 10)) {
			if i > 0 {
				w = "    " + w
			}
			p.diff = append(p.diff, w)
		}
	}
}

// listH is the height of the generation list; the diff gets the rest.
func (p *historyPane) listH() int {
	n := max(min(len(p.rows), (p.height-3)*2/5), 3)
	return min(n, max(p.height-6, 1))
}

func (p *historyPane) diffH() int { return max(p.height-p.listH()-2, 1) }

func (p *historyPane) clamp() {
	p.cursor = max(min(p.cursor, len(p.rows)-1), 0)
	lh := p.listH()
	if p.cursor < p.offset {
		p.offset = p.cursor
	}
	if p.cursor >= p.offset+lh {
		p.offset = p.cursor - lh + 1
	}
	p.offset = max(min(p.offset, len(p.rows)-lh), 0)
	p.diffTop = max(min(p.diffTop, len(p.diff)-p.diffH()), 0)
}

func (p *historyPane) move(d int) {
	p.cursor += d
	p.clamp()
}

// click selects the row at pane row y (row 0 is the title line).
func (p *historyPane) click(y int) {
	if y >= 1 && y <= p.listH() {
		p.cursor = p.offset + y - 1
		p.clamp()
	}
}

func (p *historyPane) selected() histRow {
	if p.cursor < 0 || p.cursor >= len(p.rows) {
		return histRow{}
	}
	return p.rows[p.cursor]
}

// baseRow is the row the selection is compared with (A): the chosen base,
// or the previous parsed generation.
func (p *historyPane) baseRow() int {
	if p.base >= 0 {
		return p.base
	}
	for i := p.cursor - 1; i >= 0; i-- {
		if g := p.rows[i].gen; g != nil && g.Parses() {
			return i
		}
	}
	return -1
}

// updateDiff shows the diff of the selection against its base, from the
// cache or computed by the command it returns.
func (p *historyPane) updateDiff() tea.Cmd {
	if len(p.rows) == 0 {
		return nil
	}
	b := p.baseRow()
	k := [2]int{p.cursor, b}
	if p.diffFor == k && p.raw != nil {
		return nil
	}
	p.diffFor, p.diffTop = k, 0
	if c, ok := p.cache[k]; ok {
		p.raw = c
		p.wrap()
		return nil
	}
	r := p.selected()
	if b == p.cursor {
		// The chosen base is selected: there is nothing to compare it with.
		p.raw = append(whereLines(r), fmt.Sprintf("A and B are both seqno %d, the chosen base: select another generation to see what changed between them", r.gen.Seqno),
			"(b here again compares each generation with its previous one)")
		p.wrap()
		return nil
	}
	p.raw = []string{"comparing…"}
	if b >= 0 && r.gen != nil {
		p.raw = []string{fmt.Sprintf("comparing seqno %d with seqno %d…", p.rows[b].gen.Seqno, r.gen.Seqno)}
	}
	p.wrap()
	rows, uuid := p.rows, p.vgUUID
	return p.s.tasks.run(func() tea.Msg { return diffDoneMsg{vgUUID: uuid, key: k, lines: diffLines(rows, k)} })
}

// diffLines computes the diff of row k[0] (B) against row k[1] (A; -1:
// none). It only reads the rows, so it runs in the background.
func diffLines(rows []histRow, k [2]int) []string {
	var out []string
	r := rows[k[0]]
	b := k[1]
	switch {
	case r.frag != nil:
		out = fragmentLines(r.frag)
	case r.gen == nil:
		out = []string{"no generation selected"}
	case !r.gen.Parses():
		out = []string{fmt.Sprintf("seqno %d does not parse: %v", r.gen.Seqno, r.gen.ParseErr)}
	case b < 0:
		out = []string{fmt.Sprintf("seqno %d is the oldest generation found: nothing to compare it with", r.gen.Seqno),
			"b on another generation compares against it"}
	default:
		a, m := rows[b].gen.Model(), r.gen.Model()
		if a == nil || m == nil {
			out = []string{"✗ the text of one of the two generations can no longer be read from its input"}
			break
		}
		d := history.Diff(a, m)
		var sb strings.Builder
		if err := d.WriteText(&sb); err != nil {
			sb.Reset()
			sb.WriteString("✗ " + err.Error())
		}
		out = strings.Split(strings.TrimRight(sb.String(), "\n"), "\n")
	}
	return append(whereLines(r), out...)
}

// whereLines say where a generation's copies were found.
func whereLines(r histRow) []string {
	g := r.gen
	if g == nil {
		return nil
	}
	var where []string
	for _, c := range g.Copies {
		where = append(where, fmt.Sprintf("%s mda%d @%#x", filepath.Base(c.Path()), c.Area.Index, c.Offset))
	}
	found := "found at " + strings.Join(where, ", ")
	if !g.Verified {
		found += " (no slot checksum confirms it: ~)"
	}
	return []string{found}
}

func fragmentLines(c *history.Copy) []string {
	f := c.Fragment
	out := []string{fmt.Sprintf("fragment at %s mda%d %s, %d bytes survive", filepath.Base(c.Path()), c.Area.Index, format.Offset(uint64(c.Offset)), c.Size),
		"why: " + f.Reason}
	if c.HasSeqno {
		out = append(out, fmt.Sprintf("seqno %d", c.Seqno))
	}
	if f.Description != "" {
		out = append(out, fmt.Sprintf("description %q", f.Description))
	}
	if f.CreationTime != 0 {
		out = append(out, "written "+format.Time(f.CreationTime)+" by "+f.CreationHost)
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
	return format.Time(t)[5:16]
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

// View implements pane: the list, then the diff of B against A.
func (p *historyPane) View() string {
	st := p.s.st
	if p.want != nil {
		return p.s.waiting("reading the metadata history of VG " + termsafe.Text(p.vgName) + " from every metadata area…")
	}
	if p.empty != "" {
		return st.Status.Err.Render("✗ " + termsafe.Text(p.empty))
	}
	var out []string
	nf := 0
	for _, r := range p.rows {
		if r.frag != nil {
			nf++
		}
	}
	title := fmt.Sprintf("VG %s: %s", p.vgName, format.Count(len(p.rows)-nf, "generation", "generations"))
	if nf > 0 {
		title += ", " + format.Count(nf, "fragment", "fragments")
	}
	out = append(out, ansi.Truncate(st.Pane.Title.Render(termsafe.Text(title)), p.width, "…"))
	travel := p.s.viewOf(p.vgUUID)
	lh := p.listH()
	for i := p.offset; i < p.offset+lh; i++ {
		if i >= len(p.rows) {
			out = append(out, "")
			continue
		}
		out = append(out, p.rowLine(i, travel))
	}
	b := p.baseRow()
	sep := "diff"
	if r := p.selected(); r.gen != nil && b >= 0 {
		sep = fmt.Sprintf("diff A seqno %d → B seqno %d", p.rows[b].gen.Seqno, r.gen.Seqno)
		switch {
		case b == p.cursor:
			sep = fmt.Sprintf("A = seqno %d (chosen with b)", r.gen.Seqno)
		case p.base >= 0:
			sep += " (A chosen with b)"
		}
	}
	if len(p.diff) > p.diffH() {
		sep += fmt.Sprintf(" · lines %d–%d of %d (J/K)", p.diffTop+1, min(p.diffTop+p.diffH(), len(p.diff)), len(p.diff))
	}
	out = append(out, ansi.Truncate(st.Diff.Hunk.Render("── "+sep+" "+strings.Repeat("─", p.width)), p.width, ""))
	for i := p.diffTop; i < p.diffTop+p.diffH(); i++ {
		if i >= len(p.diff) {
			out = append(out, "")
			continue
		}
		out = append(out, ansi.Truncate(diffLine(st, termsafe.Text(p.diff[i])), p.width, "…"))
	}
	return strings.Join(out, "\n")
}

// rowLine is one row of the list: A marks the base, B the selection
// compared with it, ⏪ the generation the tree shows.
func (p *historyPane) rowLine(i int, travel *vgView) string {
	st := p.s.st
	r := p.rows[i]
	cur := "  "
	if i == p.cursor {
		cur = st.Tree.Cursor.Render("›") + " "
	}
	mark := " "
	b := p.baseRow()
	switch {
	case i == b:
		mark = "A"
	case i == p.cursor && b >= 0:
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
		if p.width >= 100 {
			line = fmt.Sprintf("%6s  %-19s  %-12s   %-28s  %s", seq, "-", "fragment", ansi.Truncate(whereText([]*history.Copy{c}), 28, "…"), c.Fragment.Reason)
		} else {
			line = fmt.Sprintf("%5s %-9s   %-11s  %s", seq, "fragment", "", c.Fragment.Reason)
		}
		line = st.Muted.Render(termsafe.Text(line))
	} else {
		g := r.gen
		chk := "✓"
		switch {
		case !g.Parses():
			chk = "✗"
		case !g.Verified:
			chk = "~"
		}
		desc := strings.TrimPrefix(g.Description, "Write from ")
		if p.width >= 100 {
			line = fmt.Sprintf("%6d  %-19s  %-12s %s %-28s  %s", g.Seqno, format.Time(g.CreationTime), genState(g), chk, ansi.Truncate(whereText(g.Copies), 28, "…"), desc)
		} else {
			line = fmt.Sprintf("%5d %-9s %s %s  %s", g.Seqno, genState(g), chk, shortTime(g.CreationTime), desc)
		}
		line = termsafe.Text(line)
		if g.Current {
			line = st.Bold.Render(line)
		}
	}
	if i == p.cursor {
		s := ansi.Truncate(ansi.Strip(mark+line), p.width-2, "…")
		s += strings.Repeat(" ", max(p.width-2-ansi.StringWidth(s), 0))
		return cur + st.Tree.Selected.Render(s)
	}
	return ansi.Truncate(cur+mark+line, p.width, "…")
}

// diffLine colours a line of a diff by its first character.
func diffLine(st *Styles, l string) string {
	switch {
	case strings.HasPrefix(l, "@@"):
		return st.Diff.Hunk.Render(l)
	case strings.HasPrefix(l, "+"):
		return st.Diff.Add.Render(l)
	case strings.HasPrefix(l, "-"):
		return st.Diff.Del.Render(l)
	}
	return l
}
