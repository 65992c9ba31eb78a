//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/internal/fixture"
)

// TestExportRefusesLoopBackingFile: with ev.img attached read-only to a
// loop device, "export --force -o ev.img banana/chocolate /dev/loopN" is
// refused and ev.img is left as it was (it used to be replaced), and so
// is its provenance record path when that is the backing file.
func TestExportRefusesLoopBackingFile(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("loop devices need root")
	}
	if _, err := exec.LookPath("losetup"); err != nil {
		t.Skip("no losetup")
	}
	dir := t.TempDir()
	ev := filepath.Join(dir, "ev.img")
	if err := os.WriteFile(ev, fixture.Load(t, "banana").Image(t, "pv0"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("losetup", "-r", "-f", "--show", ev).CombinedOutput()
	if err != nil {
		t.Skipf("losetup: %v: %s", err, out)
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() { _ = exec.Command("losetup", "-d", dev).Run() })
	before := fileSHA(t, ev)
	for _, target := range []string{ev} {
		_, errOut, err := run(t, dir, "export", "--force", "-o", target, "banana/chocolate", dev)
		if err == nil || !strings.Contains(err.Error(), "the file behind the input "+dev) {
			t.Errorf("-o %s from %s: %v\n%s", target, dev, err, errOut)
		}
	}
	// The provenance record would replace it: -o X with X.json the file.
	js := ev + ".json"
	if err := os.Rename(ev, js); err != nil {
		t.Fatal(err)
	}
	if _, _, err := run(t, dir, "export", "--force", "-o", ev, "banana/chocolate", dev); err == nil || !strings.Contains(err.Error(), "the file behind the input") {
		t.Errorf("a provenance record onto the backing file: %v", err)
	}
	if got := fileSHA(t, js); got != before {
		t.Error("the file behind the loop device changed")
	}
	if _, err := os.Stat(ev); err == nil {
		t.Error("an image was written")
	}
}
