package qcow2

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"slices"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// tiny describes a small qcow2 image built by the tests themselves (for
// the tests that do not need qemu-img and for the fuzz seeds): a header,
// its extensions, an L1 table, L2 tables and the clusters.
type tiny struct {
	version     uint32 // 2 or 3
	clusterBits uint32
	size        int64
	data        map[int64][]byte // virtual cluster → its bytes (stored)
	zero        []int64          // virtual clusters flagged zero
	compressed  map[int64][]byte // virtual cluster → its bytes (deflated)
	backing     string
	backingFmt  string
	incompat    uint64
	zstd        bool // compressed clusters in zstd (else deflate)
}

// build lays the image out: cluster 0 the header, extensions and backing
// name, cluster 1 the L1 table, then the L2 tables, the data clusters and
// the compressed clusters packed after them.
func (t tiny) build(tb testing.TB) []byte {
	tb.Helper()
	be := binary.BigEndian
	cs := int64(1) << t.clusterBits
	l2e := cs / 8
	clusters := (t.size + cs - 1) / cs
	l1n := (clusters + l2e - 1) / l2e
	if 8*l1n > cs {
		tb.Fatal("tiny: L1 table larger than a cluster")
	}
	out := make([]byte, 2*cs)
	hl := 72
	if t.version >= 3 {
		hl = 112
	}
	copy(out, Magic)
	be.PutUint32(out[4:], t.version)
	be.PutUint32(out[20:], t.clusterBits)
	be.PutUint64(out[24:], uint64(t.size))
	be.PutUint32(out[36:], uint32(l1n))
	be.PutUint64(out[40:], uint64(cs))
	be.PutUint64(out[48:], 0) // no refcount table: not read
	if t.version >= 3 {
		inc := t.incompat
		if t.zstd {
			inc |= 1 << IncompatCompress
			out[104] = CompressionZstd
		}
		be.PutUint64(out[72:], inc)
		be.PutUint32(out[96:], 4)
		be.PutUint32(out[100:], uint32(hl))
	}
	at := hl
	if t.backingFmt != "" {
		be.PutUint32(out[at:], ExtBackingFormat)
		be.PutUint32(out[at+4:], uint32(len(t.backingFmt)))
		copy(out[at+8:], t.backingFmt)
		at += 8 + (len(t.backingFmt)+7)/8*8
	}
	at += 8 // end marker (zeros)
	if t.backing != "" {
		be.PutUint64(out[8:], uint64(at))
		be.PutUint32(out[16:], uint32(len(t.backing)))
		copy(out[at:], t.backing)
		at += len(t.backing)
	}
	if int64(at) > cs {
		tb.Fatal("tiny: header larger than a cluster")
	}
	alloc := func(n int64) int64 { // whole clusters
		off := int64(len(out))
		out = append(out, make([]byte, (n+cs-1)/cs*cs)...)
		return off
	}
	// the L2 tables first, then the clusters in the order of the disk
	used := map[int64]bool{}
	var vcs []int64
	for vc := range t.data {
		vcs = append(vcs, vc)
	}
	for vc := range t.compressed {
		vcs = append(vcs, vc)
	}
	vcs = append(vcs, t.zero...)
	slices.Sort(vcs)
	l2 := map[int64]int64{} // L1 index → L2 table offset
	for _, vc := range vcs {
		if i := vc / l2e; !used[i] {
			used[i] = true
			l2[i] = alloc(cs)
			be.PutUint64(out[cs+8*i:], uint64(l2[i])|1<<63)
		}
	}
	entry := func(vc int64, v uint64) { be.PutUint64(out[l2[vc/l2e]+8*(vc%l2e):], v) }
	for _, vc := range vcs {
		if b, ok := t.data[vc]; ok {
			off := alloc(cs)
			copy(out[off:], b)
			entry(vc, uint64(off)|1<<63)
		} else if b, ok := t.compressed[vc]; ok {
			var z bytes.Buffer
			if t.zstd {
				w, _ := zstd.NewWriter(&z, zstd.WithEncoderConcurrency(1))
				w.Write(b)
				w.Close()
			} else {
				w, _ := flate.NewWriter(&z, flate.BestCompression)
				w.Write(b)
				w.Close()
			}
			// each compressed run starts 16 bytes into a sector
			off := alloc(int64(z.Len())+512+16) + 16
			copy(out[off:], z.Bytes())
			end := off + int64(z.Len()) - 1
			add := end/512 - off/512
			x := 62 - (t.clusterBits - 8)
			entry(vc, 1<<62|uint64(add)<<x|uint64(off))
		} else {
			entry(vc, 1)
		}
	}
	return out
}

// disk is the virtual disk t describes, with zeros for the clusters it
// does not hold.
func (t tiny) disk() []byte {
	cs := int64(1) << t.clusterBits
	d := make([]byte, t.size)
	for vc, b := range t.data {
		copy(d[vc*cs:min((vc+1)*cs, t.size)], b)
	}
	for vc, b := range t.compressed {
		copy(d[vc*cs:min((vc+1)*cs, t.size)], b)
	}
	return d
}

func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7) + byte(i>>9)
	}
	return b
}

// tinyImage is a 96 KiB disk (and 100 bytes) of 512-byte clusters:
// data, zero (version 3) and compressed clusters, several L2 tables and
// an L1 entry without one (clusters 128 to 191).
func tinyImage(version uint32) tiny {
	t := tiny{version: version, clusterBits: 9, size: 96<<10 + 100, data: map[int64][]byte{}, compressed: map[int64][]byte{}}
	for _, vc := range []int64{0, 1, 5, 63, 64, 80, 192} {
		t.data[vc] = pattern(512, byte(vc))
	}
	if version >= 3 {
		t.zero = []int64{2, 65}
	}
	t.compressed[6] = pattern(512, 0x40)
	t.compressed[7] = bytes.Repeat([]byte("qcow2"), 103)[:512]
	return t
}
