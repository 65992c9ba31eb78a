package ui

import (
	"fmt"
	"strings"

	"github.com/lvminspect/lvminspect/internal/termsafe"
	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan"
)

// detailsBuilder collects the lines of the details pane.
type detailsBuilder struct {
	st    *Styles
	width int
	lines []string
}

func (d *detailsBuilder) section(title string) {
	if len(d.lines) > 0 {
		d.lines = append(d.lines, "")
	}
	d.lines = append(d.lines, wrapText(d.st.Details.Section.Render(title), d.width)...)
}

// keyWidth is the width of the key column of the details pane.
const keyWidth = 15

// kv adds "key  value", wrapping a long value under itself.
func (d *detailsBuilder) kv(k string, v any) {
	d.kvWrap(k, termsafe.Text(fmt.Sprint(v)), wrapText)
}

// kvStyled is kv for a value the program has styled itself (a check mark in
// colour): it is not escaped.
func (d *detailsBuilder) kvStyled(k, v string) {
	d.kvWrap(k, v, wrapText)
}

// kvWords is kv for a plain-text value that may hold command lines: it
// wraps at spaces only.
func (d *detailsBuilder) kvWords(k, val string) {
	d.kvWrap(k, termsafe.Text(val), wrapWords)
}

func (d *detailsBuilder) kvWrap(k, val string, wrap func(string, int) []string) {
	vw := d.width - keyWidth
	if vw < 12 {
		d.lines = append(d.lines, wrap(d.st.Details.Key.Render(k)+" "+val, d.width)...)
		return
	}
	for i, l := range wrap(val, vw) {
		key := strings.Repeat(" ", keyWidth)
		if i == 0 {
			key = d.st.Details.Key.Render(fmt.Sprintf("%-*s", keyWidth-1, k)) + " "
		}
		d.lines = append(d.lines, key+l)
	}
}

// line adds a line, wrapped to the pane.
func (d *detailsBuilder) line(s string) {
	if s == "" {
		d.lines = append(d.lines, "")
		return
	}
	d.lines = append(d.lines, wrapText(s, d.width)...)
}

func (d *detailsBuilder) check(k string, c model.Check) {
	if c.OK {
		d.kvStyled(k, d.st.Check.Good.Render("✓ ok")+" "+termsafe.Text(c.Stored))
		return
	}
	d.kvStyled(k, d.st.Check.Bad.Render("✗ BAD")+termsafe.Text(fmt.Sprintf(" stored %s, computed %s", c.Stored, c.Computed)))
}

func (d *detailsBuilder) problems(ps []scan.Problem) {
	if len(ps) == 0 {
		return
	}
	d.section(fmt.Sprintf("Problems (%d)", len(ps)))
	for _, p := range ps {
		st := d.st.Status.Warn
		glyph := "!"
		if p.Severity == scan.SevError {
			st, glyph = d.st.Status.Err, "✗"
		} else if p.Severity == scan.SevInfo {
			st, glyph = d.st.Muted, "i"
		}
		for _, l := range wrapWords(glyph+" "+termsafe.Text(p.String()), d.width) {
			d.lines = append(d.lines, st.Render(l))
		}
	}
}

// detailsLines describes a node: what it is, its decoded values and the
// problems found in it, with the keys that open more views.
func detailsLines(st *Styles, n *node, width int) []string {
	d := &detailsBuilder{st: st, width: max(width, 20)}
	if n == nil {
		d.line("nothing selected")
		return d.lines
	}
	switch n.kind {
	case kInput:
		in := n.in
		d.section("Input " + in.Path)
		kind := "image file"
		if in.IsDevice {
			kind = "block device"
		}
		d.kv("kind", kind)
		d.kv("size", fmt.Sprintf("%s (%d bytes)", sizeText(in.Size), in.Size))
		d.kv("PVs found", len(in.PVs))
		if in.Partitions != nil {
			d.kv("partitions", fmt.Sprintf("%s, %d", strings.ToUpper(in.Partitions.Kind), len(in.Partitions.Partitions)))
		} else {
			d.kv("partitions", "no partition table")
		}
		if c := in.Content; c != nil {
			d.kv("holds", c.Name) // what to do next is under Problems
		}
		d.line("")
		d.line(st.Muted.Render("x: hex view of the whole input, read on demand"))
		d.problems(in.Problems)
	case kPartTable:
		t := n.table
		d.section(strings.ToUpper(t.Kind) + " partition table")
		d.kv("sector size", t.SectorSize)
		if t.DiskGUID != "" {
			d.kv("disk GUID", t.DiskGUID)
		}
		d.kv("partitions", len(t.Partitions))
		if len(t.Problems) > 0 {
			d.section(fmt.Sprintf("Problems (%d)", len(t.Problems)))
			for _, p := range t.Problems {
				d.line(st.Status.Warn.Render("! " + p))
			}
		}
	case kPartition:
		p := n.part
		d.section(fmt.Sprintf("Partition %d", p.Index))
		d.kv("start", offText(p.Start))
		d.kv("size", fmt.Sprintf("%s (%d bytes)", sizeText(p.Size), p.Size))
		d.kv("type", joinNonEmpty(" ", p.Type, p.TypeName))
		if p.Name != "" {
			d.kv("name", p.Name)
		}
		if p.UUID != "" {
			d.kv("GUID", p.UUID)
		}
		if p.Extended {
			d.kv("extended", "yes (container of logical partitions)")
		}
		if c, ok := n.in.PartitionContent[p.Index]; ok {
			d.kv("holds", c.Name)
			if c.Hint != "" {
				d.kvWords("next step", c.Hint)
			}
		}
	case kPV:
		pvDetails(d, n.pv)
	case kLabel:
		lb := n.pv.Label
		d.section(fmt.Sprintf("Label in sector %d", lb.Sector))
		if lb.Weak {
			d.line(st.Status.Warn.Render("! weak label: no LABELONE, accepted by its type alone"))
		}
		fieldsDetails(d, lb.Struct)
		d.line("")
		d.line(st.Muted.Render("x: hex view with every field named"))
	case kPVHeader:
		h := n.pv.Label.Header
		d.section("pv_header")
		d.kv("pv_uuid", model.DashedUUID(h.UUID))
		d.kv("device_size", fmt.Sprintf("%d (%s)", h.DeviceSize, sizeText(int64(h.DeviceSize))))
		for i, a := range h.DataAreas {
			d.kv(fmt.Sprintf("data area %d", i), fmt.Sprintf("offset %d size %d", a.Offset, a.Size))
		}
		for i, a := range h.MetadataAreas {
			d.kv(fmt.Sprintf("mda %d", i+1), fmt.Sprintf("offset %d size %s", a.Offset, sizeText(int64(a.Size))))
		}
		if h.HasExtension {
			d.kv("extension", fmt.Sprintf("version %d flags %#x", h.ExtVersion, h.ExtFlags))
			for i, a := range h.BootloaderAreas {
				d.kv(fmt.Sprintf("bootloader %d", i), fmt.Sprintf("offset %d size %d", a.Offset, a.Size))
			}
		}
		d.line("")
		d.line(st.Muted.Render("x: hex view with every field named"))
	case kMDA:
		mdaDetails(d, n.mda)
	case kMDAHeader:
		mdaDetails(d, n.mda)
	case kCopy:
		copyDetails(d, n.cp)
	case kVG:
		vgDetails(d, n.vg)
	case kVGPVs:
		d.section("Physical volumes of VG " + n.vg.vg.Meta.Name)
		for _, p := range n.vg.vg.PVs {
			state := st.Check.Good.Render("present")
			if p.Missing {
				state = st.Check.Bad.Render("MISSING")
			} else if p.Stale {
				state = st.Check.Warn.Render("stale")
			}
			d.line(fmt.Sprintf("%s %s %s", p.Meta.Label, p.Meta.UUID, state))
		}
	case kVGPV:
		vgpvDetails(d, n.vg, n.vgpv)
	case kLV:
		lvDetails(d, n)
	case kSegment, kArea:
		segDetails(d, n)
	}
	return d.lines
}

func fieldsDetails(d *detailsBuilder, s model.Structure) {
	d.section(fmt.Sprintf("%s: %d bytes at %s", s.Name, s.Len, offText(s.Off)))
	for _, f := range s.Fields {
		v := f.Value
		if f.Check != nil {
			if f.Check.OK {
				v += " " + d.st.Check.Good.Render("✓")
			} else {
				v += " " + d.st.Check.Bad.Render("✗ computed "+f.Check.Computed)
			}
		}
		d.kv(f.Name, v)
	}
}

func pvDetails(d *detailsBuilder, pv *scan.PV) {
	d.section("Physical volume " + pv.UUID())
	d.kv("input", pv.Path)
	d.kv("offset", offText(pv.Offset))
	if pv.Partition > 0 {
		d.kv("partition", pv.Partition)
	}
	d.kv("readable", fmt.Sprintf("%s (%d bytes)", sizeText(pv.Size), pv.Size))
	d.kv("device_size", fmt.Sprintf("%s (%d bytes)", sizeText(int64(pv.Label.Header.DeviceSize)), pv.Label.Header.DeviceSize))
	d.kv("label sector", pv.Label.Sector)
	d.check("label crc", pv.Label.CRC)
	d.kv("metadata areas", len(pv.MDAs))
	for _, m := range pv.MDAs {
		if c := m.Committed; c != nil && c.VG != nil {
			d.kv(fmt.Sprintf("mda%d holds", m.Index), fmt.Sprintf("VG %s seqno %d", c.VG.Name, c.VG.Seqno))
		}
	}
	d.line("")
	d.line(d.st.Muted.Render("x: hex view of the whole PV, read on demand"))
	d.problems(pv.Problems)
}

func mdaDetails(d *detailsBuilder, m *scan.MDA) {
	d.section(fmt.Sprintf("Metadata area %d", m.Index))
	d.kv("at", offText(m.AbsOff))
	d.kv("size", fmt.Sprintf("%s (%d bytes)", sizeText(int64(m.Locn.Size)), m.Locn.Size))
	if h := m.Header; h != nil {
		d.check("header crc", h.Checksum)
		magic := d.st.Check.Good.Render("✓")
		if !h.MagicOK {
			magic = d.st.Check.Bad.Render("✗ bad magic")
		}
		d.kv("magic", magic)
		d.kv("version", h.Version)
		d.kv("start", h.Start)
		d.kv("size (header)", h.Size)
		for i, s := range h.Slots {
			v := "empty"
			if !s.Empty() {
				v = fmt.Sprintf("offset %d size %d crc %#08x", s.Offset, s.Size, s.Checksum)
				if s.Ignored() {
					v += " IGNORED"
				}
			}
			d.kv(fmt.Sprintf("raw_locn[%d]", i), v)
		}
	} else {
		d.line(d.st.Check.Bad.Render("✗ the header could not be decoded"))
	}
	d.line("")
	d.line(d.st.Muted.Render("x: hex view of the header; select a copy and m for its text"))
	d.problems(m.Problems)
}

func copyDetails(d *detailsBuilder, c *scan.Copy) {
	what := "Committed"
	if c.Slot == 1 {
		what = "Precommitted"
	}
	d.section(what + " metadata (raw_locn[" + fmt.Sprint(c.Slot) + "])")
	if c.TextCopy == nil {
		d.line(d.st.Check.Bad.Render("✗ the text could not be read"))
		return
	}
	d.kv("at", offText(c.Off))
	d.kv("size", fmt.Sprintf("%d bytes", c.Size))
	if c.Wrapped {
		d.kv("wrapped", fmt.Sprintf("yes, %d bytes continue at the area start", c.WrapSize))
	}
	d.check("text crc", model.Check{OK: c.CRCOK, Stored: fmt.Sprintf("%#08x", c.Stored), Computed: fmt.Sprintf("%#08x", c.Computed)})
	if c.Ignored {
		d.kv("flags", "IGNORED (possibly stale)")
	}
	if c.VG != nil {
		d.kv("VG", c.VG.Name)
		d.kv("seqno", c.VG.Seqno)
		d.kv("written", timeText(c.VG.CreationTime))
		d.kv("by", c.VG.CreationHost)
		d.kv("description", c.VG.Description)
	}
	if c.ParseErr != nil {
		d.line(d.st.Check.Bad.Render("✗ does not parse: " + c.ParseErr.Error()))
	}
	d.line("")
	d.line(d.st.Muted.Render("m: metadata text · x: hex view of the text"))
}
