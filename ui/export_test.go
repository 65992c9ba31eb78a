package ui

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/scan"
)

// chocolateSHA reads the manifest's sha256 of banana/chocolate.
func chocolateSHA(t *testing.T) string {
	t.Helper()
	for _, lv := range fixture.Load(t, "banana").Manifest.LVs {
		if lv.Name == "chocolate" {
			return lv.ExpectedSHA256()
		}
	}
	t.Fatal("chocolate not in the banana manifest")
	return ""
}

func mustGetwd(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}

func (m *Model) exportP() *exportPane { return m.panes[paneExport].(*exportPane) }

func fileSHA(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestExportFromTUI is the scenario: /chocolate enter e enter
// writes ./banana/chocolate.img with the manifest's sha256 and shows it.
func TestExportFromTUI(t *testing.T) {
	t.Chdir(t.TempDir())
	m := demoModel(t, 80, 24)
	press(t, m, "/chocolate", "enter")
	if n := m.selected(); n == nil || n.kind != kLV || n.lv.Name != "chocolate" {
		t.Fatalf("search selected %v", m.selected())
	}
	press(t, m, "e")
	if m.mode != modeForm || m.exportP().path.Value() != "banana/chocolate.img" {
		t.Fatalf("export form: mode %d value %q", m.mode, m.exportP().path.Value())
	}
	if v := plain(m.View()); !strings.Contains(v, "✓ can be exported") || !strings.Contains(strings.ReplaceAll(v, "\n", ""), "→ "+mustGetwd(t)[:10]) {
		t.Errorf("the form lacks the verdict or the absolute path:\n%s", v)
	}
	cmd := press(t, m, "enter")
	if m.mode != modeExporting {
		t.Fatalf("mode %d after enter, status %q", m.mode, m.status())
	}
	var progress, done int
	drain(t, m, cmd, func(msg tea.Msg) {
		switch msg.(type) {
		case exportProgressMsg:
			progress++
			if !strings.Contains(m.View(), "Exporting banana/chocolate") || !strings.Contains(m.View(), "%") {
				t.Error("no progress bar while exporting")
			}
		case exportDoneMsg:
			done++
		}
	})
	want := chocolateSHA(t)
	if got := fileSHA(t, "banana/chocolate.img"); got != want {
		t.Fatalf("sha256 %s, manifest %s", got, want)
	}
	if done != 1 || progress == 0 {
		t.Errorf("%d progress and %d done messages", progress, done)
	}
	if m.mode != modeBrowse || !strings.Contains(m.status(), want) || !strings.Contains(m.status(), "banana/chocolate.img") {
		t.Errorf("status %q (mode %d)", m.status(), m.mode)
	}
	view := plain(m.View())
	if !strings.Contains(strings.ReplaceAll(view, "\n", ""), want) {
		t.Errorf("the sha256 is not on screen:\n%s", view)
	}
	t.Logf("progress messages: %d", progress)
}

// gateFS is the OS file system whose output files block on their first
// write until released, so a test can cancel an export mid-way.
type gateFS struct {
	export.OSFS
	gate    chan struct{}
	started chan struct{}
	once    sync.Once
}

type gateFile struct {
	*os.File
	fs *gateFS
}

func (g *gateFS) CreateExcl(name string, perm fs.FileMode) (export.File, error) {
	f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, perm)
	if err != nil {
		return nil, err
	}
	return &gateFile{File: f, fs: g}, nil
}

func (f *gateFile) Write(p []byte) (int, error) {
	f.fs.once.Do(func() { close(f.fs.started) })
	<-f.fs.gate
	return f.File.Write(p)
}

func (f *gateFile) WriteAt(p []byte, off int64) (int, error) {
	f.fs.once.Do(func() { close(f.fs.started) })
	<-f.fs.gate
	return f.File.WriteAt(p, off)
}

func TestExportCancelLeavesNoFile(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	g := &gateFS{gate: make(chan struct{}), started: make(chan struct{})}
	m := demoModel(t, 80, 24)
	m.s.cfg.ExportFS = g
	press(t, m, "/chocolate", "enter", "e")
	cmd := press(t, m, "enter")
	if m.mode != modeExporting {
		t.Fatalf("not exporting: %q", m.status())
	}
	<-g.started
	press(t, m, "esc")
	close(g.gate)
	drain(t, m, cmd, nil)
	if m.exportP().running() || m.mode != modeBrowse {
		t.Fatalf("export still shown after cancel (mode %d)", m.mode)
	}
	if !strings.Contains(m.status(), "cancelled") {
		t.Errorf("status %q", m.status())
	}
	var left []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if p != dir {
			left = append(left, p)
		}
		return nil
	})
	if len(left) > 0 {
		t.Errorf("cancel left %v", left)
	}
}

func TestExportAsksBeforeOverwrite(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.MkdirAll("banana", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("banana/chocolate.img", []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	m := demoModel(t, 80, 24)
	press(t, m, "/chocolate", "enter", "e", "enter")
	if m.mode != modeConfirm || !strings.Contains(m.View(), "exists") {
		t.Fatalf("no overwrite question:\n%s", m.View())
	}
	press(t, m, "n")
	if b, _ := os.ReadFile("banana/chocolate.img"); string(b) != "precious" {
		t.Fatal("file changed after answering no")
	}
	if m.mode != modeForm {
		t.Fatalf("no did not return to the form (mode %d)", m.mode)
	}
	press(t, m, "enter")
	cmd := press(t, m, "y")
	drain(t, m, cmd, nil)
	if got := fileSHA(t, "banana/chocolate.img"); got != chocolateSHA(t) {
		t.Fatalf("after overwrite sha256 %s", got)
	}
}

func TestQuitWhileExportingAsks(t *testing.T) {
	t.Chdir(t.TempDir())
	g := &gateFS{gate: make(chan struct{}), started: make(chan struct{})}
	m := demoModel(t, 80, 24)
	m.s.cfg.ExportFS = g
	press(t, m, "/chocolate", "enter", "e")
	cmd := press(t, m, "enter")
	<-g.started
	if c := press(t, m, "q"); c != nil || m.mode != modeConfirm {
		t.Fatalf("q while exporting did not ask (mode %d)", m.mode)
	}
	press(t, m, "n")
	if m.mode != modeExporting {
		t.Fatalf("n did not return to the export (mode %d)", m.mode)
	}
	press(t, m, "q", "y")
	close(g.gate)
	msgs := drain(t, m, cmd, nil)
	if _, ok := msgs[len(msgs)-1].(tea.QuitMsg); !ok {
		t.Fatalf("did not quit after the export stopped: %T", msgs[len(msgs)-1])
	}
	if _, err := os.Stat("banana/chocolate.img"); err == nil {
		t.Error("a file was left after quitting")
	}
}

func TestExportRefusedSaysWhy(t *testing.T) {
	m := demoModel(t, 80, 24)
	press(t, m, "g") // the input: not an LV
	if m.keys.Tree.Export.Enabled() {
		t.Error("export enabled on an input")
	}
	// An LV with extents on a PV that no input holds.
	m = fixtureModelImages(t, "multipv", []string{"pv0", "pv2"}, 80, 24)
	press(t, m, "/span", "enter")
	if d := plain(m.View()); strings.Contains(d, "✓ can be exported") || !strings.Contains(d, "cannot export") {
		t.Errorf("details of span without pv1:\n%s", d)
	}
	press(t, m, "e")
	if !strings.Contains(plain(m.View()), "cannot export") {
		t.Errorf("reason not in the export form:\n%s", m.View())
	}
	press(t, m, "enter")
	if m.mode != modeForm || !strings.Contains(m.status(), "cannot export") || !strings.Contains(m.status(), "no source") {
		t.Errorf("missing PV: mode %d status %q", m.mode, m.status())
	}
	press(t, m, "esc")
	// A segment type lvminspect does not know.
	pv := uuidN('p', 3)
	ti := testImage{mdaSize: 1 << 20, peStart: 2 << 20, pvUUID: pv}
	ti.size = ti.peStart + 16*4096
	text := strings.Replace(vgText("odd", 1, pv, 16, ti.peStart, []string{"weird"}, ""), `type = "striped"`, `type = "frobnicate"`, 1)
	img := ti.build(t, []string{text})
	m = New(Config{Result: scan.Scan([]*scan.Input{scan.NewInput("odd.img", bytesReaderAt(img), int64(len(img)))}, scan.Options{})})
	start(t, m, 80, 24)
	press(t, m, "g", "/weird", "enter", "e", "enter")
	if !strings.Contains(m.status(), "cannot export") || !strings.Contains(m.status(), "frobnicate") {
		t.Errorf("unknown segment type: mode %d status %q", m.mode, m.status())
	}
}

// TestExportNeverReplacesAnInput refuses an export path that is one of
// the inputs being read.
func TestExportNeverReplacesAnInput(t *testing.T) {
	t.Chdir(t.TempDir())
	b := fixture.Load(t, "banana").Image(t, "pv0")
	if err := os.WriteFile("pv0.img", b, 0o644); err != nil {
		t.Fatal(err)
	}
	m := fixtureModel(t, "banana", false, 80, 24) // its input is named pv0.img
	press(t, m, "/chocolate", "enter", "e")
	if m.mode != modeForm {
		t.Fatalf("no export form:\n%s", m.View())
	}
	m.exportP().path.SetValue("pv0.img")
	if cmd := press(t, m, "enter"); cmd != nil || m.mode == modeExporting || m.mode == modeConfirm {
		t.Fatalf("export onto the input started or asked to overwrite (mode %v)", m.mode)
	}
	if !strings.Contains(m.status(), "would replace an input") || m.bar.statusLevel != levelErr {
		t.Fatalf("no refusal in the status line: %q", m.status())
	}
	if got, _ := os.ReadFile("pv0.img"); !bytes.Equal(got, b) {
		t.Fatal("the input changed")
	}
}

// A temporary an export killed with SIGKILL left in the output's folder
// is named in the export form, as the export command names it; it is
// never removed.
func TestExportFormNamesStaleTemporaries(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.MkdirAll("banana", 0o755); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join("banana", ".chocolate.img.tmp-0123456789ab")
	if err := os.WriteFile(stale, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	m := demoModel(t, 120, 40)
	press(t, m, "/chocolate", "enter")
	drain(t, m, press(t, m, "e"), func(tea.Msg) {})
	// The path is wrapped anywhere: compare the form pane's text (between
	// its borders) without the line breaks and the spaces.
	var form strings.Builder
	for _, l := range strings.Split(plain(m.View()), "\n") {
		if i, j := strings.Index(l, "┃"), strings.LastIndex(l, "┃"); i >= 0 && j > i {
			form.WriteString(l[i+len("┃") : j])
		}
	}
	v := strings.ReplaceAll(form.String(), " ", "")
	if !strings.Contains(v, "staletemporary") || !strings.Contains(v, ".chocolate.img.tmp-0123456789ab") {
		t.Errorf("the form does not name the stale temporary:\n%s", plain(m.View()))
	}
	if _, err := os.Stat(stale); err != nil {
		t.Errorf("the stale temporary was removed: %v", err)
	}
}
