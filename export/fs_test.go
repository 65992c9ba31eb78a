package export

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestOSFSRenameNoReplace(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for _, p := range []string{a, b} {
		if err := os.WriteFile(p, []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	err := OSFS{}.Rename(a, b, false)
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("rename onto an existing file: %v, want ErrExist", err)
	}
	if got, _ := os.ReadFile(b); string(got) != b {
		t.Error("target replaced")
	}
	if _, err := os.Stat(a); err != nil {
		t.Errorf("source gone: %v", err)
	}
	c := filepath.Join(dir, "c")
	if err := (OSFS{}).Rename(a, c, false); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(c); string(got) != a {
		t.Error("rename lost the content")
	}
	if _, err := os.Stat(a); !os.IsNotExist(err) {
		t.Errorf("source still there: %v", err)
	}
	if err := (OSFS{}).Rename(c, b, true); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(b); string(got) != a {
		t.Error("replacing rename did not replace")
	}
	if err := (OSFS{}).SyncDir(dir); err != nil {
		t.Error(err)
	}
}
