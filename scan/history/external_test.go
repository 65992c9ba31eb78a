package history_test

import (
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/history"
)

// TestDFVFSGenerations checks the generations of the two dfVFS images
// (LVM 2.02.116 and 2.03.06) against their README: 3 and 2 generations
// with the LVs and descriptions it lists.
func TestDFVFSGenerations(t *testing.T) {
	if _, err := exec.LookPath("qemu-img"); err != nil {
		t.Skip("qemu-img not installed")
	}
	dir := filepath.Join(fixture.TestdataDir(), "external", "dfvfs")
	for _, tc := range []struct {
		file, vg string
		lvs      [][]string // per generation, oldest first
		desc     map[uint64]string
	}{
		{"lvmtest.qcow2", "vg_test", [][]string{nil, {"lv_test1"}, {"lv_test1", "lv_test2"}}, nil},
		{"lvm.qcow2", "test_volume_group", [][]string{nil, {"test_logical_volume"}}, map[uint64]string{
			1: "Write from vgcreate -q test_volume_group /dev/loop0.",
			2: "Write from lvcreate -q --name test_logical_volume --size 4m --type linear test_volume_group."}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			raw := filepath.Join(t.TempDir(), "image.raw")
			if b, err := exec.Command("qemu-img", "convert", "-O", "raw", filepath.Join(dir, tc.file), raw).CombinedOutput(); err != nil {
				t.Fatalf("qemu-img: %v\n%s", err, b)
			}
			in, err := scan.Open(scan.ReadOnlyOSFs(), raw)
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			res := scan.Scan([]*scan.Input{in}, scan.Options{})
			h := history.Scan(res, history.Options{})
			gens := h.VG(tc.vg)
			if len(gens) != len(tc.lvs) {
				t.Fatalf("%d generations, want %d", len(gens), len(tc.lvs))
			}
			for i, g := range gens {
				if g.Seqno != uint64(i+1) || g.VG == nil || g.ParseErr != nil || !g.CRCOK() {
					t.Errorf("generation %d: seqno %d parsed %v crc %v", i, g.Seqno, g.ParseErr == nil, g.CRCOK())
				}
				if !slices.Equal(g.LVs, tc.lvs[i]) {
					t.Errorf("seqno %d: LVs %v, want %v", g.Seqno, g.LVs, tc.lvs[i])
				}
				if d, ok := tc.desc[g.Seqno]; ok && g.Description != d {
					t.Errorf("seqno %d: description %q, want %q", g.Seqno, g.Description, d)
				}
				if g.Current != (i == len(gens)-1) || g.Committed != g.Current {
					t.Errorf("seqno %d: current %v committed %v", g.Seqno, g.Current, g.Committed)
				}
			}
			if len(h.Fragments()) != 0 {
				for _, c := range h.Fragments() {
					t.Errorf("fragment at %d: %+v", c.Offset, c.Fragment)
				}
			}
			// The oldest generation opens, with no LV.
			vg, err := h.Open(res, tc.vg, 1)
			if err != nil || len(vg.Meta.LVs) != 0 || vg.Fallback == "" {
				t.Errorf("open seqno 1: %v %+v", err, vg)
			}
		})
	}
}
