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
		} else {
			checkTree(t, doc.Root, 0)
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

// checkTree reads every node of a document through its accessors, which
// read the text again: names, values (arrays element by element),
// comments, positions and lookups must agree with the first parse.
func checkTree(t *testing.T, n *Node, depth int) {
	visited := 0
	var walk func(n *Node, depth int)
	walk = func(n *Node, depth int) {
		for c := range n.Children() {
			if visited++; visited > 10000 {
				return
			}
			if c.Parent() == nil || !c.Parent().Same(n) || c.Line() < 1 || c.Col() < 1 {
				t.Fatalf("node %q: parent %v line %d col %d", c.Name(), c.Parent(), c.Line(), c.Col())
			}
			if g := n.Get(c.Name()); g == nil || g.Name() != c.Name() || g.Line() > c.Line() {
				t.Fatalf("lookup of %q in %q gives %v", c.Name(), n.Path(), g)
			}
			_ = c.Comment()
			_ = c.Path()
			if c.Section() {
				if c.Kind() != 0 {
					t.Fatalf("section %q has a value kind", c.Name())
				}
				walk(c, depth+1)
				continue
			}
			v := c.Value()
			if v.Kind != c.Kind() || v.Line < c.Line() {
				t.Fatalf("key %q: value %+v, Kind() %v", c.Name(), v, c.Kind())
			}
			k := 0
			for i, it := range v.All() {
				if i != k || it.Kind == 0 || it.Kind == Array || it.Line < v.Line {
					t.Fatalf("key %q element %d: %+v", c.Name(), i, it)
				}
				k++
			}
			if k != v.Len() {
				t.Fatalf("key %q: %d elements read, Len %d", c.Name(), k, v.Len())
			}
			_ = brief(v)
		}
	}
	walk(n, depth)
}
