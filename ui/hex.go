package ui

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/internal/format"
	"github.com/lvminspect/lvminspect/internal/termsafe"
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

// hexPane shows a hexSource with its fields named and checked. The bytes
// in view (and a screen around them) are read by a command; an LV is
// opened by one too (a thin LV's mapping is walked), so scrolling a slow
// disk never blocks the keyboard.
type hexPane struct {
	s    *session
	h    host
	keys *HexKeys
	acts []action

	src    *hexSource
	wait   *hexWait // an LV being opened for the view
	top    int64    // offset of the first row shown
	field  int      // current field, -1 for none
	width  int
	height int

	buf     []byte
	miss    []bool
	bufOff  int64
	readErr error
	reading bool  // a read of the window runs
	readTop int64 // the top it was asked for
}

// hexWait is an LV, or a container's file, the hex view waits for.
type hexWait struct {
	key      lvKey
	make     func(export.Source) *hexSource
	file     *containerFile
	makeFile func(io.ReaderAt, int64) *hexSource
	off      int64
	name     string
	err      error
}

// hexReadMsg carries a window of bytes read for the hex view.
type hexReadMsg struct {
	src  *hexSource
	off  int64
	buf  []byte
	miss []bool
	err  error
}

func newHexPane(s *session, h host, k *HexKeys) *hexPane {
	x := &hexPane{s: s, h: h, keys: k, field: -1}
	has := func() bool { return x.src != nil }
	hasFields := func() bool { return x.src != nil && len(x.src.fields) > 0 }
	do := func(f func()) func() tea.Cmd { return func() tea.Cmd { f(); return nil } }
	mv := moveActions(&k.MoveKeys, x.rows, x.scroll, x.home, x.end, nil)
	for i := range mv {
		mv[i].on = has
	}
	x.acts = append(mv,
		action{b: &k.NextField, on: hasFields, do: do(func() { x.stepField(1) })},
		action{b: &k.PrevField, on: hasFields, do: do(func() { x.stepField(-1) })},
		action{b: &k.NextSector, on: has, do: do(func() { x.scroll(512 / x.bpr()) })},
		action{b: &k.PrevSector, on: has, do: do(func() { x.scroll(-512 / x.bpr()) })},
		action{b: &k.Goto, on: has, do: func() tea.Cmd {
			x.h.prompt(fmt.Sprintf("go to %s offset: ", x.src.unit), "", x.gotoOffset)
			return nil
		}},
		action{b: &k.Back, do: h.back},
	)
	return x
}

func (x *hexPane) Title() string     { return "Hex" }
func (x *hexPane) Keys() keySet      { return x.keys }
func (x *hexPane) actions() []action { return x.acts }

func (x *hexPane) SetSize(w, h int) {
	if w != x.width || h != x.height {
		x.width, x.height = w, h
		x.clampTop()
	}
}

// show implements rightPane: the bytes of n, at the place n stands for.
func (x *hexPane) show(n *node, _ bool) (tea.Cmd, error) {
	if n == nil {
		return nil, fmt.Errorf("nothing selected")
	}
	t, err := targetOf(n)
	if err != nil {
		return nil, err
	}
	if t.file != nil {
		in, f := t.in, t.file
		mk := func(r io.ReaderAt, size int64) *hexSource { return fileSource(in, f, newLockedReaderAt(r), size) }
		e, cmd := x.s.openFile(f)
		switch {
		case e.ready && e.err != nil:
			return nil, e.err
		case e.ready:
			x.open(mk(e.f, e.size), t.off)
			return x.fetch(), nil
		}
		x.src, x.wait = nil, &hexWait{file: f, makeFile: mk, off: t.off, name: t.name}
		return cmd, nil
	}
	if t.lv == nil {
		x.open(t.src, t.off)
		return x.fetch(), nil
	}
	src, ready, cmd, err := x.s.openLV(t.vg, t.lv)
	switch {
	case ready && err != nil:
		return nil, err
	case ready:
		x.open(t.make(src), t.off)
		return x.fetch(), nil
	}
	x.src, x.wait = nil, &hexWait{key: keyOf(t.vg, t.lv), make: t.make, off: t.off, name: t.name}
	return cmd, nil
}

func (x *hexPane) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		cmd, _ := dispatch(msg, x.acts)
		return tea.Batch(cmd, x.fetch())
	case tea.MouseMsg:
		if x.src != nil {
			x.scroll(wheel(msg))
		}
		return x.fetch()
	case tea.WindowSizeMsg:
		return x.fetch()
	case lvOpenedMsg:
		if w := x.wait; w != nil && w.file == nil && w.key == msg.key {
			if msg.err != nil {
				w.err = msg.err
				return nil
			}
			x.open(w.make(msg.src), w.off)
			return x.fetch()
		}
	case fileOpenedMsg:
		if w := x.wait; w != nil && w.file != nil && w.file.key() == msg.key {
			if msg.err != nil {
				w.err = msg.err
				return nil
			}
			x.open(w.makeFile(msg.f, msg.size), w.off)
			return x.fetch()
		}
	case hexReadMsg:
		if msg.src == x.src {
			x.reading = false
			x.buf, x.miss, x.bufOff, x.readErr = msg.buf, msg.miss, msg.off, msg.err
			if x.buf == nil {
				x.buf, x.bufOff = []byte{}, x.top
			}
			if x.top != x.readTop { // moved while reading
				return x.fetch()
			}
		}
	}
	return nil
}

// gotoOffset jumps to an offset typed at the prompt.
func (x *hexPane) gotoOffset(v string) tea.Cmd {
	if x.src == nil {
		return nil
	}
	off, err := parseOffset(v)
	if err != nil {
		x.h.setStatus("✗ "+err.Error(), levelErr)
		return nil
	}
	if off < x.src.start || off >= x.src.end {
		x.h.setStatus(fmt.Sprintf("✗ offset %s is outside %s (%#x–%#x)", format.Offset(uint64(off)), x.src.title, x.src.start, x.src.end), levelErr)
		return nil
	}
	x.jump(off)
	return x.fetch()
}

// open shows src with the view at off (the field covering it selected);
// the same source keeps its bytes and only moves.
func (x *hexPane) open(src *hexSource, off int64) {
	x.wait = nil
	if x.src == nil || x.src.title != src.title || x.src.start != src.start || x.src.end != src.end {
		x.src = src
		x.buf, x.miss, x.readErr, x.reading = nil, nil, nil, false
	}
	x.field = -1
	x.jump(off)
}

// fetch returns the command that reads the bytes in view (and a screen
// around them) when they are not in the window already. Only the window
// is ever held in memory.
func (x *hexPane) fetch() tea.Cmd {
	if x.src == nil || x.reading || x.width <= 0 || x.src.end <= x.src.start {
		return nil
	}
	n := x.rows() * x.bpr()
	if x.buf != nil && x.top >= x.bufOff && x.top+int64(n) <= x.bufOff+int64(len(x.buf)) {
		return nil
	}
	if x.buf != nil && x.top >= x.bufOff && x.bufOff+int64(len(x.buf)) >= x.src.end {
		return nil
	}
	from := max(x.top-int64(n), x.src.start)
	size := 3*n + int(x.top-from)
	src := x.src
	x.reading, x.readTop = true, x.top
	return x.s.tasks.run(func() tea.Msg {
		buf, miss, err := src.read(from, size)
		return hexReadMsg{src: src, off: from, buf: buf, miss: miss, err: err}
	})
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

// byteAt is the byte at off: whether off is in the source, whether it
// could not be read, and whether it is still being read.
func (h *hexPane) byteAt(off int64) (v byte, in, miss, pending bool) {
	i := off - h.bufOff
	if off < h.src.start || off >= h.src.end {
		return 0, false, false, false // outside the source
	}
	if i < 0 || i >= int64(len(h.buf)) {
		return 0, true, !h.reading, h.reading // not read: being read, or missing
	}
	return h.buf[i], true, h.miss[i], false
}

// View renders the pane: title, rows, the current field.
func (h *hexPane) View() string {
	st := h.s.st
	if w := h.wait; w != nil {
		if w.err != nil {
			return st.Status.Err.Render(termsafe.Text("✗ cannot open " + w.name + ": " + w.err.Error()))
		}
		if w.file != nil {
			return h.s.waiting("opening " + termsafe.Text(w.name) + " read-only…")
		}
		return h.s.waiting("opening " + termsafe.Text(w.name) + " (its mapping is read from the PVs)…")
	}
	if h.src == nil {
		return st.Muted.Render("nothing to show: select a structure, a PV or an LV and press x")
	}
	title := st.Pane.Title.Render(termsafe.Text(h.src.title)) + st.Muted.Render(fmt.Sprintf("  %s offsets, %s", h.src.unit, format.Size(h.src.end-h.src.start)))
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
