package scan_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/scan"
)

// problemsText joins the problems of the scan's inputs.
func problemsText(res *scan.Result) string {
	var b strings.Builder
	for _, ir := range res.Inputs {
		for _, p := range ir.Problems {
			b.WriteString(p.String() + "\n")
		}
	}
	return b.String()
}

// TestOddMBRStillFindsPV scans the mbr-disk fixture with a 16-sector
// primary entry added over partition 1: Linux still exposes the
// partitions, so the PV in partition 5 is found and the overlap reported
// (it gave "no LVM2 physical volume found", no table, no problem).
func TestOddMBRStillFindsPV(t *testing.T) {
	img := bytes.Clone(fixture.Load(t, "mbr-disk").Image(t, "disk0"))
	e := img[446+32 : 446+48]
	e[4] = 0x83
	binary.LittleEndian.PutUint32(e[8:], 2048+8)
	binary.LittleEndian.PutUint32(e[12:], 16)
	res := scan.Scan([]*scan.Input{scan.NewInput("disk", bytes.NewReader(img), int64(len(img)))}, scan.Options{})
	if len(res.PVs) != 1 || res.PVs[0].Partition != 5 || res.Inputs[0].Partitions == nil {
		t.Fatalf("PVs %+v", res.PVs)
	}
	if got := problemsText(res); !strings.Contains(got, "it does not check overlaps") {
		t.Errorf("problems:\n%s", got)
	}
}

// TestRejectedMBRReported: a sector 0 with the MBR signature that is not
// used as a table says why.
func TestRejectedMBRReported(t *testing.T) {
	img := bytes.Clone(fixture.Load(t, "mbr-disk").Image(t, "disk0"))
	img[446] = 0x12 // status byte of entry 1
	res := scan.Scan([]*scan.Input{scan.NewInput("disk", bytes.NewReader(img), int64(len(img)))}, scan.Options{})
	if res.Inputs[0].Partitions != nil {
		t.Fatalf("table used: %+v", res.Inputs[0].Partitions)
	}
	if got := problemsText(res); !strings.Contains(got, "not used as a partition table: entry 1 has status byte 0x12") {
		t.Errorf("problems:\n%s", got)
	}
}

// TestDamagedSlotField damages one field of raw_locn[0] of the banana PV
// (the header checksum left stale, as damage leaves it): the copy the
// other field and the slot's checksum locate is used, seqno 6, and the
// damaged field named. A size of 2^64-1 gave a fallback to seqno 5, and
// "no volume group found" when the ring holds no other copy.
func TestDamagedSlotField(t *testing.T) {
	for _, tc := range []struct {
		field string
		alone bool // the other copies of the ring erased
	}{{"size", false}, {"size", true}, {"offset", false}, {"offset", true}} {
		t.Run(fmt.Sprintf("%s alone=%v", tc.field, tc.alone), func(t *testing.T) {
			img := bytes.Clone(fixture.Load(t, "banana").Image(t, "pv0"))
			const area, areaSize = 4096, 1044480
			rel := binary.LittleEndian.Uint64(img[area+40:])
			n := binary.LittleEndian.Uint64(img[area+48:])
			if tc.alone {
				clear(img[area+512 : area+rel])
				clear(img[area+rel+n : area+areaSize])
			}
			at := area + 48 // raw_locn[0].size
			if tc.field == "offset" {
				at = area + 40
			}
			binary.LittleEndian.PutUint64(img[at:], ^uint64(0))
			res := scan.Scan([]*scan.Input{scan.NewInput("pv", bytes.NewReader(img), int64(len(img)))}, scan.Options{})
			vg := findVG(res, "banana")
			if vg == nil || vg.Meta.Seqno != 6 || vg.Fallback != "" {
				t.Fatalf("VG %+v\n%s", vg, problemsText(res))
			}
			var all []string
			for _, p := range res.PVs[0].MDAs[0].Problems {
				all = append(all, p.String())
			}
			got := strings.Join(all, "\n")
			if !strings.Contains(got, "raw_locn[0]."+tc.field) || !strings.Contains(got, "has the checksum the slot records") {
				t.Errorf("problems:\n%s", got)
			}
		})
	}
}

// TestFallbackParsesNewestOnly breaks the committed copy (its slot's
// checksum) of a PV whose 64 MiB area holds 32,767 generations: the
// newest intact one is used, found by parsing newest first, not every
// generation of the ring (which allocated some 800 MiB).
func TestFallbackParsesNewestOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MiB area")
	}
	const area, areaSize, n = 4096, 64 << 20, 32767
	pv := bytes.Clone(fixture.Load(t, "banana").Image(t, "pv0"))
	text := pv[area+8704 : area+8704+1759] // seqno 6, without its NUL
	img := make([]byte, area+areaSize+1<<20)
	copy(img, pv[:area+512])
	le := binary.LittleEndian
	le.PutUint64(img[512+32+32:], uint64(len(img)))                      // device_size
	le.PutUint64(img[512+32+40:], area+areaSize)                         // data area
	le.PutUint64(img[512+32+80:], areaSize)                              // metadata area size
	le.PutUint32(img[512+16:], scan.CRC(scan.InitialCRC, img[532:1024])) // label crc
	h := img[area : area+512]
	le.PutUint64(h[32:], areaSize)
	var lastRel uint64
	var lastLen int
	for i := 0; i < n; i++ {
		g := bytes.Replace(text, []byte("seqno = 6\n"), []byte(fmt.Sprintf("seqno = %d\n", i+1)), 1)
		g = append(g, 0)
		rel := uint64(512 + i*2048)
		copy(img[area+rel:], g)
		lastRel, lastLen = rel, len(g)
	}
	le.PutUint64(h[40:], lastRel)
	le.PutUint64(h[48:], uint64(lastLen))
	le.PutUint32(h[56:], 0xbadc0ffe) // the committed copy's checksum is wrong
	le.PutUint32(h[0:], scan.CRC(scan.InitialCRC, h[4:]))

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	res := scan.Scan([]*scan.Input{scan.NewInput("pv", bytes.NewReader(img), int64(len(img)))}, scan.Options{})
	runtime.ReadMemStats(&after)
	vg := findVG(res, "banana")
	if vg == nil || vg.Meta.Seqno != n-1 || !strings.Contains(vg.Fallback, "fails its checksum") {
		var mp []string
		for _, p := range res.PVs {
			for _, m := range p.MDAs {
				for _, pr := range m.Problems {
					mp = append(mp, pr.String())
				}
			}
		}
		t.Fatalf("VG %+v (%d PVs)\n%s%s", vg, len(res.PVs), problemsText(res), strings.Join(mp, "\n"))
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d MiB allocated", alloc>>20)
	if alloc > 256<<20 {
		t.Errorf("%d MiB allocated", alloc>>20)
	}
}
