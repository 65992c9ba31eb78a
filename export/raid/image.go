package raid

import (
	"fmt"
	"io"
	"math"
	"sort"

	"github.com/lvminspect/lvminspect/export"
)

// noEnd is the end of an open-ended bad range.
const noEnd = math.MaxInt64

// image is one data image (raid rimage) or mirror leg of a segment. Its
// offsets ("image offsets") count bytes from the start of its data: image
// offset t is byte base+t of the sub-LV.
type image struct {
	name string        // sub-LV name, or "pvN:PE" for a PV area
	src  export.Source // the whole sub-LV
	base int64         // sub-LV byte of image offset 0

	// bad lists image ranges the metadata or superblocks say are not
	// usable (failed, stale, being rebuilt), sorted and not overlapping.
	bad []badRange
	// regions, if set, marks regions a mirror disk log says are not in
	// sync as unusable too.
	regions *regionMap
}

// badRange is a range of image offsets that must not be read.
type badRange struct {
	from, to int64 // to is noEnd for "until the end"
	why      string
}

// regionMap marks the regions of a mirror disk log that are not clean.
type regionMap struct {
	log    *MirrorLog
	region int64 // region size in bytes
	why    string
}

// addBad records that image offsets [from, to) are unusable.
func (im *image) addBad(from, to int64, why string) {
	im.bad = append(im.bad, badRange{from: from, to: to, why: why})
	sort.SliceStable(im.bad, func(i, j int) bool { return im.bad[i].from < im.bad[j].from })
}

// badIn lists the unusable intervals intersecting [off, end), sorted and
// not overlapping (an earlier interval wins where two overlap).
func (im *image) badIn(off, end int64) []badRange {
	var out []badRange
	add := func(a, b int64, why string) {
		a, b = max(a, off), min(b, end)
		if k := len(out); k > 0 && a < out[k-1].to {
			a = out[k-1].to
		}
		if a >= b {
			return
		}
		if k := len(out); k > 0 && out[k-1].to == a && out[k-1].why == why {
			out[k-1].to = b
			return
		}
		out = append(out, badRange{from: a, to: b, why: why})
	}
	var regs []badRange
	if m := im.regions; m != nil && m.region > 0 {
		for j := off / m.region; j*m.region < end; j++ {
			if !m.log.Clean(uint64(j)) {
				a := j * m.region
				if k := len(regs); k > 0 && regs[k-1].to == a {
					regs[k-1].to = a + m.region
				} else {
					regs = append(regs, badRange{from: a, to: a + m.region, why: m.why})
				}
			}
		}
	}
	i, k := 0, 0
	for i < len(im.bad) || k < len(regs) {
		if k == len(regs) || i < len(im.bad) && im.bad[i].from <= regs[k].from {
			add(im.bad[i].from, im.bad[i].to, im.bad[i].why)
			i++
		} else {
			add(regs[k].from, regs[k].to, regs[k].why)
			k++
		}
	}
	return out
}

// runsOf describes image offsets [off, off+n) as runs in image offsets:
// the sub-LV's own runs, with the unusable ranges and anything beyond the
// sub-LV's end as RunMissing; with raw, the unusable ranges are not
// marked (only what the sub-LV itself lacks is missing).
func (im *image) runsOf(off, n int64, raw bool) ([]export.Run, error) {
	var out []export.Run
	end := off + n
	avail := min(n, max(0, im.src.Size()-im.base-off))
	if avail > 0 {
		rs, err := im.src.Runs(im.base+off, avail)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", im.name, err)
		}
		for _, r := range rs {
			r.Off -= im.base
			if r.Kind == export.RunMissing {
				r.Reason = im.name + ": " + r.Reason
			}
			out = append(out, r)
		}
	}
	if avail < n {
		out = append(out, export.Run{Off: off + avail, Len: n - avail, Kind: export.RunMissing, Source: im.name,
			Reason: fmt.Sprintf("%s ends at byte %d", im.name, im.src.Size())})
	}
	if raw {
		return out, nil
	}
	bad := im.badIn(off, end)
	if len(bad) == 0 {
		return out, nil
	}
	return overlay(out, bad, im.name), nil
}

// overlay marks the bad intervals of runs as RunMissing.
func overlay(runs []export.Run, bad []badRange, src string) []export.Run {
	var out []export.Run
	b := 0
	for _, r := range runs {
		pos := r.Off
		for pos < r.End() {
			for b < len(bad) && bad[b].to <= pos {
				b++
			}
			if b < len(bad) && bad[b].from <= pos {
				e := min(r.End(), bad[b].to)
				out = export.AppendRun(out, export.Run{Off: pos, Len: e - pos, Kind: export.RunMissing, Source: src,
					Reason: src + " " + bad[b].why})
				pos = e
				continue
			}
			e := r.End()
			if b < len(bad) {
				e = min(e, bad[b].from)
			}
			out = export.AppendRun(out, export.Run{Off: pos, Len: e - pos, Kind: r.Kind, Source: r.Source, Reason: r.Reason})
			pos = e
		}
	}
	return out
}

// span holds the runs of every image over the same image offsets
// [t0, t1), so that one range of a stripe row can be classified and read
// without asking the sub-LVs again.
type span struct {
	t0, t1  int64
	imgs    []*image
	runs    [][]export.Run // per image, covering [t0, t1)
	miss    [][]export.Run // per image, its RunMissing runs
	anyMiss bool
}

// newSpan collects the runs of all images over [t0, t1).
func newSpan(imgs []*image, t0, t1 int64) (*span, error) { return newSpanOf(imgs, t0, t1, false) }

// newSpanOf is newSpan; with raw, only what the sub-LVs lack is missing.
func newSpanOf(imgs []*image, t0, t1 int64, raw bool) (*span, error) {
	sp := &span{t0: t0, t1: t1, imgs: imgs, runs: make([][]export.Run, len(imgs)), miss: make([][]export.Run, len(imgs))}
	for i, im := range imgs {
		rs, err := im.runsOf(t0, t1-t0, raw)
		if err != nil {
			return nil, err
		}
		sp.runs[i] = rs
		for _, r := range rs {
			if r.Kind == export.RunMissing {
				sp.miss[i] = append(sp.miss[i], r)
				sp.anyMiss = true
			}
		}
	}
	return sp, nil
}

// state returns the missing run of image i containing t (nil when the
// byte is present) and the next offset, at most limit, where that may
// change.
func (sp *span) state(i int, t, limit int64) (*export.Run, int64) {
	m := sp.miss[i]
	k := sort.Search(len(m), func(k int) bool { return m[k].End() > t })
	if k == len(m) {
		return nil, limit
	}
	if m[k].Off <= t {
		return &m[k], min(limit, m[k].End())
	}
	return nil, min(limit, m[k].Off)
}

// mask returns the set of images missing at t and the next offset, at
// most limit, where it may change.
func (sp *span) mask(t, limit int64) (uint64, int64) {
	var mask uint64
	next := limit
	for i := range sp.miss {
		r, e := sp.state(i, t, next)
		if r != nil {
			mask |= 1 << uint(i)
		}
		next = e
	}
	return mask, next
}

// clip appends the runs of image i within [a, b), shifted by delta.
func (sp *span) clip(out []export.Run, i int, a, b, delta int64) []export.Run {
	rs := sp.runs[i]
	k := sort.Search(len(rs), func(k int) bool { return rs[k].End() > a })
	for ; k < len(rs) && rs[k].Off < b; k++ {
		r := rs[k]
		s, e := max(a, r.Off), min(b, r.End())
		out = export.AppendRun(out, export.Run{Off: s + delta, Len: e - s, Kind: r.Kind, Source: r.Source, Reason: r.Reason})
	}
	return out
}

// read fills dst with image i's bytes at image offset t: data runs are
// read, zero runs cleared. Missing bytes are an error unless zeroMissing,
// which clears them instead.
func (sp *span) read(i int, dst []byte, t int64, zeroMissing bool) error {
	rs := sp.runs[i]
	im := sp.imgs[i]
	end := t + int64(len(dst))
	k := sort.Search(len(rs), func(k int) bool { return rs[k].End() > t })
	pos := t
	for ; pos < end && k < len(rs); k++ {
		r := rs[k]
		e := min(end, r.End())
		b := dst[pos-t : e-t]
		switch r.Kind {
		case export.RunData:
			m, err := im.src.ReadAt(b, im.base+pos)
			if m < len(b) {
				if err == nil {
					err = io.ErrUnexpectedEOF
				}
				return fmt.Errorf("%s byte %d: %w", im.name, im.base+pos+int64(m), err)
			}
		case export.RunMissing:
			if !zeroMissing {
				return fmt.Errorf("%s byte %d: %s", im.name, im.base+pos, r.Reason)
			}
			clear(b)
		default:
			clear(b)
		}
		pos = e
	}
	if pos < end {
		return fmt.Errorf("%s: image offset %d outside the runs read", im.name, pos)
	}
	return nil
}
