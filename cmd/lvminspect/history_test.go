package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/history"
)

// historyCLI runs a command line in-process.
func historyCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out, errb bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

// historyImage writes the history fixture's image to a temporary file.
func historyImage(t *testing.T) string {
	t.Helper()
	f := fixture.Load(t, "history")
	p := filepath.Join(t.TempDir(), "pv0.img")
	if err := os.WriteFile(p, f.Image(t, "pv0"), 0o444); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestHistoryCommand checks `history --json` field names and values, the
// text form, and exit statuses.
func TestHistoryCommand(t *testing.T) {
	img := historyImage(t)
	out, err := historyCLI(t, "history", "--json", "--vg", "hist", img)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tool        string           `json:"tool"`
		Generations []map[string]any `json:"generations"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	seqnos := map[float64]bool{}
	for _, g := range doc.Generations {
		if g["fragment"] != nil {
			continue
		}
		if g["path"] != img || g["vg_name"] != "hist" || g["crc_ok"] != true || g["parsed"] != true || g["mda"] != float64(1) {
			t.Errorf("entry %v", g)
		}
		seqnos[g["seqno"].(float64)] = true
	}
	if doc.Tool != "lvminspect" || len(seqnos) < 2 {
		t.Errorf("tool %q, seqnos %v", doc.Tool, seqnos)
	}
	text, err := historyCLI(t, "history", img)
	if err != nil || !strings.Contains(text, "VG hist") || !strings.Contains(text, "Fragments") {
		t.Errorf("text form: %v\n%s", err, text)
	}
	var ee *exitError
	if _, err := historyCLI(t, "history", "--vg", "nosuch", img); !errors.As(err, &ee) || ee.code != 1 {
		t.Errorf("unknown VG: %v", err)
	}
	if _, err := historyCLI(t, "history", filepath.Join(t.TempDir(), "absent")); !errors.As(err, &ee) || ee.code != 2 {
		t.Errorf("missing input: %v", err)
	}
}

// TestDiffCommand checks `diff --json` on the generations around the
// removal of LV late, and the errors for a missing generation.
func TestDiffCommand(t *testing.T) {
	img := historyImage(t)
	out, err := historyCLI(t, "diff", "--json", "--vg", "hist", "69", "70", img)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		A       struct{ Seqno uint64 }  `json:"a"`
		Removed []struct{ Name string } `json:"lvs_removed"`
		Added   []any                   `json:"lvs_added"`
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	if d.A.Seqno != 69 || len(d.Removed) != 1 || d.Removed[0].Name != "late" || d.Added == nil || len(d.Added) != 0 {
		t.Errorf("diff: %s", out)
	}
	text, err := historyCLI(t, "diff", "--vg", "hist", "71", "72", img)
	if err != nil || !strings.Contains(text, "renamed to nine") {
		t.Errorf("text diff: %v\n%s", err, text)
	}
	var ee *exitError
	if _, err := historyCLI(t, "diff", "--vg", "hist", "1", "72", img); !errors.As(err, &ee) || ee.code != 1 || !strings.Contains(err.Error(), "65") {
		t.Errorf("overwritten generation: %v", err)
	}
	if _, err := historyCLI(t, "diff", "--vg", "hist", "x", "72", img); !errors.As(err, &ee) || ee.code != 2 {
		t.Errorf("bad seqno: %v", err)
	}
	scan, err := historyCLI(t, "scan", "--seqno", "69", img)
	if err != nil || !strings.Contains(scan, "LV late") || !strings.Contains(scan, "historical view") {
		t.Errorf("scan --seqno: %v\n%s", err, scan)
	}
}

// history --json writes its long arrays element by element, byte for
// byte what encoding the whole document at once gives.
func TestHistoryJSONStreamedAsEncoded(t *testing.T) {
	for _, name := range []string{"history", "multiseg", "layout-variants"} {
		f := fixture.Load(t, name)
		paths := writeImages(t, f, t.TempDir(), false)
		got, _, err := run(t, "", append([]string{"history", "--json"}, paths...)...)
		if err != nil {
			t.Fatal(err)
		}
		res, closeAll, err := scanInputs(paths, scan.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		if err := enc.Encode(jsonHistory{Tool: "lvminspect", Version: Version(), Report: history.Scan(res, history.Options{}).Report("")}); err != nil {
			t.Fatal(err)
		}
		closeAll()
		if got != want.String() {
			t.Errorf("%s: the streamed document differs from the encoded one (%d and %d bytes)", name, len(got), want.Len())
		}
	}
}
