package ui

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/model"
)

// hexSource is a byte range the hex view can show: the bytes of an input
// (offsets are absolute input offsets, as in model.Field) or of an LV
// (offsets are LV bytes). It is read on demand, a window at a time.
type hexSource struct {
	title  string
	unit   string // "input" or "LV": what offsets count
	r      io.ReaderAt
	lv     export.Source // set for LV views: runs say what is missing
	start  int64
	end    int64
	fields []model.Field // sorted by offset
	// regions marks fields that are large regions (an LV's segments):
	// they are named and stepped through, but their bytes are not
	// coloured or bracketed.
	regions bool
}

// maxHexWindow bounds one read of the hex view.
const maxHexWindow = 1 << 20

// read reads [off, off+n) clipped to the source; miss marks bytes that
// have no source (a missing PV) or could not be read.
func (s *hexSource) read(off int64, n int) ([]byte, []bool, error) {
	if off < s.start {
		n -= int(s.start - off)
		off = s.start
	}
	if off >= s.end || n <= 0 {
		return nil, nil, nil
	}
	n = int(min(int64(n), s.end-off, maxHexWindow))
	buf := make([]byte, n)
	miss := make([]bool, n)
	if s.lv != nil {
		runs, err := s.lv.Runs(off, int64(n))
		if err != nil {
			for i := range miss {
				miss[i] = true
			}
			return buf, miss, err
		}
		var firstErr error
		for _, r := range runs {
			a, b := r.Off-off, r.End()-off
			switch r.Kind {
			case export.RunData:
				if _, err := s.lv.ReadAt(buf[a:b], r.Off); err != nil {
					for i := a; i < b; i++ {
						miss[i] = true
					}
					if firstErr == nil {
						firstErr = fmt.Errorf("reading LV byte %d (%s): %w", r.Off, r.Source, err)
					}
				}
			case export.RunMissing:
				for i := a; i < b; i++ {
					miss[i] = true
				}
				if firstErr == nil {
					firstErr = fmt.Errorf("LV bytes %d–%d: %s", r.Off, r.End(), r.Reason)
				}
			}
		}
		return buf, miss, firstErr
	}
	got, err := s.r.ReadAt(buf, off)
	if got < n {
		for i := got; i < n; i++ {
			miss[i] = true
		}
		if err == nil || err == io.EOF {
			err = fmt.Errorf("only %d of %d bytes readable at %d", got, n, off)
		}
		return buf, miss, err
	}
	return buf, miss, nil
}

// fieldAt returns the index of the field covering off, or -1. Fields are
// sorted by offset and do not overlap (a structure's fields, or segments).
func fieldAt(fields []model.Field, off int64) int {
	i := sort.Search(len(fields), func(i int) bool { return fields[i].Off > off }) - 1
	for k := i; k >= 0 && k >= i-1; k-- {
		if f := fields[k]; off >= f.Off && off < f.Off+int64(f.Len) {
			return k
		}
	}
	return -1
}

// hexPane shows a hexSource with its fields named and checked.
type hexPane struct {
	src    *hexSource
	top    int64 // offset of the first row shown
	field  int   // current field, -1 for none
	width  int
	height int

	buf     []byte
	miss    []bool
	bufOff  int64
	readErr error
}

// open shows src with the view at off (the field covering it selected).
func (h *hexPane) open(src *hexSource, off int64) {
	h.src = src
	h.buf, h.miss, h.readErr = nil, nil, nil
	h.field = -1
	h.jump(off)
}

// layout of the pane: a title line, rows, two info lines.
func (h *hexPane) rows() int { return max(h.height-3, 1) }

func (h *hexPane) bpr() int { return hexBytesPerRow(h.width, h.offWidth()) }

func (h *hexPane) offWidth() int {
	if h.src == nil {
		return 8
	}
	return max(len(strconv.FormatInt(h.src.end, 16)), 8)
}

// hexBytesPerRow picks 16 or 8 bytes per row, preferring a width that
// leaves room for the field names beside the rows, then 4 if nothing
// else fits.
func hexBytesPerRow(width, offW int) int {
	need := func(b int) int { return offW + 2 + b*3 + 1 + b }
	for _, b := range []int{16, 8} {
		if need(b)+2+minNotes <= width {
			return b
		}
	}
	for _, b := range []int{16, 8} {
		if need(b) <= width {
			return b
		}
	}
	return 4
}

// minNotes is the narrowest column of field names worth showing.
const minNotes = 30

func (h *hexPane) align(off int64) int64 {
	b := int64(h.bpr())
	return off - off%b
}

func (h *hexPane) clampTop() {
	if h.src == nil {
		return
	}
	b := int64(h.bpr())
	last := h.align(h.src.end-1) - int64(h.rows()-1)*b
	if h.top > last {
		h.top = last
	}
	if h.top < h.align(h.src.start) {
		h.top = h.align(h.src.start)
	}
	h.top = h.align(h.top)
}

func (h *hexPane) scroll(rows int) {
	h.top += int64(rows) * int64(h.bpr())
	h.clampTop()
}

func (h *hexPane) home() { h.top = h.align(h.src.start); h.clampTop() }

func (h *hexPane) end() { h.top = h.src.end; h.clampTop() }

// jump shows off near the top of the view and selects the field there.
func (h *hexPane) jump(off int64) {
	if h.src == nil {
		return
	}
	off = max(min(off, h.src.end-1), h.src.start)
	h.field = fieldAt(h.src.fields, off)
	h.top = h.align(off) - int64(min(2, h.rows()/4))*int64(h.bpr())
	h.clampTop()
}

// stepField moves to the next (d=1) or previous (d=-1) field.
func (h *hexPane) stepField(d int) {
	fs := h.src.fields
	if len(fs) == 0 {
		return
	}
	i := h.field
	if i < 0 {
		// start from what is in view
		i = sort.Search(len(fs), func(i int) bool { return fs[i].Off >= h.top })
		if d < 0 {
			i--
		}
	} else {
		i += d
	}
	if i < 0 || i >= len(fs) {
		return
	}
	h.field = i
	f := fs[i]
	vis := int64(h.rows() * h.bpr())
	if f.Off < h.top || f.Off >= h.top+vis {
		h.top = h.align(f.Off) - int64(min(2, h.rows()/4))*int64(h.bpr())
	}
	h.clampTop()
}

// ensure reads the bytes in view (and a screen around them) if they are
// not in the window already. Only the window is ever held in memory.
func (h *hexPane) ensure() {
	if h.src == nil {
		return
	}
	n := h.rows() * h.bpr()
	if h.buf != nil && h.top >= h.bufOff && h.top+int64(n) <= h.bufOff+int64(len(h.buf)) {
		return
	}
	if h.buf != nil && h.top+int64(n) > h.src.end && h.top >= h.bufOff && h.bufOff+int64(len(h.buf)) >= h.src.end {
		return
	}
	from := max(h.top-int64(n), h.src.start)
	h.buf, h.miss, h.readErr = h.src.read(from, 3*n+int(h.top-from))
	h.bufOff = from
	if h.buf == nil {
		h.bufOff = h.top
	}
}

func (h *hexPane) byteAt(off int64) (byte, bool, bool) {
	i := off - h.bufOff
	if off < h.src.start || off >= h.src.end {
		return 0, false, false // outside the source
	}
	if i < 0 || i >= int64(len(h.buf)) {
		return 0, true, true // not read: shown as missing
	}
	return h.buf[i], true, h.miss[i]
}

// view renders the pane: title, rows, the current field.
func (h *hexPane) view(st *Styles) string {
	if h.src == nil {
		return st.Muted.Render("nothing to show: select a structure, a PV or an LV and press x")
	}
	title := st.Pane.Title.Render(h.src.title) + st.Muted.Render(fmt.Sprintf("  %s offsets, %s", h.src.unit, sizeText(h.src.end-h.src.start)))
	lines := []string{ansi.Truncate(title, h.width, "…")}
	lines = append(lines, renderHexRows(h, st)...)
	lines = append(lines, h.infoLines(st)...)
	return strings.Join(lines, "\n")
}

// hexCell is one byte of a row as drawn.
type hexCell struct {
	txt, ch string
	style   int // index into hexStyles
	cur     bool
}

// Cell styles, grouped so that a row is rendered in a few runs.
const (
	hsByte = iota
	hsZero
	hsMissing
	hsBad
	hsField1
	hsField2
	hsNone
)

const hexDigits = "0123456789abcdef"

func hexByte(v byte) string { return string([]byte{hexDigits[v>>4], hexDigits[v&15]}) }

// parseOffset reads "4096", "0x1000", "8s" (sectors) or "4k"/"1m".
func parseOffset(s string) (int64, error) {
	s = strings.ToLower(strings.TrimSpace(strings.ReplaceAll(s, "_", "")))
	mult := int64(1)
	if !strings.HasPrefix(s, "0x") {
		switch {
		case strings.HasSuffix(s, "s"):
			mult, s = model.SectorSize, strings.TrimSuffix(s, "s")
		case strings.HasSuffix(s, "k"):
			mult, s = 1<<10, strings.TrimSuffix(s, "k")
		case strings.HasSuffix(s, "m"):
			mult, s = 1<<20, strings.TrimSuffix(s, "m")
		case strings.HasSuffix(s, "g"):
			mult, s = 1<<30, strings.TrimSuffix(s, "g")
		}
	}
	v, err := strconv.ParseInt(s, 0, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%q is not an offset (try 4096, 0x1000, 8s or 4k)", s)
	}
	if v > (1<<62)/mult {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return v * mult, nil
}
