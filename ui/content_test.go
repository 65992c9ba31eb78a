package ui

import (
	"bytes"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/scan"
)

// What a partition holds instead of a PV shows in its tree row and its
// details, with the next step; a note (severity info) does not mark the
// disk as damaged. A LUKS2 header there is read as one: the partition
// has a row for it, and this one (the first 4 KiB of a header made by
// cryptsetup, without its JSON area) fails its checksum, which marks it.
func TestPartitionContentShown(t *testing.T) {
	for _, c := range []struct {
		head    string
		damaged bool
		wants   []string
	}{
		{"gzip.gzip.head.gz", false, []string{"partition 1 4.00 MiB gzip ·", "holds          gzip-compressed data", "next step",
			"decompress it first"}},
		{"luks2.luks2.head.gz", true, []string{"partition 1 4.00 MiB luks2 ·", "LUKS2 header csum ✗ !", "holds          LUKS2 encrypted volume",
			"next step", "read through the decrypted volume", "LUKS2 header", "checksums      ✗ BAD (1 header copy)"}},
	} {
		disk := bytes.Clone(fixture.Load(t, "gpt-disk").Image(t, "disk0"))
		head, err := fixture.Gunzip("../scan/content/testdata/" + c.head)
		if err != nil {
			t.Fatal(err)
		}
		copy(disk[1<<20:], head)
		in := scan.NewInput("enc.img", bytesReaderAt(disk), int64(len(disk)))
		m := New(Config{Result: scan.Scan([]*scan.Input{in}, scan.Options{})})
		start(t, m, 130, 30)
		idx := -1
		for i, r := range m.tree.rows {
			if r.kind == kPartition && r.part.Index == 1 {
				idx = i
			}
			if r.kind == kInput && r.damaged != c.damaged {
				t.Errorf("%s: the input is marked damaged: %v", c.head, r.damaged)
			}
		}
		if idx < 0 {
			t.Fatal("no row for partition 1")
		}
		m.tree.moveTo(idx)
		settle(t, m, m.moved())
		screen := plain(m.View())
		wantAll(t, c.head, screen, c.wants...)
		if !c.damaged && strings.Contains(screen, "problems found") {
			t.Errorf("a note is reported as a problem:\n%s", screen)
		}
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
