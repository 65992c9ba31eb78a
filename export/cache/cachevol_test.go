package cache

import (
	"bytes"
	"errors"
	"testing"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/export/volume"
	"github.com/lvminspect/lvminspect/model"
)

// cachevolVG builds a VG with 4 KiB extents: origin lv_corig (16
// extents, block b filled with 'A'+b), a cachevol cv_cvol holding dm-cache
// metadata (5 blocks, format 1) then 4 data blocks filled with 'a'+c, and
// lv, cached by cv_cvol in the given mode. Cache blocks 0, 2, 3 cache
// origin blocks 3, 0, 15; block 2 is dirty.
func cachevolVG(t *testing.T, mode string, edit func(meta []byte)) *volume.Resolver {
	t.Helper()
	const bs = 4096
	img := make([]byte, 32*bs)
	for b := 0; b < 16; b++ {
		copy(img[b*bs:(b+1)*bs], bytes.Repeat([]byte{byte('A' + b)}, bs))
	}
	meta := buildMeta(1, 8, []int64{3, -1, 0, 15}, []int{2})
	if edit != nil {
		edit(meta)
	}
	copy(img[16*bs:], meta)
	for c := 0; c < 4; c++ {
		copy(img[(21+c)*bs:], bytes.Repeat([]byte{byte('a' + c)}, bs))
	}
	linear := func(name string, pe, n uint64) *model.LV {
		return &model.LV{Name: name, Segments: []*model.Segment{{ExtentCount: n, Type: "striped", BaseType: "striped",
			StripeCount: 1, Areas: []model.Area{{PV: "pv0", Start: pe}}}}}
	}
	cvol := linear("cv_cvol", 16, 9)
	cvol.Flags = []string{"CACHE_VOL"}
	lv := &model.LV{Name: "lv", Segments: []*model.Segment{{ExtentCount: 16, Type: "cache+CACHE_USES_CACHEVOL", BaseType: "cache",
		Cache: &model.CacheParams{CachePool: "cv_cvol", Origin: "lv_corig", ChunkSize: 8, CacheMode: mode, MetadataFormat: 1,
			MetadataStart: 0, MetadataLen: 40, DataStart: 40, DataLen: 32}}}}
	vg := &model.VG{Name: "vg", ExtentSize: 8,
		PVs: []*model.PV{{Label: "pv0", UUID: "u0", PECount: 32}},
		LVs: []*model.LV{linear("lv_corig", 0, 16), cvol, lv}}
	return volume.New(vg, map[string]export.PVReader{"u0": {R: bytes.NewReader(img), Size: int64(len(img)), Name: "img"}})
}

func TestCachevol(t *testing.T) {
	for _, mode := range []string{ModeWriteback, ModeWritethrough, ModePassthrough} {
		t.Run(mode, func(t *testing.T) {
			r := cachevolVG(t, mode, nil)
			src, err := r.Open("lv")
			if mode == ModePassthrough {
				// A dirty block in passthrough mode: refused.
				if !errors.Is(err, ErrUntrusted) {
					t.Fatalf("%v, want ErrUntrusted", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := map[int]byte{3: 'a', 0: 'c', 15: 'd'}
			b := make([]byte, 4096)
			for blk := 0; blk < 16; blk++ {
				if _, err := src.ReadAt(b, int64(blk)*4096); err != nil {
					t.Fatal(err)
				}
				w, ok := want[blk]
				if !ok {
					w = byte('A' + blk)
				}
				if !bytes.Equal(b, bytes.Repeat([]byte{w}, 4096)) {
					t.Errorf("block %d reads %q..., want %q", blk, b[:4], w)
				}
			}
			c, err := OpenCache(r, r.VG.LV("lv"), 0)
			if err != nil {
				t.Fatal(err)
			}
			if !c.CacheVol || c.Metadata.Dirty != 1 || c.Applied != 3 {
				t.Errorf("cache %+v", c)
			}
		})
	}
}

func TestCachevolBadLayout(t *testing.T) {
	r := cachevolVG(t, ModeWriteback, nil)
	r.VG.LV("lv").Segments[0].Cache.DataLen = 1 << 20
	_, err := r.Open("lv")
	var le *LVError
	if !errors.As(err, &le) || le.Field != "data_len" {
		t.Errorf("%v, want an *LVError on data_len", err)
	}
	r = cachevolVG(t, ModeWriteback, nil)
	r.VG.LV("lv").Segments[0].Cache.MetadataLen = 0
	if _, err := r.Open("lv"); !errors.As(err, &le) || le.Field != "metadata_len" {
		t.Errorf("%v, want an *LVError on metadata_len", err)
	}
	r = cachevolVG(t, "writearound", nil)
	if _, err := r.Open("lv"); !errors.Is(err, ErrUnsupported) {
		t.Errorf("%v, want ErrUnsupported for an unknown cache mode", err)
	}
}
