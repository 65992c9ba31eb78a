package history

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lvminspect/lvminspect/internal/format"
	"github.com/lvminspect/lvminspect/model"
)

// WriteText writes the diff in a readable form: one line per change, "+"
// for additions, "-" for removals, "~" for changes. Sizes, counts and
// segment types are written as every other front end writes them
// (internal/format: a striped segment of one stripe is "linear"); the
// JSON form keeps the metadata's own words.
func (d *VGDiff) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "VG %s (%s): seqno %d → %d\n", d.VGName, d.VGUUID, d.A.Seqno, d.B.Seqno)
	for _, g := range []struct {
		tag string
		i   GenInfo
	}{{"A", d.A}, {"B", d.B}} {
		fmt.Fprintf(&b, "  %s: seqno %d, %s, %q\n", g.tag, g.i.Seqno, whenText(g.i.CreationTime, g.i.CreationHost), g.i.Description)
	}
	if d.Empty() {
		b.WriteString("  no change besides the seqno\n")
	}
	for _, c := range d.VG {
		fmt.Fprintf(&b, "~ VG %s: %s → %s\n", c.Field, c.Old, c.New)
	}
	for _, p := range d.PVsAdded {
		fmt.Fprintf(&b, "+ PV %s %s (%s, %s)\n", p.Label, p.UUID, p.Device, format.Count(int(p.PECount), "extent", "extents"))
	}
	for _, p := range d.PVsRemoved {
		fmt.Fprintf(&b, "- PV %s %s (%s, %s)\n", p.Label, p.UUID, p.Device, format.Count(int(p.PECount), "extent", "extents"))
	}
	for _, p := range d.PVsChanged {
		for _, c := range p.Changes {
			fmt.Fprintf(&b, "~ PV %s %s: %s %s → %s\n", p.Label, p.UUID, c.Field, c.Old, c.New)
		}
	}
	for _, l := range d.LVsAdded {
		fmt.Fprintf(&b, "+ LV %s (%s, %s, %s)\n", l.Name, l.UUID, format.Count(int(l.Extents), "extent", "extents"), format.SizeExact(l.Size))
		for _, s := range l.Segments {
			fmt.Fprintf(&b, "    %s\n", segText(&s))
		}
	}
	for _, l := range d.LVsRemoved {
		fmt.Fprintf(&b, "- LV %s (%s, %s, %s)\n", l.Name, l.UUID, format.Count(int(l.Extents), "extent", "extents"), format.SizeExact(l.Size))
		for _, s := range l.Segments {
			fmt.Fprintf(&b, "    %s\n", segText(&s))
		}
	}
	for _, l := range d.LVsChanged {
		name := l.Name
		if l.Renamed {
			fmt.Fprintf(&b, "~ LV %s renamed to %s (%s)\n", l.OldName, l.Name, l.UUID)
		}
		if l.Resized {
			fmt.Fprintf(&b, "~ LV %s resized: %d → %d extents (%s → %s)\n", name, l.OldExtents, l.NewExtents, format.SizeExact(l.OldSize), format.SizeExact(l.NewSize))
		}
		for _, c := range l.Changes {
			fmt.Fprintf(&b, "~ LV %s %s: %s → %s\n", name, c.Field, c.Old, c.New)
		}
		for _, s := range l.Segments {
			switch s.Kind {
			case SegAdded:
				fmt.Fprintf(&b, "  + LV %s segment %s\n", name, segText(s.New))
			case SegRemoved:
				fmt.Fprintf(&b, "  - LV %s segment %s\n", name, segText(s.Old))
			default:
				fmt.Fprintf(&b, "  ~ LV %s segment at extent %d %s:", name, s.StartExtent, s.Kind)
				for _, c := range s.Changes {
					if c.Field == "type" && s.Old != nil && s.New != nil {
						if o, n := segType(s.Old), segType(s.New); o != n {
							// Only when the names differ: a change of
							// type flags alone keeps the metadata's words.
							c.Old, c.New = o, n
						}
					}
					fmt.Fprintf(&b, " %s %s → %s;", c.Field, c.Old, c.New)
				}
				b.WriteString("\n")
			}
		}
	}
	for _, n := range d.HistoricalAdded {
		fmt.Fprintf(&b, "+ historical LV %s\n", n)
	}
	for _, n := range d.HistoricalRemoved {
		fmt.Fprintf(&b, "- historical LV %s\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// segType names a diffed segment's type with format.SegType; a striped
// segment has one area per stripe.
func segType(s *SegInfo) string {
	base, flags := model.SplitType(s.Type)
	return format.SegType(&model.Segment{Type: s.Type, BaseType: base, TypeFlags: flags, StripeCount: uint64(len(s.Areas))})
}

func segText(s *SegInfo) string {
	t := fmt.Sprintf("extents %d..%d %s", s.StartExtent, s.StartExtent+s.ExtentCount-1, segType(s))
	if len(s.Areas) > 0 {
		t += " on " + areasText(s.Areas)
	}
	return t
}

// whenText formats a creation time (UTC) and host.
func whenText(t int64, host string) string {
	s := "time unknown"
	if t > 0 {
		s = time.Unix(t, 0).UTC().Format("2006-01-02 15:04:05 UTC")
	}
	if host != "" {
		s += " on " + host
	}
	return s
}
