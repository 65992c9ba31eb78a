package ui

import (
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/afero"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/export/job"
	"github.com/lvminspect/lvminspect/export/lvfacts"
	"github.com/lvminspect/lvminspect/export/volume"
)

// details is the details pane's text.
func (m *Model) details() string { return plain(strings.Join(m.detailsP().sc.lines, "\n")) }

// lvNodes are the LV items of the tree, hidden ones included.
func lvNodes(t *testing.T, m *Model) []*node {
	t.Helper()
	if m.s.hiddenLVs > 0 && !m.s.showHidden {
		press(t, m, "a")
	}
	var out []*node
	for _, n := range walkAll(m.tree.roots) {
		if n.kind == kLV {
			out = append(out, n)
		}
	}
	return out
}

// selectNode selects n in the tree and lets the right pane follow.
func selectNode(t *testing.T, m *Model, n *node) {
	t.Helper()
	m.focus = focusTree
	m.tree.reveal(n)
	settle(t, m, m.moved())
}

// TestVerdictAgreesWithExport: for every LV of every fixture (withheld
// images left out) and every damaged variant, the details say what
// job.Check says, "✓ can be exported" only when it can, and pressing e
// then enter exports exactly when the verdict says it can.
func TestVerdictAgreesWithExport(t *testing.T) {
	for name, m := range allModels(t, 120, 40) {
		fsys := afero.NewMemMapFs()
		m.s.cfg.ExportFS = export.AferoFS{Fs: fsys}
		for _, n := range lvNodes(t, m) {
			lv := n.vg.vg.Meta.Name + "/" + n.lv.Name
			selectNode(t, m, n)
			v := job.Check(m.s.res, n.vg.vg, n.lv, m.s.hist, job.Options{})
			d := m.details()
			if !strings.Contains(strings.Join(strings.Fields(d), ""), strings.Join(strings.Fields(v.Lines()[0]), "")) {
				t.Errorf("%s %s: details do not say %q:\n%s", name, lv, v.Lines()[0], d)
			}
			if strings.Contains(d, "✓ can be exported") != v.Exportable {
				t.Errorf("%s %s: details say ✓ %v, job.Check %v", name, lv, !v.Exportable, v.Exportable)
			}
			cmd := press(t, m, "e", "enter")
			drain(t, m, cmd, nil)
			exported := strings.Contains(m.status(), "exported") && !strings.HasPrefix(m.status(), "✗")
			if exported != v.Exportable {
				t.Errorf("%s %s: verdict exportable %v, export from the inspector: %q", name, lv, v.Exportable, m.status())
			}
			if m.mode == modeForm {
				press(t, m, "esc")
			}
			_ = fsys.RemoveAll("/")
		}
	}
}

func modelFor(t *testing.T, name string, images ...string) *Model {
	t.Helper()
	if len(images) == 0 {
		return fixtureModel(t, name, false, 120, 50)
	}
	return fixtureModelImages(t, name, images, 120, 50)
}

// findLV selects the LV of that name.
func findLV(t *testing.T, m *Model, name string) *node {
	t.Helper()
	for _, n := range lvNodes(t, m) {
		if n.lv.Name == name {
			selectNode(t, m, n)
			return n
		}
	}
	t.Fatalf("no LV %s", name)
	return nil
}

func wantAll(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
}

// An old-style snapshot is shown as LVM shows it: a snapshot of its
// origin, with the origin's size, the COW store's size and how full it is
// (it was "3 MiB linear" with no origin).
func TestSnapshotShownAsSnapshot(t *testing.T) {
	m := modelFor(t, "snapshot")
	findLV(t, m, "base_snap")
	wantAll(t, "details of base_snap", m.details(), "type           snapshot", "origin         base", "size           8.00 MiB",
		"attr           swi", "COW store      base_snap, 3.00 MiB", "COW used       ", "chunks copied", "Data%")
	wantAll(t, "tree", plain(m.tree.View()), "base_snap 8.00 MiB snapshot")
	// LVM's internal snapshotN LV is not what the user knows the
	// snapshot by: the origin names base_snap, as lvs and scan do.
	for _, lv := range []string{"base", "base_snap"} {
		findLV(t, m, lv)
		if d := m.details(); strings.Contains(d, "snapshot0") {
			t.Errorf("details of %s name the internal snapshot0:\n%s", lv, d)
		}
	}
	findLV(t, m, "base")
	wantAll(t, "details of base", m.details(), "snapshots      base_snap")
}

func TestThinPoolAndCacheFacts(t *testing.T) {
	m := modelFor(t, "thin")
	findLV(t, m, "pool")
	wantAll(t, "details of thin/pool", m.details(), "type           thin-pool", "attr           twi", "Data%", "Meta%",
		"data           ", " used (", "transaction id 3 (pool superblock), 3 (VG metadata)")
	findLV(t, m, "vol1")
	wantAll(t, "details of thin/vol1", m.details(), "pool           pool", "mapped")
	m = modelFor(t, "cache")
	findLV(t, m, "data")
	wantAll(t, "details of cache/data", m.details(), "type           cache", "mode           writethrough", "policy         smq")
	findLV(t, m, "wdata")
	wantAll(t, "details of cache/wdata", m.details(), "type           writecache", "Cache (writecache)")
}

// Every LV's details carry its lvs attr, as lvfacts computes it.
func TestAttrOnEveryLV(t *testing.T) {
	for name, m := range allModels(t, 120, 40) {
		for _, n := range lvNodes(t, m) {
			selectNode(t, m, n)
			want := lvfacts.Cheap(volume.FromScan(n.vg.vg), n.lv).Attr
			if len(want) != 10 || !strings.Contains(m.details(), "attr           "+want) {
				t.Errorf("%s %s: no attr %q in:\n%s", name, n.lv.Name, want, m.details())
			}
		}
	}
}

// VG details give the size and the free space; PV details list the
// extents in use sorted by PE and the free ranges.
func TestVGAndPVSpace(t *testing.T) {
	m := demoModel(t, 120, 50)
	press(t, m, "g", "/VG banana", "enter")
	wantAll(t, "VG details", m.details(), "size           ", "free           ", "attr           wz--n-")
	m = modelFor(t, "multiseg")
	press(t, m, "g", "/physical volumes", "enter", "l", "j")
	d := m.details()
	wantAll(t, "PV details", d, "Extents in use", "free           ")
	var starts []int
	for _, l := range strings.Split(d, "\n") {
		if f := strings.Fields(l); len(f) >= 3 && f[0] == "PE" && !strings.Contains(l, "extent") {
			a, _ := strconv.Atoi(strings.Split(f[1], "–")[0])
			starts = append(starts, a)
		}
	}
	if len(starts) < 2 || !sort.IntsAreSorted(starts) {
		t.Errorf("extents in use not sorted (%v):\n%s", starts, d)
	}
}

// A raid1 segment has legs, not stripes.
func TestRaid1SegmentSaysLegs(t *testing.T) {
	m := modelFor(t, "raid")
	findLV(t, m, "r1")
	press(t, m, "l", "j")
	d := m.details()
	if strings.Contains(d, "stripes        2") || !strings.Contains(d, "legs (images)  2") {
		t.Errorf("raid1 segment:\n%s", d)
	}
	if !strings.Contains(d, "Segment 1 of raid/r1") {
		t.Errorf("segments are numbered from 1 as scan prints them:\n%s", d)
	}
}

var (
	oneDecimal = regexp.MustCompile(`(^|[^\d.])\d+(\.\d)? (KiB|MiB|GiB|TiB)\b`)
	segZero    = regexp.MustCompile(`\bseg \d`)
)

// Sizes read as format.Size writes them (two decimals, "<" when rounded
// up) and segments are numbered as scan numbers them, in every tree row
// and every details pane of every fixture.
func TestNumbersAsFormatWritesThem(t *testing.T) {
	for name, m := range allModels(t, 160, 50) {
		for _, n := range walkAll(m.tree.roots) {
			n.expanded = true
		}
		m.tree.refresh()
		m.tree.height = len(m.tree.rows)
		tree := plain(m.tree.View())
		for _, bad := range []*regexp.Regexp{oneDecimal, segZero} {
			if s := bad.FindString(tree); s != "" {
				t.Errorf("%s: tree shows %q", name, s)
			}
		}
		for i := range m.tree.rows {
			m.tree.moveTo(i)
			settle(t, m, m.moved())
			for _, bad := range []*regexp.Regexp{oneDecimal, segZero} {
				if s := bad.FindString(m.details()); s != "" {
					t.Errorf("%s: details of %s show %q", name, m.selected().name, s)
				}
			}
		}
	}
}

// The history's base is A in the list and in the diff; b on the selected
// generation does not diff it with itself.
func TestHistoryBaseIsA(t *testing.T) {
	m := fixtureModel(t, "history", false, 160, 50)
	openHistoryOf(t, m)
	selectSeqno(t, m, 65)
	press(t, m, "b")
	v := plain(m.View())
	if !strings.Contains(v, "A and B are both seqno 65") || strings.Contains(v, "no change besides the seqno") {
		t.Errorf("b on the selected generation:\n%s", v)
	}
	selectSeqno(t, m, 70)
	v = plain(m.View())
	if !regexp.MustCompile(`A\s+65\s+20\d\d-`).MatchString(v) || !regexp.MustCompile(`B\s+70\s+20\d\d-`).MatchString(v) {
		t.Errorf("the list does not mark 65 A and 70 B:\n%s", v)
	}
	wantAll(t, "history", v, "diff A seqno 65 → B seqno 70", "A: seqno 65", "B: seqno 70")
}

// Status messages last until the next key.
func TestStatusClearsOnNextKey(t *testing.T) {
	m := demoModel(t, 80, 24)
	press(t, m, "/nothing-like-this", "enter")
	if !strings.Contains(m.status(), "no item") {
		t.Fatalf("failed search: %q", m.status())
	}
	press(t, m, "j")
	if m.status() != "" {
		t.Errorf("status after the next key: %q", m.status())
	}
	press(t, m, "g", "j", "x", "o", "zzz", "enter")
	if !strings.Contains(m.status(), "not an offset") {
		t.Fatalf("bad offset: %q", m.status())
	}
	press(t, m, "]")
	if m.status() != "" {
		t.Errorf("status after the next key: %q", m.status())
	}
}

// After time travel, selecting a REMOVED LV shows its details, not the
// history.
func TestTravelThenRemovedLVShowsDetails(t *testing.T) {
	m := fixtureModel(t, "history", false, 120, 40)
	openHistoryOf(t, m)
	selectSeqno(t, m, 69)
	press(t, m, "t", "tab", "/late", "enter")
	if m.right != paneDetails || !strings.Contains(m.details(), "no longer exists") {
		t.Errorf("REMOVED LV after t: pane %d\n%s", m.right, m.View())
	}
	press(t, m, "g", "/VG hist", "enter", "v")
	if m.right != paneHistory {
		t.Fatalf("v: pane %d", m.right)
	}
	press(t, m, "tab", "j")
	if m.right != paneDetails {
		t.Errorf("moving off the VG kept the history (pane %d)", m.right)
	}
}

// / searches names, UUIDs and tags, in the tree and in the history.
func TestSearchUUIDsAndTags(t *testing.T) {
	m := demoModel(t, 120, 40)
	press(t, m, "g", "/dessert", "enter") // cream's tag
	if n := m.selected(); n.kind != kLV || n.lv.Name != "cream" {
		t.Errorf("tag search selected %q (%s)", n.name, m.status())
	}
	var split *node
	for _, n := range walkAll(m.tree.roots) {
		if n.kind == kLV && n.lv.Name == "split" {
			split = n
		}
	}
	press(t, m, "g", "/"+split.lv.UUID[7:16], "enter")
	if n := m.selected(); n != split {
		t.Errorf("UUID search selected %q (%s)", n.name, m.status())
	}
	press(t, m, "g", "/VG banana", "enter", "v", "g", "/dessert", "enter")
	if g := m.histP().selected().gen; g == nil || g.Seqno != 6 {
		t.Errorf("history search for a tag selected %+v (%s)", g, m.status())
	}
	press(t, m, "g", "/"+split.lv.UUID[:6], "enter")
	if g := m.histP().selected().gen; g == nil || g.Seqno == 1 {
		t.Errorf("history search for a UUID selected %+v (%s)", g, m.status())
	}
}

// An export that is not a clean copy says so in the status line, with
// what: extents now another LV's, ranges rebuilt from parity, zero-filled
// ranges; never ✓ alone.
func TestExportOutcomeSaysWhatIsNotClean(t *testing.T) {
	t.Chdir(t.TempDir())
	// gamma of multiseg, removed at seqno 8: at seqno 7, 6 of its 12
	// extents now hold epsilon's data.
	m := modelFor(t, "multiseg")
	press(t, m, "g", "/VG", "enter", "v")
	selectSeqno(t, m, 7)
	press(t, m, "t", "esc")
	findLV(t, m, "gamma")
	drain(t, m, press(t, m, "e", "enter"), nil)
	if s := m.status(); !strings.Contains(s, "epsilon") || !strings.Contains(s, "not an exact copy") || m.bar.statusLevel == levelGood {
		t.Errorf("gamma at seqno 7: %q", s)
	}
	// raid5 with a missing leg: exact, rebuilt from parity, said.
	m = fixtureModel(t, "raid5-degraded", true, 120, 50)
	findLV(t, m, "parity5")
	drain(t, m, press(t, m, "e", "enter"), nil)
	if s := m.status(); !strings.Contains(s, "parity") || strings.Contains(s, "✓") || m.bar.statusLevel == levelGood {
		t.Errorf("raid5 degraded: %q (level %d)", s, m.bar.statusLevel)
	}
	// An --allow-partial export lists the zero-filled ranges.
	m = modelFor(t, "multipv", "pv0", "pv2")
	findLV(t, m, "span")
	press(t, m, "e", "tab", "space")
	if v := plain(m.View()); !strings.Contains(v, "[x] --allow-partial") || !strings.Contains(v, "zero-filled: LV bytes") {
		t.Errorf("allow partial in the form:\n%s", v)
	}
	drain(t, m, press(t, m, "enter"), nil)
	if s := m.status(); !strings.Contains(s, "exported as zeros") || !strings.Contains(s, "not an exact copy") {
		t.Errorf("partial export: %q", s)
	}
}

// The export form warns when the output is on the file system of an
// input.
func TestExportWarnsSameFilesystem(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	b := demoImage(t)
	if err := os.WriteFile(dir+"/pv0.img", b, 0o644); err != nil {
		t.Fatal(err)
	}
	m := fixtureModel(t, "banana", false, 120, 40)
	m.s.res.Inputs[0].Path = dir + "/pv0.img"
	press(t, m, "/chocolate", "enter", "e")
	if v := plain(m.View()); !strings.Contains(strings.Join(strings.Fields(v), " "), "same file system as an input") {
		t.Errorf("no same-file-system warning:\n%s", v)
	}
}

// The form's "same as" line is the export command as job.CommandFor
// writes it (the LV before the inputs, as the command takes them), so it
// can be pasted into a shell.
func TestExportFormCommandLine(t *testing.T) {
	m := fixtureModel(t, "banana", false, 200, 40)
	m.s.res.Inputs[0].Path = "/evidence/case 7/pv0.img"
	press(t, m, "/chocolate", "enter", "e")
	v := strings.Join(strings.Fields(plain(m.View())), " ")
	want := "same as: lvminspect export -o banana/chocolate.img banana/chocolate '/evidence/case 7/pv0.img'"
	if !strings.Contains(v, want) {
		t.Errorf("want %q in:\n%s", want, v)
	}
}
