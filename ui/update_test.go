package ui

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/ui/demo"
)

// checkFrame fails unless the frame is exactly w×h cells.
func checkFrame(t *testing.T, m *Model, w, h int) {
	t.Helper()
	v := m.View()
	lines := strings.Split(v, "\n")
	if len(lines) != h {
		t.Errorf("%d×%d: frame has %d lines", w, h, len(lines))
	}
	for i, l := range lines {
		if lw := lipgloss.Width(l); lw > w {
			t.Errorf("%d×%d: line %d is %d wide: %q", w, h, i, lw, l)
		}
	}
}

func TestResizeKeepsFrameInBounds(t *testing.T) {
	m := demoModel(t, 80, 24)
	for _, keys := range [][]string{nil, {"k", "k", "k", "k", "k", "x"}, {"esc", "/VG", "enter", "m"}, {"esc", "v"}, {"esc", "?"}} {
		press(t, m, keys...)
		for _, sz := range [][2]int{{80, 24}, {81, 25}, {100, 30}, {160, 50}, {200, 60}, {80, 24}} {
			m.Update(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
			checkFrame(t, m, sz[0], sz[1])
		}
	}
	// A long status line wraps without pushing the frame out.
	press(t, m, "esc")
	m.setStatus(strings.Repeat("very long warning ", 30), levelWarn)
	m.layout()
	checkFrame(t, m, 80, 24)
}

func TestTooSmallSaysSo(t *testing.T) {
	m := demoModel(t, 60, 20)
	if v := m.View(); !strings.Contains(v, "at least 80×24") {
		t.Fatalf("small terminal:\n%s", v)
	}
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	if !strings.Contains(m.View(), "chocolate") {
		t.Fatal("did not recover after growing")
	}
}

func TestTreeNavigation(t *testing.T) {
	m := demoModel(t, 80, 24)
	if n := m.selected(); n.kind != kLV || n.lv.Name != "chocolate" {
		t.Fatalf("start selection %q", n.name)
	}
	press(t, m, "l")
	if !m.selected().expanded {
		t.Error("l did not expand")
	}
	press(t, m, "l")
	if m.selected().kind != kSegment {
		t.Errorf("l on an open item did not go to its child: %q", m.selected().name)
	}
	press(t, m, "h")
	if m.selected().kind != kLV {
		t.Errorf("h on a leaf did not go to the parent: %q", m.selected().name)
	}
	press(t, m, "h")
	if m.selected().expanded {
		t.Error("h did not collapse")
	}
	press(t, m, "G")
	if m.tree.cursor != len(m.tree.rows)-1 {
		t.Error("G did not go to the bottom")
	}
	press(t, m, "g")
	if m.tree.cursor != 0 || m.selected().kind != kInput {
		t.Error("g did not go to the top")
	}
	if !strings.Contains(plain(m.View()), "› ▾ banana-pv0.img") {
		t.Errorf("selection not marked by a cursor glyph:\n%s", m.View())
	}
	press(t, m, "/nothing-like-this", "enter")
	if !strings.Contains(m.status(), "no item") {
		t.Errorf("failed search: %q", m.status())
	}
}

func TestMouseWheelAndClick(t *testing.T) {
	m := demoModel(t, 80, 24)
	press(t, m, "g")
	m.Update(tea.MouseMsg{X: 5, Y: 5, Button: tea.MouseButtonWheelDown})
	if m.tree.cursor != 3 {
		t.Errorf("wheel down moved the tree to %d", m.tree.cursor)
	}
	// Click the row of the VG: body starts at row 1, border row 2.
	vgRow := -1
	for i, r := range m.tree.rows {
		if r.kind == kVG {
			vgRow = i
		}
	}
	m.Update(tea.MouseMsg{X: 5, Y: 2 + vgRow - m.tree.offset, Button: tea.MouseButtonLeft, Action: tea.MouseActionPress})
	if m.selected().kind != kVG {
		t.Errorf("click selected %q", m.selected().name)
	}
	m.Update(tea.MouseMsg{X: 60, Y: 5, Button: tea.MouseButtonLeft, Action: tea.MouseActionPress})
	if m.focus != focusRight {
		t.Error("click on the right pane did not focus it")
	}
}

// countingReaderAt counts the bytes read from an input.
type countingReaderAt struct {
	r bytesReaderAt
	n atomic.Int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	c.n.Add(int64(len(p)))
	return c.r.ReadAt(p, off)
}

// TestHexReadsOnDemand scrolls through a whole PV in the hex view and
// checks that only windows around the view are read, never the PV.
func TestHexReadsOnDemand(t *testing.T) {
	fs, err := demo.FS()
	if err != nil {
		t.Fatal(err)
	}
	f, _ := fs.Open(demo.Path)
	st, _ := f.Stat()
	img := make([]byte, st.Size())
	f.ReadAt(img, 0)
	cr := &countingReaderAt{r: img}
	m := New(Config{Result: scan.Scan([]*scan.Input{scan.NewInput("pv.img", cr, int64(len(img)))}, scan.Options{})})
	start(t, m, 160, 50)
	press(t, m, "g", "j", "x") // the PV
	before := cr.n.Load()
	press(t, m, "G")
	if !strings.Contains(m.View(), fmt.Sprintf("%x", len(img)-16)) {
		t.Errorf("G did not show the last row")
	}
	press(t, m, "g")
	for i := 0; i < 50; i++ {
		press(t, m, "pgdown")
	}
	read := cr.n.Load() - before
	if read > 1<<20 || read <= 0 {
		t.Errorf("hex view read %d bytes to show a few screens of a %d-byte PV", read, len(img))
	}
	t.Logf("read %d bytes for 53 screens", read)
	// Go to an offset, then step fields.
	press(t, m, "o", "0x1000", "enter")
	if m.hexP().field < 0 || m.hexP().src.fields[m.hexP().field].Name != "checksum" {
		t.Errorf("o 0x1000 selected field %d", m.hexP().field)
	}
	press(t, m, "]")
	if f := m.hexP().src.fields[m.hexP().field]; f.Name != "magic" {
		t.Errorf("] went to %q", f.Name)
	}
	press(t, m, "[", "[")
	if f := m.hexP().src.fields[m.hexP().field]; f.Off >= 0x1000 {
		t.Errorf("[ [ went to %q at %#x", f.Name, f.Off)
	}
	press(t, m, "o", "zzz", "enter")
	if !strings.Contains(m.status(), "not an offset") {
		t.Errorf("bad offset: %q", m.status())
	}
}

func TestTextSearch(t *testing.T) {
	m := demoModel(t, 80, 24)
	press(t, m, "m", "/", "segment", "enter")
	if len(m.textP().matches) < 4 {
		t.Fatalf("matches of segment: %v", m.textP().matches)
	}
	first := m.textP().cur
	press(t, m, "n")
	if m.textP().cur != first+1 {
		t.Error("n did not go to the next match")
	}
	press(t, m, "N", "N")
	if m.textP().cur != len(m.textP().matches)-1 {
		t.Error("N did not wrap to the last match")
	}
	if !strings.Contains(plain(m.View()), "›") {
		t.Error("the current match is not marked without colour")
	}
}

func TestRunesInOneMessage(t *testing.T) {
	m := demoModel(t, 80, 24)
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("/cream")})
	m.Update(tea.KeyMsg{Type: tea.KeyEnter})
	if n := m.selected(); n.kind != kLV || n.lv.Name != "cream" {
		t.Fatalf("\"/cream\" in one message selected %q", n.name)
	}
}
