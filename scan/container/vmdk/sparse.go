package vmdk

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"hash/adler32"
	"io"
	"sync"

	"github.com/lvminspect/lvminspect/scan/container/blockdev"
)

// sparse is a hosted sparse extent: a header, a grain directory whose
// entries are the sectors of grain tables, whose entries are the sectors
// of grains (0: not allocated; 1: a zeroed grain in an extent of version
// 2 or with the zeroed-grain flag, which Virtual Disk Format 5.0 added;
// in others 1 is sector 1, after the header). In a compressed
// extent an entry is the sector of a grain marker: the grain's LBA
// (uint64, sectors), the size of its compressed data (uint32), then
// that data.
type sparse struct {
	f         *file
	h         Header
	raw       []byte // the header as read
	footer    *Header
	footerRaw []byte
	footerOff int64

	grain      int64 // bytes
	gtes       int64 // entries per grain table
	grains     int64 // grains covering the capacity
	gts        int64 // grain directory entries
	capBytes   int64
	compressed bool
	// zeroGrain: a grain table entry of 1 is a zeroed grain (version 2,
	// or the flag), not a grain at sector 1.
	zeroGrain bool

	gdOff   int64    // byte offset of the grain directory in use
	gdWhich string   // "primary" or "redundant"
	rgdOff  int64    // of the other directory shown in Fields, 0 if none
	gd      []uint32 // nil: read entries from the file
	sh      *shared
}

// shared is what the images of a chain share: the caches and the budget
// of grain directory entries held in memory.
type shared struct {
	gts      *cache[gtKey, []uint32]
	grains   *cache[gtKey, []byte]
	gdBudget int64
}

type gtKey struct {
	sp *sparse
	i  int64
}

func newShared() *shared {
	return &shared{
		gts:      newCache[gtKey](gtCacheBytes, func(t []uint32) int { return 4 * len(t) }),
		grains:   newCache[gtKey](grainCacheBytes, func(b []byte) int { return len(b) }),
		gdBudget: gdLoadMax,
	}
}

// cache is a map bounded in bytes that forgets its oldest entries first.
type cache[K comparable, V any] struct {
	mu    sync.Mutex
	m     map[K]V
	order []K
	bytes int
	max   int
	size  func(V) int
}

func newCache[K comparable, V any](max int, size func(V) int) *cache[K, V] {
	return &cache[K, V]{m: map[K]V{}, max: max, size: size}
}

func (c *cache[K, V]) get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return v, ok
}

func (c *cache[K, V]) put(k K, v V) {
	n := c.size(v)
	if n > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; ok {
		return
	}
	for c.bytes+n > c.max && len(c.order) > 0 {
		old := c.order[0]
		c.order = c.order[1:]
		c.bytes -= c.size(c.m[old])
		delete(c.m, old)
	}
	c.m[k] = v
	c.order = append(c.order, k)
	c.bytes += n
}

func (sp *sparse) fieldErr(structure string, off int64, field string, fieldOff int, stored, expected string) error {
	return &FieldError{File: sp.f.name, Structure: structure, Off: off, Field: field, FieldOff: off + int64(fieldOff), Stored: stored, Expected: expected}
}

// openSparse reads and checks the header of the sparse extent f and
// chooses its grain directory. Problems that do not stop it from being
// read go to problem.
func openSparse(f *file, sh *shared, problem func(error)) (*sparse, error) {
	if f.size < headerSize {
		return nil, formatErr("%s: %d bytes: too small for a sparse extent header", f.name, f.size)
	}
	raw := make([]byte, headerSize)
	if err := f.readFull(raw, 0); err != nil {
		return nil, err
	}
	sp := &sparse{f: f, raw: raw, h: decodeHeader(raw), sh: sh}
	h := &sp.h
	const hs = "sparse extent header"
	if string(raw[:4]) == "COWD" {
		return nil, unsupported("%s: a COWD sparse extent (ESX or VMware Workstation 3)", f.name)
	}
	if h.Magic != Magic {
		return nil, sp.fieldErr(hs, 0, "magicNumber", 0, fmt.Sprintf("%#08x", h.Magic), fmt.Sprintf("%#08x (\"KDMV\")", Magic))
	}
	if h.Version < 1 || h.Version > 3 {
		return nil, unsupported("%s: sparse extent header version %d (1, 2 and 3 are read)", f.name, h.Version)
	}
	if err := sp.checkGeometry(hs, 0, h); err != nil {
		return nil, err
	}
	switch h.CompressAlgorithm {
	case compressNone:
		if h.Flags&flagCompressed != 0 {
			problem(sp.fieldErr(hs, 0, "compressAlgorithm", 77, "0 (none)", "1 (deflate), as flags say the grains are compressed: read as deflate"))
			sp.compressed = true
		}
	case compressDeflate:
		sp.compressed = true
	default:
		return nil, unsupported("%s: compressAlgorithm %d (0 none and 1 deflate are read)", f.name, h.CompressAlgorithm)
	}
	if h.Flags&flagNewlineTest != 0 {
		for _, c := range []struct {
			name string
			off  int
			want byte
		}{{"singleEndLineChar", 73, '\n'}, {"nonEndLineChar", 74, ' '}, {"doubleEndLineChar1", 75, '\r'}, {"doubleEndLineChar2", 76, '\n'}} {
			if raw[c.off] != c.want {
				problem(sp.fieldErr(hs, 0, c.name, c.off, fmt.Sprintf("%#02x", raw[c.off]), fmt.Sprintf("%#02x (the file was copied as text? its bytes may be changed)", c.want)))
			}
		}
	}
	if h.UncleanShutdown != 0 {
		problem(formatErr("%s: uncleanShutdown is set: the extent was not closed cleanly, its grain tables may not name every grain written", f.name))
	}
	sp.zeroGrain = h.Flags&flagZeroGrain != 0 || h.Version == 2
	sp.grain = int64(h.GrainSize) * sectorSize
	sp.gtes = int64(h.NumGTEsPerGT)
	sp.capBytes = int64(h.Capacity) * sectorSize
	sp.grains = (int64(h.Capacity) + int64(h.GrainSize) - 1) / int64(h.GrainSize)
	sp.gts = (sp.grains + sp.gtes - 1) / sp.gtes

	gd, rgd, redundant := h.GDOffset, h.RGDOffset, h.Flags&flagRedundant != 0
	if gd == GDAtEnd {
		ft, err := sp.readFooter()
		if err != nil {
			return nil, err
		}
		gd, rgd, redundant = ft.GDOffset, ft.RGDOffset, ft.Flags&flagRedundant != 0
	}
	return sp, sp.chooseGD(gd, rgd, redundant, problem)
}

// checkGeometry checks the sizes of a header (or footer) at off before
// anything is allocated from them.
func (sp *sparse) checkGeometry(structure string, off int64, h *Header) error {
	if g := h.GrainSize; g == 0 || g > maxGrainSectors || g&(g-1) != 0 {
		return sp.fieldErr(structure, off, "grainSize", 20, fmt.Sprint(g), fmt.Sprintf("a power of two of at most %d sectors", maxGrainSectors))
	}
	if n := h.NumGTEsPerGT; n == 0 || n > maxGTEs {
		return sp.fieldErr(structure, off, "numGTEsPerGT", 44, fmt.Sprint(n), fmt.Sprintf("between 1 and %d (512 in the specification)", maxGTEs))
	}
	if h.Capacity > maxSectors {
		return sp.fieldErr(structure, off, "capacity", 12, fmt.Sprint(h.Capacity), fmt.Sprintf("at most %d sectors", int64(maxSectors)))
	}
	return nil
}

// readFooter reads the footer of a stream-optimized extent whose header
// says the grain directory is at the end: a copy of the header, whose
// gdOffset is the real one, in the sector before the end-of-stream
// marker (the last sector), after a footer marker.
func (sp *sparse) readFooter() (*Header, error) {
	f := sp.f
	off := f.size - 2*sectorSize
	if off < headerSize {
		return nil, formatErr("%s: gdOffset is at the end (%#x) but the file (%d bytes) has no room for a footer", f.name, GDAtEnd, f.size)
	}
	raw := make([]byte, headerSize)
	if err := f.readFull(raw, off); err != nil {
		return nil, err
	}
	ft := decodeHeader(raw)
	const fs = "footer"
	if ft.Magic != Magic {
		return nil, sp.fieldErr(fs, off, "magicNumber", 0, fmt.Sprintf("%#08x", ft.Magic), fmt.Sprintf("%#08x: the header's gdOffset says the grain directory is named by a footer (truncated file?)", Magic))
	}
	if ft.GDOffset == GDAtEnd {
		return nil, sp.fieldErr(fs, off, "gdOffset", 56, fmt.Sprintf("%#x", ft.GDOffset), "the sector of the grain directory")
	}
	if err := sp.checkGeometry(fs, off, &ft); err != nil {
		return nil, err
	}
	h := &sp.h
	for _, c := range []struct {
		name      string
		at        int
		got, want uint64
	}{{"capacity", 12, ft.Capacity, h.Capacity}, {"grainSize", 20, ft.GrainSize, h.GrainSize}, {"numGTEsPerGT", 44, uint64(ft.NumGTEsPerGT), uint64(h.NumGTEsPerGT)}} {
		if c.got != c.want {
			return nil, sp.fieldErr(fs, off, c.name, c.at, fmt.Sprint(c.got), fmt.Sprintf("%d, as in the header", c.want))
		}
	}
	sp.footer, sp.footerRaw, sp.footerOff = &ft, raw, off
	return &ft, nil
}

// gdCheck is what loading a grain directory found.
type gdCheck struct {
	off     int64
	entries []uint32 // nil if too large to load
	fatal   error    // not usable at all
	bad     int      // entries naming a grain table beyond the end of the file
	first   string   // the first of them
}

func (sp *sparse) checkGD(sector uint64, name string) gdCheck {
	f := sp.f
	c := gdCheck{}
	if sector == 0 || sector > uint64(f.size/sectorSize) {
		c.fatal = formatErr("%s: %s grain directory at sector %d: outside the file (%d bytes)", f.name, name, sector, f.size)
		return c
	}
	c.off = int64(sector) * sectorSize
	if 4*sp.gts > f.size-c.off {
		c.fatal = formatErr("%s: %s grain directory of %d entries at byte %d lies beyond the end of the file (%d bytes)", f.name, name, sp.gts, c.off, f.size)
		return c
	}
	if sp.gts > sp.sh.gdBudget {
		return c
	}
	raw := make([]byte, 4*sp.gts)
	if err := f.readFull(raw, c.off); err != nil {
		c.fatal = err
		return c
	}
	c.entries = make([]uint32, sp.gts)
	for i := range c.entries {
		e := binary.LittleEndian.Uint32(raw[4*i:])
		c.entries[i] = e
		if e != 0 && 4*sp.tableEntries(int64(i)) > f.size-int64(e)*sectorSize {
			if c.bad == 0 {
				c.first = fmt.Sprintf("grain table %d at sector %d", i, e)
			}
			c.bad++
		}
	}
	return c
}

// chooseGD chooses the grain directory: the primary, unless it is
// damaged (outside the file, or naming grain tables beyond its end) and
// the redundant one is not. Damage to either is reported.
func (sp *sparse) chooseGD(gd, rgd uint64, redundant bool, problem func(error)) error {
	hasR := redundant && rgd != 0
	p := sp.checkGD(gd, "primary")
	var r gdCheck
	if hasR {
		r = sp.checkGD(rgd, "redundant")
	}
	damage := func(c gdCheck, name string) error {
		if c.fatal != nil {
			return c.fatal
		}
		if c.bad > 0 {
			return formatErr("%s: %s grain directory at byte %d: %d entries name grain tables beyond the end of the file (%d bytes), the first %s", sp.f.name, name, c.off, c.bad, sp.f.size, c.first)
		}
		return nil
	}
	pd, rd := damage(p, "primary"), damage(r, "redundant")
	use, which := p, "primary"
	switch {
	case pd == nil:
		if hasR && rd != nil {
			problem(fmt.Errorf("%w: the primary one is used", rd))
		}
	case hasR && rd == nil:
		use, which = r, "redundant"
		problem(fmt.Errorf("%w; the redundant grain directory at sector %d is used", pd, rgd))
	case p.fatal == nil:
		problem(fmt.Errorf("%w: the grains of those tables cannot be read", pd))
	case hasR && r.fatal == nil:
		use, which = r, "redundant"
		problem(fmt.Errorf("%w; the redundant grain directory at sector %d is used, though %d of its entries name grain tables beyond the end of the file", pd, rgd, r.bad))
	default:
		return pd
	}
	sp.gdOff, sp.gdWhich, sp.gd = use.off, which, use.entries
	if which == "primary" && hasR && r.fatal == nil {
		sp.rgdOff = r.off
	} else if which == "redundant" && p.fatal == nil {
		sp.rgdOff = p.off
	}
	if use.entries != nil {
		sp.sh.gdBudget -= int64(len(use.entries))
	}
	return nil
}

// tableEntries is the number of entries of grain table i that cover the
// capacity.
func (sp *sparse) tableEntries(i int64) int64 {
	return min(sp.gtes, sp.grains-i*sp.gtes)
}

func (sp *sparse) gdEntry(i int64) (uint32, error) {
	if sp.gd != nil {
		return sp.gd[i], nil
	}
	var b [4]byte
	if err := sp.f.readFull(b[:], sp.gdOff+4*i); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b[:]), nil
}

// table returns grain table i, at sector.
func (sp *sparse) table(i int64, sector uint32) ([]uint32, error) {
	key := gtKey{sp, i}
	if t, ok := sp.sh.gts.get(key); ok {
		return t, nil
	}
	n := sp.tableEntries(i)
	off := int64(sector) * sectorSize
	if 4*n > sp.f.size-off {
		return nil, fmt.Errorf("grain table %d at sector %d (byte %d) lies beyond the end of %s (%d bytes)", i, sector, off, sp.f.name, sp.f.size)
	}
	raw := make([]byte, 4*n)
	if err := sp.f.readFull(raw, off); err != nil {
		return nil, fmt.Errorf("grain table %d at sector %d: %v", i, sector, err)
	}
	t := make([]uint32, n)
	for j := range t {
		t[j] = binary.LittleEndian.Uint32(raw[4*j:])
	}
	sp.sh.gts.put(key, t)
	return t, nil
}

// grainLen is the number of bytes of grain g within the capacity.
func (sp *sparse) grainLen(g int64) int64 {
	return min(sp.grain, sp.capBytes-g*sp.grain)
}

// merger merges consecutive pieces of one kind before passing them on.
type merger struct {
	fn      func(blockdev.Piece) error
	p       blockdev.Piece
	has     bool
	err     error
	inFiles bool // InFile pieces of the same file may merge
}

func (m *merger) add(p blockdev.Piece) {
	if m.err != nil || p.N <= 0 {
		return
	}
	if m.has && m.p.Kind == p.Kind && m.p.Off+m.p.N == p.Off {
		switch p.Kind {
		case blockdev.Zero, blockdev.InParent:
			m.p.N += p.N
			return
		case blockdev.Bad:
			if m.p.Why == p.Why {
				m.p.N += p.N
				return
			}
		case blockdev.InFile:
			if m.inFiles && m.p.FileOff+m.p.N == p.FileOff {
				m.p.N += p.N
				return
			}
		}
	}
	m.flush()
	m.p, m.has = p, true
}

func (m *merger) flush() error {
	if m.has && m.err == nil {
		m.err = m.fn(m.p)
	}
	m.has = false
	return m.err
}

// pieces resolves [eoff, eoff+n) of the extent, which starts at byte
// base of the disk, into pieces; grains not allocated are of kind
// unalloc (the parent's, or zeros). With read, the pieces of compressed
// grains carry their decoder.
func (sp *sparse) pieces(base, eoff, n int64, unalloc blockdev.PieceKind, read bool, fn func(blockdev.Piece) error) error {
	m := &merger{fn: fn, inFiles: !sp.compressed}
	end := eoff + n
	lim := min(end, sp.capBytes)
	for eoff < lim && m.err == nil {
		ti := eoff / sp.grain / sp.gtes
		spanEnd := min((ti+1)*sp.gtes*sp.grain, lim)
		e, err := sp.gdEntry(ti)
		if err != nil {
			m.add(blockdev.Piece{Off: base + eoff, N: spanEnd - eoff, Kind: blockdev.Bad, Why: fmt.Sprintf("grain directory entry %d: %v", ti, err)})
			eoff = spanEnd
			continue
		}
		if e == 0 {
			m.add(blockdev.Piece{Off: base + eoff, N: spanEnd - eoff, Kind: unalloc})
			eoff = spanEnd
			continue
		}
		t, err := sp.table(ti, e)
		if err != nil {
			m.add(blockdev.Piece{Off: base + eoff, N: spanEnd - eoff, Kind: blockdev.Bad, Why: err.Error()})
			eoff = spanEnd
			continue
		}
		for eoff < spanEnd && m.err == nil {
			g := eoff / sp.grain
			in := eoff % sp.grain
			l := min(sp.grain-in, spanEnd-eoff)
			gte := t[g-ti*sp.gtes]
			p := blockdev.Piece{Off: base + eoff, N: l}
			switch {
			case gte == 0:
				p.Kind = unalloc
			case gte == 1 && sp.zeroGrain:
				p.Kind = blockdev.Zero
			case sp.compressed:
				at := int64(gte) * sectorSize
				if !read {
					// Map reads the grain's marker: a grain cut off by
					// the end of the file is unreadable.
					if _, err := sp.marker(g, gte); err != nil {
						p.Kind, p.Why = blockdev.Bad, fmt.Sprintf("grain %d of %s: %v", g, sp.f.name, err)
						break
					}
				}
				p.Kind, p.FileOff = blockdev.InFile, in
				if read {
					p.R = &grainReader{sp: sp, g: g, gte: gte}
					p.File = fmt.Sprintf("grain %d of %s (compressed, marker at byte %d)", g, sp.f.name, at)
				}
			default:
				at := int64(gte)*sectorSize + in
				if avail := sp.f.size - at; avail < l {
					k := max(avail, 0)
					m.add(blockdev.Piece{Off: p.Off, N: k, Kind: blockdev.InFile, FileOff: at, R: sp.f.r, File: sp.f.name})
					p.Off, p.N = p.Off+k, l-k
					p.Kind, p.Why = blockdev.Bad, fmt.Sprintf("grain %d at sector %d lies beyond the end of %s (%d bytes)", g, gte, sp.f.name, sp.f.size)
					break
				}
				p.Kind, p.FileOff, p.R, p.File = blockdev.InFile, at, sp.f.r, sp.f.name
			}
			m.add(p)
			eoff += l
		}
	}
	if eoff < end && m.err == nil {
		m.add(blockdev.Piece{Off: base + eoff, N: end - eoff, Kind: blockdev.Bad, Why: fmt.Sprintf("beyond the capacity of %s (%d sectors)", sp.f.name, sp.h.Capacity)})
	}
	return m.flush()
}

// grainReader reads a compressed grain: its ReadAt offsets are in the
// decompressed grain.
type grainReader struct {
	sp  *sparse
	g   int64
	gte uint32
}

func (gr *grainReader) ReadAt(q []byte, off int64) (int, error) {
	sp := gr.sp
	if off == 0 && int64(len(q)) == sp.grain {
		// A whole grain: decompressed where it is wanted.
		if err := sp.decode(gr.g, gr.gte, q); err != nil {
			return 0, err
		}
		return len(q), nil
	}
	key := gtKey{sp, gr.g}
	b, ok := sp.sh.grains.get(key)
	if !ok {
		b = make([]byte, sp.grain)
		if err := sp.decode(gr.g, gr.gte, b); err != nil {
			return 0, err
		}
		sp.sh.grains.put(key, b)
	}
	if off < 0 || off >= int64(len(b)) {
		return 0, io.EOF
	}
	n := copy(q, b[off:])
	if n < len(q) {
		return n, io.EOF
	}
	return n, nil
}

// maxCompressed bounds the compressed size of a grain: deflate with
// fixed codes can grow data by an eighth, and qemu-img writes grains of
// random data a little larger than the grain.
func (sp *sparse) maxCompressed() int64 { return sp.grain + sp.grain/4 + 4096 }

var (
	flatePool sync.Pool // io.ReadCloser that are flate.Resetter
	bufPool   sync.Pool // *[]byte
)

// marker reads and checks the marker of compressed grain g at sector
// gte, and returns the size of its compressed data.
func (sp *sparse) marker(g int64, gte uint32) (int64, error) {
	f := sp.f
	at := int64(gte) * sectorSize
	if grainMarkerSize > f.size-at {
		return 0, fmt.Errorf("grain marker at byte %d lies beyond the end of the file (%d bytes)", at, f.size)
	}
	var mk [grainMarkerSize]byte
	if err := f.readFull(mk[:], at); err != nil {
		return 0, err
	}
	lba := binary.LittleEndian.Uint64(mk[0:])
	size := int64(binary.LittleEndian.Uint32(mk[8:]))
	if want := uint64(g) * sp.h.GrainSize; lba != want {
		return 0, fmt.Errorf("grain marker at byte %d: LBA %d, the grain table says sector %d", at, lba, want)
	}
	if size == 0 || size > sp.maxCompressed() {
		return 0, fmt.Errorf("grain marker at byte %d: compressed size %d, not between 1 and %d", at, size, sp.maxCompressed())
	}
	if size > f.size-at-grainMarkerSize {
		return 0, fmt.Errorf("compressed data of %d bytes at byte %d lies beyond the end of the file (%d bytes)", size, at+grainMarkerSize, f.size)
	}
	return size, nil
}

// decode decompresses grain g, whose marker is at sector gte, into dst
// (one grain long).
func (sp *sparse) decode(g int64, gte uint32, dst []byte) error {
	f := sp.f
	at := int64(gte) * sectorSize
	size, err := sp.marker(g, gte)
	if err != nil {
		return err
	}
	bp, _ := bufPool.Get().(*[]byte)
	if bp == nil || int64(cap(*bp)) < size {
		b := make([]byte, size)
		bp = &b
	}
	defer bufPool.Put(bp)
	src := (*bp)[:size]
	if err := f.readFull(src, at+grainMarkerSize); err != nil {
		return err
	}
	n, err := inflate(src, dst)
	if err != nil {
		return fmt.Errorf("compressed grain at byte %d (%d bytes): %v", at+grainMarkerSize, size, err)
	}
	if want := sp.grainLen(g); int64(n) < want {
		return fmt.Errorf("compressed grain at byte %d (%d bytes) holds %d bytes, the grain %d", at+grainMarkerSize, size, n, want)
	}
	clear(dst[n:])
	return nil
}

// inflate decompresses src into dst and returns the number of bytes it
// holds: a zlib stream (RFC 1950, what qemu-img and VMware write: a
// two-byte header, deflate data, the Adler-32 of the data, checked), or
// raw deflate data (RFC 1951, as the specification says). More data
// than dst holds is an error.
func inflate(src, dst []byte) (int, error) {
	body, zlibbed := src, false
	if len(src) >= 2 && src[0]&0x0f == 8 && src[0]>>4 <= 7 && (uint16(src[0])<<8|uint16(src[1]))%31 == 0 {
		if src[1]&0x20 != 0 {
			return 0, fmt.Errorf("zlib stream with a preset dictionary")
		}
		body, zlibbed = src[2:], true
	}
	br := bytes.NewReader(body)
	fr, _ := flatePool.Get().(io.ReadCloser)
	if fr == nil {
		fr = flate.NewReader(br)
	} else if err := fr.(flate.Resetter).Reset(br, nil); err != nil {
		return 0, err
	}
	defer flatePool.Put(fr)
	n, err := io.ReadFull(fr, dst)
	switch err {
	case nil:
		var one [1]byte
		k, err := io.ReadFull(fr, one[:])
		if k > 0 {
			return n, fmt.Errorf("decompresses to more than %d bytes", len(dst))
		}
		if err != io.EOF {
			return n, fmt.Errorf("deflate: %v", err)
		}
	case io.EOF, io.ErrUnexpectedEOF:
	default:
		return n, fmt.Errorf("deflate: %v", err)
	}
	if zlibbed {
		rest := body[len(body)-br.Len():]
		if len(rest) < 4 {
			return n, fmt.Errorf("zlib stream without its Adler-32")
		}
		stored, computed := binary.BigEndian.Uint32(rest), adler32.Checksum(dst[:n])
		if stored != computed {
			return n, fmt.Errorf("zlib Adler-32 stored %#08x, computed %#08x", stored, computed)
		}
	}
	return n, nil
}
