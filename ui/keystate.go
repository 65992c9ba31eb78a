package ui

import "github.com/charmbracelet/bubbles/key"

// setAll enables or disables every binding of a set.
func setAll(s keySet, on bool) {
	for _, b := range s.all() {
		b.SetEnabled(on)
	}
}

// updateKeys enables exactly the bindings that do something in the
// current mode, focus and selection, so help never lists a dead key.
func (m *Model) updateKeys() {
	k := m.keys
	for _, s := range k.sets() {
		setAll(s, false)
	}
	g := &k.Global
	g.Interrupt.SetEnabled(true)
	switch m.mode {
	case modeLoading:
		g.Quit.SetEnabled(true)
		return
	case modeHelp:
		g.Quit.SetEnabled(true)
		setAll(k.HelpKey, true)
		return
	case modePrompt:
		setAll(k.Prompt, true)
		return
	case modeConfirm:
		setAll(k.Confirm, true)
		return
	case modeExporting:
		g.Quit.SetEnabled(true)
		g.Help.SetEnabled(true)
		setAll(k.Export, true)
		return
	}
	g.Quit.SetEnabled(true)
	g.Help.SetEnabled(true)
	g.Focus.SetEnabled(true)
	if m.focus == focusTree {
		m.updateTreeKeys()
		return
	}
	switch m.right {
	case viewHex:
		h := k.Hex
		setAll(h, m.hex.src != nil)
		hasFields := m.hex.src != nil && len(m.hex.src.fields) > 0
		h.NextField.SetEnabled(hasFields)
		h.PrevField.SetEnabled(hasFields)
	case viewHistory:
		m.updateHistoryKeys()
	case viewText:
		setAll(k.Text, true)
		has := len(m.text.matches) > 0
		k.Text.Next.SetEnabled(has)
		k.Text.Prev.SetEnabled(has)
	default:
		t := k.Text
		for _, b := range t.list() {
			b.SetEnabled(true)
		}
		t.Back.SetEnabled(true)
	}
}

func (m *Model) updateTreeKeys() {
	t := m.keys.Tree
	for _, b := range t.list() {
		b.SetEnabled(true)
	}
	n := m.selected()
	t.Search.SetEnabled(true)
	t.Next.SetEnabled(m.lastSearch != "")
	hiddenAny := m.hiddenLVs > 0
	t.Hidden.SetEnabled(hiddenAny)
	if hiddenAny && m.show.hidden {
		t.Hidden.SetHelp("a", "hide hidden LVs")
	} else {
		t.Hidden.SetHelp("a", "show hidden LVs")
	}
	if n == nil {
		return
	}
	has := len(n.children) > 0
	t.Expand.SetEnabled(has)
	t.Collapse.SetEnabled(has || n.parent != nil)
	t.Toggle.SetEnabled(true)
	t.Hex.SetEnabled(canHex(n))
	_, _, hasText := textOf(n)
	t.Text.SetEnabled(hasText)
	t.History.SetEnabled(n.vg != nil)
	t.Export.SetEnabled(n.kind == kLV)
	t.Present.SetEnabled(n.vg != nil && n.vg.travelling())
}

// canHex says whether x does something on n, without opening anything.
func canHex(n *node) bool {
	switch n.kind {
	case kVG, kVGPVs:
		return false
	case kVGPV:
		return n.vgpv.PV != nil
	}
	return true
}

// bindingsActive lists the enabled bindings of every set (for tests).
func (m *Model) bindingsActive() []*key.Binding {
	var out []*key.Binding
	for _, s := range m.keys.sets() {
		for _, b := range s.all() {
			if b.Enabled() {
				out = append(out, b)
			}
		}
	}
	return out
}
