package raid_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/export/raid"
	"github.com/lvminspect/lvminspect/export/volume"
	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan"
)

// edit is a change to the bytes of one sub-LV of the raid fixture.
type edit struct {
	lv  string
	off int64 // byte in the sub-LV
	fn  func(b []byte)
}

// editedVG applies edits to copies of the raid fixture's images.
func editedVG(t *testing.T, f *fixture.Fixture, edits ...edit) *scan.VG {
	t.Helper()
	return editedVGWithout(t, f, nil, edits...)
}

// editedVGWithout is editedVG leaving out the images in leave.
func editedVGWithout(t *testing.T, f *fixture.Fixture, leave []string, edits ...edit) *scan.VG {
	t.Helper()
	skip := map[string]bool{}
	for _, l := range leave {
		skip[l] = true
	}
	ref := scanVG(t, f, "raid")
	type at struct {
		e   edit
		off int64
	}
	byImage := map[string][]at{}
	for _, e := range edits {
		img, off := pvByteOf(t, ref, e.lv, e.off)
		byImage[img] = append(byImage[img], at{e, off})
	}
	var ins []*scan.Input
	for _, name := range f.ImageNames(false) {
		if skip[name] {
			continue
		}
		b := f.Image(t, name)
		if list := byImage[name]; len(list) > 0 {
			b = append([]byte(nil), b...)
			for _, a := range list {
				a.e.fn(b[a.off:])
			}
		}
		ins = append(ins, scan.NewInput(name, bytes.NewReader(b), int64(len(b))))
	}
	for _, v := range scan.Scan(ins, scan.Options{}).VGs {
		if v.Meta.Name == "raid" {
			return v
		}
	}
	t.Fatal("VG raid not found")
	return nil
}

// garble overwrites 64 KiB of an image's data from byte off.
func garble(lv string, off int64) edit {
	return edit{lv: lv, off: off, fn: func(b []byte) {
		for i := range 64 << 10 {
			b[i] ^= 0xA5
		}
	}}
}

func sbField(lv string, off int, fn func(b []byte)) edit {
	return edit{lv: lv, off: int64(off), fn: fn}
}

func setU64(v uint64) func([]byte) { return func(b []byte) { binary.LittleEndian.PutUint64(b, v) } }

func hasNote(a raid.Array, s string) bool {
	for _, n := range a.Notes() {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// Images the superblocks say are unusable are not read: their data is
// garbled, yet the LV still reads exactly (rebuilt from parity).
func TestFixtureSuperblockStates(t *testing.T) {
	f := fixture.Load(t, "raid")
	var allFailed []edit
	for i := range 4 {
		allFailed = append(allFailed, sbField(fmt.Sprintf("r5_rmeta_%d", i), 24, setU64(1<<1)))
	}
	var allBlank []edit
	for i := range 4 {
		allBlank = append(allBlank, sbField(fmt.Sprintf("r5_rmeta_%d", i), 0, func(b []byte) { clear(b[:4096]) }))
	}
	cases := []struct {
		name  string
		edits []edit
		note  string
	}{
		{"failed", append(allFailed, garble("r5_rimage_1", 0)), "failed"},
		{"stale", []edit{sbField("r5_rmeta_3", 16, setU64(19)), garble("r5_rimage_3", 128<<10)}, "stale"},
		{"recovering", []edit{sbField("r5_rmeta_2", 32, setU64(256)), garble("r5_rimage_2", 256*512)}, "being rebuilt"},
		{"no superblocks", allBlank, "no image has a readable"},
		{"unreadable rmeta", []edit{sbField("r5_rmeta_0", 0, func(b []byte) { b[0] = 'X' }), garble("r5_rimage_0", 0)}, "unreadable"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vg := editedVG(t, f, c.edits...)
			checkLVs(t, f, vg, "r5")
			a, err := raid.OpenSegment(volume.FromScan(vg), vg.Meta.LV("r5"), 0)
			if err != nil {
				t.Fatal(err)
			}
			if !hasNote(a, c.note) {
				t.Errorf("notes %q lack %q", a.Notes(), c.note)
			}
		})
	}
	// Without the superblock saying so, the garbled image is read: the
	// check above is not vacuous.
	vg := editedVG(t, f, garble("r5_rimage_1", 0))
	src, err := volume.FromScan(vg).Open("r5")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := hashSource(t, src); got == manifestLV(t, f, "r5").ExpectedSHA256() {
		t.Error("garbled image did not change the content")
	}
}

func TestFixtureReshapeRefused(t *testing.T) {
	f := fixture.Load(t, "raid")
	var edits []edit
	for i := range 4 {
		edits = append(edits, sbField(fmt.Sprintf("r5_rmeta_%d", i), 60, func(b []byte) { b[0] |= 1 }))
	}
	vg := editedVG(t, f, edits...)
	_, err := volume.FromScan(vg).Open("r5")
	var ue *model.UnsupportedError
	if !errors.As(err, &ue) || !strings.Contains(ue.Reason, "reshape") {
		t.Fatalf("open during reshape: %v", err)
	}
}

// An incomplete initial sync: rebuilding beyond the sync point is refused.
func TestFixtureResyncIncomplete(t *testing.T) {
	f := fixture.Load(t, "raid")
	var edits []edit
	for i := range 4 {
		edits = append(edits, sbField(fmt.Sprintf("r5_rmeta_%d", i), 40, setU64(2048)))
	}
	checkLVs(t, f, editedVG(t, f, edits...), "r5") // all present: nothing to rebuild
	vg2 := editedVGWithout(t, f, imagesOf(t, f, "r5_rimage_1"), edits...)
	src, err := volume.FromScan(vg2).Open("r5")
	if err != nil {
		t.Fatal(err)
	}
	_, miss := hashSource(t, src)
	if len(miss) == 0 {
		t.Fatal("no missing runs beyond the sync point")
	}
	for _, m := range miss {
		// Image rows from sector 2048 on: LV bytes from stripe 2048*512/16K.
		if m.Off < 2048*512/(16<<10)*3*(16<<10) || !strings.Contains(m.Reason, "initial sync") {
			t.Errorf("missing run %+v", m)
		}
	}
}

// raid1 whose initial sync stopped at 1 MiB, leg 0 gone: leg 1 is used
// only below the sync point.
func TestFixtureRaid1ResyncIncomplete(t *testing.T) {
	f := fixture.Load(t, "raid")
	full, err := volume.FromScan(scanVG(t, f, "raid")).Open("r1")
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 1<<20)
	if _, err := full.ReadAt(want, 0); err != nil {
		t.Fatal(err)
	}
	vg := editedVGWithout(t, f, imagesOf(t, f, "r1_rimage_0"), sbField("r1_rmeta_1", 40, setU64(2048)))
	src, err := volume.FromScan(vg).Open("r1")
	if err != nil {
		t.Fatal(err)
	}
	runs, err := src.Runs(0, src.Size())
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].Kind == export.RunMissing || runs[0].End() != 1<<20 ||
		runs[1].Kind != export.RunMissing || !strings.Contains(runs[1].Reason, "stale") {
		t.Fatalf("runs %+v", runs)
	}
	got := make([]byte, 1<<20)
	if _, err := src.ReadAt(got, 0); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("first MiB from leg 1: %v", err)
	}
}
