package cow

import (
	"fmt"
	"io"
	"sort"

	"github.com/lvminspect/lvminspect/export"
)

// Extent places Len bytes of an Overlay's top Source, starting at SrcOff,
// at byte Off of the Overlay.
type Extent struct {
	Off, Len, SrcOff int64
}

// End is Off+Len.
func (e Extent) End() int64 { return e.Off + e.Len }

// Overlay is a Source that reads its base, except where an Extent places
// bytes of its top Source. It is the snapshot view (base = origin, top =
// COW store) and the cached-LV view (base = cache origin, top = cache
// data).
type Overlay struct {
	base, top export.Source
	ext       []Extent
	topNote   string
}

// SetTopNote sets a text put before the reason of every missing run that
// comes from the top Source, to say what the missing bytes would have
// been (e.g. "snapshot chunk in the COW store").
func (o *Overlay) SetTopNote(note string) { o.topNote = note }

// NewOverlay returns the overlay of ext over base. Extents must be sorted
// by Off, must not overlap, must lie within base and read from within top;
// adjacent extents that continue each other are merged.
func NewOverlay(base, top export.Source, ext []Extent) (*Overlay, error) {
	o := &Overlay{base: base, top: top}
	for i, e := range ext {
		if e.Len <= 0 || e.Off < 0 || e.SrcOff < 0 || e.Off > base.Size()-e.Len || e.SrcOff > top.Size()-e.Len {
			return nil, fmt.Errorf("overlay extent %d (bytes [%d, %d) from %d) lies outside the base (%d bytes) or the top (%d bytes)",
				i, e.Off, e.Off+e.Len, e.SrcOff, base.Size(), top.Size())
		}
		if k := len(o.ext); k > 0 {
			last := &o.ext[k-1]
			if e.Off < last.End() {
				return nil, fmt.Errorf("overlay extent %d at byte %d overlaps or precedes the one ending at %d", i, e.Off, last.End())
			}
			if e.Off == last.End() && e.SrcOff == last.SrcOff+last.Len {
				last.Len += e.Len
				continue
			}
		}
		o.ext = append(o.ext, e)
	}
	return o, nil
}

// Size is the base's size.
func (o *Overlay) Size() int64 { return o.base.Size() }

// Extents returns the (merged) extents.
func (o *Overlay) Extents() []Extent { return append([]Extent(nil), o.ext...) }

// first returns the index of the first extent ending after off.
func (o *Overlay) first(off int64) int {
	return sort.Search(len(o.ext), func(i int) bool { return o.ext[i].End() > off })
}

// walk calls fn for consecutive pieces of [off, off+n): src is base or
// top, at is the offset in src, l the length.
func (o *Overlay) walk(off, n int64, fn func(pos int64, src export.Source, at, l int64) error) error {
	if off < 0 || n < 0 || off > o.Size() || n > o.Size()-off {
		return fmt.Errorf("range [%d, %d) outside the volume (%d bytes)", off, off+n, o.Size())
	}
	i := o.first(off)
	end := off + n
	for off < end {
		if i < len(o.ext) && o.ext[i].Off <= off {
			e := o.ext[i]
			l := min(end, e.End()) - off
			if err := fn(off, o.top, e.SrcOff+off-e.Off, l); err != nil {
				return err
			}
			off += l
			i++
			continue
		}
		stop := end
		if i < len(o.ext) {
			stop = min(stop, o.ext[i].Off)
		}
		if err := fn(off, o.base, off, stop-off); err != nil {
			return err
		}
		off = stop
	}
	return nil
}

// Runs describes [off, off+n) from the runs of base and top.
func (o *Overlay) Runs(off, n int64) ([]export.Run, error) {
	var out []export.Run
	err := o.walk(off, n, func(pos int64, src export.Source, at, l int64) error {
		runs, err := src.Runs(at, l)
		if err != nil {
			return err
		}
		if src == o.top && o.topNote != "" {
			for i := range runs {
				if runs[i].Kind == export.RunMissing {
					runs[i].Reason = o.topNote + ": " + runs[i].Reason
				}
			}
		}
		out, err = appendShifted(out, runs, at, l, pos-at)
		return err
	})
	return out, err
}

// ReadAt reads from base and top.
func (o *Overlay) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= o.Size() {
		return 0, io.EOF
	}
	want := min(int64(len(p)), o.Size()-off)
	done := 0
	err := o.walk(off, want, func(pos int64, src export.Source, at, l int64) error {
		m, err := src.ReadAt(p[done:done+int(l)], at)
		done += m
		if m < int(l) {
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		return nil
	})
	if err == nil && done < len(p) {
		err = io.EOF
	}
	return done, err
}

// appendShifted checks that runs cover [at, at+l) exactly and appends them
// moved by delta, merging runs that touch and have the same kind, source
// and reason.
func appendShifted(out, runs []export.Run, at, l, delta int64) ([]export.Run, error) {
	pos := at
	for _, r := range runs {
		if r.Off != pos || r.Len <= 0 || r.Len > at+l-pos {
			return out, fmt.Errorf("inconsistent runs for [%d, %d): run at %d of %d bytes", at, at+l, r.Off, r.Len)
		}
		pos += r.Len
		r.Off += delta
		if k := len(out); k > 0 {
			last := &out[k-1]
			if last.End() == r.Off && last.Kind == r.Kind && last.Source == r.Source && last.Reason == r.Reason {
				last.Len += r.Len
				continue
			}
		}
		out = append(out, r)
	}
	if pos != at+l {
		return out, fmt.Errorf("inconsistent runs for [%d, %d): they end at %d", at, at+l, pos)
	}
	return out, nil
}

// Window is the byte range [off, off+n) of a Source, as a Source.
type Window struct {
	src    export.Source
	off, n int64
}

// NewWindow returns bytes [off, off+n) of src.
func NewWindow(src export.Source, off, n int64) (*Window, error) {
	if off < 0 || n < 0 || off > src.Size() || n > src.Size()-off {
		return nil, fmt.Errorf("bytes [%d, %d) lie beyond the end of the volume (%d bytes)", off, off+n, src.Size())
	}
	return &Window{src: src, off: off, n: n}, nil
}

// Size is the window's length.
func (w *Window) Size() int64 { return w.n }

// Runs describes [off, off+n) of the window.
func (w *Window) Runs(off, n int64) ([]export.Run, error) {
	if off < 0 || n < 0 || off > w.n || n > w.n-off {
		return nil, fmt.Errorf("range [%d, %d) outside the volume (%d bytes)", off, off+n, w.n)
	}
	runs, err := w.src.Runs(w.off+off, n)
	if err != nil {
		return nil, err
	}
	return appendShifted(nil, runs, w.off+off, n, -w.off)
}

// ReadAt reads window bytes.
func (w *Window) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= w.n {
		return 0, io.EOF
	}
	l := min(int64(len(p)), w.n-off)
	m, err := w.src.ReadAt(p[:l], w.off+off)
	if err == nil && m < len(p) {
		err = io.EOF
	}
	return m, err
}

// Zero is a Source of Size zero bytes.
type Zero int64

// Size is the length.
func (z Zero) Size() int64 { return int64(z) }

// Runs is a single zero run.
func (z Zero) Runs(off, n int64) ([]export.Run, error) {
	if off < 0 || n < 0 || off > int64(z) || n > int64(z)-off {
		return nil, fmt.Errorf("range [%d, %d) outside the volume (%d bytes)", off, off+n, int64(z))
	}
	if n == 0 {
		return nil, nil
	}
	return []export.Run{{Off: off, Len: n, Kind: export.RunZero}}, nil
}

// ReadAt fills p with zeros.
func (z Zero) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= int64(z) {
		return 0, io.EOF
	}
	l := min(int64(len(p)), int64(z)-off)
	clear(p[:l])
	if l < int64(len(p)) {
		return int(l), io.EOF
	}
	return int(l), nil
}

// SourceReader reads a Source as an io.ReaderAt for metadata: zero runs
// read as zeros; missing runs and short reads are errors naming the
// range. Reads beyond the end return io.EOF.
func SourceReader(src export.Source) io.ReaderAt { return srcReader{src} }

type srcReader struct{ src export.Source }

func (s srcReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= s.src.Size() {
		return 0, io.EOF
	}
	n := min(int64(len(p)), s.src.Size()-off)
	runs, err := s.src.Runs(off, n)
	if err != nil {
		return 0, err
	}
	done := 0
	for _, r := range runs {
		if r.Off != off+int64(done) || r.Len <= 0 || r.Len > n-int64(done) {
			return done, fmt.Errorf("inconsistent runs reading bytes [%d, %d)", off, off+n)
		}
		b := p[done : done+int(r.Len)]
		switch r.Kind {
		case export.RunZero:
			clear(b)
		case export.RunMissing:
			return done, fmt.Errorf("bytes [%d, %d) have no source: %s", r.Off, r.End(), r.Reason)
		default:
			m, err := s.src.ReadAt(b, r.Off)
			if m < len(b) {
				if err == nil {
					err = io.ErrUnexpectedEOF
				}
				return done + m, fmt.Errorf("reading byte %d: %w", r.Off+int64(m), err)
			}
		}
		done += len(b)
	}
	if int64(done) != n {
		return done, fmt.Errorf("inconsistent runs reading bytes [%d, %d)", off, off+n)
	}
	if done < len(p) {
		return done, io.EOF
	}
	return done, nil
}
