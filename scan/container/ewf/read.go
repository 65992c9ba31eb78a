package ewf

import (
	"bytes"
	"compress/flate"
	"container/list"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/adler32"
	"io"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lvminspect/lvminspect/scan/container/blockdev"
	"github.com/lvminspect/lvminspect/scan/device"
)

// chunkLoc is where a chunk is stored.
type chunkLoc struct {
	seg        int
	off, size  int64 // in the segment file; size includes an uncompressed chunk's checksum
	compressed bool
	tbl        *table
}

// locate reads the table entry of chunk i (and the next one, for its
// size).
func (im *Image) locate(i int64) (chunkLoc, error) {
	k := sort.Search(len(im.tables), func(k int) bool { return im.tables[k].first+im.tables[k].count > i })
	if k == len(im.tables) || i < 0 {
		return chunkLoc{}, fmt.Errorf("chunk %d: no table lists it", i)
	}
	t := &im.tables[k]
	s := im.segs[t.seg]
	if s.f == nil {
		return chunkLoc{}, errors.New("ewf: image closed")
	}
	j := i - t.first
	var e [8]byte
	n := 8
	if j+1 >= t.count {
		n = 4
	}
	if _, err := s.f.ReadAt(e[:n], t.entriesOff+4*j); err != nil {
		return chunkLoc{}, fmt.Errorf("%s: table entry of chunk %d: %w", s.name, i, err)
	}
	v := binary.LittleEndian.Uint32(e[:])
	next, hasNext := uint32(0), n == 8
	if hasNext {
		next = binary.LittleEndian.Uint32(e[4:])
	}
	return im.locFrom(t, v, next, hasNext)
}

// locFrom is where the chunk whose table entry is v lies in t's segment
// file; next is the following entry, when the table has one.
func (im *Image) locFrom(t *table, v, next uint32, hasNext bool) (chunkLoc, error) {
	s := im.segs[t.seg]
	loc := chunkLoc{seg: t.seg, tbl: t, compressed: v&0x80000000 != 0, off: t.base + int64(v&0x7fffffff)}
	// The chunk ends where the next one starts, or at the next section.
	k2 := sort.Search(len(s.starts), func(k int) bool { return s.starts[k] > loc.off })
	end := s.size
	if k2 < len(s.starts) {
		end = s.starts[k2]
	}
	if hasNext {
		if nx := t.base + int64(next&0x7fffffff); nx > loc.off && nx < end {
			end = nx
		}
	}
	loc.size = end - loc.off
	if loc.off >= s.size || loc.size <= 0 {
		return loc, fmt.Errorf("table entry gives offset %d, outside the sectors data of %s (%d bytes)", loc.off, filepath.Base(s.name), s.size)
	}
	return loc, nil
}

// chunkLen is the number of media bytes in chunk i (the last one may be
// short).
func (im *Image) chunkLen(i int64) int64 {
	return min(im.chunkSize, im.size-i*im.chunkSize)
}

// decoder holds the buffers and the inflater of one reader.
type decoder struct {
	raw []byte
	run []byte // the stored bytes of a run of chunks (readRun)
	br  bytes.Reader
	fr  io.ReadCloser
}

func (im *Image) getDecoder() *decoder {
	if d, ok := im.pool.Get().(*decoder); ok {
		return d
	}
	return &decoder{}
}

// unreadable is the error of a chunk that cannot be read.
func (im *Image) unreadable(i int64, why string) error {
	return &device.UnreadableError{Device: im.name, Off: i * im.chunkSize, Len: im.chunkLen(i), Why: why}
}

// decodeChunk reads chunk i and checks it, into dst when it is large
// enough, else into a new slice allocated once the table entry says the
// chunk is plausible (a deflate stream expands at most 1032 times).
func (im *Image) decodeChunk(i int64, dst []byte) ([]byte, error) {
	if i < 0 || i >= im.chunks {
		return nil, fmt.Errorf("ewf: chunk %d out of range (%d chunks)", i, im.chunks)
	}
	want := im.chunkLen(i)
	loc, err := im.locate(i)
	if err != nil {
		return nil, im.unreadable(i, fmt.Sprintf("chunk %d: %v", i, err))
	}
	if loc.compressed && want > 1032*loc.size+1024 {
		return nil, im.unreadable(i, fmt.Sprintf("chunk %d at byte %d (%#x) of %s: compressed in %d bytes, cannot hold %d", i, loc.off, loc.off, filepath.Base(im.segs[loc.seg].name), loc.size, want))
	}
	if int64(cap(dst)) < want {
		dst = make([]byte, want)
	}
	dst = dst[:want]
	err = im.decodeAt(i, loc, dst)
	return dst, err
}

func (im *Image) decodeAt(i int64, loc chunkLoc, dst []byte) error {
	want := int64(len(dst))
	s := im.segs[loc.seg]
	where := fmt.Sprintf("chunk %d at byte %d (%#x) of %s", i, loc.off, loc.off, filepath.Base(s.name))
	if loc.tbl.bad != "" {
		return im.unreadable(i, fmt.Sprintf("%s: its table is damaged: %s", where, loc.tbl.bad))
	}
	d := im.getDecoder()
	defer im.pool.Put(d)
	// A compressed chunk is a zlib stream; never larger than the chunk
	// and the deflate overhead of stored blocks.
	n, err := im.rawSize(i, loc, want, where)
	if err != nil {
		return err
	}
	loc.size = n
	if int64(cap(d.raw)) < loc.size {
		d.raw = make([]byte, loc.size)
	}
	raw := d.raw[:loc.size]
	if _, err := s.f.ReadAt(raw, loc.off); err != nil {
		if errors.Is(err, io.EOF) {
			return im.unreadable(i, fmt.Sprintf("%s: %d bytes, past the end of the file", where, loc.size))
		}
		return fmt.Errorf("%s: %w", where, err)
	}
	return im.decodeRaw(i, loc, raw, dst, d, where)
}

// rawSize is how many bytes of the segment file the chunk of loc is read
// as (an uncompressed chunk with its checksum; a compressed one at most
// its size plus deflate's overhead), or an error for an uncompressed
// chunk stored too short.
func (im *Image) rawSize(i int64, loc chunkLoc, want int64, where string) (int64, error) {
	if loc.compressed {
		return min(loc.size, want+want/16+1024), nil
	}
	if loc.size < want+4 {
		return 0, im.unreadable(i, fmt.Sprintf("%s: uncompressed, %d bytes stored, %d needed with its checksum", where, loc.size, want+4))
	}
	return want + 4, nil
}

// decodeRaw checks chunk i, read as raw from its segment file, and
// decompresses or copies it into dst.
func (im *Image) decodeRaw(i int64, loc chunkLoc, raw, dst []byte, d *decoder, where string) error {
	want := int64(len(dst))
	if !loc.compressed {
		copy(dst, raw[:want])
		st, c := binary.LittleEndian.Uint32(raw[want:]), adler32.Checksum(raw[:want])
		if st != c {
			return im.unreadable(i, fmt.Sprintf("%s: uncompressed chunk: adler32 stored %#08x, computed %#08x", where, st, c))
		}
		return nil
	}
	// zlib: CMF, FLG, deflate data, Adler-32 (big-endian).
	if len(raw) < 6 || raw[0]&0x0f != 8 || (uint16(raw[0])<<8|uint16(raw[1]))%31 != 0 || raw[1]&0x20 != 0 {
		return im.unreadable(i, fmt.Sprintf("%s: compressed chunk: no zlib header (%x)", where, raw[:min(len(raw), 2)]))
	}
	d.br.Reset(raw[2:])
	if d.fr == nil {
		d.fr = flate.NewReader(&d.br)
	} else if err := d.fr.(flate.Resetter).Reset(&d.br, nil); err != nil {
		return err
	}
	n, err := io.ReadFull(d.fr, dst)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return im.unreadable(i, fmt.Sprintf("%s: compressed chunk: decompresses to %d bytes, not %d", where, n, want))
		}
		return im.unreadable(i, fmt.Sprintf("%s: compressed chunk: %v (zlib adler32 stored %#08x, none computed)", where, err, binary.BigEndian.Uint32(raw[len(raw)-4:])))
	}
	var one [1]byte
	if m, err := d.fr.Read(one[:]); m != 0 || (err != nil && err != io.EOF) {
		if m != 0 {
			return im.unreadable(i, fmt.Sprintf("%s: compressed chunk: decompresses to more than %d bytes", where, want))
		}
		return im.unreadable(i, fmt.Sprintf("%s: compressed chunk: %v", where, err))
	} else if err == nil {
		// The stream has not said it ended: read to its end.
		if m, err := d.fr.Read(one[:]); m != 0 || err != io.EOF {
			return im.unreadable(i, fmt.Sprintf("%s: compressed chunk: decompresses to more than %d bytes or is damaged (%v)", where, want, err))
		}
	}
	var tr [4]byte
	if _, err := io.ReadFull(&d.br, tr[:]); err != nil {
		return im.unreadable(i, fmt.Sprintf("%s: compressed chunk: zlib checksum missing", where))
	}
	if st, c := binary.BigEndian.Uint32(tr[:]), adler32.Checksum(dst); st != c {
		return im.unreadable(i, fmt.Sprintf("%s: compressed chunk: adler32 stored %#08x, computed %#08x", where, st, c))
	}
	return nil
}

// chunkCache is a small LRU of decompressed chunks.
type chunkCache struct {
	mu    sync.Mutex
	max   int
	ll    *list.List
	items map[int64]*list.Element
}

type cached struct {
	i    int64
	data []byte
}

func newChunkCache(chunkSize int64) *chunkCache {
	n := int((8 << 20) / max(chunkSize, 1))
	n = max(min(n, 64), 4)
	return &chunkCache{max: n, ll: list.New(), items: map[int64]*list.Element{}}
}

func (c *chunkCache) get(i int64) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[i]; ok {
		c.ll.MoveToFront(e)
		return e.Value.(*cached).data
	}
	return nil
}

func (c *chunkCache) has(i int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.items[i]
	return ok
}

func (c *chunkCache) put(i int64, data []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[i]; ok {
		return
	}
	c.items[i] = c.ll.PushFront(&cached{i: i, data: data})
	for c.ll.Len() > c.max {
		e := c.ll.Back()
		c.ll.Remove(e)
		delete(c.items, e.Value.(*cached).i)
	}
}

// chunk returns chunk i, from the cache or decoded. The slice must not be
// modified.
func (im *Image) chunk(i int64) ([]byte, error) {
	if b := im.cache.get(i); b != nil {
		return b, nil
	}
	if im.ra != nil {
		im.ra.wait(i)
		if b := im.cache.get(i); b != nil {
			return b, nil
		}
	}
	b, err := im.decodeChunk(i, nil)
	if err != nil {
		return nil, err
	}
	im.cache.put(i, b)
	return b, nil
}

// errorAt returns the acquisition error range that overlaps [off, end),
// if any.
func (im *Image) errorAt(off, end int64) *errRange {
	k := sort.Search(len(im.errs), func(k int) bool { return im.errs[k].Off+im.errs[k].Len > off })
	if k < len(im.errs) && im.errs[k].Off < end {
		return &im.errs[k]
	}
	return nil
}

func (im *Image) acqError(e *errRange) error {
	return &device.UnreadableError{Device: im.name, Off: e.Off, Len: e.Len, Why: e.why()}
}

func (e *errRange) why() string {
	return fmt.Sprintf("acquisition error: sectors %d to %d could not be read when the image was made (error2 section)", e.Sector, e.Sector+e.Secs-1)
}

// ReadAt reads media bytes. A chunk that fails its checksum, or a range
// the acquisition could not read, fails with a *device.UnreadableError.
func (im *Image) ReadAt(p []byte, off int64) (int, error) {
	return blockdev.ReadDisk("ewf", p, off, im.size, func(p []byte) (int, error) {
		if im.ra != nil {
			im.touched(off/im.chunkSize, (off+int64(len(p))-1)/im.chunkSize)
		}
		n := 0
		for n < len(p) {
			pos := off + int64(n)
			i := pos / im.chunkSize
			in := pos - i*im.chunkSize
			l := min(int64(len(p)-n), im.chunkLen(i)-in)
			if e := im.errorAt(pos, pos+l); e != nil {
				if e.Off > pos {
					l = e.Off - pos
				} else {
					return n, im.acqError(e)
				}
			}
			if in == 0 && l == im.chunkLen(i) && int64(len(p)-n) >= 2*im.chunkSize {
				// Whole chunks: read their stored bytes in one go and
				// decode them straight into p.
				m, ok := im.readRun(p[n:], i)
				if ok {
					n += m
					continue
				}
			}
			b, err := im.chunk(i)
			if err != nil {
				return n, err
			}
			n += copy(p[n:n+int(l)], b[in:in+l])
		}
		return n, nil
	})
}

// Map reports the media as data, except the ranges the acquisition could
// not read and the chunks whose table is damaged, which are Unreadable.
func (im *Image) Map(off, length int64) ([]device.Extent, error) {
	if off < 0 || length < 0 {
		return nil, fmt.Errorf("ewf: map of [%d, +%d): negative", off, length)
	}
	end := min(off+length, im.size)
	if off+length < off {
		end = im.size
	}
	var out []device.Extent
	add := func(o, l int64, k device.Kind, why string) {
		out = blockdev.AppendExtent(out, device.Extent{Off: o, Len: l, Kind: k, Why: why})
	}
	pos := off
	for pos < end {
		// Bad tables.
		i := pos / im.chunkSize
		if t := im.tableOf(i); t != nil && t.bad != "" {
			tEnd := min((t.first+t.count)*im.chunkSize, end)
			add(pos, tEnd-pos, device.Unreadable, "chunks listed by a damaged table: "+t.bad)
			pos = tEnd
			continue
		}
		segEnd := end
		if t := im.tableOf(i); t != nil {
			segEnd = min(end, (t.first+t.count)*im.chunkSize)
		}
		if e := im.errorAt(pos, segEnd); e != nil {
			if e.Off > pos {
				add(pos, e.Off-pos, device.Data, "")
				pos = e.Off
			}
			eEnd := min(e.Off+e.Len, segEnd)
			add(pos, eEnd-pos, device.Unreadable, e.why())
			pos = eEnd
			continue
		}
		add(pos, segEnd-pos, device.Data, "")
		pos = segEnd
	}
	return out, nil
}

func (im *Image) tableOf(i int64) *table {
	k := sort.Search(len(im.tables), func(k int) bool { return im.tables[k].first+im.tables[k].count > i })
	if k == len(im.tables) {
		return nil
	}
	return &im.tables[k]
}

// ReadChunks decodes chunks [first, last) with workers goroutines (0:
// GOMAXPROCS), ahead of the caller, and calls fn with each in order,
// from one goroutine. data is chunkLen bytes, valid only during the
// call; err is the chunk's error (a *device.UnreadableError for a bad
// chunk), in which case data is nil. fn returning an error stops the
// run and ReadChunks returns it. Memory is bounded by a few chunks per
// worker. This is the engine of Verify and of a sequential export.
func (im *Image) ReadChunks(ctx context.Context, first, last int64, workers int, fn func(i int64, data []byte, err error) error) error {
	first = max(first, 0)
	last = min(last, im.chunks)
	if first >= last {
		return nil
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	type result struct {
		buf []byte
		err error
	}
	type job struct {
		i   int64
		out chan result
	}
	jobs := make(chan job)
	order := make(chan chan result, 2*workers)
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
		for range order {
		}
	}()
	bufs := make(chan []byte, 2*workers+2)
	for range cap(bufs) {
		bufs <- nil // allocated on first use
	}
	go func() {
		defer close(order)
		defer close(jobs)
		for i := first; i < last; i++ {
			out := make(chan result, 1)
			select {
			case order <- out:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- job{i, out}:
			case <-ctx.Done():
				return
			}
		}
	}()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				var b []byte
				select {
				case b = <-bufs:
				case <-ctx.Done():
					j.out <- result{err: ctx.Err()}
					continue
				}
				if c := im.cache.get(j.i); c != nil {
					if cap(b) < len(c) {
						b = make([]byte, len(c))
					}
					b = b[:len(c)]
					copy(b, c)
					j.out <- result{buf: b}
					continue
				}
				b, err := im.decodeChunk(j.i, b)
				j.out <- result{buf: b, err: err}
			}
		}()
	}
	i := first
	for out := range order {
		var r result
		select {
		case r = <-out:
		case <-ctx.Done():
			return ctx.Err()
		}
		var data []byte
		if r.err == nil {
			data = r.buf
		}
		if r.err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
		err := fn(i, data, r.err)
		bufs <- r.buf
		if err != nil {
			return err
		}
		i++
	}
	return ctx.Err()
}

// SequentialReader is an io.Reader of the media from an offset, decoded
// ahead in parallel by ReadChunks: for exporting or hashing the whole
// media. Close it when done.
type SequentialReader struct {
	cancel context.CancelFunc
	ch     chan seqPiece
	cur    seqPiece
	done   chan struct{}
	err    error
}

type seqPiece struct {
	b   []byte
	err error
}

// NewSequentialReader reads [off, Size) in order with workers goroutines
// (0: GOMAXPROCS). Acquisition error ranges and bad chunks fail the read
// with a *device.UnreadableError, as ReadAt does.
func (im *Image) NewSequentialReader(ctx context.Context, off int64, workers int) *SequentialReader {
	ctx, cancel := context.WithCancel(ctx)
	r := &SequentialReader{cancel: cancel, ch: make(chan seqPiece, 4), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		defer close(r.ch)
		if off < 0 || off >= im.size {
			return
		}
		first := off / im.chunkSize
		// Errors reach the reader through r.ch.
		_ = im.ReadChunks(ctx, first, im.chunks, workers, func(i int64, data []byte, err error) error {
			base := i * im.chunkSize
			skip := max(off-base, 0)
			if err == nil {
				if e := im.errorAt(base+skip, base+int64(len(data))); e != nil {
					if e.Off > base+skip {
						r.ch <- seqPiece{b: append([]byte(nil), data[skip:e.Off-base]...)}
					}
					err = im.acqError(e)
				}
			}
			if err != nil {
				select {
				case r.ch <- seqPiece{err: err}:
				case <-ctx.Done():
				}
				return err
			}
			select {
			case r.ch <- seqPiece{b: append([]byte(nil), data[skip:]...)}:
			case <-ctx.Done():
				return ctx.Err()
			}
			return nil
		})
	}()
	return r
}

// Read implements io.Reader.
func (r *SequentialReader) Read(p []byte) (int, error) {
	for len(r.cur.b) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		pc, ok := <-r.ch
		if !ok {
			r.err = io.EOF
			return 0, io.EOF
		}
		if pc.err != nil {
			r.err = pc.err
			return 0, pc.err
		}
		r.cur = pc
	}
	n := copy(p, r.cur.b)
	r.cur.b = r.cur.b[n:]
	return n, nil
}

// Close stops the read-ahead.
func (r *SequentialReader) Close() error {
	r.cancel()
	for range r.ch {
	}
	<-r.done
	return nil
}

// headerDate decodes an acquisition date of a header: a Unix time
// (header2) or "YYYY M D h m s" (header).
func headerDate(v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 && n < 1<<40 {
		return time.Unix(n, 0).UTC().Format(time.RFC3339)
	}
	f := strings.Fields(v)
	if len(f) == 6 {
		var x [6]int
		for k := range f {
			n, err := strconv.Atoi(f[k])
			if err != nil {
				return v
			}
			x[k] = n
		}
		return fmt.Sprintf("%04d-%02d-%02d %02d:%02d:%02d (local time of the acquisition)", x[0], x[1], x[2], x[3], x[4], x[5])
	}
	return v
}

// maxRun bounds the stored bytes readRun reads at once (a buffer of
// this size per concurrent reader).
const maxRun = 1 << 20

// readRun fills p with the whole chunks from chunk first on, as many as
// p holds, that one table lists and that lie one after the other in one
// segment file: their table entries are read in one read, their stored
// bytes in another, and each is checked and decoded into p. It reports
// false, having filled nothing that counts, when the chunks are not laid
// out so (or one of them fails: the caller's chunk-by-chunk path then
// reports the error precisely), or an acquisition error range is among
// them.
func (im *Image) readRun(p []byte, first int64) (int, bool) {
	k := sort.Search(len(im.tables), func(k int) bool { return im.tables[k].first+im.tables[k].count > first })
	if k == len(im.tables) || first < 0 {
		return 0, false
	}
	t := &im.tables[k]
	s := im.segs[t.seg]
	if s.f == nil || t.bad != "" {
		return 0, false
	}
	count := int64(len(p)) / im.chunkSize
	count = min(count, t.first+t.count-first, im.chunks-first)
	for count > 0 && im.chunkLen(first+count-1) != im.chunkSize {
		count-- // a short last chunk goes the chunk-by-chunk way
	}
	if count < 2 {
		return 0, false
	}
	if e := im.errorAt(first*im.chunkSize, (first+count)*im.chunkSize); e != nil {
		return 0, false
	}
	j := first - t.first
	ne := count
	if j+count < t.count {
		ne++ // the entry after the last, for its end
	}
	ent := make([]byte, 4*ne)
	if _, err := s.f.ReadAt(ent, t.entriesOff+4*j); err != nil {
		return 0, false
	}
	locs := make([]chunkLoc, count)
	var start, end int64
	for c := int64(0); c < count; c++ {
		v := binary.LittleEndian.Uint32(ent[4*c:])
		next, has := uint32(0), c+1 < ne
		if has {
			next = binary.LittleEndian.Uint32(ent[4*(c+1):])
		}
		loc, err := im.locFrom(t, v, next, has)
		if err != nil {
			return 0, false
		}
		sz, err := im.rawSize(first+c, loc, im.chunkSize, "")
		if err != nil {
			return 0, false
		}
		loc.size = sz
		if c == 0 {
			start = loc.off
		} else if loc.off < end || loc.off-end > 4096 {
			// Not in order, or apart: stop the run here.
			count, locs = c, locs[:c]
			break
		}
		end = loc.off + loc.size
		if end-start > maxRun {
			if c < 2 {
				return 0, false
			}
			count, locs = c, locs[:c]
			end = locs[c-1].off + locs[c-1].size
			break
		}
		locs[c] = loc
	}
	if count < 2 {
		return 0, false
	}
	d := im.getDecoder()
	defer im.pool.Put(d)
	if int64(cap(d.run)) < end-start {
		d.run = make([]byte, end-start)
	}
	raw := d.run[:end-start]
	if n, err := s.f.ReadAt(raw, start); int64(n) < end-start && err != nil {
		return 0, false
	}
	for c, loc := range locs {
		i := first + int64(c)
		dst := p[int64(c)*im.chunkSize : int64(c+1)*im.chunkSize]
		if err := im.decodeRaw(i, loc, raw[loc.off-start:loc.off-start+loc.size], dst, d, ""); err != nil {
			return 0, false
		}
	}
	return int(count * im.chunkSize), true
}
