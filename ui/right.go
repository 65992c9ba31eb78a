package ui

import (
	"fmt"
	"path/filepath"
)

// syncRight makes the right pane follow the tree's selection: the hex and
// text views retarget to the new item when it has bytes or text, and fall
// back to its details otherwise.
func (m *Model) syncRight() {
	n := m.selected()
	switch m.right {
	case viewHex:
		if src, off, err := hexTarget(n); err == nil {
			if m.hex.src == nil || m.hex.src.title != src.title || m.hex.src.start != src.start || m.hex.src.end != src.end {
				m.hex.open(src, off)
			} else {
				m.hex.jump(off)
			}
			return
		}
	case viewText:
		if m.histText {
			return
		}
		if title, text, ok := textOf(n); ok {
			if title != m.text.title {
				m.text.setText(title, text, false)
			}
			return
		}
	case viewHistory:
		if n != nil && n.vg != nil && m.hist != nil && m.hist.vgName == n.vg.current.Meta.Name {
			return
		}
	}
	m.right = viewDetails
	m.details.set(detailsLines(m.st, n, m.details.width))
}

// openDefault opens what a leaf is for: its bytes, or its text.
func (m *Model) openDefault(n *node) {
	if n.kind == kCopy {
		m.openText(n)
		return
	}
	m.openHex(n)
}

func (m *Model) openHex(n *node) {
	if n == nil {
		return
	}
	src, off, err := hexTarget(n)
	if err != nil {
		m.setStatus("✗ "+err.Error(), levelErr)
		return
	}
	m.hex.open(src, off)
	m.right = viewHex
	m.focus = focusRight
}

// textOf finds the metadata text an item shows with m: a copy's own
// text, or the text of the generation its VG is viewed at.
func textOf(n *node) (string, string, bool) {
	if n == nil {
		return "", "", false
	}
	if n.kind == kCopy && n.cp.TextCopy != nil {
		c := n.cp
		title := fmt.Sprintf("%s mda%d raw_locn[%d] @%#x", filepath.Base(c.PV.Path), c.MDA.Index, c.Slot, c.Off)
		if c.VG != nil {
			title = fmt.Sprintf("%s seqno %d · ", c.VG.Name, c.VG.Seqno) + title
		}
		return title, string(c.Text), true
	}
	if n.vg != nil && n.vg.vg.Source != nil && n.vg.vg.Source.TextCopy != nil {
		v := n.vg.vg
		title := fmt.Sprintf("%s seqno %d", v.Meta.Name, v.Meta.Seqno)
		if n.vg.travelling() {
			title = "⏪ " + title + " (a past generation)"
		}
		return title + fmt.Sprintf(" · %s @%#x", filepath.Base(v.Source.PV.Path), v.Source.Off), string(v.Source.Text), true
	}
	return "", "", false
}

func (m *Model) openText(n *node) {
	title, text, ok := textOf(n)
	if !ok {
		m.setStatus("✗ no metadata text here: select a VG, an LV or a metadata copy", levelErr)
		return
	}
	m.histText = false
	m.text.setText(title, text, false)
	m.right = viewText
	m.focus = focusRight
}
