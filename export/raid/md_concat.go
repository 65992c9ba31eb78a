package raid

import (
	"fmt"
	"io"
	"sort"

	"github.com/lvminspect/lvminspect/export"
)

// mdConcat is an md array made of parts that follow one another: the
// members of a linear array, the zones of a raid0 array.
type mdConcat struct {
	name  string
	level string // linear or raid0
	size  int64
	parts []mdPart // by offset, each starting where the one before ends
	arrayInfo
}

// mdPart is a part of an mdConcat starting at array byte off.
type mdPart struct {
	off int64
	src interface {
		export.Source
		Redundant(off, n int64) ([]export.Range, error)
	}
}

// Size is the array size in bytes.
func (c *mdConcat) Size() int64 { return c.size }

func (c *mdConcat) check(off, n int64) error {
	if off < 0 || n < 0 || off > c.size || n > c.size-off {
		return fmt.Errorf("%s %s: range [%d, %d) outside the array (%d bytes)", c.level, c.name, off, off+n, c.size)
	}
	return nil
}

// each calls fn for the parts of [off, end), with the part and the range
// in part bytes.
func (c *mdConcat) each(off, end int64, fn func(p *mdPart, a, b int64) error) error {
	i := sort.Search(len(c.parts), func(i int) bool { return c.parts[i].off+c.parts[i].src.Size() > off })
	for ; i < len(c.parts) && c.parts[i].off < end; i++ {
		p := &c.parts[i]
		a, b := max(off, p.off), min(end, p.off+p.src.Size())
		if a < b {
			if err := fn(p, a-p.off, b-p.off); err != nil {
				return err
			}
		}
	}
	return nil
}

// Runs describes [off, off+n) by the runs of the parts.
func (c *mdConcat) Runs(off, n int64) ([]export.Run, error) {
	if err := c.check(off, n); err != nil {
		return nil, err
	}
	var out []export.Run
	err := c.each(off, off+n, func(p *mdPart, a, b int64) error {
		rs, err := p.src.Runs(a, b-a)
		if err != nil {
			return err
		}
		for _, r := range rs {
			r.Off += p.off
			out = export.AppendRun(out, r)
		}
		return nil
	})
	return out, err
}

// ReadAt reads array bytes from the parts.
func (c *mdConcat) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > c.size {
		return 0, fmt.Errorf("%s %s: offset %d outside the array (%d bytes)", c.level, c.name, off, c.size)
	}
	n := min(int64(len(p)), c.size-off)
	err := c.each(off, off+n, func(pt *mdPart, a, b int64) error {
		dst := p[pt.off+a-off : pt.off+b-off]
		m, err := pt.src.ReadAt(dst, a)
		if m < len(dst) {
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("%s %s: array byte %d: %w", c.level, c.name, pt.off+a+int64(m), err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if n < int64(len(p)) {
		return int(n), io.EOF
	}
	return int(n), nil
}

// Redundant lists the ranges the parts read from another copy.
func (c *mdConcat) Redundant(off, n int64) ([]export.Range, error) {
	if err := c.check(off, n); err != nil {
		return nil, err
	}
	var out []export.Range
	err := c.each(off, off+n, func(p *mdPart, a, b int64) error {
		rs, err := p.src.Redundant(a, b-a)
		for _, r := range rs {
			r.Off += p.off
			out = appendRange(out, r)
		}
		return err
	})
	return out, err
}

// memberSource is the first size bytes of a member's data area (an
// image) as a Source: its own runs, with its unusable ranges missing.
type memberSource struct {
	im   *image
	size int64
}

func (s *memberSource) Size() int64 { return s.size }

func (s *memberSource) Runs(off, n int64) ([]export.Run, error) {
	if off < 0 || n < 0 || off > s.size || n > s.size-off {
		return nil, fmt.Errorf("%s: range [%d, %d) outside its %d data bytes", s.im.name, off, off+n, s.size)
	}
	if n == 0 {
		return nil, nil
	}
	return s.im.runsOf(off, n, false)
}

// ReadAt reads data bytes; bytes that are missing are an error.
func (s *memberSource) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > s.size {
		return 0, fmt.Errorf("%s: offset %d outside its %d data bytes", s.im.name, off, s.size)
	}
	n := min(int64(len(p)), s.size-off)
	const window = 8 << 20
	imgs := []*image{s.im}
	for pos := off; pos < off+n; {
		e := min(off+n, pos+window)
		sp, err := newSpan(imgs, pos, e)
		if err != nil {
			return int(pos - off), err
		}
		if err := sp.read(0, p[pos-off:e-off], pos, false); err != nil {
			return int(pos - off), err
		}
		pos = e
	}
	if n < int64(len(p)) {
		return int(n), io.EOF
	}
	return int(n), nil
}

// Redundant is empty: a linear member has no copy.
func (s *memberSource) Redundant(off, n int64) ([]export.Range, error) { return nil, nil }

// missingSrc stands for the device of a missing role: every byte is
// missing.
type missingSrc struct {
	name, why string
}

func (m *missingSrc) Size() int64 { return noEnd }

func (m *missingSrc) Runs(off, n int64) ([]export.Run, error) {
	if n <= 0 {
		return nil, nil
	}
	return []export.Run{{Off: off, Len: n, Kind: export.RunMissing, Source: m.name, Reason: m.why}}, nil
}

func (m *missingSrc) ReadAt(p []byte, off int64) (int, error) {
	return 0, fmt.Errorf("byte %d: %s", off, m.why)
}
