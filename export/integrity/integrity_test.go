package integrity

import (
	"bytes"
	"errors"
	"testing"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/export/volume"
	"github.com/lvminspect/lvminspect/model"
)

// testVG builds a VG with one PV of 16 extents of 4 KiB (8 sectors):
// lv_iorig (extents 0-7), lv_imeta (8-9) and lv, an integrity LV over
// them, and a PV image whose bytes encode their offset.
func testVG(p model.IntegrityParams) (*volume.Resolver, []byte) {
	img := make([]byte, 16*4096)
	for i := range img {
		img[i] = byte(i / 512)
	}
	linear := func(name string, pe, n uint64) *model.LV {
		return &model.LV{Name: name, Segments: []*model.Segment{{StartExtent: 0, ExtentCount: n, Type: "striped", BaseType: "striped",
			StripeCount: 1, Areas: []model.Area{{PV: "pv0", Start: pe}}}}}
	}
	lv := &model.LV{Name: "lv", Segments: []*model.Segment{{StartExtent: 0, ExtentCount: 8, Type: "integrity", BaseType: "integrity", Integrity: &p}}}
	vg := &model.VG{Name: "vg", ExtentSize: 8,
		PVs: []*model.PV{{Label: "pv0", UUID: "u0", PEStart: 0, PECount: 16}},
		LVs: []*model.LV{linear("lv_iorig", 0, 8), linear("lv_imeta", 8, 2), lv}}
	pvs := map[string]export.PVReader{"u0": {R: bytes.NewReader(img), Size: int64(len(img)), Name: "img"}}
	return volume.New(vg, pvs), img
}

func TestIntegrityData(t *testing.T) {
	r, img := testVG(model.IntegrityParams{Origin: "lv_iorig", MetaDev: "lv_imeta", DataSectors: 64, Mode: "J"})
	src, err := r.Open("lv")
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, src.Size())
	if n, err := src.ReadAt(got, 0); n != len(got) {
		t.Fatal(err)
	}
	if !bytes.Equal(got, img[:8*4096]) {
		t.Errorf("integrity LV does not read its data device 1:1")
	}
	in, err := Open(r, r.VG.LV("lv"), 0)
	if err != nil || len(in.Notes) == 0 {
		t.Errorf("journal mode note missing: %v %v", in, err)
	}
}

func TestIntegrityRefused(t *testing.T) {
	for _, c := range []struct {
		name  string
		p     model.IntegrityParams
		field string
	}{
		{"no meta_dev", model.IntegrityParams{Origin: "lv_iorig", DataSectors: 64}, "meta_dev"},
		{"no origin LV", model.IntegrityParams{Origin: "nothing", MetaDev: "lv_imeta"}, "origin"},
		{"origin is meta", model.IntegrityParams{Origin: "lv_imeta", MetaDev: "lv_imeta"}, "origin"},
		{"data_sectors short", model.IntegrityParams{Origin: "lv_iorig", MetaDev: "lv_imeta", DataSectors: 63}, "data_sectors"},
		{"origin short", model.IntegrityParams{Origin: "lv_imeta", MetaDev: "lv_iorig"}, "origin"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, _ := testVG(c.p)
			_, err := r.Open("lv")
			var e *Error
			if !errors.As(err, &e) || e.Field != c.field || !errors.Is(err, ErrLayout) {
				t.Errorf("%v, want an *Error on %s", err, c.field)
			}
		})
	}
}
