package raid

import (
	"fmt"
	"io"
	"strings"

	"github.com/lvminspect/lvminspect/export"
)

// Legs is the Source of a mirror or raid1 segment: every leg holds the
// whole segment. Each range is read from the first leg (in metadata
// order) that has it and may be trusted there; leg 0 is the kernel's
// primary leg.
type Legs struct {
	lv   string // LV name, for messages
	kind string // "mirror" or "raid1"
	size int64
	imgs []*image
	arrayInfo
}

// Size is the segment size in bytes.
func (l *Legs) Size() int64 { return l.size }

func (l *Legs) check(off, n int64) error {
	if off < 0 || n < 0 || off > l.size || n > l.size-off {
		return fmt.Errorf("%s %s: range [%d, %d) outside the segment (%d bytes)", l.kind, l.lv, off, off+n, l.size)
	}
	return nil
}

// Runs describes [off, off+n): the chosen leg's own runs, or RunMissing
// where no leg has the bytes.
func (l *Legs) Runs(off, n int64) ([]export.Run, error) {
	if err := l.check(off, n); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, nil
	}
	sp, err := newSpan(l.imgs, off, off+n)
	if err != nil {
		return nil, err
	}
	var out []export.Run
	err = l.walk(sp, off, off+n, func(a, b int64, leg int, mask uint64) error {
		if leg >= 0 {
			out = sp.clip(out, leg, a, b, 0)
			return nil
		}
		out = export.AppendRun(out, l.missingRun(sp, a, b, mask))
		return nil
	})
	return out, err
}

// walk splits [a, end) into pieces with the same set of missing legs and
// calls fn with the leg to read (-1 for none).
func (l *Legs) walk(sp *span, a, end int64, fn func(a, b int64, leg int, mask uint64) error) error {
	for a < end {
		mask, b := sp.mask(a, end)
		leg := -1
		for i := range l.imgs {
			if mask&(1<<uint(i)) == 0 {
				leg = i
				break
			}
		}
		if err := fn(a, b, leg, mask); err != nil {
			return err
		}
		a = b
	}
	return nil
}

// missingRun describes bytes no leg has.
func (l *Legs) missingRun(sp *span, a, b int64, mask uint64) export.Run {
	var why []string
	src := ""
	for i := range l.imgs {
		if r, _ := sp.state(i, a, b); r != nil {
			why = append(why, r.Reason)
			if src == "" {
				src = r.Source
			}
		}
	}
	return export.Run{Off: a, Len: b - a, Kind: export.RunMissing, Source: src,
		Reason: fmt.Sprintf("%s %s: no leg has these bytes (%s)", l.kind, l.lv, strings.Join(why, "; "))}
}

// ReadAt reads segment bytes, each range from the leg Runs chose.
func (l *Legs) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > l.size {
		return 0, fmt.Errorf("%s %s: offset %d outside the segment (%d bytes)", l.kind, l.lv, off, l.size)
	}
	n := min(int64(len(p)), l.size-off)
	const window = 8 << 20
	for pos := off; pos < off+n; {
		e := min(off+n, pos+window)
		sp, err := newSpan(l.imgs, pos, e)
		if err != nil {
			return int(pos - off), err
		}
		err = l.walk(sp, pos, e, func(a, b int64, leg int, mask uint64) error {
			if leg < 0 {
				r := l.missingRun(sp, a, b, mask)
				return fmt.Errorf("%s %s: byte %d: %s", l.kind, l.lv, a, r.Reason)
			}
			return sp.read(leg, p[a-off:b-off], a, false)
		})
		if err != nil {
			return int(pos - off), err
		}
		pos = e
	}
	if n < int64(len(p)) {
		return int(n), io.EOF
	}
	return int(n), nil
}

// Redundant lists the ranges of [off, off+n) read from another leg than
// leg 0, because leg 0 is missing there.
func (l *Legs) Redundant(off, n int64) ([]export.Range, error) {
	if err := l.check(off, n); err != nil || n == 0 {
		return nil, err
	}
	sp, err := newSpan(l.imgs, off, off+n)
	if err != nil || !sp.anyMiss {
		return nil, err
	}
	var out []export.Range
	err = l.walk(sp, off, off+n, func(a, b int64, leg int, mask uint64) error {
		if leg > 0 {
			r, _ := sp.state(0, a, b)
			out = appendRange(out, export.Range{Off: a, Len: b - a, Source: l.imgs[leg].name,
				Reason: fmt.Sprintf("read from leg %s: %s", l.imgs[leg].name, r.Reason)})
		}
		return nil
	})
	return out, err
}
