package partition

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"path/filepath"
	"testing"
)

// fuzzSeeds returns the fixture disks' first 64 KiB and small hand-made
// tables.
func fuzzSeeds(tb testing.TB) [][]byte {
	var seeds [][]byte
	for _, d := range []string{"gpt-disk", "mbr-disk"} {
		img := loadGz(tb, filepath.Join(fixtures, d, "disk0.img.gz"))
		seeds = append(seeds, img[:65536])
	}
	pv := loadGz(tb, filepath.Join(fixtures, "banana", "pv0.img.gz"))
	seeds = append(seeds, pv[:8192])

	seeds = append(seeds, buildGPT(512, 80, []gptPart{
		{linGUID, testParts[0].uuid, 34, 39, "boot"},
		{lvmGUID, testParts[1].uuid, 40, 46, "pv"},
	}).img)
	seeds = append(seeds, buildGPT(4096, 16, []gptPart{
		{linGUID, testParts[0].uuid, 6, 7, "boot"},
		{lvmGUID, testParts[1].uuid, 8, 10, "pv"},
	}).img)

	img := make([]byte, 128*512) // EBR chain with a loop
	primary(img, 1, 0x80, 0x83, 1, 9)
	primary(img, 2, 0, 0x05, 10, 100)
	ebr(img, 10, 0x8e, 2, 20, 30, 40)
	ebr(img, 40, 0x83, 2, 20, 0, 40)
	seeds = append(seeds, img)

	img = make([]byte, 64*512) // EBR chain ending normally
	primary(img, 1, 0, 0x0f, 8, 50)
	ebr(img, 8, 0x8e, 1, 10, 20, 20)
	ebr(img, 28, 0x83, 1, 10, 0, 0)
	seeds = append(seeds, img)

	img = make([]byte, 8*512)
	copy(img, fatBootSector())
	seeds = append(seeds, img)
	return seeds
}

func FuzzRead(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzCheck(t, data, int64(len(data)))
		// The same with the GPT CRCs made valid, to reach the checks
		// behind them.
		if fixed := fixGPTCRCs(data); fixed != nil {
			fuzzCheck(t, fixed, int64(len(fixed)))
		}
		// A device larger than what can be read.
		fuzzCheck(t, data, int64(len(data))+1<<20)
	})
}

func fuzzCheck(t *testing.T, data []byte, size int64) {
	tab, err := Read(limitedReader{data}, size)
	if tab == nil {
		if err == nil {
			t.Fatal("nil table without error")
		}
		return
	}
	if errors.Is(err, ErrNoTable) {
		t.Fatalf("table with ErrNoTable: %+v", tab)
	}
	if tab.Kind != "mbr" && tab.Kind != "gpt" {
		t.Fatalf("kind %q", tab.Kind)
	}
	if tab.SectorSize != 512 && tab.SectorSize != 4096 {
		t.Fatalf("sector size %d", tab.SectorSize)
	}
	if len(tab.Problems) > maxProblems+1 {
		t.Fatalf("%d problems", len(tab.Problems))
	}
	checkFields(t, tab, size)
	seen := map[int]bool{}
	for _, p := range tab.Partitions {
		if seen[p.Index] {
			t.Fatalf("index %d twice", p.Index)
		}
		seen[p.Index] = true
		if tab.Kind == "mbr" && (p.Logical != (p.Index > 4) || (p.Extended && p.Logical)) {
			t.Fatalf("bad MBR partition %+v", p)
		}
	}
}

// fixGPTCRCs returns a copy of data with the entry array and header CRCs
// of every GPT header at LBA 1 or the last LBA recomputed, or nil when
// there is none.
func fixGPTCRCs(data []byte) []byte {
	var out []byte
	le := binary.LittleEndian
	for _, ss := range gptSectorSizes {
		n := len(data) / ss
		for _, lba := range []int{1, n - 1} {
			off := lba * ss
			if lba < 1 || off+ss > len(data) || !bytes.Equal(data[off:off+8], gptSignature) {
				continue
			}
			if out == nil {
				out = bytes.Clone(data)
			}
			h := out[off : off+ss]
			ent := le.Uint64(h[72:])
			total := uint64(le.Uint32(h[80:])) * uint64(le.Uint32(h[84:]))
			if ent < uint64(n) && total <= 1<<20 && ent*uint64(ss)+total <= uint64(len(out)) {
				le.PutUint32(h[88:], crc32.ChecksumIEEE(out[ent*uint64(ss):ent*uint64(ss)+total]))
			}
			hs := int(le.Uint32(h[12:]))
			if hs < gptHeaderMin || hs > ss {
				continue
			}
			clear(h[16:20])
			le.PutUint32(h[16:], crc32.ChecksumIEEE(h[:hs]))
		}
	}
	return out
}
