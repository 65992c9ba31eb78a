package main

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/internal/synth"
)

// hugeOffsetPV writes a PV whose header puts its metadata area at byte
// 2^63 + 4096 and whose metadata (in the data area... none: the area
// cannot be read) is absent, plus a second, readable PV of a VG whose PV
// claims 2^63 - 1 extents: every offset
// and size in the output is at least 2^63.
func hugeOffsetPV(t *testing.T) (bad, big string) {
	t.Helper()
	dir := t.TempDir()
	bad, big = filepath.Join(dir, "bad.img"), filepath.Join(dir, "big.img")
	if err := synth.WriteImages(synth.ManyLinear("small", 1), []string{bad}, nil); err != nil {
		t.Fatal(err)
	}
	img, err := os.ReadFile(bad)
	if err != nil {
		t.Fatal(err)
	}
	lb := img[512:1024]
	binary.LittleEndian.PutUint64(lb[32+72:], 1<<63+4096) // mda1 offset
	synth.SealLabel(lb)
	if err := os.WriteFile(bad, img, 0o644); err != nil {
		t.Fatal(err)
	}
	vg := &synth.VG{Name: "huge", PVs: []synth.PV{{UUID: synth.UUIDFor("pv huge", 0), PECount: 1<<63 - 1, DataBytes: 1 << 20}},
		LVs: []synth.LV{synth.LinearLV("big", 0, 0, 1<<62)}}
	if err := synth.WriteImages(vg, []string{big}, nil); err != nil {
		t.Fatal(err)
	}
	return bad, big
}

var negative = regexp.MustCompile(`(^|[^\w.])-[0-9]`)

// TestOffsetsUnsigned: offsets of 2^63 and more (a metadata area at byte
// 2^63 + 4096) and sizes computed from counts the metadata claims (2^63 -
// 1 extents of 4 MiB, an LV of 2^62 extents) print as the unsigned
// numbers they are, in the text and the JSON; they used to wrap to
// negative numbers.
func TestOffsetsUnsigned(t *testing.T) {
	bad, big := hugeOffsetPV(t)
	out, _, _ := run(t, "", "scan", bad, big)
	for _, l := range strings.Split(out, "\n") {
		if negative.MatchString(l) {
			t.Errorf("negative number: %s", l)
		}
	}
	for _, want := range []string{"mda1 at 9223372036854779904", "LV big  16777216.00 EiB", "EiB"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	for _, args := range [][]string{{"pvs"}, {"vgs"}, {"lvs"}, {"pvs", "--units", "b", "-o", "+pe_start,dev_size"}, {"vgs", "--units", "b"}, {"lvs", "--units", "s", "--json"}} {
		out, _, _ := run(t, "", append(args, big)...)
		if negative.MatchString(out) {
			t.Errorf("%v prints a negative number:\n%s", args, out)
		}
	}
	js, _, _ := run(t, "", "scan", "--json", bad, big)
	if negative.MatchString(js) {
		t.Errorf("negative number in the JSON:\n%s", negative.FindAllString(js, -1))
	}
	var doc struct {
		PVs []struct {
			MDAs []struct {
				Offset uint64 `json:"offset"`
			} `json:"mdas"`
		} `json:"pvs"`
		VGs []struct {
			Size json.Number `json:"size"`
		} `json:"vgs"`
	}
	if err := json.Unmarshal([]byte(js), &doc); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range doc.PVs {
		for _, m := range p.MDAs {
			found = found || m.Offset == 1<<63+4096
		}
	}
	if !found {
		t.Errorf("no metadata area at 2^63 + 4096 in the JSON")
	}
	for _, v := range doc.VGs {
		if v.Size != "" && v.Size != "38685626227668133586403328" && v.Size != "4194304" {
			t.Errorf("VG size %s", v.Size)
		}
	}
}

// TestScanHugeStripedLV: an LV of 2 stripes of 64 KiB over 8 TiB (2^27
// chunks) on a PV whose image holds 16 MiB: scan, scan --json and lvs
// finish at once and say what has no source. Every chunk used to become
// a mapping piece at open (gigabytes, and minutes per verdict).
func TestScanHugeStripedLV(t *testing.T) {
	img := filepath.Join(t.TempDir(), "striped.img")
	pv := synth.PV{UUID: synth.UUIDFor("pv striped", 0), PECount: 1 << 30, DataBytes: 16 << 20}
	vg := &synth.VG{Name: "striped", PVs: []synth.PV{pv},
		LVs: []synth.LV{{Name: "wide", Segments: []synth.Segment{{Count: 1 << 21, StripeSize: 128, Stripes: []synth.Stripe{{PV: 0, Start: 0}, {PV: 0, Start: 1 << 29}}}}}}}
	if err := synth.WriteImages(vg, []string{img}, nil); err != nil {
		t.Fatal(err)
	}
	out, _, _ := run(t, "", "scan", img)
	if !strings.Contains(out, "LV wide  8.00 TiB  striped") || !strings.Contains(out, "of 8.00 TiB have no source") {
		t.Errorf("scan:\n%s", out)
	}
	js, _, _ := run(t, "", "scan", "--json", img)
	// All but the 16 MiB of the first stripe the image holds.
	if !strings.Contains(js, `"missing_bytes": 8796076244992`) {
		t.Errorf("scan --json does not count the missing bytes (8 TiB less 16 MiB)")
	}
	if out, _, err := run(t, "", "lvs", img); err != nil || !strings.Contains(out, "wide") {
		t.Errorf("lvs: %v\n%s", err, out)
	}
}
