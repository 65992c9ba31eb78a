package lvfacts

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/export/volume"
	"github.com/lvminspect/lvminspect/model"
)

// FuzzFacts builds VGs whose LVs refer to each other at random (loops,
// names of LVs that do not exist, every segment type, PVs present or not)
// over PVs holding random bytes, and checks that the facts never panic or
// hang and keep their shape.
func FuzzFacts(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	f.Add(bytes.Repeat([]byte{3, 0, 1}, 20))
	f.Add(bytes.Repeat([]byte{7, 1, 0, 2}, 16))
	f.Fuzz(func(t *testing.T, b []byte) {
		at := 0
		next := func() int {
			if at >= len(b) {
				return 0
			}
			at++
			return int(b[at-1])
		}
		const n = 6
		name := func() string { return fmt.Sprintf("lv%d", next()%(n+1)) } // lv6 does not exist
		one := int64(next() % 2)
		vg := &model.VG{Name: "vg", ExtentSize: uint64(1 + next()%16), Status: []string{"READ", "WRITE"},
			PVs: []*model.PV{{Label: "pv0", UUID: "u0", PECount: 64, Status: []string{"ALLOCATABLE"}}, {Label: "pv1", UUID: "u1", PECount: 64}}}
		types := []string{"striped", "thin-pool", "thin", "cache-pool", "cache", "writecache", "raid1", "mirror", "snapshot", "vdo-pool", "vdo", "integrity", "zero", "error", "frob"}
		for i := 0; i < n; i++ {
			lv := &model.LV{Name: fmt.Sprintf("lv%d", i), Status: []string{"READ", "WRITE"}}
			if i == n-1 && next()%4 == 0 {
				lv.Name = name() // two LVs of one name
			}
			if next()%2 == 0 {
				lv.Status = append(lv.Status, "VISIBLE")
			}
			for k := next() % 3; k > 0; k-- {
				typ := types[next()%len(types)]
				s := &model.Segment{StartExtent: uint64(len(lv.Segments)) * 4, ExtentCount: uint64(next() % 9), Type: typ, BaseType: typ, StripeCount: uint64(next() % 3)}
				switch typ {
				case "striped":
					for j := uint64(0); j < max(1, s.StripeCount); j++ {
						if next()%2 == 0 {
							s.Areas = append(s.Areas, model.Area{PV: fmt.Sprintf("pv%d", next()%3), Start: uint64(next())})
						} else {
							s.Areas = append(s.Areas, model.Area{LV: name()})
						}
					}
				case "thin-pool":
					s.ThinPool = &model.ThinPoolParams{Pool: name(), Metadata: name(), ChunkSize: uint64(next()), ZeroNewBlocks: &one}
				case "thin":
					s.Thin = &model.ThinParams{ThinPool: name(), DeviceID: uint64(next() % 4), Origin: name()}
					if next()%4 == 0 {
						s.Thin.Origin, s.Thin.ExternalOrigin = "", name()
					}
				case "cache-pool":
					s.CachePool = &model.CachePoolParams{Data: name(), Metadata: name(), ChunkSize: uint64(next())}
				case "cache":
					s.Cache = &model.CacheParams{CachePool: name(), Origin: name()}
				case "writecache":
					s.Writecache = &model.WritecacheParams{Writecache: name(), Origin: name(), BlockSize: 4096}
				case "raid1", "mirror":
					s.Areas = []model.Area{{LV: name()}, {LV: name()}}
					s.MetaAreas = []model.Area{{LV: name()}}
					if typ == "mirror" {
						s.Mirror = &model.MirrorParams{MirrorLog: name()}
					}
				case "snapshot":
					s.Snapshot = &model.SnapshotParams{Origin: name(), CowStore: name(), ChunkSize: uint64(next() % 64)}
					switch next() % 4 {
					case 1:
						s.Snapshot.MergingStore = s.Snapshot.CowStore
					case 2:
						s.Snapshot.CowStore, s.Snapshot.MergingStore = "", name()
					}
				case "vdo-pool":
					s.VDOPool = &model.VDOPoolParams{Data: name()}
				case "vdo":
					s.VDO = &model.VDOParams{VDOPool: name()}
				case "integrity":
					s.Integrity = &model.IntegrityParams{Origin: name(), MetaDev: name()}
				}
				lv.Segments = append(lv.Segments, s)
			}
			vg.LVs = append(vg.LVs, lv)
		}
		img := bytes.Repeat(b, 1+65536/(len(b)+1))
		pvs := map[string]export.PVReader{"u0": {R: bytes.NewReader(img), Size: int64(len(img)), Name: "pv0"}}
		r := volume.New(vg, pvs)
		checkIndex(t, r)
		for _, lv := range vg.LVs {
			for _, fc := range []*Facts{Cheap(r, lv), Of(r, lv)} {
				if len(fc.Attr) != 10 {
					t.Fatalf("%s: attr %q", lv.Name, fc.Attr)
				}
				for _, p := range []*float64{fc.DataPercent, fc.MetaPercent} {
					if p != nil && (*p < 0 || *p > 100) && fc.Thin == nil {
						t.Fatalf("%s: percent %v", lv.Name, *p)
					}
				}
			}
			_ = LVAttr(vg, lv, Partial(vg, lv, nil))
		}
		if a := VGAttr(vg); len(a) != 6 {
			t.Fatalf("vg attr %q", a)
		}
	})
}
