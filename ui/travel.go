package ui

import (
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/lvminspect/lvminspect/internal/format"
	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan/history"
)

// travel makes generation g the tree's view of its VG: the VG as it was,
// marked as such, with the LVs the current metadata no longer has marked
// and the extents later generations gave to other LVs listed.
func travel(s *session, h host, vgUUID string, gens []*history.Generation, g *history.Generation) tea.Cmd {
	v := s.viewOf(vgUUID)
	if g == nil || v == nil || s.hist == nil {
		return nil
	}
	if g.Current {
		return present(s, h, v)
	}
	vg, err := s.hist.Open(s.res, vgUUID, g.Seqno)
	if err != nil {
		h.setStatus("✗ "+err.Error(), levelErr)
		return nil
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
		for _, r := range history.ReusedExtents(gens, vgUUID, g.Seqno, lv.Name) {
			parts = append(parts, fmt.Sprintf("LE %d–%d to %s at seqno %d", r.StartExtent, r.StartExtent+r.ExtentCount-1, r.ByLV, r.Seqno))
		}
		if len(parts) > 0 {
			info.Reused[lv.Name] = strings.Join(parts, "; ")
		} else {
			info.Reused[lv.Name] = "none: no later generation found gave its extents to another LV"
		}
	}
	v.vg, v.asOf = vg, info
	cmd := tea.Batch(h.rebuild(), s.prefetch())
	msg := fmt.Sprintf("⏪ the tree now shows VG %s as of seqno %d (%s)", v.current.Meta.Name, g.Seqno, format.Time(g.CreationTime))
	switch n := len(info.Removed); {
	case n == 1:
		msg += "; 1 LV no longer exists: marked REMOVED"
	case n > 1:
		msg += fmt.Sprintf("; %d LVs no longer exist: marked REMOVED", n)
	}
	h.setStatus(msg+" · exports use this generation · c: back", levelWarn)
	return cmd
}

// present returns a VG's view to the current metadata.
func present(s *session, h host, v *vgView) tea.Cmd {
	if v == nil || !v.travelling() {
		return nil
	}
	v.vg, v.asOf = v.current, nil
	cmd := h.rebuild()
	h.setStatus("back to the current metadata of VG "+v.current.Meta.Name, levelInfo)
	return cmd
}

// generationText shows the text of a generation; esc returns to the
// history.
func generationText(s *session, h host, vgUUID string, g *history.Generation) {
	if g == nil || s.hist == nil {
		return
	}
	vg, err := s.hist.Open(s.res, vgUUID, g.Seqno)
	if err != nil {
		h.setStatus("✗ "+err.Error(), levelErr)
		return
	}
	if vg.Source == nil || vg.Source.TextCopy == nil || len(vg.Source.Text) == 0 {
		h.setStatus(fmt.Sprintf("✗ the text of seqno %d was not kept in memory (history text budget); its locations: %s", g.Seqno, whereText(g.Copies)), levelErr)
		return
	}
	h.showText(fmt.Sprintf("%s seqno %d (%s) · %s", g.VGName, g.Seqno, genState(g), whereText(g.Copies)), string(vg.Source.Text))
}
