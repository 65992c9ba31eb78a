package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/internal/fixture"
)

// A PV at an offset nothing points to (2 MiB + 512 bytes into a blank
// disk): every command finds it with --carve and not without, and the
// LVs export to the manifest's sha256 from there.
func TestCarvedPVForEveryCommand(t *testing.T) {
	f := fixture.Load(t, "banana")
	pv := f.Image(t, "pv0")
	const at = 2<<20 + 512
	img := make([]byte, at+len(pv))
	copy(img[at:], pv)
	dir := t.TempDir()
	disk := filepath.Join(dir, "disk.img")
	if err := os.WriteFile(disk, img, 0o444); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"scan"},
		{"history"},
		{"diff", "--vg", "banana", "5", "6"},
		{"export", "-o", filepath.Join(dir, "x.img"), "banana/chocolate"},
	} {
		if _, _, err := run(t, "", append(args, disk)...); err == nil {
			t.Errorf("%v without --carve: found the PV", args)
		}
		carved := append(append([]string{args[0], "--carve"}, args[1:]...), disk)
		if _, _, err := run(t, "", carved...); err != nil {
			t.Errorf("%v: %v", carved, err)
		}
	}
	for _, lv := range f.Manifest.LVs {
		out := filepath.Join(dir, lv.Name+".img")
		if _, _, err := run(t, "", "export", "--carve", "-o", out, "banana/"+lv.Name, disk); err != nil {
			t.Fatalf("%s: %v", lv.Name, err)
		}
		if got := fileSHA(t, out); got != lv.ExpectedSHA256() {
			t.Errorf("%s from a carved PV: sha256 %s, manifest %s", lv.Name, got, lv.ExpectedSHA256())
		}
		b, _ := os.ReadFile(out + ".json")
		if !strings.Contains(string(b), "2097664") {
			t.Errorf("%s: the provenance record does not give the PV's offset 2097664", lv.Name)
		}
	}
}
