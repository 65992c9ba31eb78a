package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/internal/fixture"
)

// scanText runs `scan` on a fixture's images (leaving out those named in
// without) and returns its text output.
func scanText(t *testing.T, name string, without []string, args ...string) string {
	t.Helper()
	f := fixture.Load(t, name)
	dir := t.TempDir()
	var imgs []string
	for _, im := range f.ImageNames(false) {
		skip := false
		for _, w := range without {
			skip = skip || w == im
		}
		if skip {
			continue
		}
		p := filepath.Join(dir, im+".img")
		if err := os.WriteFile(p, f.Image(t, im), 0o444); err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, p)
	}
	out, _, _ := run(t, "", append(append([]string{"scan"}, args...), imgs...)...)
	return out
}

// wantLines checks that every want is a substring of some line of out.
func wantLines(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("%s: no %q in\n%s", what, w, out)
		}
	}
}

// TestScanTextSnapshot checks that an old-style snapshot reads as lvs
// shows it: a snapshot of its origin with the origin's size, and the COW
// store's size and how full it is (it read as a 3 MiB linear LV with no
// origin).
func TestScanTextSnapshot(t *testing.T) {
	out := scanText(t, "snapshot", nil)
	wantLines(t, "snapshot", out,
		"├─ LV base  8.00 MiB  linear  attr owi---s---  uuid ",
		"│   origin of base_snap\n",
		"├─ LV base_snap  8.00 MiB  snapshot  attr swi---s---  uuid ",
		"│   snapshot of base (8.00 MiB): COW store 3.00 MiB (the segments below), 29.43% used (904.00 KiB, with 224 chunks of 4.00 KiB copied)\n",
		"segment 1: extents 0..31  snapshot  origin base, COW store base_snap, chunk 4.00 KiB\n",
		"   attr wz--n-  size 23.00 MiB  free 12.00 MiB  (1 PV, 3 LVs)\n",
		"│   attr a--  size 23.00 MiB  used 11.00 MiB  free 12.00 MiB\n")
	if strings.Contains(out, "base_snap  3.00 MiB") {
		t.Errorf("base_snap shown with its COW store's size as its own:\n%s", out)
	}
	// An old generation: what the metadata says, no usage read from
	// today's data.
	past := scanText(t, "snapshot", nil, "--seqno", "4")
	wantLines(t, "snapshot --seqno", past, "snapshot of base (8.00 MiB): COW store 3.00 MiB (the segments below), chunk 4.00 KiB; its use not shown: --seqno shows an old generation")
	if js := scanText(t, "snapshot", nil, "--json", "--seqno", "4"); strings.Contains(js, "data_percent") || !strings.Contains(js, `"cow_size": 3145728`) {
		t.Errorf("scan --json --seqno reports today's usage for an old generation:\n%s", js)
	}
}

// TestScanTextThin checks thin pools with data and metadata usage and
// transaction ids, and thin LVs with their pool, origin and mapped share.
func TestScanTextThin(t *testing.T) {
	out := scanText(t, "thin", nil)
	wantLines(t, "thin", out,
		"├─ LV pool  16.00 MiB  thin-pool  attr twi---tz--  uuid ",
		"│   thin pool: data pool_tdata 16.00 MiB, 65.62% used (168 of 256 blocks of 64.00 KiB)\n",
		"│              metadata pool_tmeta 2.00 MiB, 12.30% used (63 of 512 blocks, 51 of them held back by the kernel)\n",
		"│   transaction id 3 (the pool's superblock and the VG metadata agree)\n",
		"│   3 thin LVs, chunk 64.00 KiB, zeroes new blocks, discards passdown\n",
		"│   thin LV of pool pool (device id 1): 6.00 MiB mapped, 25.00% of it (96 of 384 blocks of 64.00 KiB)\n",
		"│   thin LV of pool pool (device id 3), snapshot of vol1: 7.00 MiB mapped, 29.17% of it (112 of 384 blocks of 64.00 KiB)\n",
		"│   thin pool data of pool\n",
		"│   thin pool metadata of pool\n",
		"│   pool metadata spare\n")
}

// TestScanTextCache checks cache LVs with their mode and policy, and that
// the cache pool's verdict numbers its segment from 1.
func TestScanTextCache(t *testing.T) {
	out := scanText(t, "cache", nil)
	wantLines(t, "cache", out,
		"├─ LV data  12.00 MiB  cache  attr Cwi---C---  uuid ",
		"│   cache of data_corig on cache pool cpool_cpool: writethrough, policy smq, chunk 64.00 KiB; 100.00% used (64 of 64 blocks), 0 dirty blocks\n",
		"│   writecache of wdata_wcorig on cachevol wfast_cvol, block 4.00 KiB; 25.10% used (256 of 1020 blocks), 256 blocks not yet written back to wdata_wcorig\n",
		"│   cache pool (data cpool_cpool_cdata, metadata cpool_cpool_cmeta) of data: writethrough, policy smq, chunk 64.00 KiB",
		"│   cachevol of wdata\n",
		"│   cache origin of data\n",
		"lv cpool_cpool: segment 1 (cache-pool+METADATA_FORMAT)")
}

// TestScanTextRAIDAndMirror checks that raid and mirror segments count
// images and legs, never stripes, except a striped raid level's stripe
// size.
func TestScanTextRAIDAndMirror(t *testing.T) {
	out := scanText(t, "raid", nil)
	wantLines(t, "raid", out,
		"segment 1: extents 0..15  raid1  2 images, r1_rimage_0 LE 0, r1_rimage_1 LE 0\n",
		"segment 1: extents 0..23  raid5  4 images, stripe size 16.00 KiB, r5_rimage_0 LE 0",
		"│   raid image of r1\n",
		"│   raid metadata of r1\n")
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, " raid1 ") && strings.Contains(l, "stripe") {
			t.Errorf("raid1 segment described with stripes: %s", l)
		}
	}
	out = scanText(t, "mirror", nil)
	wantLines(t, "mirror", out,
		"segment 1: extents 0..15  mirror  2 legs, core log, mcore_mimage_0 LE 0, mcore_mimage_1 LE 0\n",
		"segment 1: extents 0..15  mirror  2 legs, log mdisk_mlog, mdisk_mimage_0 LE 0, mdisk_mimage_1 LE 0\n",
		"│   mirror image of mcore\n")
	if strings.Contains(out, "stripe") {
		t.Errorf("mirror described with stripes:\n%s", out)
	}
}

// TestMissingPVNamed checks that a PV no input holds is named as the VG
// names it, with its UUID and the device it was last seen as, in scan's
// verdict and problems and in export's refusal.
func TestMissingPVNamed(t *testing.T) {
	const want = "PV pv1 (j1Z3qo-4rQ2-L6CR-j3po-vw0E-tKuo-6aD2UJ, last seen as /dev/vdb) is missing: no input holds it"
	out := scanText(t, "multipv", []string{"pv1"})
	wantLines(t, "multipv without pv1", out,
		"│   ✗ cannot export: 10.00 MiB of 30.00 MiB have no source ("+want+"); --allow-partial exports them as zeros\n",
		"  error: VG multipv: "+want+"\n",
		"├─ pv1 j1Z3qo-4rQ2-L6CR-j3po-vw0E-tKuo-6aD2UJ  MISSING (last seen as /dev/vdb)  pe_start 1048576  60 extents\n",
		"│   attr a-m  size 15.00 MiB  used 10.00 MiB  free 5.00 MiB\n",
		"   attr wz-pn-  size 45.00 MiB  free 7.00 MiB  (3 PVs, 3 LVs)\n")
	if strings.Contains(out, "is not available") {
		t.Errorf("old wording:\n%s", out)
	}

	f := fixture.Load(t, "multipv")
	dir := t.TempDir()
	var imgs []string
	for _, im := range []string{"pv0", "pv2"} {
		p := filepath.Join(dir, im+".img")
		if err := os.WriteFile(p, f.Image(t, im), 0o444); err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, p)
	}
	_, stderr, err := run(t, "", append([]string{"export", "-o", filepath.Join(dir, "span.img"), "multipv/span"}, imgs...)...)
	if err == nil || !strings.Contains(err.Error()+stderr, want) {
		t.Errorf("export refusal: %v\n%s", err, stderr)
	}
	_, stderr, _ = run(t, "", append([]string{"export", "--allow-partial", "-o", filepath.Join(dir, "span2.img"), "multipv/span"}, imgs...)...)
	if !strings.Contains(stderr, "LV bytes [10485760, 20971520) (10.00 MiB): "+want) {
		t.Errorf("partial export warning:\n%s", stderr)
	}
}

// segmentZero finds a segment numbered from 0 ("segment 0", "seg 0").
var segmentZero = regexp.MustCompile(`\bseg(ment)? 0\b`)

// TestNoSegmentZero checks that no fixture's scan, text or JSON, numbers
// a segment from 0: segments are numbered from 1 everywhere, as the
// metadata text numbers them.
func TestNoSegmentZero(t *testing.T) {
	for _, name := range fixture.Names() {
		for _, args := range [][]string{nil, {"--json"}} {
			out := scanText(t, name, nil, args...)
			if m := segmentZero.FindString(out); m != "" {
				t.Errorf("%s %v: %q in\n%s", name, args, m, out)
			}
		}
	}
}

// TestDiffSaysLinear checks that diff's text names a one-stripe segment
// linear, as scan, lvs and the inspector do; --json keeps the metadata's
// "striped".
func TestDiffSaysLinear(t *testing.T) {
	f := fixture.Load(t, "multiseg")
	p := filepath.Join(t.TempDir(), "pv0.img")
	if err := os.WriteFile(p, f.Image(t, "pv0"), 0o444); err != nil {
		t.Fatal(err)
	}
	out, _, err := run(t, "", "diff", "--vg", "multiseg", "4", "5", p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "+ LV alpha segment extents 16..23 linear on pv0 PE 36") || strings.Contains(out, "striped") {
		t.Errorf("diff text:\n%s", out)
	}
	js, _, err := run(t, "", "diff", "--json", "--vg", "multiseg", "4", "5", p)
	if err != nil || !strings.Contains(js, `"type": "striped"`) {
		t.Errorf("diff --json: %v\n%s", err, js)
	}
}
