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
)

// bananaRaw is the sha256 of banana's PV image, which every container of
// it holds.
const bananaRaw = "f467b9dbed8986e08935e25730309c53c0ac00a1a999c8b5762a3e7efa308cf1"

// containerDirs are where the container fixtures are kept: the readers'
// shared folder, and the EWF reader's own.
func containerDirs() []string {
	td := fixture.TestdataDir()
	return []string{filepath.Join(td, "fixtures", "containers"),
		filepath.Join(td, "..", "scan", "container", "ewf", "testdata", "fixtures", "containers")}
}

// writeContainer gunzips the files of a container (name, and for a split
// E01 its other segments) into dir and returns the first one's path;
// the test skips when the fixture is not there.
func writeContainer(t *testing.T, dir, name string) string {
	t.Helper()
	var first string
	for _, d := range containerDirs() {
		matches, _ := filepath.Glob(filepath.Join(d, strings.TrimSuffix(name, filepath.Ext(name))+".*.gz"))
		if _, err := os.Stat(filepath.Join(d, name+".gz")); err != nil {
			continue
		}
		for _, m := range matches {
			base := strings.TrimSuffix(filepath.Base(m), ".gz")
			if name != base && !strings.HasPrefix(strings.ToUpper(filepath.Ext(base)), ".E") {
				continue // only the segments of a split E01 come along
			}
			b, err := fixture.Gunzip(m)
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, base)
			if err := os.WriteFile(p, b, 0o444); err != nil {
				t.Fatal(err)
			}
			if base == name {
				first = p
			}
		}
	}
	if first == "" {
		t.Skipf("container fixture %s is not here", name)
	}
	return first
}

// Every container of the banana PV scans to banana's VG and LVs with
// their UUIDs, and every LV exports from it directly to the manifest's
// sha256; the container's disk exports to the raw image's sha256.
func TestContainersScanAndExport(t *testing.T) {
	banana := fixture.Load(t, "banana")
	for _, c := range []struct{ file, kind string }{
		{"banana.E01", "ewf"}, {"banana-split.E01", "ewf"}, {"banana.vhd", "vhd"}, {"banana.vdi", "vdi"},
		{"banana.vmdk", "vmdk"}, {"banana-stream.vmdk", "vmdk"}, {"banana.vhdx", "vhdx"},
		{"banana.qcow2", "qcow2"}, {"banana-compressed.qcow2", "qcow2"},
	} {
		t.Run(c.file, func(t *testing.T) {
			dir := t.TempDir()
			p := writeContainer(t, dir, c.file)
			stdout, stderr, err := run(t, "", "scan", "--json", p)
			if err != nil {
				t.Fatalf("scan: %v\n%s", err, stderr)
			}
			var doc struct {
				Devices []struct{ ID, Kind string }
				VGs     []struct {
					Name, UUID string
					LVs        []struct{ Name, UUID string } `json:"lvs"`
				} `json:"vgs"`
			}
			if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
				t.Fatal(err)
			}
			if len(doc.Devices) < 2 || doc.Devices[1].ID != "in1."+c.kind || doc.Devices[1].Kind != c.kind {
				t.Errorf("devices %+v", doc.Devices)
			}
			if len(doc.VGs) != 1 || doc.VGs[0].Name != "banana" || doc.VGs[0].UUID != "hMPlTD-V0b2-ML5Z-mLn1-MQPO-hWFY-pBBYbC" {
				t.Fatalf("VGs %+v", doc.VGs)
			}
			uuids := map[string]string{}
			for _, lv := range doc.VGs[0].LVs {
				uuids[lv.Name] = lv.UUID
			}
			for _, lv := range banana.Manifest.LVs {
				if uuids[lv.Name] != lv.UUID {
					t.Errorf("LV %s: uuid %q, manifest %q", lv.Name, uuids[lv.Name], lv.UUID)
				}
				out := filepath.Join(dir, lv.Name+".img")
				if _, stderr, err := run(t, "", "export", "-o", out, "banana/"+lv.Name, p); err != nil {
					t.Fatalf("export %s: %v\n%s", lv.Name, err, stderr)
				}
				if got := fileSHA(t, out); got != lv.ExpectedSHA256() {
					t.Errorf("%s: sha256 %s, manifest %s", lv.Name, got, lv.ExpectedSHA256())
				}
			}
			out := filepath.Join(dir, "disk.img")
			if _, stderr, err := run(t, "", "export", "--device", "in1."+c.kind, "-o", out, p); err != nil {
				t.Fatalf("export --device: %v\n%s", err, stderr)
			}
			if got := fileSHA(t, out); got != bananaRaw {
				t.Errorf("the container's disk: sha256 %s, want %s", got, bananaRaw)
			}
		})
	}
}

// A split E01 without one of its segment files: the scan names the
// missing file and finds no PV (exit status 1).
func TestE01MissingSegment(t *testing.T) {
	dir := t.TempDir()
	p := writeContainer(t, dir, "banana-split.E01")
	if err := os.Remove(filepath.Join(dir, "banana-split.E03")); err != nil {
		t.Fatal(err)
	}
	stdout, _, err := run(t, "", "scan", p)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitFailed {
		t.Fatalf("scan: %v", err)
	}
	if !strings.Contains(stdout, "banana-split.E03") || !strings.Contains(stdout, "ewf container cannot be opened") {
		t.Errorf("scan does not name the missing segment:\n%s", stdout)
	}
}

// A damaged chunk inside LV cream: export fails naming the chunk, or
// with --allow-partial writes the chunk's range as zeros, lists it and
// exits 3; verify reports the chunk; the other LVs still export.
func TestE01DamagedChunk(t *testing.T) {
	dir := t.TempDir()
	p := writeContainer(t, dir, "banana-split.E01")
	// banana-split stores its chunks uncompressed: find one of cream's
	// stamps in the segment files and damage it.
	stamp := []byte("LVMI vg=banana lv=cream gen=1 sector=100\n")
	damaged := ""
	segs, _ := filepath.Glob(filepath.Join(dir, "banana-split.E0*"))
	for _, s := range segs {
		b, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		if i := bytes.Index(b, stamp); i >= 0 {
			b[i+5] ^= 0x20
			os.Chmod(s, 0o644)
			if err := os.WriteFile(s, b, 0o444); err != nil {
				t.Fatal(err)
			}
			damaged = s
			break
		}
	}
	if damaged == "" {
		t.Fatal("cream's stamp not found in the segment files")
	}
	_, stderr, err := run(t, "", "export", "-o", filepath.Join(dir, "cream.img"), "banana/cream", p)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitFailed || !strings.Contains(err.Error(), "chunk ") || !strings.Contains(err.Error(), filepath.Base(damaged)) {
		t.Fatalf("export over a damaged chunk: %v\n%s", err, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "cream.img")); err == nil {
		t.Error("a failed export left its image")
	}
	_, stderr, err = run(t, "", "export", "--allow-partial", "-o", filepath.Join(dir, "cream.img"), "banana/cream", p)
	if !errors.As(err, &ee) || ee.code != exitIncomplete || !strings.Contains(stderr, "32.00 KiB of") || !strings.Contains(stderr, "chunk ") {
		t.Fatalf("--allow-partial: %v\n%s", err, stderr)
	}
	if _, _, err := run(t, "", "export", "-o", filepath.Join(dir, "choc.img"), "banana/chocolate", p); err != nil {
		t.Errorf("chocolate, away from the damage: %v", err)
	}
	stdout, _, err := run(t, "", "verify", p)
	if !errors.As(err, &ee) || ee.code != exitIncomplete || !strings.Contains(stdout, "✗ chunk ") || !strings.Contains(stdout, "NOT VERIFIED") {
		t.Fatalf("verify: %v\n%s", err, stdout)
	}
}

// verify on intact containers: the E01's stored MD5 matches (exit 0); an
// input that is no container has nothing to verify (exit 1).
func TestVerify(t *testing.T) {
	dir := t.TempDir()
	p := writeContainer(t, dir, "banana.E01")
	stdout, _, err := run(t, "", "verify", "--json", p)
	if err != nil {
		t.Fatalf("verify: %v\n%s", err, stdout)
	}
	var doc struct {
		OK      bool
		Devices []struct {
			ID     string
			OK     bool
			Report struct {
				Hashes []struct {
					Algorithm string
					Match     bool
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if !doc.OK || len(doc.Devices) != 1 || doc.Devices[0].ID != "in1.ewf" || len(doc.Devices[0].Report.Hashes) == 0 ||
		doc.Devices[0].Report.Hashes[0].Algorithm != "md5" || !doc.Devices[0].Report.Hashes[0].Match {
		t.Errorf("verify --json: %s", stdout)
	}
	raw := filepath.Join(dir, "raw.img")
	if err := os.WriteFile(raw, make([]byte, 1<<20), 0o444); err != nil {
		t.Fatal(err)
	}
	_, _, err = run(t, "", "verify", raw)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitFailed {
		t.Errorf("verify of a raw image: %v", err)
	}
}

// multipv's three PVs, each in another format (qcow2, VMDK, VHDX),
// assemble into one VG whose every LV exports to the manifest's sha256.
func TestContainersOfOneVG(t *testing.T) {
	f := fixture.Load(t, "multipv")
	dir := t.TempDir()
	var paths []string
	for _, c := range []string{"multipv-pv0.qcow2", "multipv-pv1.vmdk", "multipv-pv2.vhdx"} {
		paths = append(paths, writeContainer(t, dir, c))
	}
	stdout, _, err := run(t, "", append([]string{"scan"}, paths...)...)
	if err != nil || strings.Contains(stdout, "MISSING") {
		t.Fatalf("scan: %v\n%s", err, stdout)
	}
	for _, lv := range f.Manifest.LVs {
		out := filepath.Join(dir, lv.Name+".img")
		if _, stderr, err := run(t, "", append([]string{"export", "-o", out, lv.VG + "/" + lv.Name}, paths...)...); err != nil {
			t.Fatalf("export %s: %v\n%s", lv.Name, err, stderr)
		}
		if got := fileSHA(t, out); got != lv.ExpectedSHA256() {
			t.Errorf("%s: sha256 %s, manifest %s", lv.Name, got, lv.ExpectedSHA256())
		}
	}
}

// --hash-inputs records the container file's own sha256 (what sha256sum
// of the path given says), and the provenance record lists the inputs
// given only, not the LVs the graph opened as disks.
func TestHashInputsOfContainerAndHost(t *testing.T) {
	dir := t.TempDir()
	p := writeContainer(t, dir, "banana.E01")
	out := filepath.Join(dir, "choc.img")
	if _, stderr, err := run(t, "", "export", "--hash-inputs", "-o", out, "banana/chocolate", p); err != nil {
		t.Fatalf("export: %v\n%s", err, stderr)
	}
	var prov struct {
		Inputs []struct {
			Path   string
			Size   int64
			SHA256 string
		}
		Device []struct{ ID string }
	}
	if err := json.Unmarshal(mustRead(t, out+".json"), &prov); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(p)
	if len(prov.Inputs) != 1 || prov.Inputs[0].SHA256 != fileSHA(t, p) || prov.Inputs[0].Size != st.Size() {
		t.Errorf("inputs %+v, want the E01 file's sha256 %s and size %d", prov.Inputs, fileSHA(t, p), st.Size())
	}
	if len(prov.Device) != 2 || prov.Device[0].ID != "in1" || prov.Device[1].ID != "in1.ewf" {
		t.Errorf("device chain %+v", prov.Device)
	}

	// A split E01: the record names the other segments read.
	split := writeContainer(t, dir, "banana-split.E01")
	out = filepath.Join(dir, "choc2.img")
	if _, stderr, err := run(t, "", "export", "-o", out, "banana/chocolate", split); err != nil {
		t.Fatalf("export: %v\n%s", err, stderr)
	}
	var prov2 struct {
		Inputs []struct {
			Path  string
			Files []string
		}
	}
	if err := json.Unmarshal(mustRead(t, out+".json"), &prov2); err != nil {
		t.Fatal(err)
	}
	if len(prov2.Inputs) != 1 || len(prov2.Inputs[0].Files) != 5 || !strings.HasSuffix(prov2.Inputs[0].Files[4], "banana-split.E06") {
		t.Errorf("inputs %+v: want the five other segments", prov2.Inputs)
	}

	f := fixture.Load(t, "nested-thin")
	paths := writeImages(t, f, dir, false)
	out = filepath.Join(dir, "srv.img")
	if _, stderr, err := run(t, "", append([]string{"export", "--hash-inputs", "-o", out, "guest101/srv"}, paths...)...); err != nil {
		t.Fatalf("export: %v\n%s", err, stderr)
	}
	if err := json.Unmarshal(mustRead(t, out+".json"), &prov); err != nil {
		t.Fatal(err)
	}
	if len(prov.Inputs) != 1 || prov.Inputs[0].SHA256 != fileSHA(t, paths[0]) {
		t.Errorf("inputs %+v: want only the host's image", prov.Inputs)
	}
}

// The other files of a container are evidence too: an export refuses to
// replace a split E01's later segment, even with --force.
func TestExportNeverReplacesASegment(t *testing.T) {
	dir := t.TempDir()
	p := writeContainer(t, dir, "banana-split.E01")
	seg := filepath.Join(dir, "banana-split.E04")
	before := fileSHA(t, seg)
	for _, args := range [][]string{
		{"export", "--force", "-o", seg, "banana/chocolate", p},
		{"export", "--force", "--device", "in1.ewf", "-o", seg, p},
	} {
		_, _, err := run(t, "", args...)
		var ee *exitError
		if !errors.As(err, &ee) || !strings.Contains(err.Error(), "banana-split.E04") {
			t.Errorf("%v: %v", args, err)
		}
	}
	if fileSHA(t, seg) != before {
		t.Fatal("the segment file was replaced")
	}
}
