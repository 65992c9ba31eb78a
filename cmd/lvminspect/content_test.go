package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/internal/fixture"
)

// scanJSONContent runs scan --json and returns what it says the inputs and
// partitions hold, and the info problems.
type contentReport struct {
	Inputs []struct {
		Content *struct {
			Format    string `json:"format"`
			MayHoldPV bool   `json:"may_hold_pv"`
			Hint      string `json:"hint"`
		} `json:"content"`
		PartitionTable *struct {
			Partitions []struct {
				Index   int `json:"index"`
				Content *struct {
					Format    string `json:"format"`
					Name      string `json:"name"`
					MayHoldPV bool   `json:"may_hold_pv"`
					Hint      string `json:"hint"`
				} `json:"content"`
			} `json:"partitions"`
		} `json:"partition_table"`
	} `json:"inputs"`
	VGs []struct {
		Name string `json:"name"`
	} `json:"vgs"`
	Problems []struct {
		Severity string `json:"severity"`
		Message  string `json:"message"`
	} `json:"problems"`
}

func scanContent(t *testing.T, path string) (contentReport, string) {
	t.Helper()
	out, _, _ := run(t, "", "scan", "--json", path)
	var r contentReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("scan --json: %v\n%s", err, out)
	}
	text, _, _ := run(t, "", "scan", path)
	return r, text
}

// A GPT disk whose first partition is an ext2 file system and whose second
// is the PV: scan names the file system. With a LUKS2 header written over
// the first partition it names that instead, and says how to open it
// (with the losetup line for that partition of the image).
func TestScanNamesWhatIsNotAPV(t *testing.T) {
	f := fixture.Load(t, "gpt-disk")
	disk := f.Image(t, "disk0")
	dir := t.TempDir()
	plain := filepath.Join(dir, "disk.img")
	if err := os.WriteFile(plain, disk, 0o444); err != nil {
		t.Fatal(err)
	}
	r, text := scanContent(t, plain)
	if len(r.VGs) != 1 || r.Inputs[0].PartitionTable == nil {
		t.Fatalf("fixture scan: %+v", r)
	}
	p1 := r.Inputs[0].PartitionTable.Partitions[0]
	if p1.Content == nil || p1.Content.Format != "ext" || p1.Content.Name != "ext2 file system" || p1.Content.MayHoldPV {
		t.Errorf("partition 1: %+v", p1.Content)
	}
	if p2 := r.Inputs[0].PartitionTable.Partitions[1]; p2.Content != nil {
		t.Errorf("the PV's partition has content %+v", p2.Content)
	}
	if !strings.Contains(text, "holds: ext2 file system") {
		t.Errorf("scan text does not name partition 1:\n%s", text)
	}
	for _, p := range r.Problems {
		if p.Severity == "info" {
			t.Errorf("a file system gets a hint: %+v", p)
		}
	}

	luks, err := fixture.Gunzip("../../scan/content/testdata/luks2.luks2.head.gz")
	if err != nil {
		t.Fatal(err)
	}
	copy(disk[1<<20:], luks)
	enc := filepath.Join(dir, "enc.img")
	if err := os.WriteFile(enc, disk, 0o444); err != nil {
		t.Fatal(err)
	}
	r, text = scanContent(t, enc)
	c := r.Inputs[0].PartitionTable.Partitions[0].Content
	if c == nil || c.Format != "luks2" || !c.MayHoldPV || !strings.Contains(c.Hint, "--key-file") || strings.Contains(c.Hint, "cryptsetup") {
		t.Fatalf("partition 1 with LUKS2: %+v", c)
	}
	found := false
	for _, p := range r.Problems {
		// The header copied in is cut short (its JSON area is not
		// there): the volume is named, and why it cannot be opened.
		found = found || strings.Contains(p.Message, "LUKS2 header")
	}
	if !found || !strings.Contains(text, "holds: LUKS2 encrypted volume") {
		t.Errorf("no info about the LUKS2 partition: %+v\n%s", r.Problems, text)
	}
	if len(r.VGs) != 1 {
		t.Errorf("the VG on partition 2 is lost")
	}
}

// A compressed image: scan fails (no PV) but says what the file is and
// the command that makes it readable, with the path filled in.
func TestScanNamesCompressedImage(t *testing.T) {
	src := filepath.Join(fixture.Root(), "banana", "pv0.img.gz")
	r, text := scanContent(t, src)
	c := r.Inputs[0].Content
	if c == nil || c.Format != "gzip" || !c.MayHoldPV || !strings.Contains(c.Hint, "gunzip -k "+src) {
		t.Fatalf("content %+v", c)
	}
	if !strings.Contains(text, "holds: gzip-compressed data") || !strings.Contains(text, "gunzip -k "+src) {
		t.Errorf("scan text:\n%s", text)
	}
}
