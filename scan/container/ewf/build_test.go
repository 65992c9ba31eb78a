package ewf

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/adler32"
)

// synth describes a synthetic single-segment E01 for tests, written from
// the format description: header, volume, sectors, table, table2,
// error2, digest, done.
type synth struct {
	media           []byte
	sectorsPerChunk uint32 // of 512 bytes
	compress        func(i int) bool
	errs            [][2]uint32 // first sector, count
	md5, sha1       []byte
	level           int // zlib level
}

func sectionDesc(typ string, off, next, size int64) []byte {
	b := make([]byte, sectionHdrSize)
	copy(b, typ)
	binary.LittleEndian.PutUint64(b[16:], uint64(next))
	binary.LittleEndian.PutUint64(b[24:], uint64(size))
	binary.LittleEndian.PutUint32(b[72:], adler32.Checksum(b[:72]))
	return b
}

func putAdler(b []byte, n int) {
	binary.LittleEndian.PutUint32(b[n:], adler32.Checksum(b[:n]))
}

func (s synth) build() []byte {
	if s.sectorsPerChunk == 0 {
		s.sectorsPerChunk = 64
	}
	if s.level == 0 {
		s.level = zlib.BestSpeed
	}
	cs := int(s.sectorsPerChunk) * 512
	nchunks := (len(s.media) + cs - 1) / cs
	var out bytes.Buffer
	out.Write([]byte("EVF\x09\x0d\x0a\xff\x00\x01\x01\x00\x00\x00"))
	add := func(typ string, data []byte, last bool) {
		off := int64(out.Len())
		size := int64(sectionHdrSize + len(data))
		next := off + size
		if last {
			next, size = off, 0
		}
		out.Write(sectionDesc(typ, off, next, size))
		out.Write(data)
	}
	// header
	var hz bytes.Buffer
	zw := zlib.NewWriter(&hz)
	zw.Write([]byte("1\r\nmain\r\nc\tn\ta\te\tt\tav\tov\tm\tu\tp\r\ncase-7\tev-1\tsynthetic disk\tan examiner\tnotes here\t1\tgo\t2026 12 1 22 32 47\t2026 12 1 22 32 47\t0\r\n\r\n"))
	zw.Close()
	add("header", hz.Bytes(), false)
	// volume
	vol := make([]byte, 1052)
	vol[0] = 1
	binary.LittleEndian.PutUint32(vol[4:], uint32(nchunks))
	binary.LittleEndian.PutUint32(vol[8:], s.sectorsPerChunk)
	binary.LittleEndian.PutUint32(vol[12:], 512)
	binary.LittleEndian.PutUint64(vol[16:], uint64(len(s.media)/512))
	vol[52] = 1
	putAdler(vol, 1048)
	add("volume", vol, false)
	// sectors
	sectorsOff := int64(out.Len())
	var sd bytes.Buffer
	entries := make([]uint32, nchunks)
	for i := range nchunks {
		c := s.media[i*cs : min((i+1)*cs, len(s.media))]
		e := uint32(sectionHdrSize + sd.Len())
		if s.compress == nil || s.compress(i) {
			zw, _ := zlib.NewWriterLevel(&sd, s.level)
			zw.Write(c)
			zw.Close()
			e |= 0x80000000
		} else {
			sd.Write(c)
			var a [4]byte
			binary.LittleEndian.PutUint32(a[:], adler32.Checksum(c))
			sd.Write(a[:])
		}
		entries[i] = e
	}
	add("sectors", sd.Bytes(), false)
	tbl := make([]byte, tableHdrSize+4*nchunks+4)
	binary.LittleEndian.PutUint32(tbl, uint32(nchunks))
	binary.LittleEndian.PutUint64(tbl[8:], uint64(sectorsOff))
	putAdler(tbl, 20)
	for i, e := range entries {
		binary.LittleEndian.PutUint32(tbl[tableHdrSize+4*i:], e)
	}
	binary.LittleEndian.PutUint32(tbl[tableHdrSize+4*nchunks:], adler32.Checksum(tbl[tableHdrSize:tableHdrSize+4*nchunks]))
	add("table", tbl, false)
	add("table2", tbl, false)
	if len(s.errs) > 0 {
		e := make([]byte, 520+8*len(s.errs)+4)
		binary.LittleEndian.PutUint32(e, uint32(len(s.errs)))
		putAdler(e, 516)
		for i, r := range s.errs {
			binary.LittleEndian.PutUint32(e[520+8*i:], r[0])
			binary.LittleEndian.PutUint32(e[520+8*i+4:], r[1])
		}
		binary.LittleEndian.PutUint32(e[520+8*len(s.errs):], adler32.Checksum(e[520:520+8*len(s.errs)]))
		add("error2", e, false)
	}
	if s.md5 != nil || s.sha1 != nil {
		d := make([]byte, 80)
		copy(d, s.md5)
		copy(d[16:], s.sha1)
		putAdler(d, 76)
		add("digest", d, false)
	}
	add("done", nil, true)
	return out.Bytes()
}
