package model

import (
	"errors"
	"strings"
	"testing"
)

// scratchVG is the striped example of segment-mapping.md §2.
func scratchVG() (*VG, *LV) {
	vg := &VG{Name: "vg_data", ExtentSize: 8192}
	for _, l := range []string{"pv0", "pv1", "pv2"} {
		vg.PVs = append(vg.PVs, &PV{Label: l, UUID: l + "-uuid", PEStart: 2048, PECount: 255})
	}
	lv := &LV{Name: "scratch", Segments: []*Segment{{StartExtent: 0, ExtentCount: 30, Type: "striped", BaseType: "striped",
		StripeCount: 3, StripeSize: 128, Areas: []Area{{PV: "pv0", Start: 168}, {PV: "pv1", Start: 87}, {PV: "pv2", Start: 11}}}}}
	vg.LVs = append(vg.LVs, lv)
	return vg, lv
}

func TestMapStripedSpecExample(t *testing.T) {
	vg, lv := scratchVG()
	p, err := vg.MapRange(lv, 1<<20, 512)
	if err != nil {
		t.Fatal(err)
	}
	want := Piece{LVOffset: 1 << 20, Length: 512, PVUUID: "pv1-uuid", PVLabel: "pv1", PVOffset: (2048 + 87*8192 + 640) * 512}
	if len(p) != 1 || p[0] != want {
		t.Fatalf("got %+v, want %+v", p, want)
	}
	// A whole-LV map covers every byte once, in chunk-sized pieces.
	all, err := vg.MapRange(lv, 0, vg.LVSize(lv))
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for i, q := range all {
		if q.LVOffset != n || q.Length != 128*512 {
			t.Fatalf("piece %d: %+v at %d", i, q, n)
		}
		n += q.Length
	}
	if n != vg.LVSize(lv) {
		t.Fatalf("covered %d of %d", n, vg.LVSize(lv))
	}
}

func TestMapLinearMerges(t *testing.T) {
	vg := &VG{Name: "v", ExtentSize: 8}
	vg.PVs = []*PV{{Label: "pv0", UUID: "u0", PEStart: 2048, PECount: 100}}
	lv := &LV{Name: "l", Segments: []*Segment{
		{StartExtent: 0, ExtentCount: 4, BaseType: "striped", StripeCount: 1, Areas: []Area{{PV: "pv0", Start: 10}}},
		{StartExtent: 4, ExtentCount: 2, BaseType: "striped", StripeCount: 1, Areas: []Area{{PV: "pv0", Start: 14}}},
		{StartExtent: 6, ExtentCount: 2, BaseType: "striped", StripeCount: 1, Areas: []Area{{PV: "pv0", Start: 0}}},
	}}
	vg.LVs = []*LV{lv}
	p, err := vg.MapRange(lv, 0, vg.LVSize(lv))
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != 2 || p[0].Length != 6*4096 || p[1].PVOffset != 2048*512 {
		t.Fatalf("%+v", p)
	}
}

func TestMapErrors(t *testing.T) {
	vg, lv := scratchVG()
	if _, err := vg.MapRange(lv, vg.LVSize(lv), 1); !errors.Is(err, ErrMapping) {
		t.Errorf("beyond the end: %v", err)
	}
	lv.Segments[0].Areas[1].PV = "pv9"
	if _, err := vg.MapRange(lv, 0, vg.LVSize(lv)); !errors.Is(err, ErrMapping) {
		t.Errorf("unknown PV: %v", err)
	}
	// An LV area that refers back to its own LV is a cycle, not a hang.
	loop := &LV{Name: "loop", Segments: []*Segment{{ExtentCount: 1, BaseType: "striped", StripeCount: 1, Areas: []Area{{LV: "loop"}}}}}
	vg.LVs = append(vg.LVs, loop)
	if _, err := vg.MapRange(loop, 0, 512); !errors.Is(err, ErrMapping) {
		t.Errorf("cycle: %v", err)
	}
	raid := &LV{Name: "r", Segments: []*Segment{{ExtentCount: 1, Type: "raid5", BaseType: "raid5"}}}
	var ue *UnsupportedError
	if _, err := vg.MapRange(raid, 0, 512); !errors.As(err, &ue) {
		t.Errorf("raid: %v", err)
	}
}

// TestErrorsNameSegmentsFromOne checks that the mapping's errors number
// segments as the metadata text and every front end do, from 1.
func TestErrorsNameSegmentsFromOne(t *testing.T) {
	e := &UnsupportedError{LV: "cpool", Segment: 0, Type: "cache-pool", Reason: "not data"}
	if got, want := e.Error(), "lv cpool: segment 1 (cache-pool): not data"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	e = &UnsupportedError{LV: "empty", Segment: -1, Reason: "the LV has no segments"}
	if got, want := e.Error(), "lv empty: the LV has no segments"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	vg, lv := scratchVG()
	lv.Segments[0].Areas[1].PV = "pv9"
	_, err := vg.MapRange(lv, 0, vg.LVSize(lv))
	if err == nil || !strings.Contains(err.Error(), "segment 1: unknown PV") {
		t.Errorf("unknown PV: %v", err)
	}
	raid := &LV{Name: "r", Segments: []*Segment{{ExtentCount: 1, Type: "raid5", BaseType: "raid5"}}}
	if _, err := vg.MapRange(raid, 0, 512); err == nil || !strings.Contains(err.Error(), "segment 1 (raid5)") {
		t.Errorf("raid: %v", err)
	}
}

// TestPiecesCarryThePVDeviceHint checks that a piece names its PV as the
// VG does: label, UUID and the device the metadata last saw it as.
func TestPiecesCarryThePVDeviceHint(t *testing.T) {
	vg, lv := scratchVG()
	vg.PVs[1].Device = "/dev/vdb"
	p, err := vg.MapRange(lv, 1<<20, 512)
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != 1 || p[0].PVDevice != "/dev/vdb" {
		t.Fatalf("%+v", p)
	}
	if got, want := p[0].PVRef(), "pv1 (pv1-uuid, last seen as /dev/vdb)"; got != want {
		t.Errorf("PVRef %q, want %q", got, want)
	}
	if got, want := vg.PVs[0].Ref(), "pv0 (pv0-uuid, no device recorded)"; got != want {
		t.Errorf("Ref %q, want %q", got, want)
	}
	if got, want := PVRef("", "u", "/dev/sda"), "u (last seen as /dev/sda)"; got != want {
		t.Errorf("PVRef without label %q, want %q", got, want)
	}
}
