package scan_test

import (
	"os"
	"testing"

	"github.com/spf13/afero"

	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/scan"
)

// TestOpenFromMemoryFsReadOnly opens an image from an in-memory
// filesystem behind the read-only wrapper: it scans, and nothing can open
// it for writing.
func TestOpenFromMemoryFsReadOnly(t *testing.T) {
	mem := afero.NewMemMapFs()
	if err := afero.WriteFile(mem, "/evidence/pv0.img", fixture.Load(t, "banana").Image(t, "pv0"), 0o444); err != nil {
		t.Fatal(err)
	}
	fs := afero.NewReadOnlyFs(mem)
	in, err := scan.Open(fs, "/evidence/pv0.img")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	res := scan.Scan([]*scan.Input{in}, scan.Options{})
	if vg := findVG(res, "banana"); vg == nil || len(vg.Meta.LVs) != 3 {
		t.Fatal("VG banana not found in the in-memory image")
	}
	if _, err := fs.OpenFile("/evidence/pv0.img", os.O_RDWR, 0); err == nil {
		t.Fatal("the read-only filesystem opened the evidence for writing")
	}
	if _, err := scan.ReadOnlyOSFs().OpenFile(os.DevNull, os.O_WRONLY, 0); err == nil {
		t.Fatal("the OS filesystem used for inputs opened a file for writing")
	}
	if _, err := scan.Open(fs, "/evidence"); err == nil {
		t.Fatal("a directory opened as an input")
	}
}
