package raid_test

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/export/raid"
	"github.com/lvminspect/lvminspect/export/volume"
	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/scan"
)

// dmRaidTables reads the raid lines of dmsetup-table.txt: LV name ->
// fields after "raid" (type, param count, chunk, ...).
func dmRaidTables(t *testing.T, f *fixture.Fixture, vg string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, line := range strings.Split(string(f.ReadFile(t, "dmsetup-table.txt")), "\n") {
		fs := strings.Fields(line)
		if len(fs) > 4 && fs[3] == "raid" && strings.HasPrefix(fs[0], vg+"-") {
			out[strings.TrimSuffix(strings.TrimPrefix(fs[0], vg+"-"), ":")] = fs[4:]
		}
	}
	return out
}

// The superblocks agree with the kernel tables the fixture recorded:
// image count and position, MD level, chunk size; the healthy arrays
// give no notes.
func TestFixtureSuperblocks(t *testing.T) {
	f := fixture.Load(t, "raid")
	vg := scanVG(t, f, "raid")
	r := volume.FromScan(vg)
	tables := dmRaidTables(t, f, "raid")
	if len(tables) == 0 {
		t.Fatal("no raid tables in dmsetup-table.txt")
	}
	mdLevel := map[string]uint32{"raid1": 1, "raid4": 5, "raid5_ls": 5, "raid6_zr": 6, "raid10": 10, "raid0": 0}
	for name, tab := range tables {
		lv := vg.Meta.LV(name)
		if lv == nil {
			t.Fatalf("no LV %s", name)
		}
		a, err := raid.OpenSegment(r, lv, 0)
		if err != nil {
			t.Fatal(err)
		}
		if notes := a.Notes(); len(notes) != 0 {
			t.Errorf("%s: notes on a healthy array: %q", name, notes)
		}
		chunk, _ := strconv.Atoi(tab[2])
		sbs := a.Superblocks()
		if len(sbs) != len(a.Images()) {
			t.Fatalf("%s: %d superblocks for %d images", name, len(sbs), len(a.Images()))
		}
		for i, sb := range sbs {
			if tab[0] == "raid0" {
				if sb != nil {
					t.Errorf("%s: raid0 image %d has a superblock", name, i)
				}
				continue
			}
			if sb == nil {
				t.Errorf("%s: image %d: no superblock", name, i)
				continue
			}
			if int(sb.NumDevices) != len(sbs) || int(sb.ArrayPosition) != i || sb.Level != mdLevel[tab[0]] ||
				int(sb.StripeSectors) != chunk || sb.Recovering() || sb.Resyncing() || sb.ReshapeActive() || sb.FailedDevices != 0 {
				t.Errorf("%s: image %d: superblock %+v does not match table %v", name, i, sb, tab)
			}
		}
	}
}

func TestFixtureMirrorNotes(t *testing.T) {
	f := fixture.Load(t, "mirror")
	vg := scanVG(t, f, "mirror")
	r := volume.FromScan(vg)
	for name, want := range map[string]string{"mcore": "core log", "mdisk": "2 of 2 regions in sync"} {
		a, err := raid.OpenSegment(r, vg.Meta.LV(name), 0)
		if err != nil {
			t.Fatal(err)
		}
		if n := a.Notes(); len(n) != 1 || !strings.Contains(n[0], want) {
			t.Errorf("%s: notes %q, want one containing %q", name, n, want)
		}
	}
}

// mutatedVG scans the fixture with one image replaced by edit(copy).
func mutatedVG(t *testing.T, f *fixture.Fixture, vgName string, image string, leave []string, edit func(vg *scan.VG, b []byte)) *scan.VG {
	t.Helper()
	ref := scanVG(t, f, vgName)
	skip := map[string]bool{}
	for _, l := range leave {
		skip[l] = true
	}
	var ins []*scan.Input
	for _, name := range f.ImageNames(false) {
		if skip[name] {
			continue
		}
		b := f.Image(t, name)
		if name == image {
			b = bytes.Clone(b)
			edit(ref, b)
		}
		ins = append(ins, scan.NewInput(name, bytes.NewReader(b), int64(len(b))))
	}
	for _, v := range scan.Scan(ins, scan.Options{}).VGs {
		if v.Meta.Name == vgName {
			return v
		}
	}
	t.Fatalf("VG %s not found", vgName)
	return nil
}

// pvByteOf maps LV byte off of lv to (image name, image byte).
func pvByteOf(t *testing.T, vg *scan.VG, lv string, off int64) (string, int64) {
	t.Helper()
	pieces, err := vg.Meta.MapRange(vg.Meta.LV(lv), off, 1)
	if err != nil || len(pieces) != 1 {
		t.Fatalf("map %s byte %d: %v %v", lv, off, pieces, err)
	}
	for _, p := range vg.PVs {
		if p.Meta.UUID == pieces[0].PVUUID {
			return p.PV.Path, p.PV.Offset + pieces[0].PVOffset
		}
	}
	t.Fatalf("PV %s not found", pieces[0].PVUUID)
	return "", 0
}

// With leg 0 gone, a disk log region marked out of sync is missing, the
// clean one is read from leg 1.
func TestFixtureMirrorDirtyRegion(t *testing.T) {
	f := fixture.Load(t, "mirror")
	ref := scanVG(t, f, "mirror")
	full, err := volume.FromScan(ref).Open("mdisk")
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, full.Size())
	if _, err := full.ReadAt(want, 0); err != nil {
		t.Fatal(err)
	}
	logImg, logOff := pvByteOf(t, ref, "mdisk_mlog", raid.MirrorLogBitsetOffset)
	leg0 := imagesOf(t, f, "mdisk_mimage_0")
	vg := mutatedVG(t, f, "mirror", logImg, leg0, func(_ *scan.VG, b []byte) {
		if b[logOff] != 3 {
			t.Fatalf("log bitset byte is %#x, want 0x03", b[logOff])
		}
		b[logOff] = 1 // region 1 out of sync
	})
	src, err := volume.FromScan(vg).Open("mdisk")
	if err != nil {
		t.Fatal(err)
	}
	runs, err := src.Runs(0, src.Size())
	if err != nil {
		t.Fatal(err)
	}
	region := int64(4096 * 512)
	if len(runs) != 2 || runs[0].Kind != export.RunData || runs[0].End() != region ||
		runs[1].Kind != export.RunMissing || !strings.Contains(runs[1].Reason, "out of sync") {
		t.Fatalf("runs %+v", runs)
	}
	got := make([]byte, region)
	if _, err := src.ReadAt(got, 0); err != nil || !bytes.Equal(got, want[:region]) {
		t.Fatalf("region 0 from leg 1: %v, equal %v", err, bytes.Equal(got, want[:region]))
	}
}

func TestFixtureVerifyLegs(t *testing.T) {
	for _, c := range []struct{ fixture, vg, lv, leg string }{
		{"mirror", "mirror", "mdisk", "mdisk_mimage_1"},
		{"mirror", "mirror", "mcore", "mcore_mimage_0"},
		{"raid", "raid", "r1", "r1_rimage_1"},
	} {
		t.Run(c.lv, func(t *testing.T) {
			f := fixture.Load(t, c.fixture)
			vg := scanVG(t, f, c.vg)
			rep, err := raid.VerifyLegs(context.Background(), volume.FromScan(vg), vg.Meta.LV(c.lv))
			if err != nil {
				t.Fatal(err)
			}
			size := vg.Meta.LVSize(vg.Meta.LV(c.lv))
			if len(rep.Diffs) != 0 || len(rep.Unchecked) != 0 || rep.Compared != size {
				t.Fatalf("intact legs: %+v", rep)
			}
			// Flip one byte of one leg at LV byte 1 MiB + 700.
			const at = 1<<20 + 700
			img, off := pvByteOf(t, vg, c.leg, at)
			bad := mutatedVG(t, f, c.vg, img, nil, func(_ *scan.VG, b []byte) { b[off] ^= 0x55 })
			rep, err = raid.VerifyLegs(context.Background(), volume.FromScan(bad), bad.Meta.LV(c.lv))
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Diffs) != 1 || rep.Diffs[0].Off != at/512*512 || rep.Diffs[0].Len != 512 {
				t.Fatalf("diffs %+v, want sector %d", rep.Diffs, at/512)
			}
			d := rep.Diffs[0]
			names := fmt.Sprint(d.Reference, d.Differ)
			if !strings.Contains(names, c.leg) {
				t.Errorf("diff %s does not name %s", names, c.leg)
			}
			// Leg 1 gone: nothing can be compared.
			gone := scanVG(t, f, c.vg, imagesOf(t, f, c.leg)...)
			rep, err = raid.VerifyLegs(context.Background(), volume.FromScan(gone), gone.Meta.LV(c.lv))
			if err != nil {
				t.Fatal(err)
			}
			if rep.Compared != 0 || len(rep.Unchecked) != 1 || rep.Unchecked[0].Len != size {
				t.Errorf("one leg gone: %+v", rep)
			}
		})
	}
}
