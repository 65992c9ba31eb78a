package lvfacts

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/export/volume"
	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/internal/format"
	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan"
)

// dirs lists the fixture folders that hold an lvs.json: the repository's
// copies and, when present, the shared fixtures.
func dirs(t *testing.T) []string {
	var out []string
	seen := map[string]bool{}
	for _, root := range []string{fixture.Root(), filepath.Join(fixture.Root(), "..", "..", "..", "shared", "fixtures")} {
		ds, _ := filepath.Glob(filepath.Join(root, "*", "lvs.json"))
		for _, d := range ds {
			d = filepath.Dir(d)
			if !seen[filepath.Base(d)] || !strings.Contains(d, "shared") {
				out = append(out, d)
			}
			seen[filepath.Base(d)] = true
		}
	}
	return out
}

type manifest struct {
	Images []struct {
		File     string `json:"file"`
		Name     string `json:"name"`
		Withhold bool   `json:"withhold"`
	} `json:"images"`
}

// scanDir scans a fixture folder's images (without those withheld when
// withhold is set) and returns its VGs by name.
func scanDir(t *testing.T, dir string, withhold bool) map[string]*scan.VG {
	t.Helper()
	var m manifest
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil || json.Unmarshal(b, &m) != nil {
		t.Skipf("%s: no manifest", dir)
	}
	var ins []*scan.Input
	for _, im := range m.Images {
		if withhold && im.Withhold || !strings.HasSuffix(im.File, ".img.gz") {
			continue
		}
		img, err := fixture.Gunzip(filepath.Join(dir, im.File))
		if err != nil {
			t.Fatal(err)
		}
		ins = append(ins, scan.NewInput(im.Name, bytes.NewReader(img), int64(len(img))))
	}
	out := map[string]*scan.VG{}
	for _, v := range scan.Scan(ins, scan.Options{}).VGs {
		out[v.Meta.Name] = v
	}
	return out
}

func report(t *testing.T, path string) []map[string]string {
	var doc struct {
		Report []map[string][]map[string]string `json:"report"`
	}
	b, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(b, &doc) != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []map[string]string
	for _, r := range doc.Report {
		for _, rows := range r {
			out = append(out, rows...)
		}
	}
	return out
}

func unbracket(s string) string { return strings.TrimSuffix(strings.TrimPrefix(s, "["), "]") }

// maskAttr blanks the characters only the running kernel knows: state and
// open, and the health character LVM reads from the kernel.
func maskAttr(a string) string {
	b := []byte(a)
	if len(b) == 10 {
		b[4], b[5] = '.', '.'
		if b[8] != 'p' && b[8] != 'w' {
			b[8] = '.'
		}
	}
	return string(b)
}

// TestAttrFixtures compares the facts of every LV real LVM listed in the
// fixtures' lvs.json (lvs -a) with what LVM printed, in every column
// known offline.
func TestAttrFixtures(t *testing.T) {
	n := 0
	for _, dir := range dirs(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			vgs := scanDir(t, dir, false)
			// Labels damaged after LVM's reports were made: no PV is found
			// where LVM found them, so every LV is partial here.
			_, err := os.Stat(filepath.Join(dir, "pvs-after-damage.txt"))
			damaged := err == nil
			done := map[string]bool{}
			for _, row := range report(t, filepath.Join(dir, "lvs.json")) {
				key := row["vg_name"] + "/" + row["lv_name"]
				if done[key] {
					continue
				}
				done[key] = true
				vg := vgs[row["vg_name"]]
				if vg == nil {
					t.Skipf("VG %s not found on the images (inside a container)", row["vg_name"])
				}
				name := unbracket(row["lv_name"])
				lv := vg.Meta.LV(name)
				if lv == nil {
					t.Errorf("%s: no LV", key)
					continue
				}
				f := Of(volume.FromScan(vg), lv)
				n++
				want := row["lv_attr"]
				if damaged && len(want) == 10 {
					want = want[:8] + "p" + want[9:]
				}
				if got, want := maskAttr(f.Attr), maskAttr(want); got != want {
					t.Errorf("%s: attr %s, lvs %s", key, f.Attr, row["lv_attr"])
				}
				if f.Attr[4] != '-' && f.Attr[4] != 'I' || f.Attr[5] != '-' {
					t.Errorf("%s: attr %s claims a kernel state", key, f.Attr)
				}
				if hidden := strings.HasPrefix(row["lv_name"], "["); hidden != f.Hidden {
					t.Errorf("%s: hidden %v", key, f.Hidden)
				}
				for _, c := range []struct{ field, got string }{
					{"origin", f.Origin}, {"pool_lv", f.Pool}, {"data_lv", f.DataLV}, {"metadata_lv", f.MetaLV},
					{"mirror_log", f.MirrorLog},
				} {
					if want := unbracket(row[c.field]); c.got != want {
						t.Errorf("%s: %s %q, lvs %q", key, c.field, c.got, want)
					}
				}
				if want := row["lv_size"]; want != "" && want != itoa(f.LVSize) {
					t.Errorf("%s: lv_size %d, lvs %s", key, f.LVSize, want)
				}
				if want := row["segtype"]; f.Snapshot == nil && !strings.HasPrefix(f.Type, want) {
					t.Errorf("%s: type %q, lvs segtype %q", key, f.Type, want)
				}
				if want := row["cache_mode"]; want != "" && (f.Cache == nil || f.Cache.Mode != want) {
					t.Errorf("%s: cache mode %+v, lvs %q", key, f.Cache, want)
				}
				if slices.Contains(strings.Split(row["lv_role"], ","), "snapshot") && f.Snapshot == nil && f.Thin == nil {
					t.Errorf("%s: a snapshot without snapshot facts", key)
				}
				for _, p := range f.Problems {
					t.Logf("%s: %s", key, p)
				}
			}
		})
	}
	if n < 50 {
		t.Errorf("only %d LVs compared", n)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// dmName is the device-mapper name of vg/lv: dashes doubled, joined by one.
func dmName(vg, lv string) string {
	return strings.ReplaceAll(vg, "-", "--") + "-" + strings.ReplaceAll(lv, "-", "--")
}

func ratio(t *testing.T, s string) (float64, float64) {
	a, b, ok := strings.Cut(s, "/")
	x, err1 := strconv.ParseFloat(a, 64)
	y, err2 := strconv.ParseFloat(b, 64)
	if !ok || err1 != nil || err2 != nil {
		t.Fatalf("ratio %q", s)
	}
	return x, y
}

// TestUsageFixtures compares Data% and Meta% read from the disks with the
// kernel's own counts in the fixtures' dmsetup-status.txt (recorded while
// the LVs were active, at the end of each scenario).
func TestUsageFixtures(t *testing.T) {
	n := 0
	for _, dir := range dirs(t) {
		status, err := os.ReadFile(filepath.Join(dir, "dmsetup-status.txt"))
		if err != nil {
			continue
		}
		lines := map[string][]string{}
		for _, l := range strings.Split(string(status), "\n") {
			name, rest, ok := strings.Cut(l, ": ")
			if ok {
				lines[name] = strings.Fields(rest)
			}
		}
		var vgs map[string]*scan.VG
		for _, row := range report(t, filepath.Join(dir, "lvs.json")) {
			name := unbracket(row["lv_name"])
			dm := dmName(row["vg_name"], name)
			if st := lines[dm+"-tpool"]; len(st) > 5 && st[2] == "thin-pool" {
				lines[dm] = st
			}
			st := lines[dm]
			if len(st) < 4 {
				continue
			}
			var data, meta *[2]float64
			switch st[2] {
			case "thin-pool":
				m0, m1 := ratio(t, st[4])
				d0, d1 := ratio(t, st[5])
				data, meta = &[2]float64{d0, d1}, &[2]float64{m0, m1}
			case "thin":
				x, _ := strconv.ParseFloat(st[3], 64)
				l, _ := strconv.ParseFloat(st[1], 64)
				data = &[2]float64{x, l}
			case "snapshot":
				a, b := ratio(t, st[3])
				data = &[2]float64{a, b}
			// dm-cache is left out: its status was taken while the policy
			// had not yet promoted blocks (0 of 64 in use); the metadata
			// at rest, after deactivation, maps all 64.
			case "writecache":
				total, _ := strconv.ParseFloat(st[4], 64)
				free, _ := strconv.ParseFloat(st[5], 64)
				data = &[2]float64{total - free, total}
			default:
				continue
			}
			if vgs == nil {
				vgs = scanDir(t, dir, false)
			}
			vg := vgs[row["vg_name"]]
			if vg == nil || vg.Meta.LV(name) == nil {
				t.Errorf("%s: %s not found", dir, dm)
				continue
			}
			f := Of(volume.FromScan(vg), vg.Meta.LV(name))
			check := func(what string, got *float64, want *[2]float64) {
				if want == nil {
					return
				}
				n++
				w := 100 * want[0] / want[1]
				if got == nil {
					t.Errorf("%s %s: unknown, the kernel said %s %%; problems %v", dm, what, format.Percent(w), f.Problems)
					return
				}
				if format.Percent(*got) != format.Percent(w) {
					t.Errorf("%s %s: %s %%, the kernel said %s %% (%v/%v)", dm, what, format.Percent(*got), format.Percent(w), want[0], want[1])
				}
			}
			check("Data%", f.DataPercent, data)
			check("Meta%", f.MetaPercent, meta)
			if st[2] == "thin-pool" && f.ThinPool != nil {
				if tid, _ := strconv.ParseUint(st[3], 10, 64); !f.ThinPool.Read || f.ThinPool.TransactionID != tid {
					t.Errorf("%s: transaction id %+v, the kernel said %d", dm, f.ThinPool, tid)
				}
			}
		}
	}
	// The copies in testdata give 7 values; the shared fixtures (when
	// present beside the repository) add nested-thin's pools.
	want := 7
	for _, d := range dirs(t) {
		if strings.Contains(d, "shared") {
			want = 11
		}
	}
	if n < want {
		t.Errorf("only %d percentages compared, want %d", n, want)
	}
	t.Logf("%d percentages compared", n)
}

// TestPartialWithheld leaves out the images the manifests withhold: every
// LV with extents on them is partial ('p'), the others are not, and the VG
// attr says partial.
func TestPartialWithheld(t *testing.T) {
	for _, c := range []struct {
		fixture, vg string
		partial     []string
	}{
		{"raid5-degraded", "degraded", []string{"parity5", "parity5_rimage_2", "parity5_rmeta_2"}},
	} {
		vgs := scanDir(t, filepath.Join(fixture.Root(), c.fixture), true)
		vg := vgs[c.vg]
		if vg == nil {
			t.Fatalf("%s: no VG", c.fixture)
		}
		r := volume.FromScan(vg)
		for _, lv := range vg.Meta.LVs {
			f := Of(r, lv)
			want := slices.Contains(c.partial, lv.Name)
			if f.Partial != want || (f.Attr[8] == 'p') != want {
				t.Errorf("%s/%s: partial %v, attr %s", c.vg, lv.Name, f.Partial, f.Attr)
			}
		}
		partial := false
		for _, p := range vg.PVs {
			partial = partial || p.Missing
		}
		if got := VGAttrPartial(vg.Meta, partial); got != "wz-pn-" {
			t.Errorf("%s: vg attr %s", c.vg, got)
		}
		if got := VGAttr(vg.Meta); got != "wz--n-" {
			t.Errorf("%s: vg attr from the metadata alone %s", c.vg, got)
		}
		for _, p := range vg.PVs {
			want := "a--"
			if p.Missing {
				want = "a-m"
			}
			if got := PVAttr(vg.Meta, p.Meta, p.Missing); got != want {
				t.Errorf("%s: pv attr %s, want %s", p.Meta.Label, got, want)
			}
		}
	}
}

// TestVGPVAttrFixtures compares vg_attr and pv_attr with the fixtures'
// vgs.json and pvs.json.
func TestVGPVAttrFixtures(t *testing.T) {
	n := 0
	for _, dir := range dirs(t) {
		if _, err := os.Stat(filepath.Join(dir, "pvs-after-damage.txt")); err == nil {
			continue
		}
		var vgs map[string]*scan.VG
		for _, row := range report(t, filepath.Join(dir, "vgs.json")) {
			if vgs == nil {
				vgs = scanDir(t, dir, false)
			}
			vg := vgs[row["vg_name"]]
			if vg == nil {
				continue
			}
			n++
			if got := VGAttr(vg.Meta); got != row["vg_attr"] {
				t.Errorf("%s: vg attr %s, vgs %s", row["vg_name"], got, row["vg_attr"])
			}
			for _, p := range report(t, filepath.Join(dir, "pvs.json")) {
				if p["vg_name"] != row["vg_name"] {
					continue
				}
				pv := vg.Meta.PVByUUID(p["pv_uuid"])
				if pv == nil {
					t.Errorf("%s: no PV %s", row["vg_name"], p["pv_uuid"])
					continue
				}
				n++
				if got := PVAttr(vg.Meta, pv, false); got != p["pv_attr"] {
					t.Errorf("%s %s: pv attr %s, pvs %s", row["vg_name"], p["pv_name"], got, p["pv_attr"])
				}
			}
		}
	}
	if n < 20 {
		t.Errorf("only %d compared", n)
	}
}

func TestAttrCases(t *testing.T) {
	one := int64(1)
	minor := int64(7)
	vg := &model.VG{Name: "vg", ExtentSize: 8, Status: []string{"READ", "WRITE", "RESIZEABLE", "EXPORTED"}, AllocationPolicy: "contiguous", LockType: "sanlock",
		PVs: []*model.PV{{Label: "pv0", UUID: "u0", Status: []string{"ALLOCATABLE"}}, {Label: "pv1", UUID: "u1", Flags: []string{"MISSING"}}}}
	lin := func(name string, status []string, pv string) *model.LV {
		return &model.LV{Name: name, Status: status, Segments: []*model.Segment{{ExtentCount: 1, Type: "striped", BaseType: "striped", StripeCount: 1, Areas: []model.Area{{PV: pv}}}}}
	}
	ro := lin("ro", []string{"READ", "VISIBLE"}, "pv0")
	ro.AllocationPolicy = "anywhere"
	ro.Minor = &minor
	locked := lin("locked", []string{"READ", "WRITE", "VISIBLE", "LOCKED", "ACTIVATION_SKIP"}, "pv0")
	locked.AllocationPolicy = "cling"
	gone := lin("gone", []string{"READ", "WRITE", "VISIBLE"}, "pv1")
	pool := &model.LV{Name: "tp", Status: []string{"READ", "WRITE", "VISIBLE"}, Segments: []*model.Segment{{ExtentCount: 1, Type: "thin-pool", BaseType: "thin-pool",
		ThinPool: &model.ThinPoolParams{Pool: "tp_tdata", Metadata: "tp_tmeta", ZeroNewBlocks: &one}}}}
	tdata := lin("tp_tdata", []string{"READ", "WRITE"}, "pv1")
	tmeta := lin("tp_tmeta", []string{"READ", "WRITE"}, "pv0")
	thinLV := &model.LV{Name: "t", Status: []string{"READ", "WRITE", "VISIBLE"}, Segments: []*model.Segment{{ExtentCount: 1, Type: "thin", BaseType: "thin", Thin: &model.ThinParams{ThinPool: "tp"}}}}
	unknown := &model.LV{Name: "u", Status: []string{"READ", "WRITE", "VISIBLE"}, Segments: []*model.Segment{{ExtentCount: 1, Type: "frobnicate", BaseType: "frobnicate"}}}
	empty := &model.LV{Name: "e"}
	vg.LVs = []*model.LV{ro, locked, gone, pool, tdata, tmeta, thinLV, unknown, empty}
	r := volume.New(vg, map[string]export.PVReader{"u0": {}})
	for _, c := range []struct {
		lv   *model.LV
		want string
	}{
		{ro, "-ram------"},
		{locked, "-wL------k"},
		{gone, "-wi-----p-"},
		{pool, "twi---tzp-"},
		{tdata, "Twi-----p-"},
		{tmeta, "ewi-------"},
		{thinLV, "Vwi---tzp-"},
		{unknown, "-wi---u---"},
		{empty, "--i-------"},
	} {
		if got := Cheap(r, c.lv).Attr; got != c.want {
			t.Errorf("%s: attr %q, want %q", c.lv.Name, got, c.want)
		}
	}
	if got := VGAttr(vg); got != "wzxpcs" {
		t.Errorf("vg attr %q", got)
	}
	if got := PVAttr(vg, vg.PVs[0], false); got != "ax-" {
		t.Errorf("pv attr %q", got)
	}
	if got := PVAttr(vg, vg.PVs[1], false); got != "uxm" {
		t.Errorf("pv attr %q", got)
	}
	if got := PVAttr(nil, nil, false); got != "---" {
		t.Errorf("orphan pv attr %q", got)
	}
	// Nothing panics on nonsense.
	for _, f := range []*Facts{Of(nil, nil), Cheap(r, nil), Of(r, empty)} {
		if len(f.Attr) != 10 {
			t.Errorf("attr %q", f.Attr)
		}
	}
}
