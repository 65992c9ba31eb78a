package md

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// A 1.2 member with a bad-block log of two entries: the values of
// md-raid.md §7.2 ("3000 for 16 sectors", "5003 for 8 sectors").
func TestReadBadBlocks(t *testing.T) {
	img := make([]byte, 1<<20)
	sb := &Superblock{Version: "1.2", Offset: 4096, SuperOffset: 4096,
		BadBlocks: BadBlockLog{Offset: 8, Size: 8, HasEntries: true}}
	log := img[4096+8*512:]
	for i := range 8 * 512 {
		log[i] = 0xff
	}
	binary.LittleEndian.PutUint64(log, 0x2EE010)
	binary.LittleEndian.PutUint64(log[8:], 0)
	binary.LittleEndian.PutUint64(log[16:], 0x4E2C08)
	got, err := ReadBadBlocks(bytes.NewReader(img), int64(len(img)), sb)
	if err != nil {
		t.Fatal(err)
	}
	want := []BadBlock{{3000 * 512, 16 * 512}, {5003 * 512, 8 * 512}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("got %v, want %v", got, want)
	}
	sb.BadBlocks.HasEntries = false
	if got, err := ReadBadBlocks(bytes.NewReader(img), int64(len(img)), sb); got != nil || err != nil {
		t.Errorf("without feature bit 3: %v %v", got, err)
	}
	sb.BadBlocks.HasEntries, sb.BadBlocks.Offset = true, 1<<20
	if _, err := ReadBadBlocks(bytes.NewReader(img), int64(len(img)), sb); err == nil {
		t.Error("a log past the end is not an error")
	}
}

// A bitmap of 3 chunks, one dirty, with padding bits set as md writes
// them.
func TestReadBitmap(t *testing.T) {
	img := make([]byte, 1<<20)
	sb := &Superblock{Version: "1.2", Offset: 4096, SuperOffset: 4096, Bitmap: true, BitmapOffset: 8}
	h := img[4096+8*512:]
	le := binary.LittleEndian
	le.PutUint32(h, BitmapMagic)
	le.PutUint32(h[4:], 4)
	le.PutUint64(h[24:], 20)
	le.PutUint64(h[40:], 3*128) // 3 chunks of 64 KiB
	le.PutUint32(h[52:], 64<<10)
	h[256] = 0xfa // bits 1 set among 0..2; 3..7 padding
	b, err := ReadBitmap(bytes.NewReader(img), int64(len(img)), sb)
	if err != nil {
		t.Fatal(err)
	}
	if b.Chunks != 3 || b.Dirty != 1 || !b.Counted || b.Events != 20 || b.ChunkSize != 64<<10 {
		t.Fatalf("%+v", b)
	}
	if st := b.Structure(); len(st.Fields) == 0 || st.Off != 4096+8*512 {
		t.Errorf("structure %+v", st)
	}
	le.PutUint32(h[52:], 1000)
	if _, err := ReadBitmap(bytes.NewReader(img), int64(len(img)), sb); err == nil {
		t.Error("a chunk size not a power of two is accepted")
	}
	le.PutUint32(h, 0)
	if _, err := ReadBitmap(bytes.NewReader(img), int64(len(img)), sb); err == nil {
		t.Error("no magic is accepted")
	}
}

func FuzzReadLogs(f *testing.F) {
	f.Add([]byte{0x62, 0x69, 0x74, 0x6d}, int32(8), uint16(8), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, off int32, n uint16, shift uint8) {
		img := make([]byte, 64<<10)
		copy(img[8192:], data)
		sb := &Superblock{Version: "1.2", Offset: 4096, SuperOffset: 4096, Bitmap: true, BitmapOffset: off,
			BadBlocks: BadBlockLog{Offset: off, Size: n, Shift: shift, HasEntries: true}}
		ReadBitmap(bytes.NewReader(img), int64(len(img)), sb)
		bb, _ := ReadBadBlocks(bytes.NewReader(img), int64(len(img)), sb)
		if len(bb) > maxBadBlockLog/8 {
			t.Fatalf("%d entries", len(bb))
		}
	})
}
