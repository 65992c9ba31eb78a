package ui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/scan"
)

// What a partition holds instead of a PV shows in its tree row and its
// details, with the next step; a note (severity info) does not mark the
// disk as damaged.
func TestPartitionContentShown(t *testing.T) {
	disk := fixture.Load(t, "gpt-disk").Image(t, "disk0")
	luks, err := fixture.Gunzip("../scan/content/testdata/luks2.luks2.head.gz")
	if err != nil {
		t.Fatal(err)
	}
	copy(disk[1<<20:], luks)
	in := scan.NewInput("enc.img", bytesReaderAt(disk), int64(len(disk)))
	m := New(Config{Result: scan.Scan([]*scan.Input{in}, scan.Options{})})
	start(t, m, 130, 30)
	idx := -1
	for i, r := range m.tree.rows {
		if r.kind == kPartition && r.part.Index == 1 {
			idx = i
		}
		if r.kind == kInput && r.damaged {
			t.Errorf("the input is marked damaged for a note")
		}
	}
	if idx < 0 {
		t.Fatal("no row for partition 1")
	}
	m.tree.moveTo(idx)
	settle(t, m, m.moved())
	screen := plain(m.View())
	for _, want := range []string{"partition 1 4.00 MiB luks2 ·", "holds          LUKS2 encrypted volume", "next step", "cryptsetup open --readonly",
		"--offset 1048576 --sizelimit 4194304"} {
		if !strings.Contains(screen, want) {
			t.Errorf("screen lacks %q", want)
		}
	}
	if strings.Contains(screen, "problems found") {
		t.Errorf("a note is reported as a problem:\n%s", screen)
	}
	if t.Failed() {
		dump(t, screen)
	}
}

// A PV that starts where neither a partition table nor offset 0 puts it
// is found with ScanOptions.Carve (lvminspect --carve); without it the
// status line says to carve.
func TestCarveOptionFindsOffsetPV(t *testing.T) {
	pv := fixture.Load(t, "banana").Image(t, "pv0")
	const at = 2<<20 + 512
	img := make([]byte, at+len(pv))
	copy(img[at:], pv)
	for _, carve := range []bool{false, true} {
		in := scan.NewInput("odd.img", bytesReaderAt(img), int64(len(img)))
		m := New(Config{Inputs: []*scan.Input{in}, ScanOptions: scan.Options{Carve: carve}})
		m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
		drain(t, m, m.Init(), nil)
		screen := plain(m.View())
		if got := strings.Contains(screen, "VG banana"); got != carve {
			t.Errorf("carve %v: VG banana shown: %v", carve, got)
		}
		if got := strings.Contains(screen, "--carve searches every sector"); got == carve {
			t.Errorf("carve %v: hint to carve shown: %v", carve, got)
		}
		if t.Failed() {
			dump(t, screen)
		}
	}
}
