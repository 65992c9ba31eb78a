package model

import (
	"reflect"
	"testing"
)

func TestPVUsage(t *testing.T) {
	lin := func(name, pv string, start, n uint64) *LV {
		return &LV{Name: name, Segments: []*Segment{{ExtentCount: n, Type: "striped", BaseType: "striped", StripeCount: 1, Areas: []Area{{PV: pv, Start: start}}}}}
	}
	st := &LV{Name: "st", Segments: []*Segment{{ExtentCount: 6, Type: "striped", BaseType: "striped", StripeCount: 2,
		Areas: []Area{{PV: "pv0", Start: 20}, {PV: "pv1", Start: 0}}}}}
	vg := &VG{PVs: []*PV{{Label: "pv0", PECount: 30}, {Label: "pv1", PECount: 10}},
		LVs: []*LV{lin("b", "pv0", 10, 5), lin("a", "pv0", 0, 4), st}}
	use := vg.PVUsage()
	want := []ExtentRun{{0, 4, "a", 0}, {10, 15, "b", 0}, {20, 23, "st", 0}}
	if !reflect.DeepEqual(use["pv0"], want) {
		t.Errorf("pv0 %v", use["pv0"])
	}
	if got := FreeRuns(use["pv0"], 30); !reflect.DeepEqual(got, []ExtentRun{{Start: 4, End: 10}, {Start: 15, End: 20}, {Start: 23, End: 30}}) {
		t.Errorf("free %v", got)
	}
	if got := FreeRuns(nil, 3); !reflect.DeepEqual(got, []ExtentRun{{Start: 0, End: 3}}) {
		t.Errorf("free of unused %v", got)
	}
	// Runs past the PV's end and overlapping runs do not make free space negative.
	if got := FreeRuns([]ExtentRun{{Start: 0, End: 5}, {Start: 2, End: 40}}, 30); len(got) != 0 {
		t.Errorf("free %v", got)
	}
	total, by := vg.FreeExtents()
	if total != 18+7 || by["pv0"] != 18 || by["pv1"] != 7 || vg.TotalExtents() != 40 {
		t.Errorf("free %d %v of %d", total, by, vg.TotalExtents())
	}
}
