package scan_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/scan"
)

// TestCorruptVariants checks that each damaged banana image reports the
// damage precisely and still yields the VG the manifest expects.
func TestCorruptVariants(t *testing.T) {
	f := fixture.Load(t, "corrupt")
	wantProblem := map[string]func(p scan.Problem) bool{
		"bad-label-crc.img.gz": func(p scan.Problem) bool {
			return p.Structure == "label_header" && p.Field == "crc_xl" && p.Off == 528 && p.Stored != p.Computed
		},
		"bad-mda-crc.img.gz": func(p scan.Problem) bool {
			return p.Structure == "mda_header" && p.Field == "checksum" && p.Off == 4096 && p.Stored != p.Computed
		},
		"truncated.img.gz": func(p scan.Problem) bool {
			return p.Structure == "pv_header" && p.Field == "device_size" && p.Stored == "14680064" && p.Computed == "11010048"
		},
		"garbage-metadata.img.gz": func(p scan.Problem) bool {
			return p.Structure == "metadata text" && p.Off == 12800 && p.Stored == "0x88e35856" && p.Stored != p.Computed
		},
	}
	for _, v := range f.Manifest.Variants {
		t.Run(v.File, func(t *testing.T) {
			b := f.Image(t, v.File)
			if int64(len(b)) != v.SizeBytes {
				t.Fatalf("image is %d bytes, manifest says %d", len(b), v.SizeBytes)
			}
			res := scan.Scan([]*scan.Input{scan.NewInput(v.File, bytes.NewReader(b), int64(len(b)))}, scan.Options{})
			probs := res.AllProblems()
			match := wantProblem[v.File]
			if match == nil {
				t.Fatalf("no expectation for variant %s", v.File)
			}
			found := false
			for _, p := range probs {
				if match(p) {
					found = true
				}
			}
			if !found {
				t.Errorf("expected problem not reported; got:\n%s", problemList(probs))
			}
			vg := findVG(res, "banana")
			if vg == nil {
				t.Fatalf("VG banana not recovered; problems:\n%s", problemList(probs))
			}
			if vg.Meta.Seqno != v.Expect.UsableVGSeqno {
				t.Errorf("seqno %d, want %d", vg.Meta.Seqno, v.Expect.UsableVGSeqno)
			}
			if !v.Expect.CurrentMetadataValid && vg.Fallback == "" {
				t.Errorf("current metadata is invalid but the VG does not say it fell back")
			}
			for _, want := range v.Expect.LVs {
				lv := vg.Meta.LV(want.Name)
				if lv == nil {
					t.Errorf("LV %s missing", want.Name)
					continue
				}
				if want.UUID != "" && (lv.UUID != want.UUID || vg.Meta.LVSize(lv) != want.SizeBytes) {
					t.Errorf("LV %s: uuid %s size %d, want %s %d", want.Name, lv.UUID, vg.Meta.LVSize(lv), want.UUID, want.SizeBytes)
				}
			}
			if v.File == "truncated.img.gz" {
				found := false
				for _, p := range probs {
					if strings.Contains(p.Msg, "beyond the end of the input") {
						found = true
					}
				}
				if !found {
					t.Errorf("truncation of the extents not reported:\n%s", problemList(probs))
				}
			}
		})
	}
}

func problemList(ps []scan.Problem) string {
	var sb strings.Builder
	for _, p := range ps {
		sb.WriteString("  " + p.String() + "\n")
	}
	return sb.String()
}

// TestWithheldImagesAreMissing scans degraded fixtures without their
// withheld images: the PVs must show as missing, with their device hint.
func TestWithheldImagesAreMissing(t *testing.T) {
	n := 0
	for _, name := range fixture.Names() {
		f := fixture.Load(t, name)
		if len(f.Manifest.Withhold) == 0 {
			continue
		}
		n++
		res := scanFixture(t, f, true)
		for _, mp := range f.Manifest.PVs {
			withheld := false
			for _, w := range f.Manifest.Withhold {
				withheld = withheld || w == mp.Image
			}
			vg := findVG(res, mp.VG)
			if vg == nil {
				t.Fatalf("%s: VG %s not found", name, mp.VG)
			}
			var got *scan.VGPV
			for _, p := range vg.PVs {
				if p.Meta.UUID == mp.PVUUID {
					got = p
				}
			}
			if got == nil {
				t.Fatalf("%s: PV %s not in VG metadata", name, mp.PVUUID)
			}
			if got.Missing != withheld {
				t.Errorf("%s: PV %s missing=%v, withheld=%v", name, mp.PVUUID, got.Missing, withheld)
			}
			if withheld {
				found := false
				for _, p := range vg.Problems {
					found = found || (strings.Contains(p.Msg, mp.PVUUID) && strings.Contains(p.Msg, mp.GuestDevice) && strings.Contains(p.Msg, "missing"))
				}
				if !found {
					t.Errorf("%s: no problem names missing PV %s with its device hint %s", name, mp.PVUUID, mp.GuestDevice)
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no fixture withholds an image")
	}
}
