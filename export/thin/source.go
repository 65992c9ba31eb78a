package thin

import (
	"fmt"
	"io"
	"sort"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/model"
)

// Source is one thin LV segment as an export.Source: provisioned blocks
// read from the pool's data LV, unprovisioned blocks read as zeros (a
// RunZero, a hole in sparse output) or, with an external origin, from
// that LV.
//
// Runs and ReadAt cost O(log E + k) for a range touching k of the E
// extents (runs of consecutive blocks) and allocate per run, not per
// block: a sparse 1 TiB LV is described in a few runs. The extents are
// collected once at open (see maxExtents for the memory bound and the
// fallback to tree lookups per range).
type Source struct {
	lv    string
	size  int64 // segment bytes
	base  int64 // thin device byte offset of the segment's first byte (its LV offset)
	bsize int64 // data block size in bytes
	m     mapper

	data   export.Source // the pool's data LV
	dataLV string
	ext    export.Source // external origin; nil when there is none
	extLV  string

	stats  DeviceStats
	damage []Damage // sorted, disjoint
}

// Damage is a run of a thin device's virtual blocks whose mappings cannot
// be read: a damaged or unreadable subtree of its mapping tree (below the
// root), or a mapping to a data block the pool does not have. Their bytes
// are RunMissing: exported as zeros and listed with --allow-partial.
type Damage struct {
	VBlock, Len uint64
	Err         error
}

// Damage lists the damaged ranges found when the LV was opened.
func (s *Source) Damage() []Damage { return append([]Damage(nil), s.damage...) }

// Size is the segment size in bytes.
func (s *Source) Size() int64 { return s.size }

// Stats summarises the thin device's mapping tree as read at open.
func (s *Source) Stats() DeviceStats { return s.stats }

// piece is a part of a requested range: mapped to the data LV at src, or
// unmapped (src is then the thin device offset, where an external origin
// is read).
type piece struct {
	off, len int64 // segment offset and length
	mapped   bool
	src      int64
	damage   *Damage // set for blocks whose mappings cannot be read
}

// pieces calls fn for the mapped and unmapped pieces of [off, off+n) in
// order. Work and allocation are proportional to the number of extents in
// the range, not to the number of blocks.
func (s *Source) pieces(off, n int64, fn func(piece) error) error {
	if off < 0 || n < 0 || off > s.size || n > s.size-off {
		return fmt.Errorf("thin LV %s: range [%d, %d) outside the segment (%d bytes): %w", s.lv, off, off+n, s.size, model.ErrMapping)
	}
	if n == 0 {
		return nil
	}
	pos, end := off, off+n
	v0 := uint64((s.base + off) / s.bsize)
	v1 := ceilDiv(s.base+end, s.bsize)
	if len(s.damage) > 0 {
		// The blocks of damaged ranges are neither mapped nor known to be
		// unmapped: an unmapped piece is split around them.
		emit := fn
		fn = func(p piece) error {
			if p.mapped {
				return emit(p)
			}
			return s.splitDamage(p, emit)
		}
	}
	err := s.m.each(v0, v1, func(e Extent) error {
		eStart := int64(e.VBlock)*s.bsize - s.base
		eEnd := eStart + int64(e.Len)*s.bsize
		a, b := max(eStart, pos), min(eEnd, end)
		if a >= b {
			return nil
		}
		if a > pos {
			if err := fn(piece{off: pos, len: a - pos, src: s.base + pos}); err != nil {
				return err
			}
		}
		if err := fn(piece{off: a, len: b - a, mapped: true, src: int64(e.DBlock)*s.bsize + (a - eStart)}); err != nil {
			return err
		}
		pos = b
		return nil
	})
	if err == nil && pos < end {
		err = fn(piece{off: pos, len: end - pos, src: s.base + pos})
	}
	if err != nil {
		return fmt.Errorf("thin LV %s: %w", s.lv, err)
	}
	return nil
}

// splitDamage calls fn for the parts of the unmapped piece p, those in a
// damaged range with their Damage.
func (s *Source) splitDamage(p piece, fn func(piece) error) error {
	pos, end := p.off, p.off+p.len
	vb := func(d *Damage) (a, b int64) {
		return int64(d.VBlock)*s.bsize - s.base, int64(d.VBlock+d.Len)*s.bsize - s.base
	}
	i := sort.Search(len(s.damage), func(i int) bool { _, b := vb(&s.damage[i]); return b > pos })
	for ; i < len(s.damage) && pos < end; i++ {
		d := &s.damage[i]
		a, b := vb(d)
		a, b = max(a, pos), min(b, end)
		if a >= end {
			break
		}
		if a > pos {
			if err := fn(piece{off: pos, len: a - pos, src: s.base + pos}); err != nil {
				return err
			}
		}
		if err := fn(piece{off: a, len: b - a, src: s.base + a, damage: d}); err != nil {
			return err
		}
		pos = b
	}
	if pos < end {
		return fn(piece{off: pos, len: end - pos, src: s.base + pos})
	}
	return nil
}

// Runs describes [off, off+n) of the segment.
func (s *Source) Runs(off, n int64) ([]export.Run, error) {
	var out []export.Run
	err := s.pieces(off, n, func(p piece) error {
		var err error
		if p.damage != nil {
			out = export.AppendRun(out, export.Run{Off: p.off, Len: p.len, Kind: export.RunMissing, Source: s.dataLV,
				Reason: "the thin pool's metadata cannot say where these blocks are: " + p.damage.Err.Error()})
		} else if p.mapped {
			out, err = s.subRuns(out, s.data, s.dataLV, p, "pool data LV")
		} else if s.ext != nil {
			out, err = s.subRuns(out, s.ext, s.extLV, p, "")
		} else {
			out = export.AppendRun(out, export.Run{Off: p.off, Len: p.len, Kind: export.RunZero})
		}
		return err
	})
	return out, err
}

// subRuns appends the runs of piece p read from src (the data LV or the
// external origin) at p.src. Bytes past src's end are missing in the
// data LV (the metadata maps a block the LV does not have) and zeros in
// an external origin smaller than the thin LV.
func (s *Source) subRuns(out []export.Run, src export.Source, name string, p piece, what string) ([]export.Run, error) {
	avail := min(p.len, max(0, src.Size()-p.src))
	if avail > 0 {
		runs, err := src.Runs(p.src, avail)
		if err != nil {
			return out, fmt.Errorf("LV byte %d: %s %s byte %d: %w", s.base+p.off, what, name, p.src, err)
		}
		for _, r := range runs {
			r.Off += p.off - p.src
			out = export.AppendRun(out, r)
		}
	}
	if rest := p.len - avail; rest > 0 {
		r := export.Run{Off: p.off + avail, Len: rest, Kind: export.RunZero}
		if what != "" {
			r.Kind, r.Source = export.RunMissing, name
			r.Reason = fmt.Sprintf("the thin pool maps these bytes to %s %s byte %d, past its end (%d bytes)",
				what, name, p.src+avail, src.Size())
		}
		out = export.AppendRun(out, r)
	}
	return out, nil
}

// ReadAt reads segment bytes.
func (s *Source) ReadAt(b []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("thin LV %s: negative offset %d", s.lv, off)
	}
	if off >= s.size {
		if len(b) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	n := min(int64(len(b)), s.size-off)
	done := int64(0)
	err := s.pieces(off, n, func(p piece) error {
		dst := b[p.off-off : p.off-off+p.len]
		var src export.Source
		var name string
		switch {
		case p.damage != nil:
			return fmt.Errorf("LV byte %d: the thin pool's metadata cannot say where it is: %w", s.base+p.off, p.damage.Err)
		case p.mapped:
			src, name = s.data, "pool data LV "+s.dataLV
		case s.ext != nil:
			src, name = s.ext, "external origin "+s.extLV
		default:
			clear(dst)
			done += p.len
			return nil
		}
		avail := min(p.len, max(0, src.Size()-p.src))
		if avail < p.len && p.mapped {
			return fmt.Errorf("LV byte %d: %s byte %d is past its end (%d bytes)", s.base+p.off+avail, name, p.src+avail, src.Size())
		}
		m, err := src.ReadAt(dst[:avail], p.src)
		done += int64(m)
		if int64(m) < avail {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("LV byte %d: %s byte %d: %w", s.base+p.off+int64(m), name, p.src+int64(m), err)
		}
		clear(dst[avail:])
		done += p.len - avail
		return nil
	})
	if err != nil {
		return int(done), err
	}
	if n < int64(len(b)) {
		return int(n), io.EOF
	}
	return int(n), nil
}

// ceilDiv is ceil(a / b) for a >= 0, b > 0, without overflow.
func ceilDiv(a, b int64) uint64 {
	q := uint64(a / b)
	if a%b != 0 {
		q++
	}
	return q
}

// ConcurrentReads reports whether ReadAt may run in several goroutines:
// when the extents were collected at open (an immutable list; tree
// lookups share a node cache) and the pool's data LV (and external
// origin) allow it too.
func (s *Source) ConcurrentReads() bool {
	if _, ok := s.m.(extentMap); !ok {
		return false
	}
	for _, src := range []export.Source{s.data, s.ext} {
		if src == nil {
			continue
		}
		if cs, ok := src.(export.ConcurrentSource); !ok || !cs.ConcurrentReads() {
			return false
		}
	}
	return true
}
