package metatext

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse checks that no input makes the parser panic, loop or return
// inconsistent results. It is seeded with every metadata text of the
// fixtures, the spec example and hand-written oddities.
func FuzzParse(f *testing.F) {
	var paths []string
	for _, pattern := range []string{"*/pvck/*.metadata.txt", "*/lvm-archive/archive/*", "*/lvm-archive/backup/*"} {
		m, err := filepath.Glob(filepath.Join(fixturesDir, pattern))
		if err != nil {
			f.Fatal(err)
		}
		paths = append(paths, m...)
	}
	paths = append(paths, "testdata/spec-example.vg")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		"", "{", "}", "a", "a=", "a = [", `a = "\`, "a = 010", "a = 08", "a = 0x1", "a/b/c = 1",
		"a = [1,,]", "a = [x,y]", "vg { }", "vg { physical_volumes { pv0 { } } }",
		"vg { logical_volumes { l { s { type = \"raid1\" raids = [\"x_rmeta_0\"] } } } }",
		"vg { logical_volumes { l { s { start_extent = 18446744073709551615 extent_count = 9223372036854775807 } } } }",
		"vg { logical_volumes { l { s { type = \"thin-pool\" m { } } } } }",
		"vg{}contents=\"Text Format Volume Group\"version=1\x00trailing",
		strings.Repeat("a{", 70), strings.Repeat("a/", 70) + "=1",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		if len(text) > 1<<20 {
			t.Skip()
		}
		doc, err := ParseTree(text)
		var se *SyntaxError
		if err != nil {
			if doc != nil || !errors.As(err, &se) {
				t.Fatalf("ParseTree: doc %v with error %v", doc, err)
			}
			if se.Line < 1 || se.Col < 1 || se.Offset < 0 || se.Offset > len(text) {
				t.Fatalf("error position out of range: %+v (input %d bytes)", se, len(text))
			}
		}
		vg, err2 := Parse(text)
		var ie *InvalidError
		switch {
		case err != nil:
			if vg != nil || !errors.As(err2, &se) {
				t.Fatalf("Parse after a syntax error: %v, %v", vg, err2)
			}
		case errors.Is(err2, ErrNoVG):
			if vg != nil {
				t.Fatal("VG returned with ErrNoVG")
			}
		case err2 == nil, errors.As(err2, &ie):
			if vg == nil {
				t.Fatalf("no VG with %v", err2)
			}
			for _, lv := range vg.LVs {
				for i := 1; i < len(lv.Segments); i++ {
					if lv.Segments[i-1].StartExtent > lv.Segments[i].StartExtent {
						t.Fatalf("LV %s segments not sorted", lv.Name)
					}
				}
			}
		default:
			t.Fatalf("unexpected error type %T: %v", err2, err2)
		}
	})
}
