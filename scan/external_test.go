package scan_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/scan"
)

// convertExternal turns an external image into a raw file in a temporary
// directory with the given command, or skips the test when the tool is
// not installed.
func convertExternal(t *testing.T, tool string, args func(in, out string) []string, in string) string {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		t.Skipf("%s not installed", tool)
	}
	out := filepath.Join(t.TempDir(), strings.TrimSuffix(filepath.Base(in), filepath.Ext(in))+".raw")
	cmd := exec.Command(tool, args(in, out)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", tool, err, b)
	}
	return out
}

func scanFile(t *testing.T, path string) *scan.Result {
	t.Helper()
	in, err := scan.Open(scan.ReadOnlyOSFs(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	return scan.Scan([]*scan.Input{in}, scan.Options{})
}

// TestDFVFSImages reads the two LVM images of the dfVFS project (written
// by LVM 2.02.116 and 2.03.06), as their README describes them.
func TestDFVFSImages(t *testing.T) {
	qcow := func(in, out string) []string { return []string{"convert", "-O", "raw", in, out} }
	dir := filepath.Join(fixture.TestdataDir(), "external", "dfvfs")
	for _, tc := range []struct {
		file, pv, vg string
		seqno        uint64
		lvs          map[string]int64
	}{
		{"lvmtest.qcow2", "btEzLa-i0aL-sfS8-Ae9P-QKGU-IhtA-CkpWm7", "vg_test", 3,
			map[string]int64{"lv_test1": 8 << 20, "lv_test2": 4 << 20}},
		{"lvm.qcow2", "K994MB-Sn1r-7rpS-hQEW-DgUP-87Dr-9d0MFa", "test_volume_group", 2,
			map[string]int64{"test_logical_volume": 4 << 20}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			raw := convertExternal(t, "qemu-img", qcow, filepath.Join(dir, tc.file))
			res := scanFile(t, raw)
			if len(res.PVs) != 1 || res.PVs[0].UUID() != tc.pv {
				t.Fatalf("PVs %+v", res.PVs)
			}
			vg := findVG(res, tc.vg)
			if vg == nil || vg.Meta.Seqno != tc.seqno {
				t.Fatalf("VG %s seqno %d not found: %+v", tc.vg, tc.seqno, res.VGs)
			}
			if len(vg.Meta.LVs) != len(tc.lvs) {
				t.Errorf("%d LVs, want %d", len(vg.Meta.LVs), len(tc.lvs))
			}
			for name, size := range tc.lvs {
				lv := vg.Meta.LV(name)
				if lv == nil || vg.Meta.LVSize(lv) != size {
					t.Errorf("LV %s: %+v, want %d bytes", name, lv, size)
				}
			}
			if probs := res.AllProblems(); len(probs) != 0 {
				t.Errorf("problems on a clean image:\n%s", problemList(probs))
			}
		})
	}
}

// TestBlkidTruncatedOrphanPV reads util-linux's blkid sample: a PV with no
// VG, cut off after 1.9 MB of its 10 MiB.
func TestBlkidTruncatedOrphanPV(t *testing.T) {
	in := filepath.Join(fixture.TestdataDir(), "external", "util-linux-blkid", "lvm2.img.xz")
	if _, err := exec.LookPath("xz"); err != nil {
		t.Skip("xz not installed")
	}
	raw := filepath.Join(t.TempDir(), "lvm2.img")
	b, err := exec.Command("xz", "-dc", in).Output()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(raw, b, 0o600); err != nil {
		t.Fatal(err)
	}
	res := scanFile(t, raw)
	if len(res.PVs) != 1 || res.PVs[0].UUID() != "Vynv4k-APH8-xQER-HSBb-8VJ3-SvFF-PB5O1U" || len(res.VGs) != 0 {
		t.Fatalf("PVs %d VGs %d", len(res.PVs), len(res.VGs))
	}
	pv := res.PVs[0]
	if !pv.Label.CRC.OK || len(pv.MDAs) != 1 || !pv.MDAs[0].Header.Checksum.OK || pv.MDAs[0].Committed != nil {
		t.Fatalf("unexpected PV %+v", pv)
	}
	found := false
	for _, p := range res.AllProblems() {
		found = found || p.Field == "device_size"
	}
	if !found {
		t.Errorf("truncation not reported")
	}
}
