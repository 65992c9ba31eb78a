package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/internal/synth"
)

// twinPVs writes a PV holding LV data of VG twin, and a copy of it (same
// UUID, label and metadata) whose LV data differs when differ is set.
func twinPVs(t *testing.T, differ bool) (a, b, uuid string) {
	t.Helper()
	dir := t.TempDir()
	a, b = filepath.Join(dir, "a.img"), filepath.Join(dir, "b.img")
	uuid = synth.UUIDFor("pv twin", 0)
	vg := &synth.VG{Name: "twin", PVs: []synth.PV{{UUID: uuid, PECount: 4}}, LVs: []synth.LV{synth.LinearLV("data", 0, 0, 1)}}
	var dataOff int64
	err := synth.WriteImages(vg, []string{a}, func(_ int, f *os.File, off int64) error {
		dataOff = off
		_, err := f.Write(nil)
		if err == nil {
			_, err = f.WriteAt(bytes.Repeat([]byte("A"), 4<<20), off)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	img, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	if differ {
		copy(img[dataOff+3<<20:], "B") // deep in the LV: found by the samples
	}
	if err := os.WriteFile(b, img, 0o644); err != nil {
		t.Fatal(err)
	}
	return a, b, uuid
}

func exportSHA(t *testing.T, out string) string {
	t.Helper()
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestDuplicatePVsThatDiffer: two inputs holding a PV of one UUID with
// different data: scan reports both paths as an error and says how to
// choose; export refuses whichever order the inputs come in (it used to
// take the first silently) until --pv chooses, and then reads the one
// chosen.
func TestDuplicatePVsThatDiffer(t *testing.T) {
	a, b, uuid := twinPVs(t, true)
	dashed := uuid[0:6] + "-" + uuid[6:10] + "-" + uuid[10:14] + "-" + uuid[14:18] + "-" + uuid[18:22] + "-" + uuid[22:26] + "-" + uuid[26:32]
	out, _, err := run(t, "", "scan", a, b)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitIncomplete {
		t.Errorf("scan: %v, want exit status 3", err)
	}
	for _, want := range []string{"error:", a, b, "differ", "--pv " + dashed + "=PATH"} {
		if !strings.Contains(out, want) {
			t.Errorf("scan does not say %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "cannot export") {
		t.Errorf("scan's verdict does not refuse the LV:\n%s", out)
	}
	dir := t.TempDir()
	for _, order := range [][]string{{a, b}, {b, a}} {
		_, _, err := run(t, dir, append([]string{"export", "-o", "x.img", "twin/data"}, order...)...)
		if err == nil || !strings.Contains(err.Error(), "--pv "+dashed+"=PATH") {
			t.Errorf("export from %v: %v", order, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "x.img")); err == nil {
			t.Fatalf("export from %v wrote an image", order)
		}
	}
	sums := map[string]string{}
	for _, pick := range []string{a, b} {
		o := filepath.Join(dir, filepath.Base(pick)+".out")
		if _, errOut, err := run(t, dir, "export", "--pv", dashed+"="+pick, "-o", o, "twin/data", a, b); err != nil {
			t.Fatalf("--pv %s: %v\n%s", pick, err, errOut)
		}
		sums[pick] = exportSHA(t, o)
	}
	if sums[a] == sums[b] {
		t.Error("both choices exported the same bytes")
	}
	o := filepath.Join(dir, "at.out")
	if _, _, err := run(t, dir, "export", "--pv", dashed+"="+b+"@0", "-o", o, "twin/data", a, b); err != nil || exportSHA(t, o) != sums[b] {
		t.Errorf("--pv UUID=PATH@0: %v", err)
	}
	out, _, _ = run(t, "", "scan", "--pv", uuid+"="+b, a, b)
	if !strings.Contains(out, "--pv chose "+b) || strings.Contains(out, "cannot export") {
		t.Errorf("scan with --pv:\n%s", out)
	}
	if _, _, err := run(t, "", "scan", "--pv", "nonsense", a); err == nil || !strings.Contains(err.Error(), "UUID=PATH") {
		t.Errorf("--pv nonsense: %v", err)
	}
	if out, _, _ := run(t, "", "scan", "--pv", dashed+"=/nowhere", a, b); !strings.Contains(out, "names none of the PVs") {
		t.Errorf("--pv naming no input:\n%s", out)
	}
}

// TestDuplicatePVsIdentical: identical copies keep working (the first is
// read) and are noted as a warning.
func TestDuplicatePVsIdentical(t *testing.T) {
	a, b, _ := twinPVs(t, false)
	out, _, err := run(t, "", "scan", a, b)
	if err != nil {
		t.Errorf("scan: %v", err)
	}
	if !strings.Contains(out, "warning:") || !strings.Contains(out, "the same label, PV header and metadata") || strings.Contains(out, "cannot export") {
		t.Errorf("scan:\n%s", out)
	}
	dir := t.TempDir()
	if _, errOut, err := run(t, dir, "export", "-o", "x.img", "twin/data", a, b); err != nil {
		t.Errorf("export: %v\n%s", err, errOut)
	}
}
