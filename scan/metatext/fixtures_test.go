package metatext

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/model"
)

// fixturesDir holds the repository's copy of the LVM2 fixtures: texts
// written by real LVM 2.03.16 with the lvs/vgs/pvs reports LVM printed at
// the end of each scenario (see testdata/fixtures/README.md).
const fixturesDir = "../../testdata/fixtures"

// row is one row of an LVM JSON report; every value is a string.
type row map[string]string

// fixture is the oracle of one fixture folder.
type fixture struct {
	name     string
	dir      string
	vgs      []row
	pvs      []row
	lvs      []row // lvs -a --segments: one row per segment
	manifest struct {
		PVs []struct {
			GuestDevice string `json:"guest_device"`
			PVUUID      string `json:"pv_uuid"`
			VG          string `json:"vg"`
		} `json:"pvs"`
		RemovedLVs []struct {
			VG          string `json:"vg"`
			Name        string `json:"name"`
			UUID        string `json:"uuid"`
			SizeBytes   int64  `json:"size_bytes"`
			LastVGSeqno uint64 `json:"last_vg_seqno"`
			Segments    []row  `json:"segments"`
		} `json:"removed_lvs"`
	}
}

// loadFixtures returns every fixture folder that has LVM reports.
func loadFixtures(t *testing.T) []*fixture {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(fixturesDir, "*", "lvs.json"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no fixtures under %s (err %v)", fixturesDir, err)
	}
	var out []*fixture
	for _, p := range dirs {
		dir := filepath.Dir(p)
		fx := &fixture{name: filepath.Base(dir), dir: dir}
		fx.vgs = readReport(t, filepath.Join(dir, "vgs.json"), "vg")
		if g := filepath.Join(dir, "guest-vgs.json"); fileExists(g) {
			// LVM inside LVs: the guests' VGs, reported apart.
			fx.vgs = append(fx.vgs, readReport(t, g, "vg")...)
		}
		fx.pvs = readReport(t, filepath.Join(dir, "pvs.json"), "pv")
		fx.lvs = readReport(t, filepath.Join(dir, "lvs.json"), "seg")
		if g := filepath.Join(dir, "guest-lvs.json"); fileExists(g) {
			fx.lvs = append(fx.lvs, readReport(t, g, "seg")...)
		}
		readJSON(t, filepath.Join(dir, "manifest.json"), &fx.manifest)
		out = append(out, fx)
	}
	return out
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func readReport(t *testing.T, path, key string) []row {
	var r struct {
		Report []map[string][]row `json:"report"`
	}
	readJSON(t, path, &r)
	if len(r.Report) != 1 {
		t.Fatalf("%s: %d reports", path, len(r.Report))
	}
	return r.Report[0][key]
}

// parseFile parses a fixture text, which must be valid and free of
// anomalies (LVM wrote it).
func parseFile(t *testing.T, path string) *model.VG {
	t.Helper()
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	vg, err := Parse(text)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(vg.Anomalies) > 0 {
		t.Errorf("%s: unexpected anomalies:\n%s", path, strings.Join(vg.Anomalies, "\n"))
	}
	return vg
}

func TestFixtures(t *testing.T) {
	for _, fx := range loadFixtures(t) {
		t.Run(fx.name, func(t *testing.T) {
			current, _ := filepath.Glob(filepath.Join(fx.dir, "pvck", "*.metadata.txt"))
			backups, _ := filepath.Glob(filepath.Join(fx.dir, "lvm-archive", "backup", "*"))
			archives, _ := filepath.Glob(filepath.Join(fx.dir, "lvm-archive", "archive", "*"))
			if len(current) == 0 || len(backups) == 0 {
				t.Fatalf("fixture has %d pvck metadata texts and %d backups", len(current), len(backups))
			}
			// The pvck texts and the backups describe the final state,
			// which the reports show.
			for _, path := range append(current, backups...) {
				rel, _ := filepath.Rel(fx.dir, path)
				t.Run(rel, func(t *testing.T) {
					vg := parseFile(t, path)
					checkFinal(t, fx, vg)
				})
			}
			// Archives are older generations of the same VGs.
			gens := map[string]map[uint64]*model.VG{}
			for _, path := range append(archives, backups...) {
				vg := parseFile(t, path)
				vgRow := fx.vgRow(vg.Name)
				if vgRow == nil {
					t.Errorf("%s: VG %q is not in vgs.json", path, vg.Name)
					continue
				}
				final := mustUint(t, vgRow["vg_seqno"])
				if vg.UUID != vgRow["vg_uuid"] || vg.Seqno > final {
					t.Errorf("%s: VG %s uuid %s seqno %d; vgs.json: uuid %s seqno %d",
						path, vg.Name, vg.UUID, vg.Seqno, vgRow["vg_uuid"], final)
				}
				if gens[vg.Name] == nil {
					gens[vg.Name] = map[uint64]*model.VG{}
				}
				gens[vg.Name][vg.Seqno] = vg
			}
			checkRemoved(t, fx, gens)
		})
	}
}

func (fx *fixture) vgRow(name string) row {
	for _, r := range fx.vgs {
		if r["vg_name"] == name {
			return r
		}
	}
	return nil
}

func mustUint(t *testing.T, s string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("report value %q: %v", s, err)
	}
	return v
}

// checkFinal compares a VG with the fixture's final reports.
func checkFinal(t *testing.T, fx *fixture, vg *model.VG) {
	vgRow := fx.vgRow(vg.Name)
	if vgRow == nil {
		t.Fatalf("VG %q is not in vgs.json", vg.Name)
	}
	eq(t, "vg uuid", vg.UUID, vgRow["vg_uuid"])
	eq(t, "vg seqno", strconv.FormatUint(vg.Seqno, 10), vgRow["vg_seqno"])
	eq(t, "vg extent size (bytes)", strconv.FormatInt(vg.ExtentBytes(), 10), vgRow["vg_extent_size"])
	eq(t, "vg pv count", strconv.Itoa(len(vg.PVs)), vgRow["pv_count"])
	eq(t, "vg contents", vg.Contents, Contents)
	if !strings.HasPrefix(vg.GeneratedBy, "Generated by LVM2 version 2.03.16") {
		t.Errorf("GeneratedBy = %q", vg.GeneratedBy)
	}
	if vg.CreationHost != "fixtures" || !strings.HasPrefix(vg.CreationHostComment, "Linux fixtures 6.1.0") {
		t.Errorf("creation host %q, comment %q", vg.CreationHost, vg.CreationHostComment)
	}
	checkPVs(t, fx, vg)
	checkLVs(t, fx, vg)
}

func eq(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s: metadata says %q, LVM reported %q", what, got, want)
	}
}

// checkPVs compares the PV entries with pvs.json and the manifest's
// device names.
func checkPVs(t *testing.T, fx *fixture, vg *model.VG) {
	for _, r := range fx.pvs {
		if r["vg_name"] != vg.Name {
			continue
		}
		pv := vg.PVByUUID(r["pv_uuid"])
		if pv == nil {
			t.Errorf("PV %s (%s) missing from the metadata", r["pv_uuid"], r["pv_name"])
			continue
		}
		what := "pv " + pv.Label
		eq(t, what+" device hint", pv.Device, r["pv_name"])
		eq(t, what+" pe_start (bytes)", strconv.FormatUint(pv.PEStart*model.SectorSize, 10), r["pe_start"])
		eq(t, what+" pe_count", strconv.FormatUint(pv.PECount, 10), r["pv_pe_count"])
		eq(t, what+" dev_size (bytes)", strconv.FormatUint(pv.DevSize*model.SectorSize, 10), r["dev_size"])
		eq(t, what+" ba_start (bytes)", strconv.FormatUint(pv.BAStart*model.SectorSize, 10), r["pv_ba_start"])
		eq(t, what+" ba_size (bytes)", strconv.FormatUint(pv.BASize*model.SectorSize, 10), r["pv_ba_size"])
	}
	for _, m := range fx.manifest.PVs {
		if m.VG != vg.Name {
			continue
		}
		if pv := vg.PVByUUID(m.PVUUID); pv == nil || pv.Device != m.GuestDevice {
			t.Errorf("manifest PV %s on %s: metadata has %+v", m.PVUUID, m.GuestDevice, pv)
		}
	}
}

// lvsName removes the brackets lvs puts around hidden LV names.
func lvsName(s string) string { return strings.TrimSuffix(strings.TrimPrefix(s, "["), "]") }

// checkLVs compares every LV of lvs.json with the metadata.
func checkLVs(t *testing.T, fx *fixture, vg *model.VG) {
	rows := map[string][]row{}
	var names []string
	for _, r := range fx.lvs {
		if r["vg_name"] != vg.Name {
			continue
		}
		n := lvsName(r["lv_name"])
		if rows[n] == nil {
			names = append(names, n)
		}
		rows[n] = append(rows[n], r)
	}
	for _, name := range names {
		lv := vg.LV(name)
		if lv == nil {
			t.Errorf("LV %s of lvs.json is not in the metadata", name)
			continue
		}
		checkLV(t, vg, lv, rows[name])
	}
	// lvs hides exactly the internal snapshotN LVs of old-style snapshots
	// (it shows the COW LV under the snapshot's name instead).
	for _, lv := range vg.LVs {
		if rows[lv.Name] == nil && !isSnapshotLV(lv) {
			t.Errorf("metadata LV %s is not reported by lvs", lv.Name)
		}
	}
}

func isSnapshotLV(lv *model.LV) bool {
	return len(lv.Segments) == 1 && lv.Segments[0].Kind() == model.KindSnapshot
}

func checkLV(t *testing.T, vg *model.VG, lv *model.LV, rows []row) {
	t.Helper()
	eq(t, lv.Name+" uuid", lv.UUID, rows[0]["lv_uuid"])
	// lv_size is extents x extent size for every LV here: for thin LVs
	// and thin pools the segment's extent_count already is the virtual
	// size, for raid LVs it is the LV's (not the images') extents, and
	// for an old-style snapshot lvs reports the COW LV, whose own
	// extents are the COW store.
	eq(t, lv.Name+" size (bytes)", strconv.FormatInt(vg.LVSize(lv), 10), rows[0]["lv_size"])
	if len(rows) != len(lv.Segments) {
		t.Errorf("%s: %d segments in the metadata, %d in lvs.json", lv.Name, len(lv.Segments), len(rows))
		return
	}
	sort.SliceStable(rows, func(i, j int) bool {
		return mustUint(t, rows[i]["seg_start_pe"]) < mustUint(t, rows[j]["seg_start_pe"])
	})
	for i, seg := range lv.Segments {
		r := rows[i]
		what := fmt.Sprintf("%s segment %d", lv.Name, i)
		eq(t, what+" start_extent", strconv.FormatUint(seg.StartExtent, 10), r["seg_start_pe"])
		eq(t, what+" extent_count", strconv.FormatUint(seg.ExtentCount, 10), r["seg_size_pe"])
		eq(t, what+" type", reportType(seg), r["segtype"])
		eq(t, what+" stripe_size (bytes)", strconv.FormatUint(seg.StripeSize*model.SectorSize, 10), r["stripe_size"])
		switch seg.Kind() {
		case model.KindStriped, model.KindMirror, model.KindRAID:
			// For other types lvs counts the areas LVM attaches
			// internally (1 for pools, cache and writecache, 0 for thin),
			// which the metadata does not hold as stripes.
			eq(t, what+" stripes", strconv.FormatUint(seg.StripeCount, 10), r["stripes"])
		}
		if seg.Mirror != nil {
			eq(t, what+" region_size (bytes)", strconv.FormatUint(seg.Mirror.RegionSize*model.SectorSize, 10), r["region_size"])
			eq(t, what+" mirror_log", seg.Mirror.MirrorLog, lvsName(r["mirror_log"]))
		}
		if seg.RAID != nil {
			eq(t, what+" region_size (bytes)", strconv.FormatUint(seg.RAID.RegionSize*model.SectorSize, 10), r["region_size"])
			eq(t, what+" metadata devices", areasText(vg, seg.MetaAreas), r["metadata_devices"])
		}
		eq(t, what+" devices", reportDevices(vg, seg), r["devices"])
		checkRefs(t, vg, lv, seg, r, what)
	}
}

// reportType is the segment type as lvs names it: "linear" for a
// one-stripe striped segment, flags after '+' dropped.
func reportType(seg *model.Segment) string {
	if seg.BaseType == "striped" && seg.StripeCount == 1 {
		return "linear"
	}
	return seg.BaseType
}

// areasText renders areas as lvs's devices column: a PV as its device
// hint with the first PE, an LV as its name with the first LE.
func areasText(vg *model.VG, areas []model.Area) string {
	parts := make([]string, len(areas))
	for i, a := range areas {
		name := a.LV
		if a.IsPV() {
			name = "?" + a.PV
			if pv := vg.PVByLabel(a.PV); pv != nil {
				name = pv.Device
			}
		}
		parts[i] = fmt.Sprintf("%s(%d)", name, a.Start)
	}
	return strings.Join(parts, ",")
}

// reportDevices is what lvs prints as devices: the areas, or for pool
// and cache types the LV that LVM attaches as their single area.
func reportDevices(vg *model.VG, seg *model.Segment) string {
	lvArea := func(name string) string { return areasText(vg, []model.Area{{LV: name}}) }
	switch {
	case seg.ThinPool != nil:
		return lvArea(seg.ThinPool.Pool)
	case seg.CachePool != nil:
		return lvArea(seg.CachePool.Data)
	case seg.Cache != nil:
		return lvArea(seg.Cache.Origin)
	case seg.Writecache != nil:
		return lvArea(seg.Writecache.Origin)
	}
	return areasText(vg, seg.Areas)
}

// checkRefs compares the LV references that lvs reports in its
// data_lv, metadata_lv, pool_lv, origin and chunk_size columns.
func checkRefs(t *testing.T, vg *model.VG, lv *model.LV, seg *model.Segment, r row, what string) {
	t.Helper()
	chunk := func(sectors uint64) {
		eq(t, what+" chunk_size (bytes)", strconv.FormatUint(sectors*model.SectorSize, 10), r["chunk_size"])
	}
	ref := func(col, name string) { eq(t, what+" "+col, name, lvsName(r[col])) }
	switch {
	case seg.ThinPool != nil:
		ref("data_lv", seg.ThinPool.Pool)
		ref("metadata_lv", seg.ThinPool.Metadata)
		chunk(seg.ThinPool.ChunkSize)
	case seg.CachePool != nil:
		ref("data_lv", seg.CachePool.Data)
		ref("metadata_lv", seg.CachePool.Metadata)
		chunk(seg.CachePool.ChunkSize)
	case seg.Thin != nil:
		ref("pool_lv", seg.Thin.ThinPool)
		ref("origin", seg.Thin.Origin)
	case seg.Cache != nil:
		ref("pool_lv", seg.Cache.CachePool)
		ref("origin", seg.Cache.Origin)
		// With a cache pool, the chunk size lvs shows is the pool's.
		if pool := vg.LV(seg.Cache.CachePool); pool != nil && len(pool.Segments) == 1 && pool.Segments[0].CachePool != nil {
			chunk(pool.Segments[0].CachePool.ChunkSize)
		}
	case seg.Writecache != nil:
		ref("pool_lv", seg.Writecache.Writecache)
		ref("origin", seg.Writecache.Origin)
	}
	// The COW LV of an old-style snapshot shows the snapshot's origin
	// and chunk size, which live in the internal snapshotN LV.
	for _, other := range vg.LVs {
		if isSnapshotLV(other) && other.Segments[0].Snapshot.CowStore == lv.Name {
			ref("origin", other.Segments[0].Snapshot.Origin)
			chunk(other.Segments[0].Snapshot.ChunkSize)
		}
	}
}

// checkRemoved compares each LV removed during the scenario with the
// newest generation that still had it.
func checkRemoved(t *testing.T, fx *fixture, gens map[string]map[uint64]*model.VG) {
	for _, rm := range fx.manifest.RemovedLVs {
		vg := gens[rm.VG][rm.LastVGSeqno]
		if vg == nil {
			t.Errorf("removed LV %s: no archive of VG %s seqno %d", rm.Name, rm.VG, rm.LastVGSeqno)
			continue
		}
		lv := vg.LV(rm.Name)
		if lv == nil {
			t.Errorf("removed LV %s: not in VG %s seqno %d", rm.Name, rm.VG, rm.LastVGSeqno)
			continue
		}
		eq(t, "removed "+rm.Name+" uuid", lv.UUID, rm.UUID)
		eq(t, "removed "+rm.Name+" size", strconv.FormatInt(vg.LVSize(lv), 10), strconv.FormatInt(rm.SizeBytes, 10))
		if len(rm.Segments) != len(lv.Segments) {
			t.Errorf("removed LV %s: %d segments, manifest %d", rm.Name, len(lv.Segments), len(rm.Segments))
			continue
		}
		for i, seg := range lv.Segments {
			r := rm.Segments[i]
			what := fmt.Sprintf("removed %s segment %d", rm.Name, i)
			eq(t, what+" start", strconv.FormatUint(seg.StartExtent, 10), r["seg_start_pe"])
			eq(t, what+" size", strconv.FormatUint(seg.ExtentCount, 10), r["seg_size_pe"])
			eq(t, what+" devices", reportDevices(vg, seg), r["devices"])
		}
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
