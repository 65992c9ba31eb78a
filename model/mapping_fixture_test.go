package model_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan"
)

type stamp struct {
	VG          string `json:"vg"`
	LV          string `json:"lv"`
	LVUUID      string `json:"lv_uuid"`
	Gen         int    `json:"gen"`
	OffsetBytes int64  `json:"offset_bytes"`
	LengthBytes int64  `json:"length_bytes"`
}

// TestMappingAgainstStampedSectors maps stamped LV sectors of every
// fixture onto the PV images and checks that each sector names its LV and
// its sector number, as the fixture generator wrote it through the kernel.
func TestMappingAgainstStampedSectors(t *testing.T) {
	for _, name := range fixture.Names() {
		if name == "corrupt" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			f := fixture.Load(t, name)
			var raw struct {
				LVs []struct {
					Stamps []stamp `json:"stamps"`
				} `json:"lvs"`
			}
			if err := json.Unmarshal(f.ReadFile(t, "manifest.json"), &raw); err != nil {
				t.Fatal(err)
			}
			images := map[string][]byte{}
			var ins []*scan.Input
			for _, im := range f.ImageNames(false) {
				images[im] = f.Image(t, im)
				ins = append(ins, scan.NewInput(im, bytes.NewReader(images[im]), int64(len(images[im]))))
			}
			res := scan.Scan(ins, scan.Options{})
			checked := 0
			for _, l := range raw.LVs {
				// Later generations overwrite earlier stamps: expect the last.
				want := map[int64]stamp{}
				for _, s := range l.Stamps {
					for sec := s.OffsetBytes / 512; sec < (s.OffsetBytes+s.LengthBytes)/512; sec++ {
						want[sec] = s
					}
				}
				for sec, s := range want {
					if !sampled(sec, s) {
						continue
					}
					vg, lv := lvByUUID(res, s.LVUUID)
					if lv == nil {
						t.Fatalf("LV %s (%s) not found", s.LV, s.LVUUID)
					}
					if isCowStore(vg, lv) {
						break // stamped through the snapshot device, not the COW LV
					}
					pieces, err := vg.MapRange(lv, sec*512, 512)
					var ue *model.UnsupportedError
					if errors.As(err, &ue) {
						break // not a linear/striped LV
					}
					if err != nil {
						t.Fatalf("LV %s sector %d: %v", lv.Name, sec, err)
					}
					if len(pieces) != 1 || pieces[0].Length != 512 {
						t.Fatalf("LV %s sector %d: pieces %+v", lv.Name, sec, pieces)
					}
					pv := findPV(res, pieces[0].PVUUID)
					img := images[pv.Path]
					at := pv.Offset + pieces[0].PVOffset
					line := fmt.Sprintf("LVMI vg=%s lv=%s gen=%d sector=%d\n", s.VG, s.LV, s.Gen, sec)
					if got := img[at : at+int64(len(line))]; string(got) != line {
						t.Errorf("LV %s sector %d → %s byte %d holds %q, want %q", lv.Name, sec, pv.Path, at, got, line)
					}
					checked++
				}
			}
			t.Logf("%d stamped sectors checked", checked)
		})
	}
}

// sampled picks the first and last sectors of every stamp, every sector
// near an extent boundary of 64 KiB extents or more, and every 97th.
func sampled(sec int64, s stamp) bool {
	first, last := s.OffsetBytes/512, (s.OffsetBytes+s.LengthBytes)/512-1
	return sec == first || sec == last || sec%128 == 0 || sec%128 == 127 || sec%97 == 0
}

func lvByUUID(res *scan.Result, uuid string) (*model.VG, *model.LV) {
	for _, vg := range res.VGs {
		if lv := vg.Meta.LVByUUID(uuid); lv != nil {
			return vg.Meta, lv
		}
	}
	return nil, nil
}

func findPV(res *scan.Result, uuid string) *scan.PV {
	for _, pv := range res.PVs {
		if pv.UUID() == uuid {
			return pv
		}
	}
	return nil
}

func isCowStore(vg *model.VG, lv *model.LV) bool {
	for _, o := range vg.LVs {
		for _, s := range o.Segments {
			if s.Snapshot != nil && s.Snapshot.CowStore == lv.Name {
				return true
			}
		}
	}
	return false
}
