package ui

import (
	"fmt"
	"strings"

	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan/history"
)

// travel makes generation g the tree's view of its VG: the VG as it was,
// marked as such, with the LVs the current metadata no longer has marked
// and the extents later generations gave to other LVs listed.
func (m *Model) travel(g *history.Generation) {
	v := m.viewOf(m.hist.vgUUID)
	if g == nil || v == nil {
		return
	}
	if g.Current {
		m.present(v)
		return
	}
	vg, err := m.loadHistory().Open(m.res, m.hist.vgUUID, g.Seqno)
	if err != nil {
		m.setStatus("✗ "+err.Error(), levelErr)
		return
	}
	info := &genInfo{Seqno: g.Seqno, Created: g.CreationTime, Desc: g.Description, Removed: map[string]bool{}, Reused: map[string]string{}}
	now := map[string]bool{}
	for _, lv := range v.current.Meta.LVs {
		now[model.BareUUID(lv.UUID)] = true
	}
	for _, lv := range vg.Meta.LVs {
		if now[model.BareUUID(lv.UUID)] {
			continue
		}
		info.Removed[lv.Name] = true
		var parts []string
		for _, r := range history.ReusedExtents(m.hist.gens, m.hist.vgUUID, g.Seqno, lv.Name) {
			parts = append(parts, fmt.Sprintf("LE %d–%d to %s at seqno %d", r.StartExtent, r.StartExtent+r.ExtentCount-1, r.ByLV, r.Seqno))
		}
		if len(parts) > 0 {
			info.Reused[lv.Name] = strings.Join(parts, "; ")
		} else {
			info.Reused[lv.Name] = "none: no later generation found gave its extents to another LV"
		}
	}
	v.vg, v.asOf = vg, info
	m.rebuild()
	msg := fmt.Sprintf("⏪ the tree now shows VG %s as of seqno %d (%s)", v.current.Meta.Name, g.Seqno, timeText(g.CreationTime))
	if n := len(info.Removed); n > 0 {
		msg += fmt.Sprintf("; %d LV(s) no longer exist: marked REMOVED", n)
	}
	m.setStatus(msg+" · exports use this generation · c: back", levelWarn)
}

// present returns a VG's view to the current metadata.
func (m *Model) present(v *vgView) {
	if !v.travelling() {
		return
	}
	v.vg, v.asOf = v.current, nil
	m.rebuild()
	m.setStatus("back to the current metadata of VG "+v.current.Meta.Name, levelInfo)
}

// backToPresent is c in the tree.
func (m *Model) backToPresent(n *node) {
	if n != nil && n.vg != nil {
		m.present(n.vg)
	}
}

// generationText shows the text of a generation; esc returns here.
func (m *Model) generationText(g *history.Generation) {
	if g == nil {
		return
	}
	vg, err := m.loadHistory().Open(m.res, m.hist.vgUUID, g.Seqno)
	if err != nil {
		m.setStatus("✗ "+err.Error(), levelErr)
		return
	}
	if vg.Source == nil || vg.Source.TextCopy == nil || len(vg.Source.Text) == 0 {
		m.setStatus(fmt.Sprintf("✗ the text of seqno %d was not kept in memory (history text budget); its locations: %s", g.Seqno, whereText(g.Copies)), levelErr)
		return
	}
	m.text.setText(fmt.Sprintf("%s seqno %d (%s) · %s", g.VGName, g.Seqno, genState(g), whereText(g.Copies)), string(vg.Source.Text), false)
	m.histText = true
	m.right = viewText
	m.focus = focusRight
}
