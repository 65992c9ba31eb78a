package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/internal/fixture"
)

// reportFixture is one fixture folder with LVM's reports.
type reportFixture struct {
	name, dir string
	images    []reportImage
}

type reportImage struct {
	file, name, guest string
	withhold          bool
}

// reportFixtures lists the fixture folders holding lvs.json: the
// repository's copies, then the shared ones not copied (when present).
func reportFixtures(t *testing.T) []reportFixture {
	var out []reportFixture
	seen := map[string]bool{}
	for _, root := range []string{fixture.Root(), filepath.Join(fixture.Root(), "..", "..", "..", "shared", "fixtures")} {
		ds, _ := filepath.Glob(filepath.Join(root, "*", "lvs.json"))
		for _, d := range ds {
			d = filepath.Dir(d)
			if seen[filepath.Base(d)] {
				continue
			}
			seen[filepath.Base(d)] = true
			var m struct {
				Images []struct {
					File, Name  string
					GuestDevice string `json:"guest_device"`
					Withhold    bool
				}
			}
			b, err := os.ReadFile(filepath.Join(d, "manifest.json"))
			if err != nil || json.Unmarshal(b, &m) != nil {
				continue
			}
			rf := reportFixture{name: filepath.Base(d), dir: d}
			for _, im := range m.Images {
				if strings.HasSuffix(im.File, ".img.gz") {
					rf.images = append(rf.images, reportImage{im.File, im.Name, im.GuestDevice, im.Withhold})
				}
			}
			if _, err := os.Stat(filepath.Join(d, "pvs-after-damage.txt")); err == nil {
				continue // LVM's reports predate the damage to the labels
			}
			out = append(out, rf)
		}
	}
	return out
}

// write gunzips the images into a temporary folder and returns their
// paths and a function turning our PV names into LVM's device names.
func (rf reportFixture) write(t *testing.T, withhold bool) ([]string, func(string) string) {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	guest := map[string]string{}
	for _, im := range rf.images {
		if withhold && im.withhold {
			continue
		}
		b, err := fixture.Gunzip(filepath.Join(rf.dir, im.file))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, im.name+".img")
		if err := os.WriteFile(p, b, 0o444); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
		guest[p] = im.guest
	}
	re := regexp.MustCompile(regexp.QuoteMeta(dir) + `/[^ ,:()]+\.img(:p[0-9]+)?`)
	return paths, func(s string) string {
		return re.ReplaceAllStringFunc(s, func(m string) string {
			p, part, _ := strings.Cut(m, ":p")
			return guest[p] + part
		})
	}
}

func lvmReport(t *testing.T, path string) []map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return decodeReport(t, b)
}

func decodeReport(t *testing.T, b []byte) []map[string]string {
	t.Helper()
	var doc struct {
		Report []map[string][]map[string]string `json:"report"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%v in %s", err, b)
	}
	var out []map[string]string
	for _, r := range doc.Report {
		for _, rows := range r {
			out = append(out, rows...)
		}
	}
	return out
}

// notShared are fields of LVM's reports whose values only the running
// kernel knows, or that lvminspect words its own way.
var notShared = map[string]bool{
	"lv_role": true, "lv_active": true, "lv_health_status": true, "sync_percent": true,
	"raid_sync_action": true, "raid_mismatch_count": true, "cache_dirty_blocks": true,
	"writecache_writeback_blocks": true, "data_stripes": true,
}

// maskLVAttr blanks the characters of lv_attr only the kernel knows.
func maskLVAttr(a string) string {
	b := []byte(a)
	if len(b) == 10 {
		b[4], b[5] = '.', '.'
		if b[8] != 'p' && b[8] != 'w' {
			b[8] = '.'
		}
	}
	return string(b)
}

// TestReportFixtures runs pvs, vgs and lvs --units b --nosuffix --json on
// every fixture and compares every column LVM's own reports share with
// them, row by row.
func TestReportFixtures(t *testing.T) {
	compared := 0
	for _, rf := range reportFixtures(t) {
		t.Run(rf.name, func(t *testing.T) {
			for _, row := range lvmReport(t, filepath.Join(rf.dir, "pvs.json")) {
				onImage := false
				for _, im := range rf.images {
					onImage = onImage || im.guest != "" && strings.HasPrefix(row["pv_name"], im.guest)
				}
				if !onImage {
					t.Skipf("LVM saw PV %s on a device assembled from the images (md, LUKS)", row["pv_name"])
				}
			}
			paths, toGuest := rf.write(t, false)
			for _, c := range []struct {
				cmd, file string
				extra     []string
			}{
				{"pvs", "pvs.json", nil},
				{"vgs", "vgs.json", nil},
				{"lvs", "lvs.json", []string{"--segments"}},
			} {
				want := lvmReport(t, filepath.Join(rf.dir, c.file))
				kind := map[string]reportKind{"pvs": reportPV, "vgs": reportVG, "lvs": reportLV}[c.cmd]
				var cols []string
				for k := range want[0] {
					if _, ok := lookupField(kind, k); ok && !notShared[k] {
						cols = append(cols, k)
					}
				}
				slices.Sort(cols)
				args := append([]string{c.cmd, "--units", "b", "--nosuffix", "--json", "-o", strings.Join(cols, ",")}, c.extra...)
				out, _, err := run(t, "", append(args, paths...)...)
				if err != nil {
					var ee *exitError
					if errors.As(err, &ee) && ee.code == 1 {
						t.Skipf("%s: %v (a PV inside a container)", c.cmd, err)
					}
					t.Fatalf("%s: %v", c.cmd, err)
				}
				all := decodeReport(t, []byte(out))
				// LVM's report of the host (c.file) and, for a fixture with
				// LVM inside LVs, its report of the guests (guest-c.file),
				// made with LVM seeing only the guest disks: lvminspect's
				// report holds both, VG by VG.
				got := rowsOfVGs(all, want)
				if gw := filepath.Join(rf.dir, "guest-"+c.file); fileExists(gw) {
					guestWant := lvmReport(t, gw)
					guestGot := rowsOfVGs(all, guestWant)
					if len(guestGot) != len(guestWant) {
						t.Errorf("%s (guests): %d rows, LVM %d", c.cmd, len(guestGot), len(guestWant))
					}
					for i := range min(len(guestGot), len(guestWant)) {
						for _, k := range cols {
							if k == "pv_name" || k == "devices" {
								continue // LVM named the guest disks' loop devices
							}
							g, w := guestGot[i][k], guestWant[i][k]
							if k == "seg_le_ranges" || k == "seg_pe_ranges" {
								g, w = afterDevice(g), afterDevice(w)
							}
							if k == "lv_attr" {
								g, w = maskLVAttr(g), maskLVAttr(w)
							}
							compared++
							if g != w {
								t.Errorf("%s guest row %d (%s %s) %s: %q, LVM %q", c.cmd, i, guestWant[i]["vg_name"], guestWant[i]["lv_name"]+guestWant[i]["pv_name"], k, g, w)
							}
						}
					}
				}
				if len(got) != len(want) {
					t.Errorf("%s: %d rows, LVM %d", c.cmd, len(got), len(want))
					continue
				}
				for i := range want {
					for _, k := range cols {
						g, w := toGuest(got[i][k]), want[i][k]
						if k == "lv_attr" {
							g, w = maskLVAttr(g), maskLVAttr(w)
						}
						compared++
						if g != w {
							t.Errorf("%s row %d (%s %s) %s: %q, LVM %q", c.cmd, i, want[i]["vg_name"], want[i]["lv_name"]+want[i]["pv_name"], k, g, w)
						}
					}
				}
			}
		})
	}
	if compared < 2000 {
		t.Errorf("only %d values compared", compared)
	}
	t.Logf("%d values compared", compared)
}

// TestReportWithheld leaves out the images the manifests withhold: the
// missing PV is [unknown] in pvs and in lvs's devices, the LVs on it are
// partial, the VG is partial, and stderr warns as LVM does.
func TestReportWithheld(t *testing.T) {
	rf := reportFixture{name: "raid5-degraded", dir: filepath.Join(fixture.Root(), "raid5-degraded")}
	for _, im := range fixture.Load(t, rf.name).Manifest.Images {
		rf.images = append(rf.images, reportImage{im.File, im.Name, "", im.Withhold})
	}
	paths, _ := rf.write(t, true)
	out, stderr, err := run(t, "", append([]string{"lvs", "--units", "b", "--json", "-o", "lv_name,lv_attr,devices"}, paths...)...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "WARNING: VG degraded is missing PV IqHUP3-YQgu-q550-eg81-i3ER-CLzQ-qMQZYo (last written to /dev/vdc)") {
		t.Errorf("stderr: %q", stderr)
	}
	partial := map[string]bool{}
	for _, r := range decodeReport(t, []byte(out)) {
		partial[r["lv_name"]] = r["lv_attr"][8] == 'p'
		if r["lv_name"] == "[parity5_rimage_2]" && r["devices"] != "[unknown](1)" {
			t.Errorf("devices %q", r["devices"])
		}
	}
	for lv, p := range partial {
		want := lv == "parity5" || lv == "[parity5_rimage_2]" || lv == "[parity5_rmeta_2]"
		if p != want {
			t.Errorf("%s: partial %v", lv, p)
		}
	}
	out, _, err = run(t, "", append([]string{"vgs", "--noheadings", "-o", "vg_attr,vg_missing_pv_count"}, paths...)...)
	if err != nil || strings.Fields(out)[0] != "wz-pn-" || strings.Fields(out)[1] != "1" {
		t.Errorf("vgs: %q %v", out, err)
	}
	out, _, err = run(t, "", append([]string{"pvs", "--noheadings", "-o", "pv_name,pv_attr"}, paths...)...)
	if err != nil || !strings.Contains(trimLines(out), "[unknown] a-m") {
		t.Errorf("pvs: %q %v", out, err)
	}
}

// TestReportText checks the default tables as LVM prints them.
func TestReportText(t *testing.T) {
	f := fixture.Load(t, "snapshot")
	paths := writeImages(t, f, t.TempDir(), false)
	out, _, err := run(t, "", append([]string{"lvs"}, paths...)...)
	if err != nil {
		t.Fatal(err)
	}
	want := "  VG   LV        Attr       LSize Pool Origin Data%  Meta% Devices\n" +
		"  snap base      owi---s--- 8.00m                          " + paths[0] + "(0)\n" +
		"  snap base_snap swi---s--- 3.00m      base   29.43        " + paths[0] + "(32)\n"
	if trimLines(out) != trimLines(want) {
		t.Errorf("lvs:\n%s\nwant:\n%s", out, want)
	}
	out, _, err = run(t, "", append([]string{"vgs"}, paths...)...)
	if err != nil || trimLines(out) != trimLines("  VG   #PV #LV #SN Attr   VSize  VFree\n  snap   1   2   1 wz--n- 23.00m 12.00m\n") {
		t.Errorf("vgs: %v\n%s", err, out)
	}
	out, _, err = run(t, "", append([]string{"pvs", "--units", "k"}, paths...)...)
	if err != nil || !strings.Contains(out, "snap lvm2 a--  23552.00k 12288.00k") {
		t.Errorf("pvs --units k: %v\n%s", err, out)
	}
	out, _, err = run(t, "", append([]string{"lvs", "--noheadings", "--separator", ":", "-o", "lv_name,origin_size,snap_percent,lv_presented_size,lv_type", "--units", "b"}, paths...)...)
	if err != nil || !strings.Contains(out, "  base_snap:8388608B:29.43:8388608B:snapshot\n") {
		t.Errorf("lvs snapshot fields: %v\n%s", err, out)
	}
	// A multi-segment LV: a row per segment with a segment field, one row without.
	f = fixture.Load(t, "multiseg")
	paths = writeImages(t, f, t.TempDir(), false)
	out, _, _ = run(t, "", append([]string{"lvs", "--noheadings", "-o", "lv_name,seg_count"}, paths...)...)
	if strings.Count(out, "beta") != 1 || !strings.Contains(trimLines(out), "beta 4") {
		t.Errorf("lvs -o lv_name,seg_count:\n%s", out)
	}
	out, _, _ = run(t, "", append([]string{"lvs", "--noheadings", "-o", "lv_name,devices"}, paths...)...)
	if strings.Count(out, "beta") != 4 {
		t.Errorf("lvs -o lv_name,devices:\n%s", out)
	}
}

func trimLines(s string) string {
	var out []string
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		out = append(out, strings.Join(strings.Fields(l), " "))
	}
	return strings.Join(out, "\n")
}

// TestReportErrors: usage errors exit 2, nothing found exits 1, -o help
// lists the fields.
func TestReportErrors(t *testing.T) {
	f := fixture.Load(t, "banana")
	paths := writeImages(t, f, t.TempDir(), false)
	code := func(err error) int {
		var ee *exitError
		if errors.As(err, &ee) {
			return ee.code
		}
		if err != nil {
			return -1
		}
		return 0
	}
	empty := filepath.Join(t.TempDir(), "zero.img")
	if err := os.WriteFile(empty, make([]byte, 1<<20), 0o444); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"lvs", "--units", "x", paths[0]}, 2, "unknown unit"},
		{[]string{"vgs", "-o", "nonesuch", paths[0]}, 2, `unknown field "nonesuch"`},
		{[]string{"pvs", "--reportformat", "xml", paths[0]}, 2, "basic or json"},
		{[]string{"lvs"}, 2, "needs at least one PATH"},
		{[]string{"lvs", filepath.Join(t.TempDir(), "absent.img")}, 2, "absent.img"},
		{[]string{"lvs", empty}, 1, "no LVM2 logical volume found"},
		{[]string{"pvs", empty}, 1, "no LVM2 physical volume found"},
		{[]string{"vgs", "-o", "name,size", "--units", "H", paths[0]}, 0, ""},
	} {
		_, _, err := run(t, "", c.args...)
		if code(err) != c.code || c.msg != "" && (err == nil || !strings.Contains(err.Error(), c.msg)) {
			t.Errorf("%v: exit %d (%v), want %d %q", c.args, code(err), err, c.code, c.msg)
		}
	}
	out, _, err := run(t, "", "lvs", "-o", "help")
	if err != nil || !strings.Contains(out, "data_percent") || !strings.Contains(out, "devices") {
		t.Errorf("-o help: %v\n%s", err, out)
	}
	out, _, err = run(t, "", "vgs", "-o", "name,size", "--units", "H", paths[0])
	if err != nil || !strings.Contains(out, "banana 13.63M") {
		t.Errorf("vgs --units H: %v\n%s", err, out)
	}
	out, _, err = run(t, "", "lvs", "--help")
	if err != nil || !strings.Contains(out, "always\n'-'") && !strings.Contains(out, "always '-'") {
		t.Errorf("lvs --help does not say which attr characters are unknown:\n%s", out)
	}
}

// TestScanJSONFacts: scan --json carries lvs's attr and facts on every LV,
// vg_attr, size and free on every VG, pv_attr on every PV.
func TestScanJSONFacts(t *testing.T) {
	type lv struct {
		Name          string
		Attr          string
		Type          string
		Size          int64
		PresentedSize int64 `json:"presented_size"`
		Origin        string
		Pool          string
		DataPercent   *float64 `json:"data_percent"`
		MetaPercent   *float64 `json:"metadata_percent"`
		Snapshot      *struct {
			OriginSize int64 `json:"origin_size"`
			COWSize    int64 `json:"cow_size"`
			COWUsed    int64 `json:"cow_used"`
		}
		ThinPool *struct {
			TransactionID         uint64 `json:"transaction_id"`
			MetadataTransactionID uint64 `json:"metadata_transaction_id"`
			DataUsed              uint64 `json:"data_used_blocks"`
		} `json:"thin_pool"`
		Cache *struct {
			Mode, Policy string
		}
	}
	var doc struct {
		PVs []struct{ Attr string }
		VGs []struct {
			Name, Attr string
			Size, Free int64
			PVs        []struct{ Attr string }
			LVs        []lv
		}
	}
	dir := t.TempDir()
	var paths []string
	for _, name := range []string{"snapshot", "thin", "cache"} {
		sub := filepath.Join(dir, name)
		if err := os.Mkdir(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, writeImages(t, fixture.Load(t, name), sub, false)...)
	}
	out, _, err := run(t, "", append([]string{"scan", "--json"}, paths...)...)
	if err != nil && !strings.Contains(err.Error(), "problem") {
		t.Logf("scan: %v", err)
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	for _, p := range doc.PVs {
		if p.Attr != "a--" {
			t.Errorf("pv attr %q", p.Attr)
		}
	}
	lvs := map[string]lv{}
	for _, vg := range doc.VGs {
		want := map[string][2]int64{"snap": {23 << 20, 12 << 20}, "thin": {47 << 20, 27 << 20}, "cache": {54 << 20, 35 << 19}}[vg.Name]
		if vg.Attr != "wz--n-" || vg.Size != want[0] || vg.Free != want[1] {
			t.Errorf("vg %s: attr %q size %d free %d", vg.Name, vg.Attr, vg.Size, vg.Free)
		}
		for _, p := range vg.PVs {
			if p.Attr != "a--" {
				t.Errorf("vg %s pv attr %q", vg.Name, p.Attr)
			}
		}
		for _, l := range vg.LVs {
			lvs[vg.Name+"/"+l.Name] = l
			if len(l.Attr) != 10 {
				t.Errorf("%s/%s: attr %q", vg.Name, l.Name, l.Attr)
			}
		}
	}
	s := lvs["snap/base_snap"]
	if s.Attr != "swi---s---" || s.Type != "snapshot" || s.Origin != "base" || s.Size != 3<<20 || s.PresentedSize != 8<<20 ||
		s.Snapshot == nil || s.Snapshot.COWUsed != 1808*512 || s.DataPercent == nil || fmt.Sprintf("%.2f", *s.DataPercent) != "29.43" {
		t.Errorf("base_snap: %+v %+v", s, s.Snapshot)
	}
	if o := lvs["snap/base"]; o.Attr != "owi---s---" || o.PresentedSize != 8<<20 {
		t.Errorf("base: %+v", o)
	}
	p := lvs["thin/pool"]
	if p.Attr != "twi---tz--" || p.ThinPool == nil || p.ThinPool.TransactionID != 3 || p.ThinPool.MetadataTransactionID != 3 ||
		p.ThinPool.DataUsed != 168 || p.MetaPercent == nil || fmt.Sprintf("%.2f", *p.MetaPercent) != "12.30" {
		t.Errorf("pool: %+v %+v", p, p.ThinPool)
	}
	if v := lvs["thin/vol1snap"]; v.Origin != "vol1" || v.Pool != "pool" || v.DataPercent == nil {
		t.Errorf("vol1snap: %+v", v)
	}
	if c := lvs["cache/data"]; c.Cache == nil || c.Cache.Mode != "writethrough" || c.Cache.Policy != "smq" || c.Pool != "cpool_cpool" || c.Origin != "data_corig" {
		t.Errorf("cache data: %+v %+v", c, c.Cache)
	}
}

// TestReportSeqno: --seqno reports an old generation (an LV removed
// since is listed again) and exits 1 for a generation no VG has.
func TestReportSeqno(t *testing.T) {
	f := fixture.Load(t, "multiseg")
	paths := writeImages(t, f, t.TempDir(), false)
	out, _, err := run(t, "", append([]string{"lvs", "--noheadings", "-o", "lv_name,data_percent", "--seqno", "7"}, paths...)...)
	if err != nil || !strings.Contains(out, "gamma") {
		t.Errorf("lvs --seqno 7: %v\n%s", err, out)
	}
	// The manifest holds LVM's own report of gamma while it existed.
	rm := f.Manifest.RemovedLVs[0]
	out, _, err = run(t, "", append([]string{"lvs", "--units", "b", "--nosuffix", "--json", "-o", "lv_name,lv_size,devices,lv_uuid", "--seqno", strconv.FormatUint(rm.LastVGSeqno, 10)}, paths...)...)
	found := false
	for _, r := range decodeReport(t, []byte(out)) {
		if r["lv_name"] == rm.Name {
			found = true
			if r["lv_size"] != strconv.FormatInt(rm.SizeBytes, 10) || r["lv_uuid"] != rm.UUID || !strings.HasSuffix(r["devices"], "(24)") {
				t.Errorf("%s at seqno %d: %v", rm.Name, rm.LastVGSeqno, r)
			}
		}
	}
	if err != nil || !found {
		t.Errorf("%s at seqno %d not listed: %v\n%s", rm.Name, rm.LastVGSeqno, err, out)
	}
	out, _, _ = run(t, "", append([]string{"lvs", "--noheadings", "-o", "lv_name"}, paths...)...)
	if strings.Contains(out, "gamma") {
		t.Errorf("lvs lists gamma, removed:\n%s", out)
	}
	_, _, err = run(t, "", append([]string{"vgs", "--seqno", "99999"}, paths...)...)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Errorf("vgs --seqno 99999: %v", err)
	}
}

// rowsOfVGs keeps the rows of got whose VG (vg_name) has rows in want,
// in their order.
func rowsOfVGs(got, want []map[string]string) []map[string]string {
	vgs := map[string]bool{}
	for _, w := range want {
		vgs[w["vg_name"]] = true
	}
	var out []map[string]string
	for _, g := range got {
		if vgs[g["vg_name"]] {
			out = append(out, g)
		}
	}
	return out
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// afterDevice drops the device names of PV:RANGE items ("/dev/loop1:0-3"
// is "0-3").
func afterDevice(v string) string {
	var out []string
	for _, it := range strings.Split(v, ",") {
		out = append(out, it[strings.LastIndex(it, ":")+1:])
	}
	return strings.Join(out, ",")
}
