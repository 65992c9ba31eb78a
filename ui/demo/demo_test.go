package demo

import (
	"testing"

	"github.com/lvminspect/lvminspect/scan"
)

func TestDemoScansBanana(t *testing.T) {
	ins, err := Inputs()
	if err != nil {
		t.Fatal(err)
	}
	res := scan.Scan(ins, scan.Options{})
	if len(res.VGs) != 1 || res.VGs[0].Meta.Name != "banana" {
		t.Fatalf("want VG banana, got %d VGs", len(res.VGs))
	}
	var names []string
	for _, lv := range res.VGs[0].Meta.LVs {
		names = append(names, lv.Name)
	}
	for _, want := range []string{"chocolate", "split", "cream"} {
		found := false
		for _, n := range names {
			found = found || n == want
		}
		if !found {
			t.Errorf("LV %s not in %v", want, names)
		}
	}
}

func TestDemoIsReadOnly(t *testing.T) {
	fs, err := FS()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Create("/demo/x"); err == nil {
		t.Fatal("demo file system accepted a write")
	}
}
