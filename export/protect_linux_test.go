//go:build linux

package export

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lvminspect/lvminspect/internal/fixture"
)

// attachLoop attaches path read-only to a free loop device (as root, with
// losetup) and detaches it at the end of the test.
func attachLoop(t *testing.T, path string, args ...string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("loop devices need root")
	}
	if _, err := exec.LookPath("losetup"); err != nil {
		t.Skip("no losetup")
	}
	out, err := exec.Command("losetup", append(append([]string{"-r", "-f", "--show"}, args...), path)...).CombinedOutput()
	if err != nil {
		t.Skipf("losetup: %v: %s", err, out)
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() { _ = exec.Command("losetup", "-d", dev).Run() })
	return dev
}

// TestCheckProtectedLoopDevice: an output that is the file behind a loop
// device given as input is refused (it was replaced: the loop device then
// showed "(deleted)"), through another name for it too; other files are
// not.
func TestCheckProtectedLoopDevice(t *testing.T) {
	dir := t.TempDir()
	ev := filepath.Join(dir, "ev.img")
	if err := os.WriteFile(ev, make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	dev := attachLoop(t, ev)
	err := CheckProtected(ev, []string{dev})
	if !errors.Is(err, ErrEvidence) {
		t.Fatalf("output %s, input %s: %v", ev, dev, err)
	}
	t.Log(err)
	link := filepath.Join(dir, "alias.img")
	if err := os.Link(ev, link); err != nil {
		t.Fatal(err)
	}
	if err := CheckProtected(link, []string{dev}); !errors.Is(err, ErrEvidence) {
		t.Errorf("a hard link to the backing file: %v", err)
	}
	moved := filepath.Join(dir, "moved.img")
	if err := os.Rename(ev, moved); err != nil {
		t.Fatal(err)
	}
	if err := CheckProtected(moved, []string{dev}); !errors.Is(err, ErrEvidence) {
		t.Errorf("the backing file renamed since (sysfs has the old name): %v", err)
	}
	other := filepath.Join(dir, "other.img")
	if err := os.WriteFile(other, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := CheckProtected(other, []string{dev}); err != nil {
		t.Errorf("another file: %v", err)
	}
}

// TestCheckProtectedLoopPartition: a partition of a loop device protects
// the file behind its disk.
func TestCheckProtectedLoopPartition(t *testing.T) {
	dir := t.TempDir()
	ev := filepath.Join(dir, "disk.img")
	if err := os.WriteFile(ev, fixture.Load(t, "mbr-disk").Image(t, "disk0"), 0o644); err != nil {
		t.Fatal(err)
	}
	dev := attachLoop(t, ev, "-P")
	part := dev + "p1"
	for range 100 {
		if _, err := os.Stat(part); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := os.Stat(part); err != nil {
		// No devtmpfs to make the node: make it from sysfs's numbers.
		b, err := os.ReadFile(filepath.Join("/sys/block", filepath.Base(dev), filepath.Base(dev)+"p1", "dev"))
		var maj, min uint32
		if err != nil {
			t.Skipf("no partition device: %v", err)
		}
		if _, err := fmt.Sscanf(string(b), "%d:%d", &maj, &min); err != nil {
			t.Skip(err)
		}
		part = filepath.Join(dir, "part1")
		if err := unix.Mknod(part, unix.S_IFBLK|0o600, int(unix.Mkdev(maj, min))); err != nil {
			t.Skipf("mknod: %v", err)
		}
	}
	if err := CheckProtected(ev, []string{part}); !errors.Is(err, ErrEvidence) {
		t.Errorf("output %s, input %s: %v", ev, part, err)
	}
}
