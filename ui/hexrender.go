package ui

import (
	"fmt"
	"sort"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/lvminspect/lvminspect/internal/termsafe"
	"github.com/lvminspect/lvminspect/model"
)

func hexStyle(st *Styles, id int, cur bool) lipgloss.Style {
	s := st.Hex.Byte
	switch id {
	case hsZero:
		s = st.Hex.Zero
	case hsMissing:
		s = st.Hex.Missing
	case hsBad:
		s = st.Hex.Bad
	case hsField1:
		s = st.Hex.Field1
	case hsField2:
		s = st.Hex.Field2
	}
	if cur {
		s = s.Inherit(st.Hex.Current)
	}
	return s
}

// renderHexRows draws the rows in view. Field bytes alternate two styles;
// the current field is also bracketed, so that it shows without colour.
func renderHexRows(h *hexPane, st *Styles) []string {
	bpr := h.bpr()
	offW := h.offWidth()
	fs := h.src.fields
	notes := h.notes(st, offW+2+bpr*3+1+bpr+2)
	cells := make([]hexCell, bpr)
	var out []string
	for r := 0; r < h.rows(); r++ {
		rowOff := h.top + int64(r*bpr)
		if rowOff >= h.src.end {
			out = append(out, "")
			continue
		}
		for i := range cells {
			off := rowOff + int64(i)
			v, in, miss, pending := h.byteAt(off)
			fi := -1
			if in && !h.src.regions {
				fi = fieldAt(fs, off)
			}
			c := hexCell{cur: fi >= 0 && fi == h.field, style: hsByte}
			switch {
			case !in, pending:
				c.txt, c.ch, c.style = "  ", " ", hsNone
			case miss:
				c.txt, c.ch, c.style = "??", "?", hsMissing
			default:
				c.txt = hexByte(v)
				c.ch = "."
				if v >= 0x20 && v < 0x7f {
					c.ch = string(rune(v))
				}
				switch {
				case fi >= 0 && fs[fi].Check != nil && !fs[fi].Check.OK:
					c.style = hsBad
				case fi >= 0 && fi%2 == 0:
					c.style = hsField1
				case fi >= 0:
					c.style = hsField2
				case v == 0:
					c.style = hsZero
				}
			}
			cells[i] = c
		}
		var b strings.Builder
		b.WriteString(st.Hex.Offset.Render(fmt.Sprintf("%0*x", offW, rowOff)))
		b.WriteString(" ")
		prevCur := false
		for i := 0; i < bpr; {
			switch c := cells[i]; {
			case c.cur && !prevCur:
				b.WriteString("[")
			case !c.cur && prevCur:
				b.WriteString("]")
			default:
				b.WriteString(" ")
			}
			j := i
			group := cells[i].txt
			for j+1 < bpr && cells[j+1].style == cells[i].style && cells[j+1].cur == cells[i].cur {
				j++
				group += " " + cells[j].txt
			}
			b.WriteString(hexStyle(st, cells[i].style, cells[i].cur).Render(group))
			prevCur = cells[j].cur
			i = j + 1
		}
		if prevCur {
			b.WriteString("]")
		} else {
			b.WriteString(" ")
		}
		for i := 0; i < bpr; {
			j := i
			group := cells[i].ch
			for j+1 < bpr && cells[j+1].cur == cells[i].cur {
				j++
				group += cells[j].ch
			}
			as := st.Hex.Ascii
			if cells[i].cur {
				as = st.Hex.Current
			}
			b.WriteString(as.Render(group))
			i = j + 1
		}
		line := b.String()
		if r < len(notes) {
			line += "  " + notes[r]
		}
		out = append(out, line)
	}
	return out
}

// notes lists the fields in view beside the rows, one a line, when the
// pane is wide enough (used columns: the hex and ASCII part); the current
// field is marked ▶ and kept in the list.
func (h *hexPane) notes(st *Styles, used int) []string {
	room := h.width - used
	if room < 16 {
		return nil
	}
	room = min(room, 60)
	fs := h.src.fields
	end := h.top + int64(h.rows()*h.bpr())
	first := sort.Search(len(fs), func(i int) bool { return fs[i].Off+int64(fs[i].Len) > h.top })
	last := first
	for last < len(fs) && fs[last].Off < end {
		last++
	}
	if last-first > h.rows() {
		if h.field >= first && h.field < last {
			first = max(min(h.field-h.rows()/3, last-h.rows()), first)
		}
		last = first + h.rows()
	}
	var out []string
	for i := first; i < last; i++ {
		mark := "  "
		if i == h.field {
			mark = st.Bold.Render("▶ ")
		}
		line := mark + st.Hex.Offset.Render(fmt.Sprintf("%x ", fs[i].Off)) + fieldNote(st, fs[i], i)
		out = append(out, ansi.Truncate(line, room, "…"))
	}
	return out
}

// fieldNote is "name = value" in the colour of the field's bytes, with
// its check mark.
func fieldNote(st *Styles, f model.Field, i int) string {
	id := hsField1
	if i%2 == 1 {
		id = hsField2
	}
	if f.Check != nil && !f.Check.OK {
		id = hsBad
	}
	s := hexStyle(st, id, false).Render(termsafe.Text(f.Name)) + " = " + termsafe.Text(f.Value)
	if f.Check != nil {
		if f.Check.OK {
			s += st.Check.Good.Render("✓")
		} else {
			s += st.Check.Bad.Render("✗")
		}
	}
	return s
}

// infoLines describe the current field: name, range, decoded value and
// check; then the position.
func (h *hexPane) infoLines(st *Styles) []string {
	var l1 string
	if h.field >= 0 && h.field < len(h.src.fields) {
		f := h.src.fields[h.field]
		head := st.Bold.Render(termsafe.Text("▶ "+f.Name)) + termsafe.Text(fmt.Sprintf(" @%#x+%d = ", f.Off, f.Len))
		val, verdict, short := termsafe.Text(f.Value), "", ""
		if c := f.Check; c != nil {
			if c.OK {
				short = " ✓ checksum ok"
				verdict = " " + st.Check.Good.Render("✓ checksum ok")
			} else {
				short = " ✗ BAD checksum: …" // the stored and computed values may be cut
				verdict = " " + st.Check.Bad.Render(termsafe.Text("✗ BAD checksum: stored "+c.Stored+", computed "+c.Computed))
			}
		}
		// A long value (a LUKS2 checksum, a JSON area) is cut so that
		// the check's verdict stays in view.
		if room := h.width - ansi.StringWidth(head) - ansi.StringWidth(short); short != "" && ansi.StringWidth(val) > room {
			val = ansi.Truncate(val, max(room, 8), "…")
		}
		l1 = head + val + verdict
	} else {
		l1 = st.Muted.Render(fmt.Sprintf("%d fields · ] next field · o go to offset", len(h.src.fields)))
	}
	pos := fmt.Sprintf("top %#x (%d) of %#x", h.top, h.top, h.src.end)
	if h.field >= 0 {
		pos += fmt.Sprintf(" · field %d/%d", h.field+1, len(h.src.fields))
	}
	if h.reading {
		pos += " · " + h.s.tasks.spin.View() + " reading…"
	}
	if h.readErr != nil {
		pos += " · " + st.Status.Err.Render(termsafe.Text("✗ "+h.readErr.Error()))
	}
	return []string{ansi.Truncate(l1, h.width, "…"), ansi.Truncate(st.Muted.Render(pos), h.width, "…")}
}
