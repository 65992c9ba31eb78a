package export

import (
	"context"
	"io"
	"math"
	"sync"
)

// zeros is a shared read-only buffer of zeros.
var zeros = sync.OnceValue(func() []byte { return make([]byte, 1<<20) })

// fill reads the bytes of c from the source.
func (p *pipeline) fill(ctx context.Context, c *chunk) error {
	n := int64(len(c.buf))
	runs, err := p.src.Runs(c.off, n)
	if err != nil {
		return err
	}
	if err := checkRuns(runs, c.off, n); err != nil {
		return err
	}
	data := false
	var miss []Range
	for _, r := range runs {
		switch r.Kind {
		case RunData:
			data = true
		case RunMissing:
			miss = append(miss, Range{Off: r.Off, Len: r.Len, Source: r.Source, Reason: r.Reason})
		}
	}
	if len(miss) > 0 && !p.opt.AllowPartial {
		return &MissingError{Ranges: miss}
	}
	p.mu.Lock()
	for _, m := range miss {
		p.missing = addRange(p.missing, m)
	}
	p.mu.Unlock()
	if !data {
		c.zero = true
		return nil
	}
	for _, r := range runs {
		b := c.buf[r.Off-c.off : r.End()-c.off]
		if r.Kind != RunData {
			clear(b)
			continue
		}
		if err := p.read(ctx, b, r); err != nil {
			return err
		}
	}
	return nil
}

// read reads data run r into b. On an error, without AllowPartial it
// returns a *ReadError; with it, it reads the run again in retrySize
// pieces and zeros (and records as missing) only the pieces that fail.
func (p *pipeline) read(ctx context.Context, b []byte, r Run) error {
	m, err := p.src.ReadAt(b, r.Off)
	if m == len(b) {
		p.count(r.Source, int64(m))
		return nil
	}
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	if !p.opt.AllowPartial {
		return &ReadError{Off: r.Off + int64(m), Len: r.Len - int64(m), Source: r.Source, Err: err}
	}
	for q := r.Off; q < r.End(); {
		if err := ctx.Err(); err != nil {
			return err
		}
		e := min(r.End(), (q/retrySize+1)*retrySize)
		piece := b[q-r.Off : e-r.Off]
		m, err := p.src.ReadAt(piece, q)
		p.count(r.Source, int64(m))
		if m < len(piece) {
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			clear(piece[m:])
			p.mu.Lock()
			p.missing = addRange(p.missing, Range{Off: q + int64(m), Len: e - q - int64(m), Source: r.Source, Reason: "read error: " + err.Error()})
			p.mu.Unlock()
		}
		q = e
	}
	return nil
}

// scanMissing fails with *MissingError when src has missing runs, before
// anything is written.
func scanMissing(ctx context.Context, src Source) error {
	miss, err := MissingRanges(ctx, src)
	if err != nil {
		return err
	}
	if len(miss) > 0 {
		return &MissingError{Ranges: miss}
	}
	return nil
}

// MissingRanges lists the bytes of src that have no source (RunMissing),
// merged, from its runs only: no LV data is read. It is what Export
// checks before writing anything when AllowPartial is not set (those
// ranges are then a *MissingError), so a caller that wants to say in
// advance whether an export will succeed asks the same question. Runs
// that do not cover the LV exactly are an error, as in Export. The work
// grows with the number of runs, not with the size the LV claims (see
// EachRun).
func MissingRanges(ctx context.Context, src Source) ([]Range, error) {
	if mr, ok := src.(MissingRanger); ok {
		return mr.MissingRanges(ctx)
	}
	var miss []Range
	err := EachRun(ctx, src, func(r Run) {
		if r.Kind == RunMissing {
			miss = addRange(miss, Range{Off: r.Off, Len: r.Len, Source: r.Source, Reason: r.Reason})
		}
	})
	if err != nil {
		return nil, err
	}
	return miss, nil
}

// MissingRanger is a Source that can say its missing ranges (what
// MissingRanges returns) without asking for its runs: a striped LV from
// its areas instead of chunk by chunk.
type MissingRanger interface {
	MissingRanges(ctx context.Context) ([]Range, error)
}

// AppendRange appends r to list, merging it with the last range when they
// touch and have the same source and reason (for a MissingRanger that
// combines the ranges of its parts).
func AppendRange(list []Range, r Range) []Range { return addRange(list, r) }

// Windows of EachRun: the first is firstWindow bytes; a window that held
// at most fewRuns runs doubles, one that held more than manyRuns halves
// (never below firstWindow).
const (
	firstWindow = 1 << 30
	fewRuns     = 1024
	manyRuns    = 8192
)

// EachRun calls fn with every run of src, in order, asking src for its
// runs a window at a time: a window doubles while it holds few runs, so an
// LV of 2^63 bytes in a handful of runs takes some thirty calls, and the
// work grows with the number of runs rather than with the LV's size.
// Runs that do not cover a window exactly are an error.
func EachRun(ctx context.Context, src Source, fn func(Run)) error {
	size := src.Size()
	w := int64(firstWindow)
	for off := int64(0); off < size; {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(w, size-off)
		runs, err := src.Runs(off, n)
		if err != nil {
			return err
		}
		if err := checkRuns(runs, off, n); err != nil {
			return err
		}
		for _, r := range runs {
			fn(r)
		}
		off += n
		switch {
		case len(runs) <= fewRuns && w <= math.MaxInt64/2:
			w *= 2
		case len(runs) > manyRuns && w > firstWindow:
			w /= 2
		}
	}
	return nil
}

// count adds n bytes read from source.
func (p *pipeline) count(source string, n int64) {
	p.mu.Lock()
	p.bytesRead[source] += n
	p.mu.Unlock()
}
