package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/scan"
)

// containerDirs are where the container fixtures are kept: the readers'
// shared folder, and the EWF reader's own.
func containerDirs() []string {
	td := fixture.TestdataDir()
	return []string{filepath.Join(td, "fixtures", "containers"),
		filepath.Join(td, "..", "scan", "container", "ewf", "testdata", "fixtures", "containers")}
}

// writeContainer gunzips the files of a container (name, and for a split
// E01 its other segments) into dir and returns the first one's path; the
// test skips when the fixture is not there.
func writeContainer(t testing.TB, dir, name string) string {
	t.Helper()
	first := ""
	for _, d := range containerDirs() {
		if _, err := os.Stat(filepath.Join(d, name+".gz")); err != nil {
			continue
		}
		matches, _ := filepath.Glob(filepath.Join(d, strings.TrimSuffix(name, filepath.Ext(name))+".*.gz"))
		for _, m := range matches {
			base := strings.TrimSuffix(filepath.Base(m), ".gz")
			if base != name && !strings.HasPrefix(strings.ToUpper(filepath.Ext(base)), ".E") {
				continue // only the segments of a split E01 come along
			}
			b, err := fixture.Gunzip(m)
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, base)
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			if base == name {
				first = p
			}
		}
	}
	if first == "" {
		t.Skipf("container fixture %s not found", name)
	}
	return first
}

// openModel is the inspector on files opened as the command opens its
// inputs (containers through their readers), scanned as it scans them.
func openModel(t testing.TB, paths []string, w, h int) *Model {
	t.Helper()
	var ins []*scan.Input
	for _, p := range paths {
		in, err := scan.Open(scan.ReadOnlyOSFs(), p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { in.Close() })
		ins = append(ins, in)
	}
	m := New(Config{Result: safeScan(ins, scan.Options{})})
	start(t, m, w, h)
	t.Cleanup(m.s.closeFiles)
	return m
}

// containerModel is the inspector on a container fixture written to dir.
func containerModel(t testing.TB, dir, name string, w, h int) *Model {
	t.Helper()
	return openModel(t, []string{writeContainer(t, dir, name)}, w, h)
}

// nestedModel is the inspector on nested-thin's host disk, read as the
// command reads it: the graph opens the thin LVs and the guests in them.
func nestedModel(t testing.TB, w, h int) *Model {
	t.Helper()
	return fixtureModel(t, "nested-thin", false, w, h)
}

// rowOf returns the index of the first visible row whose name is name
// under a row named by each of path, in order, or -1.
func rowOf(m *Model, path ...string) int {
	for i, r := range m.tree.rows {
		if r.name != path[len(path)-1] {
			continue
		}
		p, ok := r.parent, true
		for j := len(path) - 2; j >= 0 && ok; j-- {
			for p != nil && p.name != path[j] {
				p = p.parent
			}
			ok = p != nil
			if ok {
				p = p.parent
			}
		}
		if ok {
			return i
		}
	}
	return -1
}
