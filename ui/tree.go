package ui

import (
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/lvminspect/lvminspect/internal/format"
	"github.com/lvminspect/lvminspect/internal/termsafe"
	"github.com/lvminspect/lvminspect/model"
)

// treePane is the device tree on the left.
type treePane struct {
	s    *session
	h    host
	keys *TreeKeys
	acts []action

	roots  []*node
	rows   []*node // visible rows
	cursor int
	offset int
	width  int
	height int

	lastSearch string
}

func newTreePane(s *session, h host, k *TreeKeys) *treePane {
	t := &treePane{s: s, h: h, keys: k}
	sel := func(f func(n *node) bool) func() bool {
		return func() bool { n := t.selected(); return n != nil && f(n) }
	}
	t.acts = moveActions(&k.MoveKeys, func() int { return t.height }, t.move,
		func() { t.moveTo(0) }, func() { t.moveTo(len(t.rows) - 1) }, func() tea.Cmd { return t.h.moved() })
	t.acts = append(t.acts,
		action{b: &k.Expand, on: sel(func(n *node) bool { return len(n.children) > 0 }), do: func() tea.Cmd { t.expand(); return t.h.moved() }},
		action{b: &k.Collapse, on: sel(func(n *node) bool { return len(n.children) > 0 || n.parent != nil }), do: func() tea.Cmd { t.collapse(); return t.h.moved() }},
		action{b: &k.Toggle, on: sel(func(n *node) bool { return len(n.children) > 0 || n.kind == kCopy || canHex(n) }), do: t.enter},
		action{b: &k.Hex, on: sel(canHex), do: func() tea.Cmd { return t.h.open(paneHex, t.selected()) }},
		action{b: &k.Text, on: sel(func(n *node) bool { _, _, ok := textOf(n); return ok }), do: func() tea.Cmd { return t.h.open(paneText, t.selected()) }},
		action{b: &k.History, on: sel(func(n *node) bool { return n.vg != nil }), do: func() tea.Cmd { return t.h.open(paneHistory, t.selected()) }},
		action{b: &k.Hidden, on: func() bool { return t.s.hiddenLVs > 0 }, do: t.toggleHidden},
		action{b: &k.Export, on: sel(canExport), do: func() tea.Cmd { return t.h.open(paneExport, t.selected()) }},
		action{b: &k.Verify, on: sel(canVerify), do: func() tea.Cmd { return t.h.open(paneVerify, t.selected()) }},
		action{b: &k.Unlock, on: sel(t.s.canUnlock), do: func() tea.Cmd { return t.h.open(paneUnlock, t.selected()) }},
		action{b: &k.Search, do: func() tea.Cmd {
			t.h.prompt("search tree (names, UUIDs, tags): ", "", func(q string) tea.Cmd { return t.search(q) })
			return nil
		}},
		action{b: &k.Next, on: func() bool { return t.lastSearch != "" }, do: func() tea.Cmd { return t.search(t.lastSearch) }},
		action{b: &k.Present, on: sel(func(n *node) bool { return n.vg != nil && n.vg.travelling() }), do: func() tea.Cmd {
			return present(t.s, t.h, t.selected().vg)
		}},
	)
	return t
}

// Update implements pane: keys only (the tree has no slow work).
func (t *treePane) Update(msg tea.Msg) tea.Cmd {
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return nil
	}
	cmd, _ := dispatch(k, t.acts)
	return cmd
}

func (t *treePane) Keys() keySet { return t.keys }

func (t *treePane) actions() []action {
	if t.s.hiddenLVs > 0 && t.s.showHidden {
		t.keys.Hidden.SetHelp("a", "hide hidden LVs")
	} else {
		t.keys.Hidden.SetHelp("a", "show hidden LVs")
	}
	if n := t.selected(); n != nil && n.kind == kLUKS {
		t.keys.Export.SetHelp("e", "export decrypted volume")
	} else if n != nil && n.kind != kLV {
		t.keys.Export.SetHelp("e", "export device")
	} else {
		t.keys.Export.SetHelp("e", "export LV")
	}
	return t.acts
}

func (t *treePane) Title() string { return "Devices" }

// SetSize implements pane.
func (t *treePane) SetSize(w, h int) {
	if w != t.width || h != t.height {
		t.width, t.height = w, h
		t.clamp()
	}
}

// enter opens or closes an item; on a leaf it opens what the leaf is for:
// a metadata copy's text, or the bytes of anything else.
func (t *treePane) enter() tea.Cmd {
	n := t.selected()
	if len(n.children) > 0 {
		t.toggle()
		return t.h.moved()
	}
	if n.kind == kCopy {
		return t.h.open(paneText, n)
	}
	if canHex(n) {
		return t.h.open(paneHex, n)
	}
	return nil
}

func (t *treePane) toggleHidden() tea.Cmd {
	t.s.showHidden = !t.s.showHidden
	cmd := t.h.rebuild()
	if t.s.showHidden {
		t.h.setStatus("showing hidden sub-LVs (in [brackets])", levelInfo)
	} else {
		t.h.setStatus("hidden sub-LVs are not shown", levelInfo)
	}
	return cmd
}

// search selects the next tree item whose name, UUID or tags contain q.
func (t *treePane) search(q string) tea.Cmd {
	t.lastSearch = q
	if q == "" {
		return nil
	}
	n := t.find(q)
	if n == nil {
		t.h.setStatus(fmt.Sprintf("no item has %q in its name, UUID or tags", q), levelWarn)
		return nil
	}
	what := "found"
	if !strings.Contains(strings.ToLower(n.name), strings.ToLower(strings.TrimSpace(q))) {
		what = "found in the UUID or tags of"
	}
	t.h.setStatus(fmt.Sprintf("%s %q: %s · n: next match", what, q, n.name), levelInfo)
	return t.h.moved()
}

// selectFirstLV starts on the first LV if there is one: that is what
// people look for; without one, on the first LUKS volume left locked,
// which is what to open next.
func (t *treePane) selectFirstLV() {
	for _, want := range []func(n *node) bool{
		func(n *node) bool { return n.kind == kLV },
		func(n *node) bool { return n.kind == kLUKS && !luksUnlocked(n.luks) },
	} {
		for i, r := range t.rows {
			if want(r) {
				t.moveTo(i)
				return
			}
		}
	}
}

// canExport says whether e does something on n: an LV, or a device of
// the graph (a partition, a container's virtual disk, what an LV holds).
func canExport(n *node) bool {
	switch n.kind {
	case kLV:
		return true
	case kPartition, kContainer, kHolds, kMD, kLUKS:
		return n.dev != nil && n.dev.Device() != nil
	}
	return false
}

// canHex says whether x does something on n, without opening anything.
func canHex(n *node) bool {
	switch n.kind {
	case kVG, kVGPVs, kContainerFiles:
		return false
	case kVGPV:
		return n.vgpv.PV != nil
	case kMD:
		return n.in != nil
	case kMDMember, kMDSuper, kMDBitmap:
		return n.dev != nil && n.dev.MD != nil && n.dev.Device() != nil
	case kMDMissing:
		return false
	case kLUKS:
		return n.in != nil || (n.enc != nil && n.enc.LUKS != nil && n.enc.Device() != nil)
	case kLUKSSlot, kLUKSHeader:
		return n.enc != nil && n.enc.LUKS != nil && n.enc.Device() != nil
	}
	return true
}

// setRoots replaces the tree, keeping the selection on the item with the
// same key where it still exists.
func (t *treePane) setRoots(roots []*node) {
	var keep string
	if n := t.selected(); n != nil {
		keep = n.key()
	}
	expanded := map[string]bool{}
	for _, n := range walkAll(t.roots) {
		if len(n.children) > 0 {
			expanded[n.key()] = n.expanded
		}
	}
	t.roots = roots
	for _, n := range walkAll(roots) {
		if e, ok := expanded[n.key()]; ok {
			n.expanded = e
		}
	}
	t.refresh()
	if keep != "" {
		t.selectKey(keep)
	}
}

// refresh recomputes the visible rows after expanding or collapsing.
func (t *treePane) refresh() {
	t.rows = flatten(t.roots)
	t.clamp()
}

func (t *treePane) clamp() {
	if t.cursor >= len(t.rows) {
		t.cursor = len(t.rows) - 1
	}
	if t.cursor < 0 {
		t.cursor = 0
	}
	h := max(t.height, 1)
	if t.cursor < t.offset {
		t.offset = t.cursor
	}
	if t.cursor >= t.offset+h {
		t.offset = t.cursor - h + 1
	}
	if t.offset > max(len(t.rows)-h, 0) {
		t.offset = max(len(t.rows)-h, 0)
	}
	if t.offset < 0 {
		t.offset = 0
	}
}

func (t *treePane) selected() *node {
	if t.cursor < 0 || t.cursor >= len(t.rows) {
		return nil
	}
	return t.rows[t.cursor]
}

func (t *treePane) move(d int) {
	t.cursor += d
	t.clamp()
}

func (t *treePane) moveTo(i int) {
	t.cursor = i
	t.clamp()
}

// selectKey selects the node with key k, expanding its ancestors.
func (t *treePane) selectKey(k string) bool {
	for _, n := range walkAll(t.roots) {
		if n.key() == k {
			t.reveal(n)
			return true
		}
	}
	return false
}

// reveal expands the ancestors of n and selects it.
func (t *treePane) reveal(n *node) {
	for p := n.parent; p != nil; p = p.parent {
		p.expanded = true
	}
	t.rows = flatten(t.roots)
	for i, r := range t.rows {
		if r == n {
			t.cursor = i
			// Put a revealed item in view with some context above it.
			if i < t.offset || i >= t.offset+t.height {
				t.offset = max(i-t.height/3, 0)
			}
		}
	}
	t.clamp()
}

// expand opens the selected node, or moves to its first child if open.
func (t *treePane) expand() {
	n := t.selected()
	if n == nil || len(n.children) == 0 {
		return
	}
	if !n.expanded {
		n.expanded = true
		t.refresh()
		return
	}
	t.move(1)
}

// collapse closes the selected node, or moves to its parent.
func (t *treePane) collapse() {
	n := t.selected()
	if n == nil {
		return
	}
	if n.expanded && len(n.children) > 0 {
		n.expanded = false
		t.refresh()
		return
	}
	if n.parent != nil {
		t.reveal(n.parent)
	}
}

func (t *treePane) toggle() {
	n := t.selected()
	if n == nil || len(n.children) == 0 {
		return
	}
	n.expanded = !n.expanded
	t.refresh()
}

// find selects the next node after the cursor (wrapping) whose name,
// UUID or tags contain q, case-insensitively, looking into collapsed
// items too.
func (t *treePane) find(q string) *node {
	q = strings.ToLower(strings.TrimSpace(q))
	if q == "" {
		return nil
	}
	all := walkAll(t.roots)
	start := 0
	if cur := t.selected(); cur != nil {
		for i, n := range all {
			if n == cur {
				start = i + 1
			}
		}
	}
	for k := 0; k < len(all); k++ {
		n := all[(start+k)%len(all)]
		if matches(q, n.searchText()...) {
			t.reveal(n)
			return n
		}
	}
	return nil
}

// matches reports whether any of texts contains q (lower case).
func matches(q string, texts ...string) bool {
	for _, s := range texts {
		if strings.Contains(strings.ToLower(s), q) {
			return true
		}
	}
	return false
}

// View renders the visible rows, width columns each.
func (t *treePane) View() string {
	st := t.s.st
	var b strings.Builder
	end := min(t.offset+t.height, len(t.rows))
	for i := t.offset; i < end; i++ {
		if i > t.offset {
			b.WriteByte('\n')
		}
		b.WriteString(t.row(st, t.rows[i], i == t.cursor))
	}
	for i := end - t.offset; i < t.height; i++ {
		if i > 0 {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func (t *treePane) row(st *Styles, n *node, sel bool) string {
	cursor := "  "
	if sel {
		cursor = st.Tree.Cursor.Render("›") + " "
	}
	exp := "  "
	if len(n.children) > 0 {
		if n.expanded {
			exp = "▾ "
		} else {
			exp = "▸ "
		}
	}
	name, badge := rowText(n)
	bst := badgeStyle(st, n)
	if r := t.s.verified[n.dev]; n.kind == kContainer && r != nil && r.verified() {
		// The verdict instead of the size (in the details): a narrow
		// tree must not cut it.
		if r.ok() {
			badge = "✓ verified" + damagedWord(n)
		} else {
			badge = "✗ NOT verified"
			bst = st.Check.Bad
		}
	}
	name, badge = termsafe.Text(name), termsafe.Text(badge)
	nameSt := st.Tree.Normal
	switch {
	case n.removed:
		nameSt = st.Tree.Removed
	case n.hidden:
		nameSt = st.Tree.Hidden
	}
	if sel {
		// The whole row is highlighted; the cursor glyph marks it without colour.
		plain := strings.Repeat("  ", n.depth) + exp + name
		if badge != "" {
			plain += " " + badge
		}
		plain = ansi.Truncate(plain, max(t.width-2, 1), "…")
		plain += strings.Repeat(" ", max(t.width-2-ansi.StringWidth(plain), 0))
		return cursor + st.Tree.Selected.Render(plain)
	}
	line := strings.Repeat("  ", n.depth) + st.Tree.Expander.Render(exp) + nameSt.Render(name)
	if badge != "" {
		line += " " + bst.Render(badge)
	}
	return ansi.Truncate(cursor+line, max(t.width, 1), "…")
}

func badgeStyle(st *Styles, n *node) lipgloss.Style {
	switch {
	case n.damaged || (n.kind == kVGPV && n.vgpv.Missing):
		return st.Check.Bad
	case n.kind == kMD && n.arr.Array != nil && n.arr.Array.Degraded:
		return st.Check.Warn
	case n.kind == kLUKS && !luksUnlocked(n.luks):
		return st.Check.Warn // locked: what it holds is not seen
	case n.removed:
		return st.App.Travel
	}
	return st.Tree.Muted
}

// rowText is the text of a tree row: the name as shown and a badge with
// sizes, checks and states. Both carry words or glyphs, never colour alone.
func rowText(n *node) (string, string) {
	mark := func(ok bool) string {
		if ok {
			return "✓"
		}
		return "✗"
	}
	switch n.kind {
	case kInput:
		if n.in.ContainerErr != nil {
			return n.name, format.Size(n.in.Size) + " ✗" // the container: see the details
		}
		if f := n.in.File; f != nil {
			return n.name, format.Size(f.Size) + damagedWord(n)
		}
		return n.name, format.Size(n.in.Size) + damagedWord(n)
	case kContainer:
		return n.name, format.Size(n.in.Node.Size) + " virtual disk" + damagedWord(n)
	case kContainerFiles:
		return n.name, fmt.Sprint(len(n.children))
	case kContainerFile:
		s := format.Count(len(n.file.structs), "structure", "structures")
		if b := badChecks(n.file.structs); b > 0 {
			s += fmt.Sprintf(" ✗ %d bad", b)
		}
		return n.name, s
	case kHolds:
		return n.name, strings.TrimSpace(damagedWord(n)) // its size is its LV's, on the row above
	case kPartTable:
		return n.name, damagedWord(n)
	case kPartition:
		p := n.part
		if c, ok := n.in.PartitionContent[p.Index]; ok {
			return n.name, joinNonEmpty(" ", format.Size(p.Size), c.Format+" ·", p.TypeName)
		}
		return n.name, joinNonEmpty(" ", format.Size(p.Size), p.TypeName)
	case kPV:
		return "PV " + shortUUID(n.pv.UUID()), damagedWord(n)
	case kLabel:
		lb := n.pv.Label
		s := "crc " + mark(lb.CRC.OK)
		if lb.Weak {
			s += " WEAK"
		}
		return n.name, s
	case kPVHeader:
		return n.name, format.Size(int64(n.pv.Label.Header.DeviceSize))
	case kMDA:
		s := format.Size(int64(n.mda.Locn.Size))
		if n.mda.Header == nil {
			s += " ✗ unreadable"
		} else if n.damaged {
			s += " !"
		}
		return n.name, s
	case kMDAHeader:
		return n.name, "crc " + mark(n.mda.Header.Checksum.OK)
	case kCopy:
		c := n.cp
		s := ""
		if c.VG != nil {
			s = fmt.Sprintf("seqno %d ", c.VG.Seqno)
		}
		if c.TextCopy != nil {
			s += "crc " + mark(c.CRCOK)
		} else {
			s += "✗ unreadable"
		}
		if c.ParseErr != nil {
			s += " ✗ parse"
		}
		return n.name, s
	case kVG:
		v := n.vg
		s := fmt.Sprintf("seqno %d", v.vg.Meta.Seqno)
		if v.travelling() {
			s = fmt.Sprintf("AS OF seqno %d (now %d)", v.asOf.Seqno, v.current.Meta.Seqno)
		}
		return n.name, s + damagedWord(n)
	case kVGPVs:
		return n.name, fmt.Sprint(len(n.children))
	case kVGPV:
		p := n.vgpv
		s := "present"
		switch {
		case p.Missing:
			s = "MISSING"
		case p.Stale:
			s = "stale"
		}
		return p.Meta.Label + " " + shortUUID(p.Meta.UUID), s
	case kLV:
		lv := n.lv
		name := lv.Name
		if n.hidden {
			name = "[" + name + "]"
		}
		size, s := format.Size(n.vg.vg.Meta.LVSize(lv)), lvTypes(lv)
		if f := n.cheap; f != nil {
			size, s = format.Size(f.Size), f.Type
			if f.Origin != "" && f.Snapshot != nil {
				s += " of " + f.Origin
			}
			if f.Partial {
				s += " PARTIAL"
			}
		}
		if w := n.holds(); w != "" {
			s = w + " · " + s
		}
		s = size + " " + s
		if n.removed {
			s = "REMOVED · " + s
		}
		return name, s
	case kSegment:
		s := n.segment()
		return n.name, fmt.Sprintf("%s LE %d+%d", format.SegType(s), s.StartExtent, s.ExtentCount)
	case kArea:
		return n.name, ""
	case kMD:
		return n.name, mdBadge(n)
	case kMDMember:
		m := n.arrayMember()
		return n.name, fmt.Sprintf("%s, events %d", m.State, m.Events)
	case kMDMissing:
		return n.name, "MISSING"
	case kMDSuper:
		s := "csum " + mark(sbCheck(n.dev).OK)
		if m := n.arrayMember(); m != nil {
			s = m.State + " · " + s
		}
		return n.name, s
	case kMDBitmap:
		if m := n.arrayMember(); m != nil && m.Bitmap != nil {
			return n.name, fmt.Sprintf("%d dirty", m.Bitmap.Dirty)
		}
		return n.name, ""
	case kLUKS:
		return n.name, luksBadge(n)
	case kLUKSSlot:
		return n.name, slotBadge(n)
	case kLUKSHeader:
		return n.name, luksHeaderBadge(n)
	}
	return n.name, ""
}

func damagedWord(n *node) string {
	if n.damaged {
		return " !"
	}
	return ""
}

// shortUUID abbreviates a UUID for tree rows.
func shortUUID(u string) string {
	if len(u) > 13 {
		return u[:11] + "…"
	}
	return u
}

// lvTypes lists the distinct segment types of an LV.
func lvTypes(lv *model.LV) string {
	var out []string
	seen := map[string]bool{}
	for _, s := range lv.Segments {
		if t := format.SegType(s); !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return "no segments"
	}
	return strings.Join(out, "+")
}
