package history_test

import (
	"reflect"
	"testing"

	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan/history"
)

const testVGUUID = "AAAAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAAAA"

func testVG(seqno uint64, lvs ...*model.LV) *model.VG {
	return &model.VG{Name: "vg", UUID: testVGUUID, Seqno: seqno, ExtentSize: 8,
		PVs: []*model.PV{{Label: "pv0", UUID: "PV0000-0000-0000-0000-0000-0000-000000", PECount: 100},
			{Label: "pv1", UUID: "PV1111-1111-1111-1111-1111-1111-111111", PECount: 100}},
		LVs: lvs}
}

func linear(name, uuid string, segs ...[3]uint64) *model.LV { // {start LE, count, PE} on pv0 or pv1 (PE >= 1000)
	lv := &model.LV{Name: name, UUID: uuid}
	for _, s := range segs {
		pv, pe := "pv0", s[2]
		if pe >= 1000 {
			pv, pe = "pv1", pe-1000
		}
		lv.Segments = append(lv.Segments, &model.Segment{StartExtent: s[0], ExtentCount: s[1], Type: "striped", BaseType: "striped",
			StripeCount: 1, Areas: []model.Area{{PV: pv, Start: pe}}})
	}
	return lv
}

func gens(vgs ...*model.VG) []*history.Generation {
	var out []*history.Generation
	for _, vg := range vgs {
		out = append(out, &history.Generation{VGName: vg.Name, VGUUID: vg.UUID, Seqno: vg.Seqno, VG: vg})
	}
	return out
}

// TestReusedStripedAndRaid follows striped areas and raid1 images to the
// physical extents a later LV took, and attributes each range to the
// first generation that took it.
func TestReusedStripedAndRaid(t *testing.T) {
	striped := &model.LV{Name: "st", UUID: "st", Segments: []*model.Segment{{StartExtent: 0, ExtentCount: 8, Type: "striped",
		BaseType: "striped", StripeCount: 2, StripeSize: 8, Areas: []model.Area{{PV: "pv0", Start: 10}, {PV: "pv1", Start: 20}}}}}
	raid := &model.LV{Name: "r", UUID: "r", Segments: []*model.Segment{{StartExtent: 0, ExtentCount: 4, Type: "raid1", BaseType: "raid1",
		StripeCount: 2, RAID: &model.RAIDParams{Level: "raid1"},
		Areas: []model.Area{{LV: "r_rimage_0"}, {LV: "r_rimage_1"}}}}}
	old := testVG(1, striped, raid, linear("r_rimage_0", "ri0", [3]uint64{0, 4, 50}), linear("r_rimage_1", "ri1", [3]uint64{0, 4, 1050}),
		linear("keep", "keep", [3]uint64{0, 2, 0}))
	// seqno 2: x takes pv1 PE 21 (st's stripe 1, LEs 2-3) and pv1 PE 52-53 (r's image 1, LEs 2-3).
	// seqno 3: y takes pv0 PE 10-14 (st's stripe 0: LEs 0-7; 2-3 were x's already); keep still holds its own PEs.
	v2 := testVG(2, linear("x", "x", [3]uint64{0, 1, 1021}, [3]uint64{1, 2, 1052}), linear("keep", "keep", [3]uint64{0, 2, 0}))
	v3 := testVG(3, linear("x", "x", [3]uint64{0, 1, 1021}, [3]uint64{1, 2, 1052}), linear("y", "y", [3]uint64{0, 5, 10}))
	g := gens(old, v2, v3)
	got, err := history.FindReusedExtents(g, testVGUUID, 1, "st")
	want := []history.Reused{{0, 2, "y", 3}, {2, 2, "x", 2}, {4, 4, "y", 3}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("striped: %+v %v, want %+v", got, err, want)
	}
	got, _ = history.FindReusedExtents(g, testVGUUID, 1, "r")
	want = []history.Reused{{2, 2, "x", 2}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("raid1: %+v, want %+v", got, want)
	}
	if got := history.ReusedExtents(g, testVGUUID, 1, "keep"); got == nil || len(got) != 0 {
		t.Errorf("keep: %+v, want empty", got)
	}
	if _, err := history.FindReusedExtents(g, testVGUUID, 1, "nosuch"); err == nil {
		t.Error("no error for a missing LV")
	}
}
