package ui

import (
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/internal/fixture"
)

// openHistoryOf opens the history of the first VG of m.
func openHistoryOf(t *testing.T, m *Model) {
	t.Helper()
	press(t, m, "g", "/VG ", "enter", "v")
	if m.right != paneHistory || len(m.histP().rows) == 0 {
		t.Fatalf("v did not open the history: %q", m.status())
	}
}

// selectSeqno moves the history cursor to generation seqno.
func selectSeqno(t *testing.T, m *Model, seqno uint64) {
	t.Helper()
	press(t, m, "g")
	for i := 0; i < len(m.histP().rows); i++ {
		if g := m.histP().selected().gen; g != nil && g.Seqno == seqno {
			return
		}
		press(t, m, "j")
	}
	t.Fatalf("seqno %d not in the history list", seqno)
}

func TestHistoryListsGenerationsWithDiff(t *testing.T) {
	m := fixtureModel(t, "history", false, 160, 50)
	openHistoryOf(t, m)
	if got := m.histP().selected().gen; got == nil || !got.Current {
		t.Fatal("the history does not start on the current generation")
	}
	view := plain(m.View())
	for _, want := range []string{"current", "stale", "fragment", "diff A seqno 71 → B seqno 72", "renamed to nine"} {
		if !strings.Contains(view, want) {
			t.Errorf("history view lacks %q:\n%s", want, view)
		}
	}
	// The generation that created "late", against the previous one.
	selectSeqno(t, m, 69)
	if v := plain(m.View()); !strings.Contains(v, "+ LV late") || !strings.Contains(v, "diff A seqno 68 → B seqno 69") {
		t.Errorf("diff of 69:\n%s", v)
	}
	// Against a chosen base: b on 65, then back on 72.
	selectSeqno(t, m, 65)
	press(t, m, "b")
	selectSeqno(t, m, 72)
	if v := plain(m.View()); !strings.Contains(v, "diff A seqno 65 → B seqno 72") || !strings.Contains(v, "A chosen with b") {
		t.Errorf("diff against chosen base:\n%s", v)
	}
	// Its text opens, and esc returns to the history.
	press(t, m, "m")
	if m.right != paneText || !strings.Contains(m.textP().title, "seqno 72") {
		t.Fatalf("m on a generation: view %d title %q", m.right, m.textP().title)
	}
	press(t, m, "esc")
	if m.right != paneHistory {
		t.Fatalf("esc from a generation's text went to view %d", m.right)
	}
}

// TestTimeTravelExportsRemovedLV views the VG as of seqno 69, where the
// LV "late" (removed at 70) still exists: the tree marks it, and exporting
// it gives the content it had, per the manifest.
func TestTimeTravelExportsRemovedLV(t *testing.T) {
	t.Chdir(t.TempDir())
	f := fixture.Load(t, "history")
	var want string
	for _, r := range f.Manifest.RemovedLVs {
		if r.Name == "late" {
			want = r.SHA256
		}
	}
	m := fixtureModel(t, "history", false, 80, 24)
	openHistoryOf(t, m)
	selectSeqno(t, m, 69)
	press(t, m, "t")
	if !strings.Contains(m.header(), "AS OF seqno 69") {
		t.Errorf("header does not say the tree is a past generation: %q", m.header())
	}
	press(t, m, "esc", "g", "/late", "enter")
	n := m.selected()
	if n == nil || n.kind != kLV || n.lv.Name != "late" || !n.removed {
		t.Fatalf("late not selected or not marked removed: %+v", n)
	}
	if row := plain(m.tree.View()); !strings.Contains(row, "REMOVED") {
		t.Errorf("tree does not mark late REMOVED:\n%s", row)
	}
	if d := strings.Join(m.detailsP().sc.lines, "\n"); !strings.Contains(d, "no longer exists") || !strings.Contains(d, "reused extents") {
		t.Errorf("details of late:\n%s", d)
	}
	press(t, m, "e")
	if !strings.Contains(m.exportP().path.Value(), "hist/late.img") {
		t.Fatalf("prompt %q, status %q", m.exportP().path.Value(), m.status())
	}
	drain(t, m, press(t, m, "enter"), nil)
	if got := fileSHA(t, "hist/late.img"); got != want {
		t.Errorf("late exported from seqno 69: sha256 %s, manifest %s (status %q)", got, want, m.status())
	}
	// c returns to the present: late is gone.
	press(t, m, "g", "/VG", "enter", "c")
	if strings.Contains(m.header(), "AS OF") || m.tree.find("late") != nil {
		t.Error("c did not return to the current metadata")
	}
}
