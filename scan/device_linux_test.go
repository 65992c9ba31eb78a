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

// TestBlockDevice scans the banana PV through a read-only loop device:
// the size comes from the kernel (a device's stat size is 0).
func TestBlockDevice(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for losetup")
	}
	if _, err := exec.LookPath("losetup"); err != nil {
		t.Skip("losetup not installed")
	}
	img := filepath.Join(t.TempDir(), "pv0.img")
	b := fixture.Load(t, "banana").Image(t, "pv0")
	if err := os.WriteFile(img, b, 0o444); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("losetup", "-f", "--show", "-r", img).Output()
	if err != nil {
		t.Skipf("no loop device: %v", err)
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() { exec.Command("losetup", "-d", dev).Run() })
	in, err := scan.Open(scan.ReadOnlyOSFs(), dev)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if !in.IsDevice || in.Size != int64(len(b)) {
		t.Fatalf("device %s: is_device %v size %d, want %d", dev, in.IsDevice, in.Size, len(b))
	}
	res := scan.Scan([]*scan.Input{in}, scan.Options{})
	if vg := findVG(res, "banana"); vg == nil || len(vg.Meta.LVs) != 3 {
		t.Fatalf("VG banana not found on %s", dev)
	}
}
