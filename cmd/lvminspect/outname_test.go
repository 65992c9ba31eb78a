package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/internal/synth"
)

// TestDefaultOutputFromDiskNames: a VG named ".." with an LV named
// "-x\x1b" exports by default to ./_../_x\x5f.img inside the working
// directory, never ../; the names come from the disk.
func TestDefaultOutputFromDiskNames(t *testing.T) {
	dir := t.TempDir()
	work := filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "dots.img")
	vg := &synth.VG{Name: "..", PVs: []synth.PV{{UUID: synth.UUIDFor("pv dots", 0), PECount: 4}}, LVs: []synth.LV{synth.LinearLV("-x", 0, 0, 1)}}
	if err := synth.WriteImages(vg, []string{img}, nil); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := run(t, work, "export", "../-x", img)
	if err != nil {
		t.Fatalf("%v\n%s%s", err, out, errOut)
	}
	if !strings.Contains(out, filepath.Join("_..", "_x.img")) {
		t.Errorf("output %q", out)
	}
	if _, err := os.Stat(filepath.Join(work, "_..", "_x.img")); err != nil {
		t.Error(err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("something was written outside the working directory: %v", ents)
	}
}
