package ui

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/spf13/afero"

	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/scan"
)

// guestManifest is the part of nested-thin's manifest about the guests.
type guestManifest struct {
	GuestLVs []struct {
		VG, Name, SHA256 string
	} `json:"guest_lvs"`
	GuestDisks []struct {
		HostVG string `json:"host_vg"`
		HostLV string `json:"host_lv"`
		SHA256 string `json:"sha256"`
	} `json:"guest_disks"`
}

func loadGuests(t *testing.T) guestManifest {
	t.Helper()
	var m guestManifest
	if err := json.Unmarshal(fixture.Load(t, "nested-thin").ReadFile(t, "manifest.json"), &m); err != nil {
		t.Fatal(err)
	}
	if len(m.GuestLVs) < 4 || len(m.GuestDisks) < 2 {
		t.Fatalf("manifest: %d guest LVs, %d guest disks", len(m.GuestLVs), len(m.GuestDisks))
	}
	return m
}

// ancestry is a node's path from its root, names joined by " → ".
func ancestry(n *node) string {
	var parts []string
	for p := n; p != nil; p = p.parent {
		parts = append([]string{p.name}, parts...)
	}
	return strings.Join(parts, " → ")
}

// lvNodeOf finds the tree's node of LV vg/lv.
func lvNodeOf(m *Model, vg, lv string) *node {
	for _, n := range walkAll(m.tree.roots) {
		if n.kind == kLV && n.vg.vg.Meta.Name == vg && n.lv.Name == lv {
			return n
		}
	}
	return nil
}

// pick selects n as the keys would, the bindings following.
func pick(t *testing.T, m *Model, n *node) {
	t.Helper()
	selectNode(t, m, n)
	m.after()
}

// The virtualisation host reads host → thin LV → what it holds → GPT →
// partition 2 → the guest's PV, and the guest VG is there too, not a
// root; the LV rows say what they hold.
func TestNestedTreeShowsGuestsUnderTheirLV(t *testing.T) {
	m := nestedModel(t, 160, 50)
	var roots []string
	for _, r := range m.tree.roots {
		roots = append(roots, r.name)
	}
	if got := strings.Join(roots, ", "); got != "pv0.img, VG pve" {
		t.Errorf("roots: %s", got)
	}
	var pv, vg0, guest101 *node
	for _, n := range walkAll(m.tree.roots) {
		switch {
		case n.kind == kPV && n.parent != nil && n.parent.kind == kPartition:
			pv = n
		case n.kind == kVG && n.vg.vg.Meta.Name == "vg0":
			vg0 = n
		case n.kind == kVG && n.vg.vg.Meta.Name == "guest101":
			guest101 = n
		}
	}
	if pv == nil || vg0 == nil || guest101 == nil {
		t.Fatalf("guest PV %v, VG vg0 %v, VG guest101 %v", pv, vg0, guest101)
	}
	want := "VG pve → vm-100-disk-0 → holds: GPT partition table → GPT partition table → partition 2 → PV " + pv.pv.UUID()
	if got := ancestry(pv); got != want {
		t.Errorf("guest PV at\n  %s\nwant\n  %s", got, want)
	}
	if got := ancestry(vg0); got != "VG pve → vm-100-disk-0 → holds: GPT partition table → VG vg0" {
		t.Errorf("VG vg0 at %s", got)
	}
	if got := ancestry(guest101); got != "VG pve → vm-101-disk-0 → holds: LVM2 PV → VG guest101" {
		t.Errorf("VG guest101 at %s", got)
	}
	// In reading order: the PV, then the guest VG with its LVs.
	all := walkAll(m.tree.roots)
	at := func(n *node) int {
		for i, x := range all {
			if x == n {
				return i
			}
		}
		return -1
	}
	if at(pv) > at(vg0) || lvNodeOf(m, "vg0", "root") == nil || at(lvNodeOf(m, "vg0", "root")) < at(vg0) {
		t.Error("the guest VG and its LVs do not follow its PV")
	}
	// Open from the start: the guests' LVs are rows without a key.
	if rowOf(m, "VG pve", "vm-100-disk-0", "VG vg0", "swap") < 0 {
		t.Errorf("vg0/swap is not a visible row under vm-100-disk-0:\n%s", plain(m.tree.View()))
	}
	tree := plain(m.tree.View())
	for _, w := range []string{"vm-100-disk-0 32.00 MiB GPT · thin", "vm-101-disk-0 16.00 MiB PV · thin", "root 8.00 MiB ext2 · linear",
		"swap 4.00 MiB swap · linear"} {
		if !strings.Contains(tree, w) {
			t.Errorf("tree lacks %q:\n%s", w, tree)
		}
	}
	pick(t, m, lvNodeOf(m, "pve", "vm-100-disk-0"))
	d := plain(m.View())
	for _, w := range []string{"device         lv:pve/vm-100-disk-0", "holds          GPT partition table"} {
		if !strings.Contains(d, w) {
			t.Errorf("details of vm-100-disk-0 lack %q:\n%s", w, d)
		}
	}
	// The header counts the inputs given, not the LVs the graph opened.
	if h := m.header(); !strings.Contains(h, "pv0.img") {
		t.Errorf("header %q", h)
	}
}

// Every guest LV exports through the inspector (e, enter) to the
// manifest's sha256, and so do the thin LVs read as disks (their holds
// row, a device export) with the command line the form shows.
func TestGuestLVsExportFromTUI(t *testing.T) {
	gm := loadGuests(t)
	t.Chdir(t.TempDir())
	m := nestedModel(t, 120, 40)
	export := func(what string, n *node, wantPath, wantSHA string) {
		t.Helper()
		pick(t, m, n)
		press(t, m, "e")
		if m.mode != modeForm {
			t.Fatalf("%s: no export form (status %q)", what, m.status())
		}
		if got := m.exportP().path.Value(); got != wantPath {
			t.Errorf("%s: output %q, want %q", what, got, wantPath)
		}
		form := strings.ReplaceAll(plain(m.View()), "\n", " ")
		if strings.Contains(form, "pve/vm-10") && n.kind == kLV && n.vg.vg.Meta.Name != "pve" {
			t.Errorf("%s: the form names an LV the graph opened as an input:\n%s", what, plain(m.View()))
		}
		drain(t, m, press(t, m, "enter"), nil)
		if m.mode != modeBrowse || !strings.Contains(m.status(), wantSHA) {
			t.Fatalf("%s: mode %d status %q", what, m.mode, m.status())
		}
		if got := fileSHA(t, wantPath); got != wantSHA {
			t.Errorf("%s: sha256 %s, manifest %s", what, got, wantSHA)
		}
		press(t, m, "esc")
	}
	for _, lv := range gm.GuestLVs {
		n := lvNodeOf(m, lv.VG, lv.Name)
		if n == nil {
			t.Fatalf("no LV %s/%s in the tree", lv.VG, lv.Name)
		}
		export(lv.VG+"/"+lv.Name, n, lv.VG+"/"+lv.Name+".img", lv.SHA256)
	}
	for _, d := range gm.GuestDisks {
		ln := lvNodeOf(m, d.HostVG, d.HostLV)
		var holds *node
		for _, c := range ln.children {
			if c.kind == kHolds {
				holds = c
			}
		}
		if holds == nil {
			t.Fatalf("%s/%s has no holds row", d.HostVG, d.HostLV)
		}
		id := "lv:" + d.HostVG + "/" + d.HostLV
		pick(t, m, holds)
		press(t, m, "e")
		form := strings.ReplaceAll(plain(m.View()), "\n", " ")
		if !strings.Contains(form, "same as: lvminspect export --device "+id+" -o") || !strings.Contains(form, "Export device "+id) ||
			strings.Contains(form, "--raw") {
			t.Errorf("device form:\n%s", plain(m.View()))
		}
		press(t, m, "esc")
		export(id, holds, strings.NewReplacer(":", "_", "/", "_").Replace(id)+".img", d.SHA256)
	}
	// A partition inside a thin LV: the disk's bytes at its offset.
	disk, err := os.ReadFile("lv_pve_vm-100-disk-0.img")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range walkAll(m.tree.roots) {
		if n.kind == kPartition && n.part.Index == 2 && n.dev != nil && n.dev.ID == "lv:pve/vm-100-disk-0.p2" {
			sum := sha256.Sum256(disk[n.part.Start : n.part.Start+n.dev.Size])
			export(n.dev.ID, n, "lv_pve_vm-100-disk-0.p2.img", hex.EncodeToString(sum[:]))
			return
		}
	}
	t.Error("no row for partition 2 of vm-100-disk-0 as a device")
}

// bananaMD5 is the MD5 of the disk the E01 fixtures hold, computed here.
func bananaMD5(t *testing.T) string {
	s := md5.Sum(fixture.Load(t, "banana").Image(t, "pv0"))
	return hex.EncodeToString(s[:])
}

// An E01's file is an input, its virtual disk a container row under it:
// the details name its stored MD5 and its header checksums, x shows the
// file with the structures named and checked, V verifies it.
func TestContainerRowDetailsHexVerify(t *testing.T) {
	m := containerModel(t, t.TempDir(), "banana.E01", 120, 40)
	in := m.tree.roots[0]
	if in.kind != kInput || len(in.children) != 1 || in.children[0].kind != kContainer {
		t.Fatalf("input row %q with children %v", in.name, in.children)
	}
	c := in.children[0]
	if !strings.Contains(plain(m.tree.View()), "EWF container 14.00 MiB") {
		t.Errorf("tree:\n%s", plain(m.tree.View()))
	}
	pick(t, m, c)
	d := plain(m.View())
	for _, w := range []string{"EWF container", "in1.ewf", "stored md5", bananaMD5(t), "Header checksums", "match", "chunk size"} {
		if !strings.Contains(d, w) {
			t.Errorf("container details lack %q:\n%s", w, d)
		}
	}
	press(t, m, "x")
	h := plain(m.View())
	if !strings.Contains(h, "banana.E01 (EWF container file)") || !strings.Contains(h, "file offsets") || !strings.Contains(h, "signature") {
		t.Errorf("hex view of the container:\n%s", h)
	}
	// Step to a field with a checksum: its check is shown.
	for i := 0; i < 40 && !strings.Contains(plain(m.View()), "✓ checksum ok"); i++ {
		press(t, m, "n")
	}
	if !strings.Contains(plain(m.View()), "✓ checksum ok") {
		t.Errorf("no checked field in the container's hex view:\n%s", plain(m.View()))
	}
	press(t, m, "esc")
	press(t, m, "V")
	if m.mode != modeBrowse || !strings.HasPrefix(m.status(), "✓") || !strings.Contains(m.status(), bananaMD5(t)+" matches") {
		t.Fatalf("verify: mode %d status %q", m.mode, m.status())
	}
	d = plain(m.View())
	if !strings.Contains(d, "✓ verified: every check matched") || !strings.Contains(plain(m.tree.View()), "✓ verified") {
		t.Errorf("the details or the row lack the verification:\n%s", d)
	}
	// e exports the virtual disk: the raw disk the E01 was made from.
	t.Chdir(t.TempDir())
	press(t, m, "e")
	if m.mode != modeForm || m.exportP().path.Value() != "in1.ewf.img" {
		t.Fatalf("export form of the container: mode %d path %q", m.mode, m.exportP().path.Value())
	}
	drain(t, m, press(t, m, "enter"), nil)
	raw := sha256.Sum256(fixture.Load(t, "banana").Image(t, "pv0"))
	if got := fileSHA(t, "in1.ewf.img"); got != hex.EncodeToString(raw[:]) {
		t.Errorf("in1.ewf exported to sha256 %s, the raw disk's is %x (status %q)", got, raw, m.status())
	}
}

// A split E01's other segment files are rows of their own; x on one
// opens that file read-only and shows its sections.
func TestContainerOtherFileHex(t *testing.T) {
	m := containerModel(t, t.TempDir(), "banana-split.E01", 120, 40)
	var files *node
	for _, n := range walkAll(m.tree.roots) {
		if n.kind == kContainerFiles {
			files = n
		}
	}
	if files == nil || len(files.children) != 6 {
		t.Fatalf("container files: %v", files)
	}
	f := files.children[2]
	if f.name != "banana-split.E03" {
		t.Fatalf("third file %q", f.name)
	}
	pick(t, m, f)
	press(t, m, "x")
	h := plain(m.View())
	if !strings.Contains(h, "banana-split.E03 (EWF container file)") || !strings.Contains(h, "signature") || !strings.Contains(h, "45 56 46 09") {
		t.Errorf("hex of E03:\n%s", h)
	}
	press(t, m, "esc")
	if d := plain(m.View()); !strings.Contains(d, "Container file banana-split.E03") || !strings.Contains(d, "banana-split.E03") {
		t.Errorf("details of E03:\n%s", d)
	}
}

// damageE01 flips a bit of a chunk of banana-split (stored uncompressed)
// where cream's stamp is, as the command's tests do.
func damageE01(t *testing.T, dir string) {
	t.Helper()
	stamp := []byte("LVMI vg=banana lv=cream gen=1 sector=100\n")
	segs, _ := filepath.Glob(filepath.Join(dir, "banana-split.E0*"))
	for _, s := range segs {
		b, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		if i := bytes.Index(b, stamp); i >= 0 {
			b[i+5] ^= 0x20
			if err := os.WriteFile(s, b, 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatal("cream's stamp not found in the segment files")
}

// Verify on a damaged E01 says ✗ in the status line, the details and the
// row, with the bad chunk.
func TestVerifyDamagedE01(t *testing.T) {
	dir := t.TempDir()
	p := writeContainer(t, dir, "banana-split.E01")
	damageE01(t, dir)
	m := openModel(t, []string{p}, 120, 40)
	var c *node
	for _, n := range walkAll(m.tree.roots) {
		if n.kind == kContainer {
			c = n
		}
	}
	pick(t, m, c)
	press(t, m, "V")
	if !strings.HasPrefix(m.status(), "✗") || !strings.Contains(m.status(), "NOT verified") || !strings.Contains(m.status(), "chunk") ||
		m.bar.statusLevel != levelErr {
		t.Fatalf("status %q", m.status())
	}
	d := plain(m.View())
	for _, w := range []string{"✗ chunks: 447 of 448", "✗ chunk ", "✗ NOT VERIFIED", "✗ NOT verified"} {
		if !strings.Contains(d, w) {
			t.Errorf("screen lacks %q:\n%s", w, d)
		}
	}
}

// gatedFs is the OS file system, read-only, whose reads wait while the
// gate is shut: a verification can be caught mid-way.
type gatedFs struct {
	afero.Fs
	mu     sync.Mutex
	shut   bool
	open   chan struct{}
	waited chan struct{}
	once   sync.Once
}

type gatedFile struct {
	afero.File
	g *gatedFs
}

func (g *gatedFs) Open(name string) (afero.File, error) {
	f, err := g.Fs.Open(name)
	if err != nil {
		return nil, err
	}
	return &gatedFile{File: f, g: g}, nil
}

func (g *gatedFs) wait() {
	g.mu.Lock()
	shut := g.shut
	g.mu.Unlock()
	if shut {
		g.once.Do(func() { close(g.waited) })
		<-g.open
	}
}

func (f *gatedFile) ReadAt(p []byte, off int64) (int, error) {
	f.g.wait()
	return f.File.ReadAt(p, off)
}
func (f *gatedFile) Read(p []byte) (int, error) { f.g.wait(); return f.File.Read(p) }

var _ io.ReaderAt = (*gatedFile)(nil)

// esc stops a verification: nothing is decided, nothing kept, and the
// keys while it runs are esc, ? and q only.
func TestVerifyStops(t *testing.T) {
	dir := t.TempDir()
	p := writeContainer(t, dir, "banana.E01")
	g := &gatedFs{Fs: scan.ReadOnlyOSFs(), open: make(chan struct{}), waited: make(chan struct{})}
	in, err := scan.Open(g, p)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	m := New(Config{Result: safeScan([]*scan.Input{in}, scan.Options{})})
	start(t, m, 100, 30)
	pick(t, m, m.tree.roots[0].children[0])
	g.mu.Lock()
	g.shut = true
	g.mu.Unlock()
	_, cmd := m.Update(keyMsgs("V")[0])
	if m.mode != modeVerifying || !strings.Contains(plain(m.View()), "Verifying") {
		t.Fatalf("not verifying (mode %d):\n%s", m.mode, plain(m.View()))
	}
	m.after()
	checkKeys(t, "verifying", m)
	<-g.waited
	m.Update(keyMsgs("j")[0]) // ignored while verifying
	m.Update(keyMsgs("esc")[0])
	close(g.open)
	drain(t, m, cmd, nil)
	if m.mode != modeBrowse || !strings.Contains(m.status(), "stopped") {
		t.Fatalf("after esc: mode %d status %q", m.mode, m.status())
	}
	if len(m.s.verified) != 0 || strings.Contains(plain(m.tree.View()), "verified") {
		t.Error("a stopped verification was kept as a result")
	}
	_ = tea.Quit
}

// Time travel: the host VG as it was before its thin LVs existed shows
// what they hold (as scanned today) as roots of their own, with the guest
// VGs, so that nothing disappears; back to the present they are under
// their LVs again. A guest VG travels like any other.
func TestNestedTimeTravel(t *testing.T) {
	m := nestedModel(t, 160, 50)
	press(t, m, "g", "/VG pve", "enter", "v")
	if m.right != paneHistory || len(m.histP().rows) == 0 {
		t.Fatalf("no history: %q", m.status())
	}
	selectSeqno(t, m, 2)
	press(t, m, "t")
	var roots []string
	for _, r := range m.tree.roots {
		roots = append(roots, r.name)
	}
	if got := strings.Join(roots, ", "); !strings.Contains(got, "LV pve/vm-100-disk-0: GPT partition table") ||
		!strings.Contains(got, "LV pve/vm-101-disk-0: LVM2 PV") {
		t.Errorf("roots as of seqno 2: %s", got)
	}
	for _, n := range walkAll(m.tree.roots) {
		if n.kind == kVG && n.vg.vg.Meta.Name == "vg0" && (n.parent == nil || n.parent.kind != kHolds) {
			t.Errorf("VG vg0 at %s", ancestry(n))
		}
	}
	press(t, m, "esc", "c")
	if n := lvNodeOf(m, "vg0", "root"); n == nil || !strings.HasPrefix(ancestry(n), "VG pve → vm-100-disk-0 → holds") {
		t.Fatalf("back to the present: vg0/root not under vm-100-disk-0")
	}
	// The guest VG as it was at seqno 3: root had 8 extents.
	pick(t, m, lvNodeOf(m, "vg0", "root").parent)
	press(t, m, "v")
	selectSeqno(t, m, 3)
	press(t, m, "t", "esc")
	n := lvNodeOf(m, "vg0", "root")
	if n == nil || !n.vg.travelling() || n.lv.ExtentCount() != 8 || !strings.HasPrefix(ancestry(n), "VG pve → vm-100-disk-0 → holds") {
		t.Fatalf("vg0 as of seqno 3: %v", n)
	}
	pick(t, m, n)
	if d := plain(m.View()); !strings.Contains(d, "(as the current metadata maps it)") || n.holds() != "" {
		t.Errorf("a past generation's LV:\n%s", d)
	}
}

// On every row of a split E01 and of the virtualisation host, and in the
// views its keys open, no two bindings share a key and the help lists
// what works.
func TestGraphRowsKeys(t *testing.T) {
	dir := t.TempDir()
	for name, mk := range map[string]func() *Model{
		"banana-split.E01": func() *Model { return containerModel(t, dir, "banana-split.E01", 100, 30) },
		"nested-thin":      func() *Model { return nestedModel(t, 100, 30) },
	} {
		m := mk()
		for i := range m.tree.rows {
			m.tree.moveTo(i)
			settle(t, m, m.moved())
			m.after()
			n := m.selected()
			checkKeys(t, name+": tree on "+ancestry(n), m)
			for _, k := range []string{"x", "e"} {
				if !enabledKey(m, k) {
					continue
				}
				press(t, m, k)
				if strings.HasPrefix(m.status(), "✗") {
					t.Errorf("%s: %s on %s: %s", name, k, ancestry(n), m.status())
				}
				checkKeys(t, name+": "+k+" on "+ancestry(n), m)
				press(t, m, "esc")
				m.focus = focusTree
				settle(t, m, m.moved())
			}
		}
	}
}
