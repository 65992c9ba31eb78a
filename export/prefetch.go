package export

import (
	"context"
	"time"

	"github.com/lvminspect/lvminspect/scan/device"
)

// Prefetcher is implemented by sources that can have the bytes of an LV
// range read ahead by the system (a readahead hint to the files below):
// a sparse LV's scattered data is then fetched while the engine hashes
// the zeros before it, instead of when the engine reaches it.
type Prefetcher interface {
	Prefetch(off, n int64)
}

// Prefetching: runs are looked at up to prefetchSpan bytes ahead of the
// engine, and at most prefetchData bytes of data are asked for ahead of
// it, so a dense LV gets no more readahead than its reads ask for.
const (
	prefetchSpan   = 512 << 20
	prefetchData   = 32 << 20
	prefetchWindow = 64 << 20
)

// prefetch walks the source's runs ahead of the engine's progress (done)
// and asks for the data runs to be read ahead, until ctx ends or the
// source is covered.
func (p *pipeline) prefetch(ctx context.Context, pf Prefetcher) {
	var asked int64 // data bytes asked for so far
	for off := int64(0); off < p.size; {
		// Wait while this window is too far ahead of the engine, or too
		// much data was asked for ahead of it.
		for {
			if ctx.Err() != nil {
				return
			}
			done := p.done.Load()
			if off-done < prefetchSpan && asked-done < prefetchData {
				break
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
		n := min(int64(prefetchWindow), p.size-off)
		runs, err := p.src.Runs(off, n)
		if err != nil {
			return
		}
		for _, r := range runs {
			if r.Kind != RunData {
				continue
			}
			// Only data far enough ahead of the engine: what the readers
			// are about to read they ask for themselves.
			if r.End() <= p.done.Load()+int64(p.opt.ChunkSize*p.opt.BufferCount) {
				continue
			}
			pf.Prefetch(r.Off, r.Len)
			asked = max(asked, r.Off) + r.Len
		}
		off += n
	}
}

// Prefetch asks the PVs' devices to read the LV range ahead, where they
// take the hint (device.Advisor).
func (s *PieceSource) Prefetch(off, n int64) {
	end := min(off+n, s.size)
	i := s.first(off)
	for pos := off; pos < end && i < len(s.sets); {
		set := &s.sets[i]
		if set.LVOffset > pos {
			pos = set.LVOffset
			continue
		}
		setEnd := set.LVOffset + set.Length
		for pos < min(end, setEnd) {
			a, pvOff, run := set.ChunkAt(pos - set.LVOffset)
			l := min(run, min(end, setEnd)-pos)
			if pv, ok := s.pvs[set.Areas[a].PVUUID]; ok {
				if adv, ok := pv.Dev.(device.Advisor); ok && pvOff < pv.Size {
					adv.AdviseWillNeed(pvOff, min(l, pv.Size-pvOff))
				}
			}
			pos += l
		}
		i++
	}
}
