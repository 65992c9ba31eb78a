package vmdk

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"testing"
)

// sparseSpec describes a sparse extent built by buildSparse, as the
// specification lays it out.
type sparseSpec struct {
	grainSectors int64 // default 128
	gtes         int64 // default 512
	descriptor   string
	// stream makes a stream-optimized extent as VMware writes it:
	// compressed grains behind grain markers, then the grain tables and
	// the grain directory behind their markers, the header's gdOffset
	// GDAtEnd and the real one in the footer, then the end-of-stream
	// marker.
	stream  bool
	rawFlat bool // stream: raw deflate (RFC 1951) rather than zlib
	// zeroGrains makes grains of zeros zeroed-grain entries (1), with
	// version 2 and its flag, instead of leaving them unallocated.
	zeroGrains bool
	// unallocated says which grains are left out even if not zero (a
	// child's grains that its parent holds).
	unallocated func(g int64) bool
}

func putHeader(b []byte, version, flags uint32, capacity, grain, descOff, descSize uint64, gtes uint32, rgd, gd, overhead uint64, alg uint16) {
	le := binary.LittleEndian
	le.PutUint32(b[0:], Magic)
	le.PutUint32(b[4:], version)
	le.PutUint32(b[8:], flags)
	le.PutUint64(b[12:], capacity)
	le.PutUint64(b[20:], grain)
	le.PutUint64(b[28:], descOff)
	le.PutUint64(b[36:], descSize)
	le.PutUint32(b[44:], gtes)
	le.PutUint64(b[48:], rgd)
	le.PutUint64(b[56:], gd)
	le.PutUint64(b[64:], overhead)
	b[72] = 0
	b[73], b[74], b[75], b[76] = '\n', ' ', '\r', '\n'
	le.PutUint16(b[77:], alg)
}

func sectorsOf(n int64) int64 { return (n + 511) / 512 }

func padSector(b []byte) []byte {
	if r := len(b) % 512; r != 0 {
		b = append(b, make([]byte, 512-r)...)
	}
	return b
}

func compress(t testing.TB, data []byte, raw bool) []byte {
	var buf bytes.Buffer
	var w interface {
		Write([]byte) (int, error)
		Close() error
	}
	if raw {
		fw, err := flate.NewWriter(&buf, flate.BestSpeed)
		if err != nil {
			t.Fatal(err)
		}
		w = fw
	} else {
		w = zlib.NewWriter(&buf)
	}
	w.Write(data)
	w.Close()
	return buf.Bytes()
}

// buildSparse returns a sparse extent holding raw (a whole number of
// sectors).
func buildSparse(t testing.TB, raw []byte, s sparseSpec) []byte {
	le := binary.LittleEndian
	if s.grainSectors == 0 {
		s.grainSectors = 128
	}
	if s.gtes == 0 {
		s.gtes = 512
	}
	grain := s.grainSectors * 512
	capacity := int64(len(raw)) / 512
	grains := (capacity + s.grainSectors - 1) / s.grainSectors
	gts := (grains + s.gtes - 1) / s.gtes
	gtSectors := sectorsOf(4 * s.gtes)
	gdSectors := sectorsOf(4 * gts)
	descSectors := int64(0)
	if s.descriptor != "" {
		descSectors = max(sectorsOf(int64(len(s.descriptor))), 20)
	}
	data := func(g int64) []byte {
		b := make([]byte, grain)
		copy(b, raw[min(g*grain, int64(len(raw))):min((g+1)*grain, int64(len(raw)))])
		return b
	}
	isZero := func(b []byte) bool { return bytes.Equal(b, make([]byte, len(b))) }
	version, flags := uint32(1), uint32(flagNewlineTest|flagRedundant)
	if s.zeroGrains {
		version, flags = 2, flags|flagZeroGrain
	}
	// gte says what the grain table entry of a grain is before its
	// place is known: 0 unallocated, 1 zeroed, 2 data.
	kind := func(g int64) uint32 {
		if s.unallocated != nil && s.unallocated(g) {
			return 0
		}
		if isZero(data(g)) {
			if s.zeroGrains {
				return 1
			}
			return 0
		}
		return 2
	}
	gt := make([]uint32, gts*s.gtes)
	if !s.stream {
		// header, descriptor, redundant GD and GTs, GD and GTs, grains
		rgd := 1 + descSectors
		gd := rgd + gdSectors + gts*gtSectors
		overhead := gd + gdSectors + gts*gtSectors
		overhead = (overhead + s.grainSectors - 1) / s.grainSectors * s.grainSectors
		out := make([]byte, overhead*512)
		putHeader(out, version, flags, uint64(capacity), uint64(s.grainSectors), uint64(min(1, descSectors)), uint64(descSectors), uint32(s.gtes), uint64(rgd), uint64(gd), uint64(overhead), 0)
		copy(out[512:], s.descriptor)
		for g := range grains {
			switch k := kind(g); k {
			case 0, 1:
				gt[g] = k
			default:
				gt[g] = uint32(len(out) / 512)
				out = append(out, data(g)...)
			}
		}
		for _, dir := range []int64{rgd, gd} {
			for i := range gts {
				at := dir + gdSectors + i*gtSectors
				le.PutUint32(out[dir*512+4*i:], uint32(at))
				for j := range s.gtes {
					le.PutUint32(out[at*512+4*j:], gt[i*s.gtes+j])
				}
			}
		}
		// the last grain may be partial: the file ends with the disk
		return out
	}
	overhead := 1 + descSectors
	flags = flagNewlineTest | flagCompressed | flagMarkers
	if s.zeroGrains {
		// entry 1 is a zeroed grain, not a grain at sector 1
		flags |= flagZeroGrain
		overhead = max(overhead, 2)
	}
	out := make([]byte, overhead*512)
	version = 3
	putHeader(out, version, flags, uint64(capacity), uint64(s.grainSectors), uint64(min(1, descSectors)), uint64(descSectors), uint32(s.gtes), 0, GDAtEnd, uint64(overhead), compressDeflate)
	copy(out[512:], s.descriptor)
	for g := range grains {
		switch k := kind(g); k {
		case 0, 1:
			gt[g] = k
		default:
			gt[g] = uint32(len(out) / 512)
			c := compress(t, data(g), s.rawFlat)
			m := make([]byte, 12)
			le.PutUint64(m, uint64(g*s.grainSectors))
			le.PutUint32(m[8:], uint32(len(c)))
			out = padSector(append(append(out, m...), c...))
		}
	}
	marker := func(val int64, typ uint32) []byte {
		m := make([]byte, 512)
		le.PutUint64(m, uint64(val))
		le.PutUint32(m[12:], typ)
		return m
	}
	gd := make([]uint32, gts)
	for i := range gts {
		any := false
		for j := range s.gtes {
			any = any || gt[i*s.gtes+j] != 0
		}
		if !any {
			continue
		}
		out = append(out, marker(gtSectors, markerGT)...)
		gd[i] = uint32(len(out) / 512)
		tb := make([]byte, gtSectors*512)
		for j := range s.gtes {
			le.PutUint32(tb[4*j:], gt[i*s.gtes+j])
		}
		out = append(out, tb...)
	}
	out = append(out, marker(gdSectors, markerGD)...)
	gdAt := len(out) / 512
	gdb := make([]byte, gdSectors*512)
	for i, e := range gd {
		le.PutUint32(gdb[4*i:], e)
	}
	out = append(out, gdb...)
	out = append(out, marker(1, markerFooter)...)
	footer := make([]byte, 512)
	putHeader(footer, version, flags, uint64(capacity), uint64(s.grainSectors), uint64(min(1, descSectors)), uint64(descSectors), uint32(s.gtes), 0, uint64(gdAt), uint64(overhead), compressDeflate)
	out = append(out, footer...)
	return append(out, make([]byte, 512)...) // end of stream
}

// Marker types of a stream-optimized extent.
const (
	markerEOS    = 0
	markerGT     = 1
	markerGD     = 2
	markerFooter = 3
)

// descriptorText is a descriptor of createType whose extent lines are
// given, with a CID, and for a child its parent.
func descriptorText(createType string, cid uint32, parentCID uint32, parentHint string, extents ...string) string {
	s := fmt.Sprintf("# Disk DescriptorFile\nversion=1\nCID=%08x\nparentCID=%08x\ncreateType=\"%s\"\n", cid, parentCID, createType)
	if parentHint != "" {
		s += fmt.Sprintf("parentFileNameHint=\"%s\"\n", parentHint)
	}
	s += "\n# Extent description\n"
	for _, e := range extents {
		s += e + "\n"
	}
	return s + "\n# The Disk Data Base\n#DDB\n\nddb.virtualHWVersion = \"4\"\nddb.adapterType = \"ide\"\n"
}
