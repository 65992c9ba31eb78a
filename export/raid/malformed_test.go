package raid_test

import (
	"testing"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/export/raid"
	"github.com/lvminspect/lvminspect/export/volume"
	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/model"
)

// Malformed segment parameters give errors or a readable Source, never a
// panic; some are recovered from the superblocks.
func TestMalformedSegments(t *testing.T) {
	f := fixture.Load(t, "raid")
	u := func(v uint64) *uint64 { return &v }
	cases := []struct {
		name, lv string
		edit     func(s *model.Segment)
		exact    bool // still reads as the oracle
		fails    bool // open must fail
	}{
		{"stripe_size 0 (taken from the superblock)", "r5", func(s *model.Segment) { s.StripeSize = 0 }, true, false},
		{"stripe_size huge (superblock wins)", "r5", func(s *model.Segment) { s.StripeSize = 1 << 60 }, true, false},
		{"raid0 stripe_size huge", "r0", func(s *model.Segment) { s.StripeSize = 1 << 60 }, false, true},
		{"device_count mismatch", "r5", func(s *model.Segment) { s.RAID.DeviceCount = 5 }, false, true},
		{"fewer images", "r5", func(s *model.Segment) {
			s.Areas, s.MetaAreas, s.RAID.DeviceCount = s.Areas[:3], s.MetaAreas[:3], 3
		}, false, true}, // the images are too small for the segment
		{"fewer images, smaller segment", "r5", func(s *model.Segment) {
			s.Areas, s.MetaAreas, s.RAID.DeviceCount, s.ExtentCount = s.Areas[:3], s.MetaAreas[:3], 3, 16
		}, false, true}, // the superblocks say 4 images
		{"stripe_size differs (superblock wins)", "r5", func(s *model.Segment) { s.StripeSize = 128 }, true, false},
		{"meta list short", "r5", func(s *model.Segment) { s.MetaAreas = s.MetaAreas[:2] }, false, true},
		{"data_offset huge (superblock wins)", "r5", func(s *model.Segment) { s.RAID.DataOffset = u(1 << 62) }, true, false},
		{"reshape_count huge", "r5", func(s *model.Segment) { s.RAID.ReshapeCount = 1 << 40 }, false, true},
		{"unknown level", "r5", func(s *model.Segment) { s.RAID.Level = "raid7" }, false, true},
		{"unknown layout", "r5", func(s *model.Segment) { s.RAID.Layout = "xx" }, false, true},
		{"extent_count huge", "r5", func(s *model.Segment) { s.ExtentCount = 1 << 62 }, false, true},
		{"raid10 copies 9", "r10", func(s *model.Segment) { s.RAID.DataCopies = 9 }, false, true},
		{"raid0 no stripe size", "r0", func(s *model.Segment) { s.StripeSize = 0 }, false, true},
		{"raid0 image beyond", "r0", func(s *model.Segment) { s.Areas[1].Start = 1 << 50 }, false, true},
		{"no images", "r1", func(s *model.Segment) { s.Areas, s.MetaAreas, s.RAID.DeviceCount = nil, nil, 0 }, false, true},
		{"raid params nil", "r1", func(s *model.Segment) { s.RAID = nil }, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vg := scanVG(t, f, "raid") // a fresh copy to edit
			lv := vg.Meta.LV(c.lv)
			c.edit(lv.Segments[0])
			a, err := raid.OpenSegment(volume.FromScan(vg), lv, 0)
			if c.fails {
				if err == nil {
					t.Fatal("opened")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := readAnything(t, a)
			if want := manifestLV(t, f, c.lv).ExpectedSHA256(); c.exact && got != want {
				t.Errorf("sha256 %s, want %s", got, want)
			}
		})
	}
}

// readAnything hashes whatever the Source gives, failing only on
// inconsistent runs.
func readAnything(t *testing.T, src export.Source) string {
	t.Helper()
	h, _ := hashSource(t, src)
	return h
}
