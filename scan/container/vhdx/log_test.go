package vhdx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/internal/containertest"
	"github.com/lvminspect/lvminspect/scan/device"
)

// setLogGUID sets the LogGuid of the header copy at off and fixes its
// checksum.
func setLogGUID(img []byte, off int, g GUID) {
	h := img[off : off+headerSize]
	putGUID(h[48:], g)
	setCRC(h, 4)
}

// TestLogReplayQemuEntry replays the entry qemu-img left in the fixture's
// log (it had flushed it and cleared LogGuid): with LogGuid set back, the
// entry is replayed. It is qemu's first update of the BAT's first page,
// written when only block 0 was allocated (block 1's later update
// overwrote its own entry in the log), so once replayed block 1 is not
// present: the disk reads as the fixture with its second block zero.
func TestLogReplayQemuEntry(t *testing.T) {
	b := containertest.Fixture(t, "banana.vhdx.gz")
	plain, err := New(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, plain.Size())
	if _, err := plain.ReadAt(want, 0); err != nil {
		t.Fatal(err)
	}
	clear(want[8<<20:])
	g := guidAt(b[1<<20+32:])
	img := bytes.Clone(b)
	setLogGUID(img, header2Off, g)
	im, err := New(bytes.NewReader(img), int64(len(img)))
	if err != nil {
		t.Fatal(err)
	}
	in := im.Info()
	if in.Log.State != "replayed" || in.Log.Entries != 1 || in.Log.DataDescriptors != 1 || in.Log.ZeroDescriptors != 0 ||
		in.Log.TailOffset != 1<<20 || in.Log.GUID != g.String() || len(in.Problems) != 0 {
		t.Fatalf("log %+v, problems %v", in.Log, in.Problems)
	}
	if len(in.Checksums) != 5 || !in.Checksums[2].OK || in.Checksums[2].Offset != 1<<20 {
		t.Fatalf("checksums %+v", in.Checksums)
	}
	if containertest.HashDevice(t, im) != containertest.SHA(want) {
		t.Fatal("read differs")
	}
	if es, _ := im.Map(8<<20, 6<<20); len(es) != 1 || es[0].Kind != device.Hole {
		t.Fatalf("block 1: %+v", es)
	}
	checkFields(t, im, int64(len(img)))
	found := false
	for _, st := range im.Fields() {
		found = found || strings.HasPrefix(st.Name, "VHDX log entry")
	}
	if !found {
		t.Fatal("no log entry in Fields")
	}
	// The entry damaged: LogGuid set but no valid sequence: reported,
	// nothing replayed.
	img[1<<20+4096+100] ^= 1
	if im, err = New(bytes.NewReader(img), int64(len(img))); err != nil {
		t.Fatal(err)
	}
	if in := im.Info(); in.Log.State != "no valid sequence" || len(in.Problems) != 1 || !strings.Contains(in.Problems[0], "checksum") || in.Checksums[2].OK {
		t.Fatalf("damaged entry: %+v %v", in.Log, in.Problems)
	}
	if containertest.HashDevice(t, im) != fixtures[0].sha {
		t.Fatal("read differs")
	}
}

// TestLogReplayCrafted builds a log per the specification whose active
// sequence moves a block, allocates one past the end of the file and
// zeroes and writes pages, with a torn entry after it, a stale older
// sequence and another log's entry around it.
func TestLogReplayCrafted(t *testing.T) {
	raw := randomDisk(21, 4<<20, func(off int64) bool { return off>>20 == 2 })
	img := build(t, spec{data: raw})
	im0, err := New(bytes.NewReader(img), int64(len(img)))
	if err != nil {
		t.Fatal(err)
	}
	if es, _ := im0.Map(2<<20, 1<<20); len(es) != 1 || es[0].Kind != device.Hole {
		t.Fatalf("block 2: %+v", es)
	}
	le := binary.LittleEndian
	e0 := le.Uint64(img[testBATOff:]) // block 0
	b0 := int64(e0>>20) << 20
	e1 := le.Uint64(img[testBATOff+8:])
	b1 := int64(e1>>20) << 20
	end := uint64(len(img))
	want := bytes.Clone(raw)

	// Entry A: block 2 allocated at the end of the file (past it: the
	// file is extended), its first page written.
	newPage := bytes.Repeat([]byte("new block 2 page"), logSectorSize/16)
	bat := bytes.Clone(img[testBATOff : testBATOff+logSectorSize])
	le.PutUint64(bat[16:], PayloadFullyPresent|end/mib<<20)
	copy(want[2<<20:], newPage)
	// Entry B: 8 KiB of block 0 zeroed, a page of block 1 rewritten.
	page1 := bytes.Repeat([]byte{0x5a, 0xa5}, logSectorSize/2)
	clear(want[3*4096 : 5*4096])
	copy(want[1<<20+7*4096:], page1)

	lg := GUID{0x77, 1}
	const posA = 100 * 4096
	entries := []testEntry{
		{pos: posA, seq: 40, tail: posA, guid: lg, descs: []testDesc{{off: testBATOff, data: bat}, {off: int64(end), data: newPage}}, flushed: end, last: end + mib},
		{pos: posA + 3*4096, seq: 41, tail: posA, guid: lg, descs: []testDesc{{zero: true, off: b0 + 3*4096, n: 8192}, {off: b1 + 7*4096, data: page1}}, flushed: end, last: end + mib},
		// torn: follows B, bad checksum
		{pos: posA + 5*4096, seq: 42, tail: posA, guid: lg, descs: []testDesc{{zero: true, off: b1, n: mib}}, flushed: end, last: end + mib, badCRC: true},
		// an older sequence, already applied
		{pos: 10 * 4096, seq: 7, tail: 10 * 4096, guid: lg, descs: []testDesc{{zero: true, off: b0, n: mib}}, flushed: end, last: end},
		// another log's entry with a higher sequence number
		{pos: 20 * 4096, seq: 99, tail: 20 * 4096, guid: GUID{0x99}, descs: []testDesc{{zero: true, off: b0, n: mib}}, flushed: end, last: end},
	}
	putLog(img, testLogOff, testLogLen, lg, entries)
	im, err := New(bytes.NewReader(img), int64(len(img)))
	if err != nil {
		t.Fatal(err)
	}
	in := im.Info()
	if in.Log.State != "replayed" || in.Log.Entries != 2 || in.Log.FirstSequence != 40 || in.Log.LastSequence != 41 ||
		in.Log.DataDescriptors != 3 || in.Log.ZeroDescriptors != 1 || in.Log.FileSizeAfter != int64(end)+mib ||
		in.Log.TailOffset != testLogOff+posA || in.Log.HeadOffset != testLogOff+posA+3*4096 || len(in.Problems) != 0 {
		t.Fatalf("log %+v problems %v", in.Log, in.Problems)
	}
	bad := 0
	for _, c := range in.Checksums {
		if !c.OK {
			bad++
			if !strings.Contains(c.Structure, "sequence 42") {
				t.Errorf("checksum %+v", c)
			}
		}
	}
	if bad != 1 {
		t.Fatalf("checksums %+v", in.Checksums)
	}
	got := make([]byte, len(raw))
	if _, err := im.ReadAt(got, 0); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("first difference at byte %d", i)
			}
		}
	}
	if es, _ := im.Map(2<<20, 1<<20); len(es) != 1 || es[0].Kind != device.Data {
		t.Fatalf("block 2 after replay: %+v", es)
	}
	containertest.CheckMapReads(t, im, nil)
	sts := im.Fields()
	n := 0
	for _, st := range sts {
		if strings.HasPrefix(st.Name, "VHDX log entry") {
			n++
		}
		if strings.HasPrefix(st.Name, "VHDX block allocation table") && !strings.Contains(st.Name, "log replay") {
			t.Errorf("BAT structure %q does not say it was replayed", st.Name)
		}
	}
	if n != 2 {
		t.Fatalf("%d log entries in Fields", n)
	}
	checkFields(t, im, in.Log.FileSizeAfter)

	// The file cut after the log was written: reported.
	short := bytes.Clone(img)
	for i := range entries[:2] {
		entries[i].flushed = end + 4*mib
	}
	putLog(short, testLogOff, testLogLen, lg, entries[:2])
	if im, err = New(bytes.NewReader(short), int64(len(short))); err != nil || len(im.Problems()) != 1 || !strings.Contains(im.Problems()[0].Error(), "FlushedFileOffset") {
		t.Fatalf("cut: %v %v", err, im.Problems())
	}
}

// TestLogWrap replays an entry that wraps from the end of the log to its
// start.
func TestLogWrap(t *testing.T) {
	raw := randomDisk(22, 2<<20, func(int64) bool { return false })
	img := build(t, spec{data: raw})
	le := binary.LittleEndian
	b0 := int64(le.Uint64(img[testBATOff:])>>20) << 20
	want := bytes.Clone(raw)
	pages := make([][]byte, 3)
	var descs []testDesc
	for i := range pages {
		pages[i] = bytes.Repeat([]byte{byte(0x30 + i)}, logSectorSize)
		descs = append(descs, testDesc{off: b0 + int64(i+10)*4096, data: pages[i]})
		copy(want[(i+10)*4096:], pages[i])
	}
	lg := GUID{0x55}
	pos := int64(testLogLen - 2*4096) // 4 sectors: 2 at the end, 2 at the start
	putLog(img, testLogOff, testLogLen, lg, []testEntry{{pos: pos, seq: 3, tail: pos, guid: lg, descs: descs, flushed: uint64(len(img)), last: uint64(len(img))}})
	im, err := New(bytes.NewReader(img), int64(len(img)))
	if err != nil {
		t.Fatal(err)
	}
	if in := im.Info(); in.Log.State != "replayed" || in.Log.DataDescriptors != 3 {
		t.Fatalf("log %+v %v", in.Log, in.Problems)
	}
	if containertest.HashDevice(t, im) != containertest.SHA(want) {
		t.Fatal("read differs")
	}
	checkFields(t, im, int64(len(img)))
}

func TestLogRefused(t *testing.T) {
	raw := randomDisk(23, 1<<20, func(int64) bool { return false })
	img := build(t, spec{data: raw})
	lg := GUID{0x66}
	// A log version this reader does not know.
	c := bytes.Clone(img)
	for _, off := range []int{header1Off, header2Off} {
		binary.LittleEndian.PutUint16(c[off+64:], 1)
		setLogGUID(c, off, lg)
	}
	if _, err := New(bytes.NewReader(c), int64(len(c))); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "log version") {
		t.Fatalf("log version: %v", err)
	}
	// A log larger than this reader replays (in a sparse file).
	c = bytes.Clone(img)
	for _, off := range []int{header1Off, header2Off} {
		binary.LittleEndian.PutUint32(c[off+68:], 64<<20)
		binary.LittleEndian.PutUint64(c[off+72:], 16<<20)
		setLogGUID(c, off, lg)
	}
	r := &sparse{size: 96 << 20, recs: []sparseRec{{0, c}}}
	if _, err := New(r, r.size); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "replays logs of up to") {
		t.Fatalf("large log: %v", err)
	}
	// A log beyond the end of the file.
	if _, err := New(bytes.NewReader(c), int64(len(c))); !errors.Is(err, ErrFormat) {
		t.Fatalf("log beyond the file: %v", err)
	}
	// With LogGuid zero, the same log is not read.
	for _, off := range []int{header1Off, header2Off} {
		setLogGUID(c, off, GUID{})
	}
	if im, err := New(bytes.NewReader(c), int64(len(c))); err != nil || im.Info().Log.State != "empty" {
		t.Fatalf("empty log: %v", err)
	}
}

func TestOverlay(t *testing.T) {
	base := bytes.Repeat([]byte{'b'}, 5*4096)
	page := func(c byte) []byte { return bytes.Repeat([]byte{c}, 4096) }
	ops := []logOp{
		{off: 4096, end: 2 * 4096, data: page('1')},
		{off: 0, end: 4 * 4096},                         // zeros over the first, later
		{off: 2 * 4096, end: 3 * 4096, data: page('3')}, // data over the zeros, later
		{off: 6 * 4096, end: 7 * 4096, data: page('6')}, // past the end of the file
	}
	for i := range ops {
		ops[i].idx = i
	}
	o := newOverlay(bytes.NewReader(base), int64(len(base)), 8*4096, ops)
	want := append(append(append(append(make([]byte, 2*4096), page('3')...), make([]byte, 4096)...), page('b')...), append(append(make([]byte, 4096), page('6')...), make([]byte, 4096)...)...)
	got := make([]byte, len(want)+10)
	n, err := o.ReadAt(got, 0)
	if n != len(want) || err != io.EOF || !bytes.Equal(got[:n], want) {
		t.Fatalf("%d %v", n, err)
	}
	for off := 0; off < len(want); off += 777 {
		buf := make([]byte, 3000)
		n, err := o.ReadAt(buf, int64(off))
		if !bytes.Equal(buf[:n], want[off:min(off+3000, len(want))]) || (err != nil && err != io.EOF) {
			t.Fatalf("ReadAt(%d): %d %v", off, n, err)
		}
	}
	if !o.touches(4096, 1) || o.touches(4*4096, 4096) || !o.touches(5*4096, 2*4096) {
		t.Fatal("touches")
	}
}
