package history_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/history"
)

// TestWrappedRing checks the history fixture, whose 32 KiB area wrapped
// several times: the generations pvck lists (checked elsewhere) plus the
// tail of an older copy whose head was overwritten, identified through
// the archive by its description and its visible LVs.
func TestWrappedRing(t *testing.T) {
	f := fixture.Load(t, "history")
	res := scanImages(t, f)
	h := history.Scan(res, history.Options{})
	arch := archive(t, f)["hist"]
	gens := h.VG("hist")
	if len(gens) == 0 {
		t.Fatal("no generations")
	}
	wrapped := 0
	for i, g := range gens {
		if i > 0 && g.Seqno != gens[i-1].Seqno+1 {
			t.Errorf("generations not consecutive: %d after %d", g.Seqno, gens[i-1].Seqno)
		}
		if len(g.Copies) != 1 {
			t.Errorf("seqno %d: %d copies", g.Seqno, len(g.Copies))
		}
		if g.Copies[0].Wrapped {
			wrapped++
		}
		if g.Current != (g.Seqno == res.VGs[0].Meta.Seqno) {
			t.Errorf("seqno %d: current %v", g.Seqno, g.Current)
		}
		if !slices.Equal(g.LVs, lvNames(arch[g.Seqno].vg)) {
			t.Errorf("seqno %d: LVs %v, archive %v", g.Seqno, g.LVs, lvNames(arch[g.Seqno].vg))
		}
	}
	if wrapped != 1 {
		t.Errorf("%d wrapped copies, want 1", wrapped)
	}
	frags := h.Fragments()
	if len(frags) == 0 {
		t.Fatal("no fragment found")
	}
	oldest := gens[0].Seqno
	for _, c := range frags {
		fr := c.Fragment
		if fr.Kind != scan.FragmentTail || !fr.Terminated || c.HasSeqno || c.Parsed || c.CRCOK {
			t.Errorf("fragment at %d: %+v", c.Offset, fr)
		}
		// "Write from CMD." on disk is seqno N where the archive's
		// "Created *before* executing 'CMD'" is seqno N-1.
		cmd := strings.TrimSuffix(strings.TrimPrefix(fr.Description, "Write from "), ".")
		var seq uint64
		for q, a := range arch {
			if a.before && a.command == cmd {
				seq = q + 1
			}
		}
		if seq == 0 || seq >= oldest || arch[seq] == nil {
			t.Errorf("fragment at %d: description %q names no older generation (oldest intact %d)", c.Offset, fr.Description, oldest)
			continue
		}
		if fr.ProbableSeqno != seq || model.BareUUID(fr.ProbableVGUUID) != gens[0].Key() {
			t.Errorf("fragment at %d: probable seqno %d (%s), archive says %d", c.Offset, fr.ProbableSeqno, fr.ProbableVGUUID, seq)
		}
		if len(fr.LVs) == 0 || !hasSuffix(lvNames(arch[seq].vg), fr.LVs) {
			t.Errorf("fragment at %d (seqno %d): LVs %v are not the last LVs of %v", c.Offset, seq, fr.LVs, lvNames(arch[seq].vg))
		}
		if fr.CreationTime != arch[seq].vg.CreationTime && fr.CreationTime == 0 {
			t.Errorf("fragment at %d: no creation time", c.Offset)
		}
		t.Logf("fragment at byte %d, %d bytes: seqno %d (%s), LVs %v", c.Offset, c.Size, seq, fr.Description, fr.LVs)
	}
}

// TestLayoutVariants checks the second metadata area, the label in sector
// 3 and the ignored area: every generation of lay1 is in three areas, the
// ignored area holds the stale generations up to the one that set the
// flag, and the later ones only on the other PV.
func TestLayoutVariants(t *testing.T) {
	f := fixture.Load(t, "layout-variants")
	res := scanImages(t, f)
	h := history.Scan(res, history.Options{})
	for _, g := range h.VG("lay1") {
		var where []string
		for _, c := range g.Copies {
			where = append(where, c.Path()+":"+string(rune('0'+c.Area.Index)))
		}
		slices.Sort(where)
		if !slices.Equal(where, []string{"pv0:1", "pv0:2", "pv1:1"}) {
			t.Errorf("lay1 seqno %d at %v", g.Seqno, where)
		}
	}
	var ignored *history.Area
	for _, a := range h.Areas {
		if a.Ignored {
			if ignored != nil {
				t.Fatal("two ignored areas")
			}
			ignored = a
		}
	}
	if ignored == nil || ignored.Path != "pv3" {
		t.Fatalf("ignored area: %+v", ignored)
	}
	var staleSeq uint64
	for _, c := range ignored.Copies {
		if c.Committed {
			staleSeq = c.Seqno
		}
	}
	lay2 := h.VG("lay2")
	cur := lay2[len(lay2)-1]
	if !cur.Current || staleSeq == 0 || staleSeq >= cur.Seqno {
		t.Fatalf("ignored area committed seqno %d, current %d", staleSeq, cur.Seqno)
	}
	for _, g := range lay2 {
		onPV3 := false
		for _, c := range g.Copies {
			onPV3 = onPV3 || c.Area == ignored
		}
		if onPV3 != (g.Seqno <= staleSeq) {
			t.Errorf("lay2 seqno %d: on the ignored area %v (stale seqno %d)", g.Seqno, onPV3, staleSeq)
		}
	}
	// The description of the stale generation says why it is stale.
	for _, g := range lay2 {
		if g.Seqno == staleSeq && !strings.Contains(g.Description, "--metadataignore y") {
			t.Errorf("stale generation %d: %q", g.Seqno, g.Description)
		}
	}
}

// TestReportJSON checks the JSON names other tools read and that every
// location is listed once.
func TestReportJSON(t *testing.T) {
	f := fixture.Load(t, "layout-variants")
	res := scanImages(t, f)
	h := history.Scan(res, history.Options{})
	b, err := json.Marshal(h.Report("lay1"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Generations []map[string]any `json:"generations"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range h.VG("lay1") {
		n += len(g.Copies)
	}
	if len(doc.Generations) != n || n == 0 {
		t.Fatalf("%d entries, want %d", len(doc.Generations), n)
	}
	for _, e := range doc.Generations {
		for _, k := range []string{"vg_name", "vg_uuid", "seqno", "pv_uuid", "mda", "offset", "size", "crc_ok", "committed", "parsed", "lvs"} {
			if _, ok := e[k]; !ok {
				t.Errorf("entry without %q: %v", k, e)
			}
		}
		if e["vg_name"] != "lay1" || e["crc_ok"] != true || e["parsed"] != true {
			t.Errorf("entry %v", e)
		}
	}
	var buf bytes.Buffer
	if err := h.WriteText(&buf, ""); err != nil || !strings.Contains(buf.String(), "VG lay2") {
		t.Errorf("text: %v\n%s", err, buf.String())
	}
}

// TestOtherVGLabelled re-initialises a copy of banana's PV as a PV of a
// new VG by rewriting the header's slots to a copy of another VG planted
// in the buffer, and checks that banana's copies are kept and labelled.
func TestOtherVGLabelled(t *testing.T) {
	f := fixture.Load(t, "banana")
	img := bytes.Clone(f.Image(t, "pv0"))
	const area = 4096
	// A copy of another VG at relative 16384, committed in slot 0.
	text := []byte(otherVGText)
	text = append(text, 0)
	copy(img[area+16384:], text)
	hdr := img[area : area+512]
	putU64(hdr[40:], 16384)
	putU64(hdr[48:], uint64(len(text)))
	putU32(hdr[56:], scan.CRC(scan.InitialCRC, text))
	putU32(hdr[0:], scan.CRC(scan.InitialCRC, hdr[4:]))
	res := scan.Scan([]*scan.Input{scan.NewInput("pv0", bytes.NewReader(img), int64(len(img)))}, scan.Options{})
	if len(res.VGs) != 1 || res.VGs[0].Meta.Name != "newvg" {
		t.Fatalf("VGs: %d", len(res.VGs))
	}
	h := history.Scan(res, history.Options{})
	other, own := 0, 0
	for _, c := range h.Copies {
		switch {
		case c.VGName == "banana" && c.OtherVG:
			other++
		case c.VGName == "newvg" && !c.OtherVG && c.Committed:
			own++
		default:
			t.Errorf("copy %s seqno %d other %v committed %v", c.VGName, c.Seqno, c.OtherVG, c.Committed)
		}
	}
	if other == 0 || own != 1 {
		t.Errorf("%d banana copies labelled, %d newvg", other, own)
	}
	if len(h.VG("banana")) == 0 || h.VG("banana")[0].Current {
		t.Error("banana generations missing or current")
	}
}

func putU64(b []byte, v uint64) {
	for i := 0; i < 8; i++ {
		b[i] = byte(v >> (8 * i))
	}
}

func putU32(b []byte, v uint32) {
	for i := 0; i < 4; i++ {
		b[i] = byte(v >> (8 * i))
	}
}

// otherVGText is a metadata copy of another VG on banana's PV, as a
// re-used disk would hold it.
const otherVGText = `newvg {
id = "Ab12Cd-Ef34-Gh56-Ij78-Kl90-Mn12-Op34Qr"
seqno = 2
format = "lvm2"
status = ["RESIZEABLE", "READ", "WRITE"]
flags = []
extent_size = 8192
max_lv = 0
max_pv = 0
metadata_copies = 0

physical_volumes {

pv0 {
id = "zOyPRb-qflr-3FM5-kMw3-Cx05-k5g2-UUeFM5"
device = "/dev/sdz"

status = ["ALLOCATABLE"]
flags = []
dev_size = 28672
pe_start = 2048
pe_count = 3
}
}

}
# Generated by LVM2 version 2.03.16(2) (2022-05-18): Tue Nov 24 22:50:33 2026

contents = "Text Format Volume Group"
version = 1

description = "Write from vgcreate newvg /dev/sdz."

creation_host = "elsewhere"	# Linux elsewhere
creation_time = 1795560700	# Tue Nov 24 22:51:40 2026

`

// TestRemovedVG zeroes both slots of banana's metadata area, as vgremove
// does: the scan finds no VG, the history still holds every generation,
// and time travel brings the VG back read-only.
func TestRemovedVG(t *testing.T) {
	f := fixture.Load(t, "banana")
	img := bytes.Clone(f.Image(t, "pv0"))
	hdr := img[4096 : 4096+512]
	clear(hdr[40:88])
	putU32(hdr[0:], scan.CRC(scan.InitialCRC, hdr[4:]))
	res := scan.Scan([]*scan.Input{scan.NewInput("pv0", bytes.NewReader(img), int64(len(img)))}, scan.Options{})
	if len(res.VGs) != 0 {
		t.Fatalf("%d VGs after vgremove", len(res.VGs))
	}
	h := history.Scan(res, history.Options{})
	want, _ := readPvck(t, f.Dir+"/pvck/pv0.metadata_all.txt")
	gens := h.VG("banana")
	if len(gens) != len(want) || len(h.Areas) != 1 || !h.Areas[0].SlotsZero {
		t.Fatalf("%d generations (want %d), areas %+v", len(gens), len(want), h.Areas)
	}
	for _, g := range gens {
		if g.Committed || g.Current || !g.CRCOK() {
			t.Errorf("seqno %d: committed %v current %v crc %v", g.Seqno, g.Committed, g.Current, g.CRCOK())
		}
	}
	last := want[len(want)-1].seqno
	if err := history.ApplySeqno(res, "banana", last); err != nil {
		t.Fatal(err)
	}
	if len(res.VGs) != 1 || res.VGs[0].Meta.Seqno != last || res.VGs[0].PVs[0].Missing {
		t.Fatalf("VGs after ApplySeqno: %+v", res.VGs)
	}
	for _, lv := range f.Manifest.LVs {
		l := res.VGs[0].Meta.LV(lv.Name)
		if l == nil {
			t.Errorf("LV %s missing", lv.Name)
		} else if got := lvSHA256(t, res.VGs[0], l); got != lv.ExpectedSHA256() {
			t.Errorf("LV %s: sha256 %s, want %s", lv.Name, got, lv.ExpectedSHA256())
		}
	}
}

// TestWipedLabel zeroes banana's label sector: no PV is found, but the
// search finds the metadata-area header and the history lists every copy.
func TestWipedLabel(t *testing.T) {
	f := fixture.Load(t, "banana")
	img := bytes.Clone(f.Image(t, "pv0"))
	clear(img[512:1024])
	res := scan.Scan([]*scan.Input{scan.NewInput("pv0", bytes.NewReader(img), int64(len(img)))}, scan.Options{})
	if len(res.PVs) != 0 {
		t.Fatalf("%d PVs with the label wiped", len(res.PVs))
	}
	h := history.Scan(res, history.Options{})
	want, _ := readPvck(t, f.Dir+"/pvck/pv0.metadata_all.txt")
	if len(h.Areas) != 1 || h.Areas[0].PV != nil || h.Areas[0].Offset != 4096 || !h.Areas[0].HeaderOK {
		t.Fatalf("areas %+v", h.Areas)
	}
	got := 0
	for _, c := range h.Copies {
		for _, w := range want {
			if c.Offset == int64(w.off) && c.Size == w.length && c.ComputedCRC == w.crc {
				got++
			}
		}
	}
	if got != len(want) {
		t.Errorf("%d of %d copies found", got, len(want))
	}
	if h2 := history.Scan(res, history.Options{NoSearch: true}); len(h2.Copies) != 0 {
		t.Errorf("NoSearch still found %d copies", len(h2.Copies))
	}
	if _, err := h.Open(res, "banana", want[0].seqno); err == nil {
		t.Error("a generation without any PV label opened")
	}
}
