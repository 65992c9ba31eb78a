package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/scan"
)

// TestScreenshots writes the ANSI frames that scripts/screenshots.sh turns
// into screenshots/*.png: the same fixtures and key sequences as the
// golden tests, drawn in true colour on a dark background.
func TestScreenshots(t *testing.T) {
	if os.Getenv("SCREENSHOTS") == "" {
		t.Skip("set SCREENSHOTS=1 to regenerate screenshots/*.ans (scripts/screenshots.sh)")
	}
	lipgloss.SetColorProfile(termenv.TrueColor)
	defer lipgloss.SetColorProfile(termenv.Ascii)
	out, err := filepath.Abs(filepath.Join("..", "screenshots"))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, m *Model) {
		t.Helper()
		if !m.exportP().running() {
			m.setStatus("", levelInfo) // a search's "found …" is noise in a picture
		}
		m.after()
		if err := os.WriteFile(filepath.Join(out, name+".ans"), []byte(m.View()+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const w, h = 120, 34

	// The device tree with the details of an LV (the demo's start).
	m := demoModel(t, w, h)
	write("tree", m)

	// The hex view of a PV header, a field selected.
	m = demoModel(t, w, h)
	press(t, m, "/pv_header", "enter", "x", "n", "n", "n")
	write("hex-pv-header", m)

	// The history of the "history" fixture: the removal of LV late.
	m = fixtureModel(t, "history", false, w, h)
	openHistoryOf(t, m)
	selectSeqno(t, m, 70)
	write("history", m)

	// What a partition holds instead of a PV: the GPT fixture with a LUKS2
	// header made by cryptsetup written over its first partition.
	disk := fixture.Load(t, "gpt-disk").Image(t, "disk0")
	luks, err := fixture.Gunzip("../scan/content/testdata/luks2.luks2.head.gz")
	if err != nil {
		t.Fatal(err)
	}
	copy(disk[1<<20:], luks)
	m = New(Config{Result: scan.Scan([]*scan.Input{scan.NewInput("disk.img", bytesReaderAt(disk), int64(len(disk)))}, scan.Options{})})
	start(t, m, w, h)
	press(t, m, "/partition 1", "enter")
	write("not-a-pv", m)

	// An old-style snapshot as lvs shows it: origin, size, COW use.
	m = fixtureModel(t, "snapshot", false, w, h)
	press(t, m, "/base_snap", "enter")
	write("snapshot", m)

	// The export form: an LV with a PV missing, --allow-partial chosen,
	// the zero-filled range listed, the output on an input's file system.
	dir := filepath.Join(os.TempDir(), "lvminspect-screens")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	m = fixtureModelImages(t, "multipv", []string{"pv0", "pv2"}, w, h)
	for _, in := range m.s.res.Inputs {
		in.Path = filepath.Join(dir, in.Path)
		if err := os.WriteFile(in.Path, fixture.Load(t, "multipv").Image(t, strings.TrimSuffix(filepath.Base(in.Path), ".img")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	press(t, m, "/span", "enter", "e", "tab", "space")
	write("export-form", m)

	// An export in progress: the demo's chocolate, held mid-way.
	g := &gateFS{gate: make(chan struct{}), started: make(chan struct{})}
	m = demoModel(t, w, h)
	m.s.cfg.ExportFS = g
	press(t, m, "/chocolate", "enter", "e")
	cmd := press(t, m, "enter")
	<-g.started
	m.Update(exportProgressMsg{id: m.exportP().run.id, p: export.Progress{Done: 1835008, Total: 4194304, Rate: 96 << 20, ETA: 1800 * time.Millisecond}})
	write("export", m)
	press(t, m, "esc")
	close(g.gate)
	drain(t, m, cmd, nil)

	// A virtualisation host: the host's thin LV holds a GPT whose second
	// partition is the PV of a guest VG, shown under it.
	m = nestedModel(t, w, h)
	for _, n := range walkAll(m.tree.roots) {
		if n.kind == kHolds && n.dev.LV == "vm-100-disk-0" {
			selectNode(t, m, n)
		}
	}
	write("nested", m)

	// An md RAID5 array given two of its three members: the members by
	// role, the missing one, the PV on the array, and its details.
	m = fixtureModelImages(t, "md-raid5", []string{"m0", "m2"}, w, h)
	for _, n := range walkAll(m.tree.roots) {
		if n.kind == kMD {
			selectNode(t, m, n)
		}
	}
	write("md", m)

	// A LUKS2 volume unlocked with its passphrase: the volume with its key
	// slot and the PV inside, VG cryptvg after it, and its details (what
	// opened it, the header copies and their checksums, the key slots).
	m = luksModel(t, "luks2-lvm", true, w, h)
	for _, n := range walkAll(m.tree.roots) {
		if n.kind == kLUKS {
			selectNode(t, m, n)
		}
	}
	write("luks", m)

	// An E01's own structures in the hex view, their checksums checked.
	cdir := filepath.Join(os.TempDir(), "lvminspect-screens-e01")
	if err := os.MkdirAll(cdir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeContainer(t, cdir, "banana.E01")
	t.Chdir(cdir)
	m = openModel(t, []string{"banana.E01"}, w, h)
	press(t, m, "g", "j", "x")
	for i := 0; i < 40; i++ {
		if f := m.hexP().field; f >= 0 && m.hexP().src.fields[f].Check != nil && m.hexP().src.fields[f].Name == "checksum" {
			break
		}
		press(t, m, "n")
	}
	write("container-hex", m)
}
