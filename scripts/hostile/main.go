// Command hostile writes the crafted PV images of issue 11 (metadata texts
// and partition tables built to exhaust a reader) into a directory, for
// scripts/hostile.sh to time lvminspect on. Images are sparse files.
//
//	go run ./scripts/hostile -out DIR [-fixtures testdata/fixtures] [CASE...]
//	go run ./scripts/hostile -list
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"flag"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/lvminspect/lvminspect/internal/synth"
)

// pvUUID is the PV UUID of every synthetic PV (bare form).
const pvUUID = "zOyPRbqflr3FM5kMw3Cx05k5g2UUeFM5"

// A hostileCase writes one image file.
type hostileCase struct {
	what  string
	write func(path, fixtures string) error
}

var cases = map[string]hostileCase{
	"array-30m": {"one LV with flags = [0,0,...] of 30 M elements (63 MB text)", func(p, _ string) error {
		var b bytes.Buffer
		b.Grow(61 << 20)
		b.WriteString("flags = [")
		for i := 0; i < 30_000_000; i++ {
			b.WriteString("0,")
		}
		b.WriteString("0]")
		return writeSynth(p, 128<<20, vgText(1, b.String(), "", "", ""))
	}},
	"comments-31m": {"31 M comment lines in the VG section (62 MB text)", func(p, _ string) error {
		return writeSynth(p, 128<<20, vgText(1, "flags = []", "", strings.Repeat("#\n", 31_000_000), ""))
	}},
	"unknown-keys-6m": {"6 M unknown keys in an LV (60 MB text)", func(p, _ string) error {
		var b strings.Builder
		b.Grow(61 << 20)
		b.WriteString("flags = []\n")
		for i := 0; i < 6_000_000; i++ {
			fmt.Fprintf(&b, "x%x=0\n", i)
		}
		return writeSynth(p, 128<<20, vgText(1, b.String(), "", "", ""))
	}},
	"description-60m": {"a valid 60 MB description", func(p, _ string) error {
		return writeSynth(p, 128<<20, vgText(1, "flags = []", strings.Repeat("d", 60<<20), "", ""))
	}},
	"lvs-20k": {"20,000 linear LVs", func(p, _ string) error {
		return writeSynth(p, 64<<20, vgText(1, "flags = []", "", "", manyLVs(20000)))
	}},
	"lvs-290k": {"290,915 linear LVs (about 62 MB text)", func(p, _ string) error {
		return writeSynth(p, 128<<20, vgText(1, "flags = []", "", "", manyLVs(290915)))
	}},
	"copies-65535": {"a 64 MiB metadata area holding 65,535 copies", writeCopies},
	"carve-131072": {"131,072 PV labels in 256 MiB (for --carve)", writeCarveLabels},
	"sparse-1t":    {"a 1 TiB sparse file with 4 KiB of data every 64 MiB and a PV at 1 TiB - 64 MiB (for --carve)", writeSparse1T},
	"mbr-overlap": {"mbr-disk plus a 16-sector primary entry overlapping partition 1", func(p, fx string) error {
		return patchFixture(p, fx, "mbr-disk", "disk0", func(img []byte) {
			putMBREntry(img, 2, 0x83, 2048+8, 16)
		})
	}},
	"mbr-four-extended": {"mbr-disk with four extended entries", func(p, fx string) error {
		return patchFixture(p, fx, "mbr-disk", "disk0", func(img []byte) {
			for i := 0; i < 4; i++ {
				putMBREntry(img, i, 0x05, 10240, 71680)
			}
		})
	}},
	"mbr-extended-at-0": {"mbr-disk plus an extended entry starting at sector 0", func(p, fx string) error {
		return patchFixture(p, fx, "mbr-disk", "disk0", func(img []byte) {
			putMBREntry(img, 2, 0x05, 0, 81920)
		})
	}},
	"gpt-bad-primary-entry": {"gpt-disk whose primary entry 2 has last LBA < first LBA (CRCs recomputed); the backup entry is intact", func(p, fx string) error {
		return patchFixture(p, fx, "gpt-disk", "disk0", func(img []byte) {
			e := img[2*512+128:]
			binary.LittleEndian.PutUint64(e[40:], 5) // last LBA
			fixGPTPrimary(img)
		})
	}},
	"rawlocn-size": {"banana pv0 with only raw_locn[0].size damaged (2^64-1)", func(p, fx string) error {
		return patchFixture(p, fx, "banana", "pv0", func(img []byte) {
			binary.LittleEndian.PutUint64(img[4096+48:], ^uint64(0))
		})
	}},
}

func main() {
	out := flag.String("out", "", "directory to write the images into")
	fixtures := flag.String("fixtures", "testdata/fixtures", "the fixtures directory")
	list := flag.Bool("list", false, "list the cases")
	flag.Parse()
	names := flag.Args()
	if len(names) == 0 {
		for n := range cases {
			names = append(names, n)
		}
		sort.Strings(names)
	}
	if *list {
		for _, n := range names {
			fmt.Printf("%-22s %s\n", n, cases[n].what)
		}
		return
	}
	if *out == "" {
		fmt.Fprintln(os.Stderr, "hostile: -out DIR is required")
		os.Exit(2)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "hostile:", err)
		os.Exit(1)
	}
	for _, n := range names {
		c, ok := cases[n]
		if !ok {
			fmt.Fprintf(os.Stderr, "hostile: no case %q (see -list)\n", n)
			os.Exit(2)
		}
		path := filepath.Join(*out, n+".img")
		if err := c.write(path, *fixtures); err != nil {
			fmt.Fprintf(os.Stderr, "hostile: %s: %v\n", n, err)
			os.Exit(1)
		}
	}
}

// lvmCRC is LVM's checksum (CRC-32, reflected polynomial 0xEDB88320,
// initial value 0xf597a6cf, no final inversion).
func lvmCRC(b []byte) uint32 {
	return ^crc32.Update(^uint32(0xf597a6cf), crc32.IEEETable, b)
}

// vgText is the text of VG "hostile" with one PV and one linear LV (more
// with lvs), lvExtra inside the LV section, vgExtra inside the VG section.
func vgText(seqno int, lvExtra, description, vgExtra, lvs string) []byte {
	return synth.HostileVG(seqno, lvExtra, description, vgExtra, lvs)
}

func manyLVs(n int) string { return synth.ManyLVs(n) }

// pvHead is the first 4096+512 bytes of a PV with one metadata area of
// areaSize bytes at 4096 whose slot 0 records size bytes at relative
// offset rel with checksum crc; the data area starts at dataOff.
func pvHead(areaSize, dataOff, devSize, rel, size uint64, crc uint32) []byte {
	head := make([]byte, 4096+512)
	lb := head[512:1024]
	copy(lb, "LABELONE")
	binary.LittleEndian.PutUint64(lb[8:], 1)
	binary.LittleEndian.PutUint32(lb[20:], 32)
	copy(lb[24:], "LVM2 001")
	ph := lb[32:]
	copy(ph, pvUUID)
	binary.LittleEndian.PutUint64(ph[32:], devSize)
	binary.LittleEndian.PutUint64(ph[40:], dataOff) // data area, then a terminator at 56
	binary.LittleEndian.PutUint64(ph[72:], 4096)    // metadata area
	binary.LittleEndian.PutUint64(ph[80:], areaSize)
	binary.LittleEndian.PutUint32(ph[104:], 2) // extension version
	binary.LittleEndian.PutUint32(ph[108:], 1) // in use
	binary.LittleEndian.PutUint32(lb[16:], lvmCRC(lb[20:]))
	h := head[4096:]
	copy(h[4:], " LVM2 x[5A%r0N*>")
	binary.LittleEndian.PutUint32(h[20:], 1)
	binary.LittleEndian.PutUint64(h[24:], 4096)
	binary.LittleEndian.PutUint64(h[32:], areaSize)
	binary.LittleEndian.PutUint64(h[40:], rel)
	binary.LittleEndian.PutUint64(h[48:], size)
	binary.LittleEndian.PutUint32(h[56:], crc)
	binary.LittleEndian.PutUint32(h[0:], lvmCRC(h[4:512]))
	return head
}

// writeSynth writes a PV whose area of areaSize bytes holds text (slot 0)
// at relative offset 512, followed by a 16 MiB data area.
func writeSynth(path string, areaSize uint64, text []byte) error {
	text = append(text, 0)
	if uint64(len(text)) > areaSize-512 {
		return fmt.Errorf("text of %d bytes does not fit the area", len(text))
	}
	dataOff := (4096 + areaSize + 1<<20 - 1) &^ (1<<20 - 1)
	devSize := dataOff + 16<<20
	head := pvHead(areaSize, dataOff, devSize, 512, uint64(len(text)), lvmCRC(text))
	return writeSparse(path, int64(devSize), map[int64][]byte{0: head, 4096 + 512: text})
}

// writeSparse writes the chunks at their offsets into a file of size bytes.
func writeSparse(path string, size int64, chunks map[int64][]byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	for off, b := range chunks {
		if _, err := f.WriteAt(b, off); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeCopies writes a PV whose 64 MiB area holds 65,535 generations of
// about 1 KiB each, slot 0 pointing at the newest.
func writeCopies(path, _ string) error {
	const areaSize = 64 << 20
	const n = 65535
	area := make([]byte, areaSize)
	var last []byte
	var lastRel uint64
	for i := 0; i < n; i++ {
		t := vgText(i+1, "flags = []", fmt.Sprintf("generation %d", i+1), "", "")
		t = append(t, 0)
		rel := uint64(512 + i*1024)
		if len(t) > 1024 {
			return fmt.Errorf("copy of %d bytes does not fit 1 KiB", len(t))
		}
		copy(area[rel:], t)
		last, lastRel = t, rel
	}
	dataOff := uint64(4096+areaSize+1<<20-1) &^ (1<<20 - 1)
	devSize := dataOff + 16<<20
	head := pvHead(areaSize, dataOff, devSize, lastRel, uint64(len(last)), lvmCRC(last))
	return writeSparse(path, int64(devSize), map[int64][]byte{4096 + 512: area[512:], 0: head})
}

// writeCarveLabels writes 256 MiB with a PV label (no metadata area) in
// the second sector of every 2 KiB.
func writeCarveLabels(path, _ string) error {
	const size = 256 << 20
	img := make([]byte, size)
	for off := 0; off < size; off += 2048 {
		lb := img[off+512 : off+1024]
		copy(lb, "LABELONE")
		binary.LittleEndian.PutUint64(lb[8:], 1)
		binary.LittleEndian.PutUint32(lb[20:], 32)
		copy(lb[24:], "LVM2 001")
		ph := lb[32:]
		copy(ph, pvUUID)
		binary.LittleEndian.PutUint64(ph[32:], 2048)
		binary.LittleEndian.PutUint32(lb[16:], lvmCRC(lb[20:]))
	}
	return os.WriteFile(path, img, 0o644)
}

// writeSparse1T writes a 1 TiB sparse file: 4 KiB of non-zero data every
// 64 MiB and a synthetic PV 64 MiB before the end.
func writeSparse1T(path, _ string) error {
	const size = 1 << 40
	chunks := map[int64][]byte{}
	junk := bytes.Repeat([]byte("data"), 1024)
	for off := int64(1 << 20); off < size-128<<20; off += 64 << 20 {
		chunks[off] = junk
	}
	text := append(vgText(1, "flags = []", "", "", ""), 0)
	pvAt := int64(size - 64<<20)
	dataOff := uint64(2 << 20)
	head := pvHead(1<<20, dataOff, dataOff+16<<20, 512, uint64(len(text)), lvmCRC(text))
	chunks[pvAt] = head
	chunks[pvAt+4096+512] = text
	return writeSparse(path, size, chunks)
}

// patchFixture writes the gunzipped fixture image name of folder after
// patch changed it.
func patchFixture(path, fixtures, folder, name string, patch func([]byte)) error {
	f, err := os.Open(filepath.Join(fixtures, folder, name+".img.gz"))
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	img, err := io.ReadAll(zr)
	if err != nil {
		return err
	}
	patch(img)
	return os.WriteFile(path, img, 0o644)
}

// putMBREntry writes MBR entry i (0..3) of sector 0.
func putMBREntry(img []byte, i int, typ byte, start, sectors uint32) {
	e := img[446+16*i : 446+16*i+16]
	clear(e)
	e[4] = typ
	binary.LittleEndian.PutUint32(e[8:], start)
	binary.LittleEndian.PutUint32(e[12:], sectors)
}

// fixGPTPrimary recomputes the primary GPT's entry-array and header CRCs
// (512-byte sectors, header at LBA 1).
func fixGPTPrimary(img []byte) {
	h := img[512:1024]
	le := binary.LittleEndian
	count, esize := le.Uint32(h[80:]), le.Uint32(h[84:])
	lba := le.Uint64(h[72:])
	ent := img[lba*512 : lba*512+uint64(count*esize)]
	le.PutUint32(h[88:], crc32.ChecksumIEEE(ent))
	hs := le.Uint32(h[12:])
	le.PutUint32(h[16:], 0)
	le.PutUint32(h[16:], crc32.ChecksumIEEE(h[:hs]))
}
