package export

import (
	"context"
	"fmt"
	"io"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan/device"
)

// PVReader gives access to one PV's bytes.
type PVReader struct {
	// R reads the PV; offset 0 is the first byte of the PV.
	R io.ReaderAt
	// Size is the number of readable bytes of this PV in its input.
	// Pieces beyond it are missing (a truncated image).
	Size int64
	// Name is the input path, for messages.
	Name string
	// Dev is optionally the PV as a device of the graph (offset 0 is the
	// PV's first byte). Where it knows where its data is (device.Mapper:
	// the holes of a sparse file, the clusters a container never
	// allocated), holes become RunZero and are not read, and ranges it
	// cannot read become RunMissing with the reason; where it takes
	// readahead hints (device.Advisor), reading ahead is asked of it.
	Dev device.Device
}

// pvFile is what a PieceSource keeps about a PV input file it reads.
type pvFile struct {
	uuid   string
	extent *extentCache
	ahead  *readahead
}

// file returns the state of PV uuid's file, nil when it has none.
func (s *PieceSource) file(uuid string) *pvFile {
	for i := range s.files {
		if s.files[i].uuid == uuid {
			return &s.files[i]
		}
	}
	return nil
}

// readahead is what PieceSource asked the kernel to read ahead of one PV
// input file.
type readahead struct {
	sequential sync.Once    // the file was advised to be read sequentially
	end        atomic.Int64 // end of the last readahead asked for
}

// readaheadMinRead is the smallest read after which PieceSource asks for
// what follows to be read ahead: an export's reads (4 MiB), not the small
// reads that look at an LV's first sectors (tasting every LV of a VG on
// a block device asked the kernel to read 16 MiB after each of them).
const readaheadMinRead = 1 << 20

// prefetchSize is how far ahead of a read PieceSource asks the kernel to
// read a PV input file.
const prefetchSize = 16 << 20

// PieceSource is a Source for LVs that map onto PVs as plain pieces
// (linear and striped segments, see model.VG.MapRange), or as stripe sets
// (model.VG.Layout): a striped LV is then mapped chunk by chunk as it is
// read, however many chunks it has, and its missing bytes are computed
// from its areas.
type PieceSource struct {
	size   int64
	sets   []model.StripeSet // sorted, disjoint
	pvs    map[string]PVReader
	expand func() ([]model.Piece, error) // Pieces, for stripe sets

	mu    sync.Mutex
	files []pvFile // the PVs with a File the pieces use
}

// NewPieceSource returns a Source for an LV of size bytes made of pieces.
// pvs maps PV UUIDs (as in model.Piece.PVUUID) to readers; pieces on PVs
// not in the map, or beyond a PV's Size, are RunMissing. Pieces are
// sorted by LV offset; parts overlapping an earlier piece or lying beyond
// size are ignored, and LV bytes no piece covers are RunMissing.
func NewPieceSource(size int64, pieces []model.Piece, pvs map[string]PVReader) *PieceSource {
	ps := append([]model.Piece(nil), pieces...)
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].LVOffset < ps[j].LVOffset })
	var sets []model.StripeSet
	var end int64
	for _, p := range ps {
		if p.LVOffset < end {
			cut := end - p.LVOffset
			p.LVOffset += cut
			p.PVOffset += cut
			p.Length -= cut
		}
		if p.LVOffset+p.Length > size {
			p.Length = size - p.LVOffset
		}
		if p.Length <= 0 || p.LVOffset < 0 {
			continue
		}
		area := p
		area.LVOffset = 0
		sets = append(sets, model.StripeSet{LVOffset: p.LVOffset, Length: p.Length, Chunk: p.Length, Areas: []model.Piece{area}})
		end = p.LVOffset + p.Length
	}
	return newSource(size, sets, pvs)
}

// NewStripedSource returns a Source for an LV of size bytes laid out as
// sets (model.VG.Layout: sorted, disjoint); pieces, when not nil, lists
// the LV's pieces for Pieces (model.VG.MapRange), called only then.
func NewStripedSource(size int64, sets []model.StripeSet, pvs map[string]PVReader, pieces func() ([]model.Piece, error)) *PieceSource {
	s := newSource(size, sets, pvs)
	s.expand = pieces
	return s
}

func newSource(size int64, sets []model.StripeSet, pvs map[string]PVReader) *PieceSource {
	s := &PieceSource{size: size, sets: sets, pvs: pvs}
	// Only the PVs the pieces use: an LV of a VG of many PVs (opened
	// once per LV for a verdict) costs its own pieces, not the VG's PVs.
	for _, set := range sets {
		for _, a := range set.Areas {
			pv, ok := pvs[a.PVUUID]
			if !ok || pv.Dev == nil || s.file(a.PVUUID) != nil {
				continue
			}
			s.files = append(s.files, pvFile{uuid: a.PVUUID, extent: newExtentCache(pv.Dev), ahead: &readahead{}})
		}
	}
	return s
}

// Size is the LV size in bytes.
func (s *PieceSource) Size() int64 { return s.size }

// Pieces returns the pieces in LV order (for the provenance extent map):
// one per chunk of a striped LV.
func (s *PieceSource) Pieces() []model.Piece {
	if s.expand != nil {
		if ps, err := s.expand(); err == nil {
			return ps
		}
	}
	var out []model.Piece
	for _, set := range s.sets {
		for off := int64(0); off < set.Length; {
			a, pvOff, run := set.ChunkAt(off)
			p := set.Areas[a]
			p.LVOffset, p.PVOffset, p.Length = set.LVOffset+off, pvOff, min(run, set.Length-off)
			out = append(out, p)
			off += p.Length
		}
	}
	return out
}

// first returns the index of the first set ending after off.
func (s *PieceSource) first(off int64) int {
	return sort.Search(len(s.sets), func(i int) bool {
		return s.sets[i].LVOffset+s.sets[i].Length > off
	})
}

// Runs describes [off, off+n) as runs.
func (s *PieceSource) Runs(off, n int64) ([]Run, error) {
	if off < 0 || n < 0 || off > s.size || n > s.size-off {
		return nil, fmt.Errorf("export: range [%d, %d) outside the LV (%d bytes)", off, off+n, s.size)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Run
	pos, end := off, off+n
	i := s.first(off)
	for pos < end {
		if i >= len(s.sets) || s.sets[i].LVOffset > pos {
			gapEnd := end
			if i < len(s.sets) {
				gapEnd = min(end, s.sets[i].LVOffset)
			}
			out = AppendRun(out, Run{Off: pos, Len: gapEnd - pos, Kind: RunMissing,
				Reason: "no PV area maps these LV bytes"})
			pos = gapEnd
			continue
		}
		set := &s.sets[i]
		setEnd := set.LVOffset + set.Length
		for pos < min(end, setEnd) {
			a, pvOff, run := set.ChunkAt(pos - set.LVOffset)
			l := min(run, min(end, setEnd)-pos)
			out = s.pieceRuns(out, set.Areas[a], pos, pvOff, l)
			pos += l
		}
		if pos == setEnd {
			i++
		}
	}
	return out, nil
}

// MissingRanges lists the bytes of the LV that have no source, as
// MissingRanges(ctx, s) would from the runs, computed from the sets'
// areas: a healthy striped LV of any size costs its segments, not its
// chunks.
func (s *PieceSource) MissingRanges(ctx context.Context) ([]Range, error) {
	var miss []Range
	pos := int64(0)
	gap := func(to int64) {
		if to > pos {
			miss = addRange(miss, Range{Off: pos, Len: to - pos, Reason: "no PV area maps these LV bytes"})
		}
	}
	for si := range s.sets {
		set := &s.sets[si]
		gap(set.LVOffset)
		// Where each area's bytes stop being readable (its length when
		// they all are), and why.
		sc := int64(len(set.Areas))
		from := make([]int64, sc)
		why := make([]Range, sc)
		first := set.Length
		for k, a := range set.Areas {
			from[k] = a.Length
			pv, ok := s.pvs[a.PVUUID]
			switch {
			case !ok:
				from[k] = 0
				why[k] = Range{Source: a.PVUUID, Reason: "PV " + a.PVRef() + " is missing: no input holds it"}
			case pv.Size-a.PVOffset < a.Length:
				from[k] = max(0, pv.Size-a.PVOffset)
				why[k] = Range{Source: a.PVUUID, Reason: fmt.Sprintf("PV %s is truncated: its input %s ends at PV byte %d", pvName(a), pv.Name, pv.Size)}
			}
			if from[k] < a.Length {
				// The LV offset (in the set) of area k's first missing byte.
				row := from[k] / set.Chunk
				first = min(first, (row*sc+int64(k))*set.Chunk+from[k]%set.Chunk)
			}
		}
		// From the row where every area is missing, for one reason, the
		// rest of the set is one range.
		allFrom := int64(-1)
		if sc > 1 {
			allFrom = 0
			for k := range set.Areas {
				if from[k] >= set.Areas[k].Length || why[k] != why[0] {
					allFrom = -1
					break
				}
				allFrom = max(allFrom, (from[k]+set.Chunk-1)/set.Chunk*set.Chunk*sc)
			}
		}
		// Chunk by chunk from the first missing one, in LV order.
		for off := first; off < set.Length; {
			if allFrom >= 0 && off >= allFrom {
				r := why[0]
				r.Off, r.Len = set.LVOffset+off, set.Length-off
				miss = addRange(miss, r)
				break
			}
			if (off/set.Chunk)%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			k, _, run := set.ChunkAt(off)
			l := min(run, set.Length-off)
			inArea := (off/set.Chunk/sc)*set.Chunk + off%set.Chunk
			if inArea+l > from[k] {
				a := max(inArea, from[k])
				r := why[k]
				r.Off, r.Len = set.LVOffset+off+(a-inArea), inArea+l-a
				miss = addRange(miss, r)
			}
			off += l
		}
		pos = set.LVOffset + set.Length
	}
	gap(s.size)
	return miss, nil
}

// pieceRuns appends the runs of l bytes at LV offset lv, PV offset pvOff,
// of piece p.
func (s *PieceSource) pieceRuns(out []Run, p model.Piece, lv, pvOff, l int64) []Run {
	pv, ok := s.pvs[p.PVUUID]
	if !ok {
		return AppendRun(out, Run{Off: lv, Len: l, Kind: RunMissing, Source: p.PVUUID,
			Reason: "PV " + p.PVRef() + " is missing: no input holds it"})
	}
	avail := min(l, max(0, pv.Size-pvOff))
	var c *extentCache
	if f := s.file(p.PVUUID); f != nil {
		c = f.extent
	}
	for q := int64(0); q < avail; {
		kind, n, why := RunData, avail-q, ""
		if c != nil {
			var ext int64
			kind, ext, why = c.lookup(pvOff + q)
			n = min(n, ext-(pvOff+q))
		}
		out = AppendRun(out, Run{Off: lv + q, Len: n, Kind: kind, Source: p.PVUUID, Reason: why})
		q += n
	}
	if avail < l {
		out = AppendRun(out, Run{Off: lv + avail, Len: l - avail, Kind: RunMissing, Source: p.PVUUID,
			Reason: fmt.Sprintf("PV %s is truncated: its input %s ends at PV byte %d", pvName(p), pv.Name, pv.Size)})
	}
	return out
}

// pvName names the PV of a present input: as the VG names it, with its
// UUID ("pv0 (hHt6Hh-…)"), or by its UUID alone for a piece built without
// a label.
func pvName(p model.Piece) string {
	if p.PVLabel != "" {
		return p.PVLabel + " (" + p.PVUUID + ")"
	}
	return p.PVUUID
}

// AppendRun appends r to runs in LV order, merging it into the last run
// when they touch and have the same kind, source and reason; empty runs
// are dropped. Sources use it to build what Runs returns.
func AppendRun(out []Run, r Run) []Run {
	if r.Len <= 0 {
		return out
	}
	if k := len(out); k > 0 {
		last := &out[k-1]
		if last.End() == r.Off && last.Kind == r.Kind && last.Source == r.Source && last.Reason == r.Reason {
			last.Len += r.Len
			return out
		}
	}
	return append(out, r)
}

// ReadAt reads LV bytes from the PVs.
func (s *PieceSource) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("export: negative offset %d", off)
	}
	done := 0
	i := s.first(off)
	for done < len(p) {
		pos := off + int64(done)
		if pos >= s.size {
			return done, io.EOF
		}
		for i < len(s.sets) && s.sets[i].LVOffset+s.sets[i].Length <= pos {
			i++
		}
		if i >= len(s.sets) || s.sets[i].LVOffset > pos {
			return done, fmt.Errorf("export: no PV area maps LV byte %d", pos)
		}
		set := &s.sets[i]
		ai, pvOff, run := set.ChunkAt(pos - set.LVOffset)
		pc := set.Areas[ai]
		n := int(min(int64(len(p)-done), run, set.LVOffset+set.Length-pos))
		pv, ok := s.pvs[pc.PVUUID]
		if !ok {
			return done, fmt.Errorf("export: LV byte %d: PV %s is missing: no input holds it", pos, pc.PVRef())
		}
		f := s.file(pc.PVUUID)
		adv, _ := pv.Dev.(device.Advisor)
		if f != nil && adv != nil {
			// Asked when reading starts, not when the LV is opened: a
			// verdict opens every LV and reads none.
			f.ahead.sequential.Do(func() { adv.AdviseSequential(0, pv.Size) })
		}
		m, err := pv.R.ReadAt(p[done:done+n], pvOff)
		if next := pvOff + int64(m); adv != nil && m == n && next < pv.Size && len(p) >= readaheadMinRead {
			// Sequential reads: have the kernel fetch what follows
			// while the caller processes this, for a deeper queue than
			// one synchronous read at a time. Asked again only once
			// half of the last request has been consumed (or after a
			// jump), so small reads do not repeat the request.
			if f != nil {
				a := f.ahead
				if hw := a.end.Load(); next+prefetchSize/2 > hw || next < hw-2*prefetchSize {
					end := min(next+prefetchSize, pv.Size)
					a.end.Store(end)
					if end = dataEnd(pv.Dev, next, end); end > next {
						adv.AdviseWillNeed(next, end-next)
					}
				}
			}
		}
		done += m
		if m == n {
			err = nil
		} else if err == nil {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			return done, fmt.Errorf("PV %s in %s, byte %d: %w", pvName(pc), pv.Name, pvOff+int64(m), err)
		}
	}
	return done, nil
}

// dataEnd clips the PV range [from, to) to the data extent of the PV's
// device that holds from: readahead of a hole would only fill the page
// cache with zeros (the reads skip holes), and costs as much system time
// as reading them. It returns from when from is in a hole, to when holes
// cannot be told.
func dataEnd(d device.Device, from, to int64) int64 {
	if d == nil {
		return to
	}
	ext, err := device.MapAll(d, from, to-from)
	switch {
	case err != nil || len(ext) == 0:
		return to
	case ext[0].Kind != device.Data:
		return from
	}
	return min(to, ext[0].Off+ext[0].Len)
}

// ConcurrentReads reports that ReadAt may run in several goroutines at
// once: it keeps no state but the PV readers' own.
func (s *PieceSource) ConcurrentReads() bool { return true }
