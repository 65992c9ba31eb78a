package vhdx

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"testing"
	"unicode/utf16"
)

// spec describes a VHDX for build to write, following [MS-VHDX]: the
// header section, the log at 1 MiB (1 MiB, empty), the metadata region
// at 2 MiB, the BAT at 3 MiB, then the blocks.
type spec struct {
	data      []byte // the virtual disk (its size is len(data))
	bs        int64  // block size, 1 MiB if 0
	lss, pss  int64  // sector sizes, 512 and 4096 if 0
	fixed     bool   // every block allocated, LeaveBlockAllocated set
	zeroState bool   // all-zero blocks of a dynamic disk PAYLOAD_BLOCK_ZERO, not NOT_PRESENT
	dataWrite GUID   // the headers' DataWriteGuid
	diff      *diffSpec
	// extra metadata entries and regions (for the unknown-item tests)
	extraMeta   []MetadataEntry
	extraRegion []Region
}

// diffSpec makes a differencing disk.
type diffSpec struct {
	linkage  GUID
	locator  []KeyValue              // after parent_linkage
	present  func(sector int64) bool // the sectors the child holds
	zeroBlks map[int64]bool          // blocks PAYLOAD_BLOCK_ZERO
	partial  func(block int64) bool  // nil: a block holding all its sectors is FULLY_PRESENT
	garbage  byte                    // what unheld sectors of a present block hold
}

const (
	testLogOff  = 1 * mib
	testLogLen  = 1 * mib
	testMetaOff = 2 * mib
	testBATOff  = 3 * mib
)

func putGUID(b []byte, g GUID) { copy(b, g[:]) }

func utf16le(s string) []byte {
	var out []byte
	for _, c := range utf16.Encode([]rune(s)) {
		out = binary.LittleEndian.AppendUint16(out, c)
	}
	return out
}

func setCRC(b []byte, at int) {
	binary.LittleEndian.PutUint32(b[at:], 0)
	binary.LittleEndian.PutUint32(b[at:], crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
}

// grow extends img to n bytes.
func grow(img []byte, n int64) []byte {
	if int64(len(img)) < n {
		img = append(img, make([]byte, n-int64(len(img)))...)
	}
	return img
}

func roundMiB(n int64) int64 { return (n + mib - 1) / mib * mib }

func build(t testing.TB, s spec) []byte {
	t.Helper()
	le := binary.LittleEndian
	bs, lss, pss := s.bs, s.lss, s.pss
	if bs == 0 {
		bs = mib
	}
	if lss == 0 {
		lss = 512
	}
	if pss == 0 {
		pss = 4096
	}
	size := int64(len(s.data))
	cr := sectorsPerBitmap * lss / bs
	nb := (size + bs - 1) / bs
	chunks := (nb + cr - 1) / cr
	entries := nb + max(nb-1, 0)/cr
	if s.diff != nil {
		entries = chunks * (cr + 1)
	}
	batLen := roundMiB(max(8*entries, 1))
	img := make([]byte, testBATOff+batLen)

	copy(img, "vhdxfile")
	copy(img[8:], utf16le("lvminspect test"))
	for i, off := range []int{header1Off, header2Off} {
		h := img[off : off+headerSize]
		copy(h, "head")
		le.PutUint64(h[8:], uint64(i+1))
		putGUID(h[16:], GUID{0xf1})
		putGUID(h[32:], s.dataWrite)
		le.PutUint16(h[66:], 1)
		le.PutUint32(h[68:], testLogLen)
		le.PutUint64(h[72:], testLogOff)
		setCRC(h, 4)
	}
	regions := append([]Region{{GUID: RegionBAT, FileOffset: testBATOff, Length: uint32(batLen), Required: true}, {GUID: RegionMetadata, FileOffset: testMetaOff, Length: mib, Required: true}}, s.extraRegion...)
	for _, off := range []int{regionTable1Off, regionTable2Off} {
		r := img[off : off+regionTableSize]
		copy(r, "regi")
		le.PutUint32(r[8:], uint32(len(regions)))
		for i, rg := range regions {
			e := r[16+32*i:]
			putGUID(e, rg.GUID)
			le.PutUint64(e[16:], rg.FileOffset)
			le.PutUint32(e[24:], rg.Length)
			if rg.Required {
				le.PutUint32(e[28:], 1)
			}
		}
		setCRC(r, 4)
	}

	// Metadata.
	type item struct {
		id    GUID
		flags uint32
		data  []byte
	}
	fp := make([]byte, 8)
	le.PutUint32(fp, uint32(bs))
	switch {
	case s.diff != nil:
		le.PutUint32(fp[4:], 2)
	case s.fixed:
		le.PutUint32(fp[4:], 1)
	}
	u64 := func(v uint64) []byte { return le.AppendUint64(nil, v) }
	u32 := func(v uint32) []byte { return le.AppendUint32(nil, v) }
	items := []item{
		{MetaFileParameters, 4, fp},
		{MetaVirtualDiskSize, 6, u64(uint64(size))},
		{MetaPage83Data, 6, bytes.Repeat([]byte{0x83}, 16)},
		{MetaLogicalSectorSize, 6, u32(uint32(lss))},
		{MetaPhysicalSectorSize, 6, u32(uint32(pss))},
	}
	if s.diff != nil {
		kvs := append([]KeyValue{{"parent_linkage", "{" + s.diff.linkage.String() + "}"}}, s.diff.locator...)
		loc := make([]byte, 20+12*len(kvs))
		putGUID(loc, ParentLocatorTypeVHDX)
		le.PutUint16(loc[18:], uint16(len(kvs)))
		for i, kv := range kvs {
			k, v := utf16le(kv.Key), utf16le(kv.Value)
			e := loc[20+12*i:]
			le.PutUint32(e, uint32(len(loc)))
			le.PutUint16(e[8:], uint16(len(k)))
			loc = append(loc, k...)
			e = loc[20+12*i:]
			le.PutUint32(e[4:], uint32(len(loc)))
			le.PutUint16(e[10:], uint16(len(v)))
			loc = append(loc, v...)
		}
		items = append(items, item{MetaParentLocator, 4, loc})
	}
	meta := img[testMetaOff : testMetaOff+mib]
	copy(meta, "metadata")
	n := len(items) + len(s.extraMeta)
	le.PutUint16(meta[10:], uint16(n))
	at := int64(metadataTableSize)
	for i, it := range items {
		e := meta[32+32*i:]
		putGUID(e, it.id)
		le.PutUint32(e[16:], uint32(at))
		le.PutUint32(e[20:], uint32(len(it.data)))
		le.PutUint32(e[24:], it.flags)
		copy(meta[at:], it.data)
		at += int64(len(it.data)+7) / 8 * 8
	}
	for i, me := range s.extraMeta {
		e := meta[32+32*(len(items)+i):]
		putGUID(e, me.ItemID)
		le.PutUint32(e[16:], uint32(at))
		le.PutUint32(e[20:], 8)
		var fl uint32
		if me.IsUser {
			fl |= 1
		}
		if me.IsRequired {
			fl |= 4
		}
		le.PutUint32(e[24:], fl)
		at += 8
	}

	// Blocks.
	bat := func(i int64, state, off uint64) {
		le.PutUint64(img[testBATOff+8*i:], state|off/mib<<20)
	}
	alloc := func(n int64) int64 {
		off := int64(len(img))
		img = grow(img, off+roundMiB(n))
		return off
	}
	sectors := bs / lss
	sbOff := map[int64]int64{}
	for b := range nb {
		i := b + b/cr
		blk := s.data[b*bs : min((b+1)*bs, size)]
		if s.diff == nil {
			if !s.fixed && bytes.Equal(blk, make([]byte, len(blk))) {
				if s.zeroState {
					bat(i, PayloadZero, 0)
				}
				continue
			}
			off := alloc(bs)
			copy(img[off:], blk)
			bat(i, PayloadFullyPresent, uint64(off))
			continue
		}
		d := s.diff
		if d.zeroBlks[b] {
			bat(i, PayloadZero, 0)
			continue
		}
		held := 0
		for k := range sectors {
			if b*sectors+k < size/lss && d.present(b*sectors+k) {
				held++
			}
		}
		if held == 0 {
			continue
		}
		off := alloc(bs)
		for k := range sectors {
			sec := img[off+k*lss : off+(k+1)*lss]
			if b*sectors+k < size/lss && d.present(b*sectors+k) {
				copy(sec, s.data[(b*sectors+k)*lss:])
			} else {
				for j := range sec {
					sec[j] = d.garbage
				}
			}
		}
		if held == int(sectors) && (d.partial == nil || !d.partial(b)) {
			bat(i, PayloadFullyPresent, uint64(off))
			continue
		}
		bat(i, PayloadPartiallyPresent, uint64(off))
		c := b / cr
		so, ok := sbOff[c]
		if !ok {
			so = alloc(sectorBitmapSize)
			sbOff[c] = so
			bat(c*(cr+1)+cr, SectorBitmapPresent, uint64(so))
		}
		for k := range sectors {
			if b*sectors+k < size/lss && d.present(b*sectors+k) {
				bit := (b%cr)*sectors + k
				img[so+bit/8] |= 1 << (bit % 8)
			}
		}
	}
	return img
}

// testDesc is a log descriptor: 4 KiB of data at off, or n zeros.
type testDesc struct {
	zero bool
	off  int64
	n    int64  // zero
	data []byte // 4 KiB
}

// testEntry is a log entry for putLog.
type testEntry struct {
	pos           int64 // byte offset in the log
	seq           uint64
	tail          int64
	guid          GUID
	descs         []testDesc
	flushed, last uint64
	badCRC        bool
}

// entryBytes lays out a log entry.
func entryBytes(e testEntry) []byte {
	le := binary.LittleEndian
	ds := descSectors(int64(len(e.descs)))
	var data [][]byte
	for _, d := range e.descs {
		if !d.zero {
			data = append(data, d.data)
		}
	}
	b := make([]byte, (ds+int64(len(data)))*logSectorSize)
	copy(b, "loge")
	le.PutUint32(b[8:], uint32(len(b)))
	le.PutUint32(b[12:], uint32(e.tail))
	le.PutUint64(b[16:], e.seq)
	le.PutUint32(b[24:], uint32(len(e.descs)))
	putGUID(b[32:], e.guid)
	le.PutUint64(b[48:], e.flushed)
	le.PutUint64(b[56:], e.last)
	k := 0
	for i, d := range e.descs {
		x := b[logEntryHdr+logDescSize*i:]
		if d.zero {
			copy(x, "zero")
			le.PutUint64(x[8:], uint64(d.n))
		} else {
			copy(x, "desc")
			le.PutUint32(x[4:], le.Uint32(d.data[logSectorSize-4:]))
			le.PutUint64(x[8:], le.Uint64(d.data))
			s := b[(ds+int64(k))*logSectorSize:]
			copy(s, "data")
			le.PutUint32(s[4:], uint32(e.seq>>32))
			copy(s[8:logSectorSize-4], d.data[8:logSectorSize-4])
			le.PutUint32(s[logSectorSize-4:], uint32(e.seq))
			k++
		}
		le.PutUint64(x[16:], uint64(d.off))
		le.PutUint64(x[24:], e.seq)
	}
	setCRC(b, 4)
	if e.badCRC {
		b[len(b)-100] ^= 1
	}
	return b
}

// putLog writes entries into the log of img (at logOff, logLen bytes,
// wrapping) and sets the LogGuid of both headers.
func putLog(img []byte, logOff, logLen int64, guid GUID, entries []testEntry) {
	for _, e := range entries {
		b := entryBytes(e)
		for i := range b {
			img[logOff+(e.pos+int64(i))%logLen] = b[i]
		}
	}
	for _, off := range []int{header1Off, header2Off} {
		h := img[off : off+headerSize]
		putGUID(h[48:], guid)
		setCRC(h, 4)
	}
}
