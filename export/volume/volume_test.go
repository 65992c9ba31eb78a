package volume_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/export"
	_ "github.com/lvminspect/lvminspect/export/segtypes"
	"github.com/lvminspect/lvminspect/export/volume"
	"github.com/lvminspect/lvminspect/model"
)

// vg builds a VG of one 64-extent PV (extent = 8 sectors) over data.
func testVG(data []byte) (*model.VG, map[string]export.PVReader) {
	vg := &model.VG{Name: "v", ExtentSize: 8}
	vg.PVs = []*model.PV{{Label: "pv0", UUID: "pv-uuid", PEStart: 0, PECount: 64}}
	pvs := map[string]export.PVReader{"pv-uuid": {R: bytes.NewReader(data), Size: int64(len(data)), Name: "img"}}
	return vg, pvs
}

func lin(start, count, pe uint64) *model.Segment {
	return &model.Segment{StartExtent: start, ExtentCount: count, Type: "striped", BaseType: "striped", StripeCount: 1,
		Areas: []model.Area{{PV: "pv0", Start: pe}}}
}

func TestOpenMixedAndLayered(t *testing.T) {
	data := make([]byte, 64*4096)
	for i := range data {
		data[i] = byte(i / 4096)
	}
	vg, pvs := testVG(data)
	tdata := &model.LV{Name: "pool_tdata", Segments: []*model.Segment{lin(0, 4, 10)}}
	pool := &model.LV{Name: "pool", Segments: []*model.Segment{{StartExtent: 0, ExtentCount: 4, Type: "thin-pool", BaseType: "thin-pool",
		ThinPool: &model.ThinPoolParams{Pool: "pool_tdata", Metadata: "pool_tmeta"}}}}
	// An LV whose second segment is an LV area on another LV.
	upper := &model.LV{Name: "upper", Segments: []*model.Segment{lin(0, 2, 0), {StartExtent: 2, ExtentCount: 2, Type: "striped",
		BaseType: "striped", StripeCount: 1, Areas: []model.Area{{LV: "pool_tdata", Start: 1}}}}}
	vg.LVs = []*model.LV{tdata, pool, upper}
	r := volume.New(vg, pvs)
	src, err := r.OpenLV(pool)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, src.Size())
	if _, err := src.ReadAt(got, 0); err != nil || !bytes.Equal(got, data[10*4096:14*4096]) {
		t.Fatalf("thin pool does not read as its data sub-LV: %v", err)
	}
	src, err = r.OpenLV(upper)
	if err != nil {
		t.Fatal(err)
	}
	got = make([]byte, src.Size())
	if _, err := src.ReadAt(got, 0); err != nil {
		t.Fatal(err)
	}
	want := append(append([]byte(nil), data[0:2*4096]...), data[11*4096:13*4096]...)
	if !bytes.Equal(got, want) {
		t.Fatal("LV area segment read wrong bytes")
	}
}

func TestOpenRefusals(t *testing.T) {
	vg, pvs := testVG(make([]byte, 64*4096))
	loop := &model.LV{Name: "a", Segments: []*model.Segment{{ExtentCount: 1, Type: "mirror", BaseType: "mirror", StripeCount: 1,
		Areas: []model.Area{{LV: "a"}}, Mirror: &model.MirrorParams{MirrorCount: 1}}}}
	vdo := &model.LV{Name: "vdo", Segments: []*model.Segment{{ExtentCount: 1, Type: "vdo", BaseType: "vdo"}}}
	odd := &model.LV{Name: "odd", Segments: []*model.Segment{{ExtentCount: 1, Type: "frobnicate", BaseType: "frobnicate"}}}
	none := &model.LV{Name: "none"}
	vg.LVs = []*model.LV{loop, vdo, odd, none}
	r := volume.New(vg, pvs)
	var ue *model.UnsupportedError
	if _, err := r.OpenLV(vdo); !errors.As(err, &ue) || !strings.Contains(err.Error(), "VDO") {
		t.Errorf("vdo: %v", err)
	}
	if _, err := r.OpenLV(odd); !errors.As(err, &ue) || !strings.Contains(err.Error(), "frobnicate") {
		t.Errorf("unknown type: %v", err)
	}
	if _, err := r.OpenLV(none); err == nil {
		t.Errorf("LV without segments opened")
	}
	if _, err := r.OpenLV(loop); !errors.Is(err, volume.ErrCycle) {
		t.Errorf("self-referencing LV: %v", err)
	}
	if _, err := r.Open("nosuch"); !errors.Is(err, model.ErrMapping) {
		t.Errorf("unknown LV: %v", err)
	}
}
