package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/internal/fixture"
)

// run executes the command line in-process and returns stdout, stderr
// and the error Execute returned.
func run(t *testing.T, dir string, args ...string) (string, string, error) {
	t.Helper()
	if dir != "" {
		t.Chdir(dir)
	}
	cmd := newRootCmd()
	var out, errb bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), errb.String(), err
}

// writeImages gunzips a fixture's images into dir and returns their
// paths (withheld images left out when withhold is set).
func writeImages(t *testing.T, f *fixture.Fixture, dir string, withhold bool) []string {
	t.Helper()
	var paths []string
	for _, name := range f.ImageNames(withhold) {
		p := filepath.Join(dir, name+".img")
		if err := os.WriteFile(p, f.Image(t, name), 0o444); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

func fileSHA(t *testing.T, path string) string {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	h := sha256.New()
	if _, err := io.Copy(h, fh); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func hashesOf(t *testing.T, paths []string) map[string]string {
	m := map[string]string{}
	for _, p := range paths {
		m[p] = fileSHA(t, p)
	}
	return m
}

func isLinearOrStriped(types []string) bool {
	for _, s := range types {
		if s != "linear" && s != "striped" {
			return false
		}
	}
	return len(types) > 0
}

// TestExportEveryFixtureLV exports every LV of every fixture, hidden
// sub-LVs included, through the command line and compares the image with
// the manifest's sha256. Linear and striped LVs must all export; other
// types must either export exactly or refuse with a reason.
func TestExportEveryFixtureLV(t *testing.T) {
	for _, name := range fixture.AllNames() { // md fixtures too: the md layer assembles their arrays
		if name == "corrupt" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			f := fixture.Load(t, name)
			dir := t.TempDir()
			imgs := writeImages(t, f, dir, false)
			before := hashesOf(t, imgs)
			keys := luksKeyFlags(t, f, dir)
			for _, lv := range f.Manifest.LVs {
				want := lv.ExpectedSHA256()
				out := filepath.Join(dir, "out", lv.VG, lv.Name+".img")
				stdout, _, err := run(t, "", append(append([]string{"export", "-o", out, lv.VG + "/" + lv.Name}, keys...), imgs...)...)
				if err != nil {
					if isLinearOrStriped(lv.Segtypes) {
						t.Errorf("%s/%s (%v): %v", lv.VG, lv.Name, lv.Segtypes, err)
					} else {
						t.Logf("%s/%s (%v) not exported: %v", lv.VG, lv.Name, lv.Segtypes, err)
						if _, serr := os.Stat(out); serr == nil {
							t.Errorf("%s/%s: refused, but %s exists", lv.VG, lv.Name, out)
						}
					}
					continue
				}
				got := fileSHA(t, out)
				if !strings.HasPrefix(stdout, got+"  ") {
					t.Errorf("%s/%s: printed %q, file hashes to %s", lv.VG, lv.Name, stdout, got)
				}
				if want == "" {
					continue // never activated by LVM: no oracle
				}
				if got != want {
					t.Errorf("%s/%s (%v): sha256 %s, manifest %s", lv.VG, lv.Name, lv.Segtypes, got, want)
				}
				var prov map[string]any
				b, err := os.ReadFile(out + ".json")
				if err != nil || json.Unmarshal(b, &prov) != nil || prov["sha256"] != got {
					t.Errorf("%s/%s: provenance record missing or wrong: %v", lv.VG, lv.Name, err)
				}
			}
			if after := hashesOf(t, imgs); !equalMaps(before, after) {
				t.Fatalf("inputs changed")
			}
		})
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestExportCorruptVariants exports banana's LVs from each damaged image:
// the truncated one only with --allow-partial, to the zero-filled hash.
func TestExportCorruptVariants(t *testing.T) {
	f := fixture.Load(t, "corrupt")
	for _, v := range f.Manifest.Variants {
		t.Run(v.File, func(t *testing.T) {
			dir := t.TempDir()
			img := filepath.Join(dir, strings.TrimSuffix(v.File, ".gz"))
			if err := os.WriteFile(img, f.Image(t, v.File), 0o444); err != nil {
				t.Fatal(err)
			}
			for _, lv := range v.Expect.LVs {
				out := filepath.Join(dir, lv.Name+".img")
				want := lv.SHA256
				args := []string{"export", "-o", out, "banana/" + lv.Name, img}
				if lv.SHA256MissingAsZero != "" {
					want = lv.SHA256MissingAsZero
					if lv.Complete != nil && !*lv.Complete {
						_, stderr, err := run(t, "", args...)
						if exitCode(err) != 1 || strings.Count(err.Error()+stderr, "allow-partial") != 1 {
							t.Errorf("%s: incomplete LV without --allow-partial: exit %d, %v (the hint once)", lv.Name, exitCode(err), err)
						}
						if _, err := os.Stat(out); err == nil {
							t.Errorf("%s: refused export left %s", lv.Name, out)
						}
						args = append([]string{"export", "--allow-partial"}, args[1:]...)
					}
				}
				_, stderr, err := run(t, "", args...)
				partial := lv.Complete != nil && !*lv.Complete
				if partial {
					// Written, but not exact: exit 3, the zero-filled
					// range said once on stderr.
					if exitCode(err) != 3 || strings.Count(stderr, "exported as zeros") != 1 || !strings.Contains(stderr, "LV bytes [") {
						t.Errorf("%s --allow-partial: exit %d (%v), stderr %q", lv.Name, exitCode(err), err, stderr)
					}
				} else if err != nil {
					t.Errorf("%s: %v", lv.Name, err)
					continue
				}
				if got := fileSHA(t, out); got != want {
					t.Errorf("%s: sha256 %s, want %s", lv.Name, got, want)
				}
				if lv.Complete != nil && !*lv.Complete {
					var prov struct {
						Missing []struct {
							Start, Length int64
						} `json:"missing_ranges"`
					}
					b, _ := os.ReadFile(out + ".json")
					if json.Unmarshal(b, &prov) != nil || len(prov.Missing) == 0 {
						t.Errorf("%s: provenance lists no missing_ranges: %s", lv.Name, b)
					}
				}
			}
		})
	}
}

// TestExportChocolateIsExt2 checks the exported filesystem with debugfs.
func TestExportChocolateIsExt2(t *testing.T) {
	if _, err := exec.LookPath("debugfs"); err != nil {
		t.Skip("debugfs (e2fsprogs) not installed")
	}
	f := fixture.Load(t, "banana")
	dir := t.TempDir()
	imgs := writeImages(t, f, dir, false)
	if _, _, err := run(t, dir, append([]string{"export", "banana/chocolate"}, imgs...)...); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "banana", "chocolate.img") // the default ./VG/LV.img
	b, err := exec.Command("debugfs", "-R", "cat CHOCOLATE", out).Output()
	if err != nil {
		t.Fatalf("debugfs: %v", err)
	}
	if string(b) != "CHOCOLATE\n" {
		t.Fatalf("CHOCOLATE reads %q", b)
	}
}

func TestExportRefusals(t *testing.T) {
	f := fixture.Load(t, "banana")
	dir := t.TempDir()
	imgs := writeImages(t, f, dir, false)
	out := filepath.Join(dir, "x.img")
	if err := os.WriteFile(out, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := run(t, "", append([]string{"export", "-o", out, "banana/split"}, imgs...)...)
	if err == nil || !strings.Contains(err.Error(), out) || !strings.Contains(err.Error(), "--force") {
		t.Errorf("existing output: %v", err)
	}
	if b, _ := os.ReadFile(out); string(b) != "keep me" {
		t.Errorf("existing output changed")
	}
	if _, _, err := run(t, "", append([]string{"export", "--force", "-o", out, "banana/split"}, imgs...)...); err != nil {
		t.Errorf("--force: %v", err)
	}
	// A file where the provenance record would go is not replaced either.
	notes := filepath.Join(dir, "z.img.json")
	if err := os.WriteFile(notes, []byte("examiner's notes"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err = run(t, "", append([]string{"export", "-o", filepath.Join(dir, "z.img"), "banana/split"}, imgs...)...)
	if err == nil || !strings.Contains(err.Error(), notes) {
		t.Errorf("existing provenance path: %v", err)
	}
	if b, _ := os.ReadFile(notes); string(b) != "examiner's notes" {
		t.Errorf("existing %s changed", notes)
	}
	if _, err := os.Stat(filepath.Join(dir, "z.img")); err == nil {
		t.Errorf("refused export left its image")
	}
	for _, bad := range []string{"banana/nosuch", "nosuch/split", "split"} {
		if _, _, err := run(t, "", append([]string{"export", "-o", filepath.Join(dir, "y.img"), bad}, imgs...)...); err == nil {
			t.Errorf("%s: exported", bad)
		}
	}
	// A generation that is not on the disks, or not a generation number
	// at all (before, a negative one meant "the current generation").
	for _, bad := range []string{"-1", "999", "x"} {
		if _, _, err := run(t, "", append([]string{"export", "--seqno", bad, "-o", filepath.Join(dir, "y.img"), "banana/split"}, imgs...)...); err == nil {
			t.Errorf("--seqno %s: exported", bad)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "y.img")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("refused export left a file")
	}
}

func TestExportToStdout(t *testing.T) {
	f := fixture.Load(t, "banana")
	dir := t.TempDir()
	imgs := writeImages(t, f, dir, false)
	stdout, stderr, err := run(t, dir, append([]string{"export", "-o", "-", "banana/cream"}, imgs...)...)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(stdout))
	want := "4314802cca91bb5623fa6b7639870cb2a3c908765bdbd11f1d301d7af49ac038"
	if hex.EncodeToString(sum[:]) != want || !strings.HasPrefix(stderr, want) {
		t.Fatalf("stdout hashes to %x, stderr %q", sum, stderr)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != len(imgs) {
		t.Errorf("stdout export left files: %v", ents)
	}
}

func TestScanJSONAndExitStatus(t *testing.T) {
	f := fixture.Load(t, "multipv")
	dir := t.TempDir()
	imgs := writeImages(t, f, dir, false)
	stdout, _, err := run(t, "", append([]string{"scan", "--json"}, imgs...)...)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		PVs []struct {
			Path      string
			Offset    int64
			UUID      string
			Checksums map[string]struct{ OK bool }
		}
		VGs []struct {
			Name       string
			Seqno      int
			ExtentSize int64 `json:"extent_size"`
			PVs        []struct {
				Path    *string
				Missing bool
				PEStart int64 `json:"pe_start"`
			}
			LVs []struct {
				Name     string
				Visible  bool
				Size     int64
				Segments []struct {
					Type  string
					Areas []struct {
						PVUUID      string `json:"pv_uuid"`
						StartExtent int    `json:"start_extent"`
					}
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.PVs) != 3 || len(doc.VGs) != 1 || doc.VGs[0].Name != "multipv" || doc.VGs[0].ExtentSize != 262144 {
		t.Fatalf("unexpected scan: %+v", doc)
	}
	for _, pv := range doc.PVs {
		if !pv.Checksums["label_header"].OK || !pv.Checksums["mda1_header"].OK || !pv.Checksums["mda1_text"].OK {
			t.Errorf("PV %s checksums %+v", pv.UUID, pv.Checksums)
		}
	}
	// Without pv1 the VG is partial, the PV's path is null and the LVs on
	// it say how many bytes have no source.
	// Found, but with an error-level problem (the missing PV): exit 3.
	stdout, _, err = run(t, "", "scan", "--json", imgs[0], imgs[2])
	if exitCode(err) != 3 {
		t.Fatalf("scan without pv1: exit %d (%v), want 3", exitCode(err), err)
	}
	var partial struct {
		VGs []struct {
			Partial bool
			PVs     []struct {
				Path    *string
				Missing bool
			}
			LVs []struct {
				Name         string
				Exportable   bool
				MissingBytes int64  `json:"missing_bytes"`
				Reason       string `json:"not_exportable_reason"`
			}
		}
	}
	if err := json.Unmarshal([]byte(stdout), &partial); err != nil || len(partial.VGs) != 1 {
		t.Fatal(err)
	}
	pv := partial.VGs[0]
	if !pv.Partial || pv.PVs[1].Path != nil || !pv.PVs[1].Missing {
		t.Errorf("VG without pv1: %+v", pv)
	}
	// exportable is what `export` does with its default options: span
	// is refused (it needs --allow-partial), the others export.
	for _, lv := range pv.LVs {
		want := map[string]int64{"span": 10 << 20}[lv.Name]
		if lv.MissingBytes != want || lv.Exportable != (want == 0) || (want != 0) != strings.Contains(lv.Reason, "--allow-partial") {
			t.Errorf("LV %s: missing_bytes %d (want %d), exportable %v, reason %q", lv.Name, lv.MissingBytes, want, lv.Exportable, lv.Reason)
		}
	}
	empty := filepath.Join(dir, "empty.img")
	if err := os.WriteFile(empty, make([]byte, 1<<20), 0o444); err != nil {
		t.Fatal(err)
	}
	_, _, err = run(t, "", "scan", empty)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Errorf("scan of an empty image: %v", err)
	}
	_, _, err = run(t, "", "scan", filepath.Join(dir, "nosuch"))
	if !errors.As(err, &ee) || ee.code != 2 {
		t.Errorf("scan of a missing file: %v", err)
	}
}

// TestExportOldGeneration recovers removed LVs from older metadata
// generations: `late` of the history fixture intact, `gamma` of multiseg
// with the extents `epsilon` took over listed as reused.
func TestExportOldGeneration(t *testing.T) {
	for _, tc := range []struct {
		fixture, vg, lv string
		seqno           string
		exact           bool
		reusedBy        string
	}{
		{"history", "hist", "late", "69", true, ""},
		{"multiseg", "multiseg", "gamma", "7", false, "epsilon"},
	} {
		t.Run(tc.lv, func(t *testing.T) {
			f := fixture.Load(t, tc.fixture)
			dir := t.TempDir()
			imgs := writeImages(t, f, dir, false)
			out := filepath.Join(dir, tc.lv+".img")
			if _, _, err := run(t, "", append([]string{"export", "-o", filepath.Join(dir, "cur.img"), tc.vg + "/" + tc.lv}, imgs...)...); err == nil {
				t.Fatalf("removed LV exported from the current generation")
			}
			_, stderr, err := run(t, "", append([]string{"export", "--seqno", tc.seqno, "-o", out, tc.vg + "/" + tc.lv}, imgs...)...)
			if tc.exact && err != nil {
				t.Fatal(err)
			}
			if !tc.exact && (exitCode(err) != 3 || !strings.Contains(stderr, "were given to LV "+tc.reusedBy+" by seqno")) {
				// The image is written, but the examiner must see at once
				// that some of it may be another LV's data now.
				t.Fatalf("exit %d (%v), stderr %q", exitCode(err), err, stderr)
			}
			var want string
			for _, r := range f.Manifest.RemovedLVs {
				if r.Name == tc.lv {
					want = r.SHA256
				}
			}
			if got := fileSHA(t, out); (got == want) != tc.exact {
				t.Errorf("sha256 %s, manifest %s, exact expected: %v", got, want, tc.exact)
			}
			var prov struct {
				Seqno  int `json:"seqno"`
				Reused []struct {
					StartExtent, ExtentCount int
					ByLV                     string `json:"by_lv"`
					Seqno                    int
				} `json:"reused_extents"`
			}
			b, _ := os.ReadFile(out + ".json")
			if err := json.Unmarshal(b, &prov); err != nil || prov.Reused == nil {
				t.Fatalf("provenance: %v %s", err, b)
			}
			if tc.reusedBy == "" && len(prov.Reused) != 0 {
				t.Errorf("reused_extents %+v, want none", prov.Reused)
			}
			if tc.reusedBy != "" && (len(prov.Reused) == 0 || prov.Reused[0].ByLV != tc.reusedBy) {
				t.Errorf("reused_extents %+v, want some by %s", prov.Reused, tc.reusedBy)
			}
		})
	}
}

// TestExportVerifyLegs compares the legs of a mirror: identical on the
// fixture, one differing range once a byte of leg 1 is changed.
func TestExportVerifyLegs(t *testing.T) {
	f := fixture.Load(t, "mirror")
	dir := t.TempDir()
	imgs := writeImages(t, f, dir, false)
	type report struct {
		Legs struct {
			Compared int64 `json:"compared_bytes"`
			Diffs    []struct {
				Start, Length int64
				Differ        []string
			}
		} `json:"leg_differences"`
	}
	check := func(wantDiffs int) {
		t.Helper()
		out := filepath.Join(t.TempDir(), "m.img")
		_, stderr, err := run(t, "", append([]string{"export", "--verify-legs", "-o", out, "mirror/mdisk"}, imgs...)...)
		if want := map[bool]int{true: 0, false: 3}[wantDiffs == 0]; exitCode(err) != want || !strings.Contains(stderr, "the legs of mdisk") {
			t.Fatalf("exit %d (%v), want %d; stderr %q", exitCode(err), err, want, stderr)
		}
		var r report
		b, _ := os.ReadFile(out + ".json")
		if err := json.Unmarshal(b, &r); err != nil || r.Legs.Compared != 4<<20 || len(r.Legs.Diffs) != wantDiffs {
			t.Fatalf("leg report %+v (%v), want %d differing ranges", r.Legs, err, wantDiffs)
		}
	}
	check(0)
	// mdisk_mimage_1 lies on pv1 from PE 16 (lvs: /dev/vdb(16)).
	stdout, _, err := run(t, "", append([]string{"scan", "--json"}, imgs...)...)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		VGs []struct {
			ExtentSize int64 `json:"extent_size"`
			PVs        []struct {
				Path    string
				PEStart int64 `json:"pe_start"`
			}
		}
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	vg := doc.VGs[0]
	at := vg.PVs[1].PEStart + 16*vg.ExtentSize + 1000
	b, err := os.ReadFile(vg.PVs[1].Path)
	if err != nil {
		t.Fatal(err)
	}
	b[at] ^= 0xff
	os.Chmod(vg.PVs[1].Path, 0o644)
	if err := os.WriteFile(vg.PVs[1].Path, b, 0o444); err != nil {
		t.Fatal(err)
	}
	check(1)
}

// TestExportWithWithheldImages leaves out the images a degraded fixture
// withholds: its raid LVs must still export exactly, rebuilt from parity.
func TestExportWithWithheldImages(t *testing.T) {
	n := 0
	for _, name := range fixture.AllNames() {
		f := fixture.Load(t, name)
		if len(f.Manifest.Withhold) == 0 {
			continue
		}
		dir := t.TempDir()
		imgs := writeImages(t, f, dir, true)
		for _, lv := range f.Manifest.LVs {
			if lv.Hidden || !strings.HasPrefix(strings.Join(lv.Segtypes, ","), "raid") {
				continue
			}
			out := filepath.Join(dir, lv.Name+".img")
			if _, _, err := run(t, "", append([]string{"export", "-o", out, lv.VG + "/" + lv.Name}, imgs...)...); err != nil {
				t.Errorf("%s/%s without %v: %v", lv.VG, lv.Name, f.Manifest.Withhold, err)
				continue
			}
			if got := fileSHA(t, out); got != lv.ExpectedSHA256() {
				t.Errorf("%s/%s without %v: sha256 %s, want %s", lv.VG, lv.Name, f.Manifest.Withhold, got, lv.ExpectedSHA256())
			}
			var prov struct {
				Rebuilt []struct{ Start, Length int64 } `json:"rebuilt_ranges"`
				Notes   []string                        `json:"notes"`
			}
			b, _ := os.ReadFile(out + ".json")
			if err := json.Unmarshal(b, &prov); err != nil || len(prov.Rebuilt) == 0 || len(prov.Notes) == 0 {
				t.Errorf("%s/%s: provenance does not list the rebuilt ranges and why: %v %s", lv.VG, lv.Name, err, b)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no raid LV of a degraded fixture checked")
	}
}

// TestExportRawCOW exports an old-style snapshot as its user sees it and,
// with --raw, as the COW store itself (the manifest's -cow device).
func TestExportRawCOW(t *testing.T) {
	f := fixture.Load(t, "snapshot")
	dir := t.TempDir()
	imgs := writeImages(t, f, dir, false)
	for _, lv := range f.Manifest.LVs {
		for _, d := range lv.DMDevices {
			if d.Suffix != "cow" {
				continue
			}
			out := filepath.Join(dir, "cow.img")
			if _, _, err := run(t, "", append([]string{"export", "--raw", "-o", out, lv.VG + "/" + lv.Name}, imgs...)...); err != nil {
				t.Fatal(err)
			}
			want := d.SHA256
			if d.SHA256AtRest != nil && *d.SHA256AtRest != "" {
				want = *d.SHA256AtRest
			}
			if got := fileSHA(t, out); got != want {
				t.Fatalf("%s --raw: sha256 %s, the COW device %s", lv.Name, got, want)
			}
			return
		}
	}
	t.Fatal("no COW device in the snapshot fixture")
}

// TestExportNeverReplacesAnInput refuses an output (or its provenance
// record) that is one of the inputs, even with --force, through a
// symbolic link too, and leaves the input untouched.
func TestExportNeverReplacesAnInput(t *testing.T) {
	f := fixture.Load(t, "banana")
	dir := t.TempDir()
	imgs := writeImages(t, f, dir, false)
	os.Chmod(imgs[0], 0o644) // writable evidence: only lvminspect stands in the way
	before := hashesOf(t, imgs)
	link := filepath.Join(dir, "link.img")
	if err := os.Symlink(imgs[0], link); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{imgs[0], link} {
		_, _, err := run(t, "", append([]string{"export", "--force", "-o", out, "banana/chocolate"}, imgs...)...)
		if err == nil || !strings.Contains(err.Error(), "would replace an input") {
			t.Errorf("-o %s: %v", out, err)
		}
	}
	// An input named like the provenance record of the output.
	jsonInput := filepath.Join(dir, "out.img.json")
	if err := os.WriteFile(jsonInput, f.Image(t, "pv0"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := run(t, "", "export", "--force", "-o", filepath.Join(dir, "out.img"), "banana/chocolate", jsonInput)
	if err == nil || !strings.Contains(err.Error(), "would replace an input") {
		t.Errorf("provenance over an input: %v", err)
	}
	if after := hashesOf(t, imgs); !equalMaps(before, after) {
		t.Fatal("an input changed")
	}
}

// luksKeyFlags writes the passphrases a fixture's manifest records for
// its LUKS volumes into key files and returns the --key-file flags
// naming them (none for a fixture without LUKS).
func luksKeyFlags(t *testing.T, f *fixture.Fixture, dir string) []string {
	t.Helper()
	var m struct {
		LUKS []struct {
			Keyslots []struct {
				Passphrase string `json:"passphrase"`
			} `json:"keyslots"`
		} `json:"luks"`
	}
	if err := json.Unmarshal(f.ReadFile(t, "manifest.json"), &m); err != nil {
		t.Fatal(err)
	}
	flags := []string{"--no-prompt"}
	for i, l := range m.LUKS {
		for j, k := range l.Keyslots {
			if k.Passphrase == "" {
				continue
			}
			p := filepath.Join(dir, fmt.Sprintf("key-%d-%d", i, j))
			if err := os.WriteFile(p, []byte(k.Passphrase), 0o400); err != nil {
				t.Fatal(err)
			}
			flags = append(flags, "--key-file", p)
		}
	}
	return flags
}
