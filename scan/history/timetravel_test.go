package history_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"testing"

	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/scan/history"
)

// removedLV is a removed_lvs entry of manifest.json with its segments.
type removedLV struct {
	Name        string `json:"name"`
	UUID        string `json:"uuid"`
	SizeBytes   int64  `json:"size_bytes"`
	SHA256      string `json:"sha256"`
	LastVGSeqno uint64 `json:"last_vg_seqno"`
	Segments    []struct {
		Devices string `json:"devices"`
	} `json:"segments"`
}

func removedLVs(t *testing.T, f *fixture.Fixture) map[string]removedLV {
	t.Helper()
	var m struct {
		Removed []removedLV `json:"removed_lvs"`
	}
	if err := json.Unmarshal(f.ReadFile(t, "manifest.json"), &m); err != nil {
		t.Fatal(err)
	}
	out := map[string]removedLV{}
	for _, r := range m.Removed {
		out[r.Name] = r
	}
	return out
}

// TestTimeTravelRemovedLV opens the generation that still had the removed
// LV `late` of the history fixture and checks that its content, read
// through that generation's extent map, is what it held before lvremove.
func TestTimeTravelRemovedLV(t *testing.T) {
	f := fixture.Load(t, "history")
	rm := removedLVs(t, f)["late"]
	if rm.LastVGSeqno == 0 {
		t.Fatal("manifest has no removed LV late")
	}
	res := scanImages(t, f)
	cur := res.VGs[0]
	if cur.Meta.LV("late") != nil {
		t.Fatal("late exists in the current generation")
	}
	vg, err := history.OpenGeneration(res, "hist", rm.LastVGSeqno)
	if err != nil {
		t.Fatal(err)
	}
	if vg.Meta.Seqno != rm.LastVGSeqno || vg.Fallback == "" {
		t.Errorf("seqno %d, fallback %q", vg.Meta.Seqno, vg.Fallback)
	}
	lv := vg.Meta.LV("late")
	if lv == nil || lv.UUID != rm.UUID || vg.Meta.LVSize(lv) != rm.SizeBytes {
		t.Fatalf("LV late: %+v", lv)
	}
	if got := lvSHA256(t, vg, lv); got != rm.SHA256 {
		t.Errorf("late: sha256 %s, want %s", got, rm.SHA256)
	}
	h := history.Scan(res, history.Options{})
	re, err := history.FindReusedExtents(h.Generations, vg.Meta.UUID, rm.LastVGSeqno, "late")
	if err != nil {
		t.Fatal(err)
	}
	if re == nil || len(re) != 0 {
		t.Errorf("late: reused extents %+v, want an empty list", re)
	}
	// The scan itself is untouched; the current generation opens too.
	if res.VGs[0] != cur {
		t.Error("OpenGeneration changed res")
	}
	now, err := h.Open(res, cur.Meta.UUID, cur.Meta.Seqno)
	if err != nil || now.Fallback != "" || now.Meta.Seqno != cur.Meta.Seqno {
		t.Errorf("current generation: %v, %+v", err, now)
	}
	// doomed's generations were overwritten in the ring.
	doomed := removedLVs(t, f)["doomed"]
	_, err = history.OpenGeneration(res, "hist", doomed.LastVGSeqno)
	var ge *history.GenerationError
	if !errors.Is(err, history.ErrNoGeneration) || !errors.As(err, &ge) || len(ge.Available) == 0 {
		t.Errorf("doomed's seqno %d: err %v", doomed.LastVGSeqno, err)
	}
	if history.ReusedExtents(h.Generations, vg.Meta.UUID, doomed.LastVGSeqno, "doomed") != nil {
		t.Error("reused extents of a generation that is not there")
	}
}

var devRE = regexp.MustCompile(`^(\S+)\((\d+)\)$`)

// peRange is the PE range of a single-segment LV from its lvs row.
func peRange(t *testing.T, devices string, size, extent int64) (lo, hi uint64) {
	t.Helper()
	m := devRE.FindStringSubmatch(devices)
	if m == nil {
		t.Fatalf("devices %q", devices)
	}
	pe, _ := strconv.ParseUint(m[2], 10, 64)
	return pe, pe + uint64(size/extent)
}

// TestReusedExtentsMultiseg checks that gamma of multiseg, removed after
// seqno 7, reports the extents epsilon was later given: expected from the
// manifest (lvs rows) and the archive (first generation with epsilon).
func TestReusedExtentsMultiseg(t *testing.T) {
	f := fixture.Load(t, "multiseg")
	gamma := removedLVs(t, f)["gamma"]
	res := scanImages(t, f)
	vg, err := history.OpenGeneration(res, "multiseg", gamma.LastVGSeqno)
	if err != nil {
		t.Fatal(err)
	}
	eb := vg.Meta.ExtentBytes()
	if vg.Meta.LV("gamma") == nil || len(gamma.Segments) != 1 {
		t.Fatal("gamma not in the generation, or not one segment")
	}
	glo, ghi := peRange(t, gamma.Segments[0].Devices, gamma.SizeBytes, eb)
	var want []history.Reused
	arch := archive(t, f)["multiseg"]
	for _, lv := range f.Manifest.LVs {
		if lv.VG != "multiseg" || len(lv.Segments) != 1 {
			continue
		}
		lo, hi := peRange(t, lv.Segments[0]["devices"], lv.SizeBytes, eb)
		lo, hi = max(lo, glo), min(hi, ghi)
		if lo >= hi {
			continue
		}
		first := uint64(0)
		for q := gamma.LastVGSeqno + 1; arch[q] != nil; q++ {
			if arch[q].vg.LV(lv.Name) != nil {
				first = q
				break
			}
		}
		want = append(want, history.Reused{StartExtent: lo - glo, ExtentCount: hi - lo, ByLV: lv.Name, Seqno: first})
	}
	if len(want) == 0 || want[0].ByLV != "epsilon" {
		t.Fatalf("expected epsilon to reuse gamma's extents per the manifest; computed %+v", want)
	}
	h := history.Scan(res, history.Options{})
	got := history.ReusedExtents(h.Generations, vg.Meta.UUID, gamma.LastVGSeqno, "gamma")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("reused extents %+v, want %+v", got, want)
	}
	t.Logf("gamma@%d: %+v", gamma.LastVGSeqno, got)
}

// TestSeqnoApply checks scan --seqno's function: the VG is replaced by
// the generation, and an absent generation is an error that changes
// nothing.
func TestSeqnoApply(t *testing.T) {
	f := fixture.Load(t, "layout-variants")
	res := scanImages(t, f)
	before := fmt.Sprint(len(res.VGs))
	if err := history.ApplySeqno(res, "", 999); !errors.Is(err, history.ErrNoGeneration) {
		t.Errorf("seqno 999: %v", err)
	}
	if fmt.Sprint(len(res.VGs)) != before {
		t.Error("failed ApplySeqno changed the VGs")
	}
	if err := history.ApplySeqno(res, "lay2", 2); err != nil {
		t.Fatal(err)
	}
	for _, vg := range res.VGs {
		switch vg.Meta.Name {
		case "lay2":
			if vg.Meta.Seqno != 2 || vg.Fallback == "" || len(vg.PVs) != 2 || vg.PVs[0].Missing || vg.PVs[1].Missing {
				t.Errorf("lay2: seqno %d fallback %q PVs %d", vg.Meta.Seqno, vg.Fallback, len(vg.PVs))
			}
			// Generation 2 is on both PVs, the ignored one included.
			if len(vg.Sources) != 2 {
				t.Errorf("lay2 seqno 2: %d sources, want 2", len(vg.Sources))
			}
		case "lay1":
			if vg.Meta.Seqno != 3 || vg.Fallback != "" {
				t.Errorf("lay1 changed: seqno %d", vg.Meta.Seqno)
			}
		}
	}
}

// TestCorruptGarbage checks the history of the garbage-metadata variant:
// the committed slot points at a copy that fails its checksum and does not
// parse, the older generations are intact, and the scan falls back to the
// newest of them with every LV reading as the manifest expects.
func TestCorruptGarbage(t *testing.T) {
	f := fixture.Load(t, "corrupt")
	var v *fixture.Variant
	for i := range f.Manifest.Variants {
		if f.Manifest.Variants[i].File == "garbage-metadata.img.gz" {
			v = &f.Manifest.Variants[i]
		}
	}
	if v == nil {
		t.Fatal("variant garbage-metadata missing")
	}
	res := scanImages(t, f, v.File)
	banana, ok := readPvck(t, fixture.Root()+"/banana/pvck/pv0.metadata_all.txt")
	if !ok {
		t.Fatal("banana pvck dump missing")
	}
	h := history.Scan(res, history.Options{})
	var bad *history.Copy
	intact := map[uint64]bool{}
	for _, c := range h.Copies {
		if c.Slot == 0 {
			bad = c
		} else if c.Parsed && c.CRCOK {
			intact[c.Seqno] = true
		}
	}
	last := banana[len(banana)-1]
	if bad == nil || bad.CRCOK || bad.Parsed || bad.Committed || bad.StoredCRC != last.crc || bad.Offset != int64(last.off) {
		t.Fatalf("garbage copy: %+v", bad)
	}
	for _, b := range banana[:len(banana)-1] {
		if !intact[b.seqno] {
			t.Errorf("seqno %d not found intact", b.seqno)
		}
	}
	vg := res.VGs[0]
	if vg.Meta.Seqno != v.Expect.UsableVGSeqno || vg.Fallback == "" {
		t.Fatalf("scan uses seqno %d (fallback %q), want %d", vg.Meta.Seqno, vg.Fallback, v.Expect.UsableVGSeqno)
	}
	for _, want := range v.Expect.LVs {
		lv := vg.Meta.LV(want.Name)
		if lv == nil {
			t.Errorf("LV %s missing", want.Name)
			continue
		}
		if got := lvSHA256(t, vg, lv); got != want.SHA256 {
			t.Errorf("LV %s: sha256 %s, want %s", want.Name, got, want.SHA256)
		}
	}
}
