package history

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/lvminspect/lvminspect/model"
)

// WriteText writes the history in a readable form: per VG its
// generations, oldest first, with where each was found; then fragments,
// copies without identity, the areas walked and the problems. vg ("" for
// all) restricts it to the VG it designates.
func (h *History) WriteText(w io.Writer, vg string) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	b := &textWriter{w: bw}
	keys := h.vgKeys(vg)
	var cur, name string
	for _, g := range h.Generations {
		if vg != "" && !keys[g.Key()] {
			continue
		}
		if g.Key() != cur {
			cur = g.Key()
			n := 0
			for _, o := range h.Generations {
				if o.Key() == cur {
					n++
				}
			}
			name = newestName(h, cur)
			fmt.Fprintf(b, "\nVG %s  %s  %d generation%s\n", name, g.VGUUID, n, plural(n))
		}
		writeGeneration(b, g, name)
	}
	var frags, unknown []*Copy
	for _, c := range h.Copies {
		switch {
		case c.Fragment != nil && (vg == "" || keys[model.BareUUID(c.VGUUID)] || c.Fragment.Match != nil && keys[c.Fragment.Match.Key()] ||
			keys[model.BareUUID(c.Fragment.ProbableVGUUID)]):
			frags = append(frags, c)
		case c.Fragment == nil && c.Gen == nil && vg == "":
			unknown = append(unknown, c)
		}
	}
	if len(frags) > 0 {
		b.WriteString("\nFragments (partly overwritten copies):\n")
		for _, c := range frags {
			writeFragment(b, c)
		}
	}
	if len(unknown) > 0 {
		b.WriteString("\nCopies whose VG cannot be told:\n")
		for _, c := range unknown {
			fmt.Fprintf(b, "  %s, %d bytes: %s\n", where(c), c.Size, copyState(c))
		}
	}
	b.WriteString("\nMetadata areas walked:\n")
	for _, a := range h.Areas {
		nc, nf := 0, 0
		for _, c := range a.Copies {
			if c.Fragment != nil {
				nf++
			} else {
				nc++
			}
		}
		var flags []string
		if a.PV == nil {
			flags = append(flags, "found without PV label")
		}
		if a.Ignored {
			flags = append(flags, "ignored")
		}
		if a.SlotsZero {
			flags = append(flags, "slots zero")
		}
		if !a.HeaderOK {
			flags = append(flags, "header damaged or missing")
		}
		if a.Truncated {
			flags = append(flags, "walk stopped at its limit")
		}
		fl := ""
		if len(flags) > 0 {
			fl = " [" + strings.Join(flags, ", ") + "]"
		}
		fmt.Fprintf(b, "  %s mda%d at byte %d, %d bytes (size from %s): %d cop%s, %d fragment%s%s\n",
			a.Path, a.Index, a.Offset, a.Size, a.SizeFrom, nc, pluralY(nc), nf, plural(nf), fl)
	}
	if len(h.Problems) > 0 {
		fmt.Fprintf(b, "\n%d problem%s:\n", len(h.Problems), plural(len(h.Problems)))
		for _, p := range h.Problems {
			fmt.Fprintf(b, "  %s\n", p)
		}
	}
	if b.err != nil {
		return b.err
	}
	return bw.Flush()
}

// textWriter writes the text as it is made, without its first newline.
type textWriter struct {
	w       *bufio.Writer
	started bool
	err     error
}

func (t *textWriter) Write(p []byte) (int, error) {
	n := len(p)
	if !t.started && len(p) > 0 {
		t.started = true
		if p[0] == '\n' {
			p = p[1:]
		}
	}
	if t.err == nil {
		_, t.err = t.w.Write(p)
	}
	return n, nil
}

func (t *textWriter) WriteString(s string) (int, error) { return t.Write([]byte(s)) }

func writeGeneration(b textOut, g *Generation, name string) {
	var tags []string
	if g.Current {
		tags = append(tags, "current")
	}
	if g.Committed {
		tags = append(tags, "committed")
	}
	if g.Precommitted {
		tags = append(tags, "precommitted")
	}
	if !g.Parses() || g.ParseErr != nil {
		tags = append(tags, "does not parse")
	}
	t := ""
	if len(tags) > 0 {
		t = "  [" + strings.Join(tags, ", ") + "]"
	}
	fmt.Fprintf(b, "  seqno %-4d %s  crc 0x%08x  %d bytes%s\n", g.Seqno, whenText(g.CreationTime, g.CreationHost), g.CRC, g.Size, t)
	if g.Description != "" {
		fmt.Fprintf(b, "             %q\n", g.Description)
	}
	if g.VGName != name {
		fmt.Fprintf(b, "             the VG is named %s in this generation\n", g.VGName)
	}
	fmt.Fprintf(b, "             LVs: %s\n", listText(g.LVs))
	if g.ParseErr != nil {
		fmt.Fprintf(b, "             parse: %v\n", g.ParseErr)
	}
	for _, c := range g.Copies {
		fmt.Fprintf(b, "             at %s: %s\n", where(c), copyState(c))
	}
}

func writeFragment(b textOut, c *Copy) {
	f := c.Fragment
	fmt.Fprintf(b, "  %s, %d bytes: %s fragment, %s\n", where(c), c.Size, f.Kind, f.Reason)
	if c.HasSeqno {
		fmt.Fprintf(b, "      VG %s %s seqno %d\n", c.VGName, c.VGUUID, c.Seqno)
	}
	if m := f.Match; m != nil {
		fmt.Fprintf(b, "      part of VG %s seqno %d (crc 0x%08x), which is intact elsewhere\n", m.VGName, m.Seqno, m.CRC)
	}
	if f.ProbableSeqno > 0 {
		fmt.Fprintf(b, "      probably seqno %d (the copy written after it is seqno %d)\n", f.ProbableSeqno, f.ProbableSeqno+1)
	}
	if len(f.LVs) > 0 {
		fmt.Fprintf(b, "      LVs visible: %s\n", listText(f.LVs))
	}
	if f.Description != "" || f.CreationTime != 0 {
		fmt.Fprintf(b, "      %q, %s\n", f.Description, whenText(f.CreationTime, f.CreationHost))
	}
}

// where names the place of a copy.
func where(c *Copy) string {
	a := c.Area
	s := fmt.Sprintf("%s byte %d", a.Path, c.Offset)
	pv := a.PVUUID
	if pv == "" {
		pv = "unlabelled PV"
	}
	s += fmt.Sprintf(" (%s mda%d", pv, a.Index)
	if c.Wrapped {
		s += fmt.Sprintf(", wraps %d bytes", c.WrapSize)
	}
	return s + ")"
}

// copyState summarises the checks of one location.
func copyState(c *Copy) string {
	var parts []string
	if c.Slot >= 0 {
		role := "committed"
		if c.Slot == 1 {
			role = "precommitted"
		}
		if c.CRCOK {
			parts = append(parts, fmt.Sprintf("%s (slot %d), crc ok", role, c.Slot))
		} else {
			parts = append(parts, fmt.Sprintf("slot %d points here, crc BAD (stored 0x%08x, computed 0x%08x)", c.Slot, c.StoredCRC, c.ComputedCRC))
		}
		if c.Area.Ignored && c.Slot == 0 {
			parts = append(parts, "area ignored: stale")
		}
	} else if c.CRCOK {
		parts = append(parts, "no slot records it; parses and ends as LVM writes it")
	} else {
		parts = append(parts, "no slot records it; not confirmed")
	}
	if !c.Parsed {
		msg := "does not parse"
		if c.ParseErr != nil {
			msg += ": " + c.ParseErr.Error()
		}
		parts = append(parts, msg)
	}
	if c.OtherVG {
		parts = append(parts, "belongs to another VG than the PV's current one")
	}
	if c.FoundBy == "slot" {
		parts = append(parts, "its first lines are not those of a copy")
	}
	return strings.Join(parts, "; ")
}

func newestName(h *History, key string) string {
	var n *Generation
	for _, g := range h.Generations {
		if g.Key() == key && (n == nil || g.Seqno > n.Seqno) {
			n = g
		}
	}
	if n == nil {
		return ""
	}
	return n.VGName
}

func listText(l []string) string {
	if len(l) == 0 {
		return "(none)"
	}
	return strings.Join(l, " ")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func pluralY(n int) string {
	if n == 1 {
		return "y"
	}
	return "ies"
}

// textOut is where the text goes.
type textOut interface {
	io.Writer
	io.StringWriter
}
