package ui

import (
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/lvminspect/lvminspect/internal/format"
	"github.com/lvminspect/lvminspect/internal/termsafe"
	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan"
)

// detailsPane describes the tree's selection: what it is, its decoded
// values, checks and problems, and for an LV its facts and whether it can
// be exported (worked out in the background).
type detailsPane struct {
	s    *session
	h    host
	keys *DetailsKeys
	acts []action

	node  *node
	sc    scroller
	width int
}

func newDetailsPane(s *session, h host, k *DetailsKeys) *detailsPane {
	d := &detailsPane{s: s, h: h, keys: k}
	d.acts = append(d.sc.moves(&k.MoveKeys), action{b: &k.Back, do: h.back})
	return d
}

func (d *detailsPane) Title() string     { return "Details" }
func (d *detailsPane) Keys() keySet      { return d.keys }
func (d *detailsPane) actions() []action { return d.acts }

// show implements rightPane: the details show anything.
func (d *detailsPane) show(n *node, _ bool) (tea.Cmd, error) {
	d.node = n
	d.sc.set(d.render())
	return d.fetch(), nil
}

// fetch starts what the details of an LV need: its export verdict (and
// its facts, if the tree's prefetch has not got them yet).
func (d *detailsPane) fetch() tea.Cmd {
	n := d.node
	if n == nil || n.kind != kLV {
		return nil
	}
	_, cmd := d.s.verdict(n.vg.vg, n.lv, defaultOptions)
	return tea.Batch(cmd, d.s.prefetch())
}

func (d *detailsPane) SetSize(w, h int) {
	d.sc.height = h
	if w != d.width {
		d.width = w
		top := d.sc.top
		d.sc.set(d.render())
		d.sc.scroll(top)
	}
}

func (d *detailsPane) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		cmd, _ := dispatch(msg, d.acts)
		return cmd
	case tea.MouseMsg:
		d.sc.scroll(wheel(msg))
	case verdictMsg, factsMsg, historyMsg, fileOpenedMsg:
		if d.node != nil && (d.node.kind == kLV || d.node.kind == kContainerFile) {
			top := d.sc.top
			d.sc.set(d.render())
			d.sc.scroll(top)
		}
	}
	return nil
}

func (d *detailsPane) render() []string {
	if d.width <= 0 {
		return nil
	}
	return detailsLines(d.s, d.node, d.width)
}

// View implements pane: the lines in view, and where they are when they do
// not all fit.
func (d *detailsPane) View() string {
	s := &d.sc
	end := min(s.top+s.height, len(s.lines))
	var out []string
	for _, l := range s.lines[s.top:end] {
		out = append(out, ansi.Truncate(l, d.width, "…"))
	}
	if (s.top > 0 || end < len(s.lines)) && len(out) > 0 && len(out) >= s.height {
		out[len(out)-1] = d.s.st.Muted.Render(fmt.Sprintf("lines %d–%d of %d · tab, then ↓/pgdn: scroll", s.top+1, end, len(s.lines)))
	}
	return strings.Join(out, "\n")
}

// styled is text the program drew: its own words and colours, with any
// text from a disk in it escaped already. The details show it as is; a
// plain string is escaped (termsafe.Text) on its way in, so a colour the
// program chose is never printed as text and a disk's bytes never drive
// the terminal.
type styled string

// safe escapes text from a disk.
func safe(s string) styled { return styled(termsafe.Text(s)) }

// paint escapes s and draws it in style st.
func paint(st lipgloss.Style, s string) styled { return styled(st.Render(termsafe.Text(s))) }

// text is v as shown: a styled value as is, anything else escaped.
func text(v any) styled {
	if s, ok := v.(styled); ok {
		return s
	}
	return safe(fmt.Sprint(v))
}

// detailsBuilder collects the lines of the details pane.
type detailsBuilder struct {
	s     *session
	st    *Styles
	width int
	lines []string
}

func (d *detailsBuilder) section(title string) {
	if len(d.lines) > 0 {
		d.lines = append(d.lines, "")
	}
	d.lines = append(d.lines, wrapText(string(paint(d.st.Details.Section, title)), d.width)...)
}

// keyWidth is the width of the key column of the details pane.
const keyWidth = 15

// kv adds "key  value", wrapping a long value under itself.
func (d *detailsBuilder) kv(k string, v any) { d.kvWrap(k, text(v), wrapText) }

// kvWords is kv for a value that may hold command lines: it wraps at
// spaces only.
func (d *detailsBuilder) kvWords(k string, v any) { d.kvWrap(k, text(v), wrapWords) }

func (d *detailsBuilder) kvWrap(k string, val styled, wrap func(string, int) []string) {
	vw := d.width - keyWidth
	if vw < 12 {
		d.lines = append(d.lines, wrap(string(paint(d.st.Details.Key, k))+" "+string(val), d.width)...)
		return
	}
	for i, l := range wrap(string(val), vw) {
		key := strings.Repeat(" ", keyWidth)
		if i == 0 {
			key = string(paint(d.st.Details.Key, fmt.Sprintf("%-*s", keyWidth-1, k))) + " "
		}
		d.lines = append(d.lines, key+l)
	}
}

// line adds a line, wrapped to the pane.
func (d *detailsBuilder) line(v any) {
	s := string(text(v))
	if s == "" {
		d.lines = append(d.lines, "")
		return
	}
	d.lines = append(d.lines, wrapText(s, d.width)...)
}

// para adds text from anywhere (escaped) in style st, wrapped, each line
// styled on its own so that the colour holds on every line.
func (d *detailsBuilder) para(st lipgloss.Style, s string) {
	for _, l := range wrapText(termsafe.Text(s), d.width) {
		d.lines = append(d.lines, st.Render(l))
	}
}

// hint adds a muted line saying which keys open more.
func (d *detailsBuilder) hint(s string) {
	d.line("")
	d.para(d.st.Muted, s)
}

// mark is a check's verdict, ✓ or ✗ with words.
func (d *detailsBuilder) mark(ok bool, good, bad string) styled {
	if ok {
		return paint(d.st.Check.Good, good)
	}
	return paint(d.st.Check.Bad, bad)
}

func (d *detailsBuilder) check(k string, c model.Check) {
	if c.OK {
		d.kv(k, d.mark(true, "✓ ok", "")+" "+safe(c.Stored))
		return
	}
	d.kv(k, d.mark(false, "", "✗ BAD")+safe(fmt.Sprintf(" stored %s, computed %s", c.Stored, c.Computed)))
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
func detailsLines(s *session, n *node, width int) []string {
	d := &detailsBuilder{s: s, st: s.st, width: max(width, 20)}
	if n == nil {
		d.line("nothing selected")
		return d.lines
	}
	switch n.kind {
	case kInput:
		inputDetails(d, n.in)
	case kContainer:
		containerDetails(d, n)
	case kContainerFiles:
		containerFilesDetails(d, n)
	case kContainerFile:
		containerFileDetails(d, n)
	case kHolds:
		holdsDetails(d, n)
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
				d.para(d.st.Status.Warn, "! "+p)
			}
		}
	case kPartition:
		partitionDetails(d, n)
	case kPV:
		pvDetails(d, n.pv)
	case kLabel:
		lb := n.pv.Label
		d.section(fmt.Sprintf("Label in sector %d", lb.Sector))
		if lb.Weak {
			d.para(d.st.Status.Warn, "! weak label: no LABELONE, accepted by its type alone")
		}
		fieldsDetails(d, lb.Struct)
		d.hint("x: hex view with every field named")
	case kPVHeader:
		pvHeaderDetails(d, n.pv)
	case kMDA, kMDAHeader:
		mdaDetails(d, n.mda)
	case kCopy:
		copyDetails(d, n.cp)
	case kVG:
		vgDetails(d, n.vg)
	case kVGPVs:
		d.section("Physical volumes of VG " + n.vg.vg.Meta.Name)
		for _, p := range n.vg.vg.PVs {
			d.line(safe(p.Meta.Label+" "+p.Meta.UUID+" ") + pvState(d, p))
		}
	case kVGPV:
		vgpvDetails(d, n.vg, n.vgpv)
	case kLV:
		lvDetails(d, n)
	case kSegment, kArea:
		segDetails(d, n)
	case kMD:
		mdArrayDetails(d, n)
	case kMDMember:
		mdMemberDetails(d, n)
	case kMDMissing:
		mdMissingDetails(d, n)
	case kMDSuper, kMDBitmap:
		mdSuperDetails(d, n)
	case kLUKS:
		luksVolumeDetails(d, n)
	case kLUKSSlot:
		luksSlotDetails(d, n)
	case kLUKSHeader:
		luksHeaderRowDetails(d, n)
	}
	return d.lines
}

// pvState is a PV's presence as a word: present, stale or MISSING.
func pvState(d *detailsBuilder, p *scan.VGPV) styled {
	switch {
	case p.Missing:
		return paint(d.st.Check.Bad, "✗ MISSING")
	case p.Stale:
		return paint(d.st.Check.Warn, "! stale")
	}
	return paint(d.st.Check.Good, "✓ present")
}

func inputDetails(d *detailsBuilder, in *scan.InputResult) {
	d.section("Input " + in.Path)
	kind := "image file"
	if in.IsDevice {
		kind = "block device"
	}
	d.kv("kind", kind)
	if f := in.File; f != nil {
		d.kv("device", f.ID)
		d.kv("size", format.SizeExact(f.Size))
		d.kv("holds", fmt.Sprintf("%s container, virtual disk %s (device %s)", containerName(in.Node.Kind), format.SizeExact(in.Node.Size), in.Node.ID))
		d.hint("x: hex view of the file with the container's structures · select the container below for its details")
		d.problems(in.Problems)
		return
	}
	if in.Node != nil && in.Node.ID != "" {
		d.kv("device", in.Node.ID)
	}
	if in.ContainerErr != nil {
		d.kv("container", paint(d.st.Check.Bad, "✗ "+in.ContainerErr.Error()))
		d.para(d.st.Muted, "the file is read as it is: what it holds inside the container is not seen")
	}
	d.kv("size", format.SizeExact(in.Size))
	d.kv("PVs found", len(in.PVs))
	if in.Partitions != nil {
		d.kv("partitions", fmt.Sprintf("%s, %d", strings.ToUpper(in.Partitions.Kind), len(in.Partitions.Partitions)))
	} else {
		d.kv("partitions", "no partition table")
	}
	if c := in.Content; c != nil {
		d.kv("holds", c.Name) // what to do next is under Problems
	}
	memberSection(d, in.Node)
	luksSection(d, in.Node)
	d.hint("x: hex view of the whole input, read on demand")
	d.problems(in.Problems)
}

func partitionDetails(d *detailsBuilder, n *node) {
	p := n.part
	d.section(fmt.Sprintf("Partition %d", p.Index))
	d.kv("start", format.Offset(uint64(p.Start)))
	d.kv("size", format.SizeExact(p.Size))
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
	if n.dev != nil {
		d.kv("device", n.dev.ID)
		memberSection(d, n.dev)
		luksSection(d, n.dev)
		d.hint("e: export the partition · x: hex view at its start")
	}
}

func fieldsDetails(d *detailsBuilder, s model.Structure) {
	d.section(fmt.Sprintf("%s: %d bytes at %s", s.Name, s.Len, format.Offset(uint64(s.Off))))
	for _, f := range s.Fields {
		v := safe(f.Value)
		if c := f.Check; c != nil {
			v += " " + d.mark(c.OK, "✓", "✗ computed "+c.Computed)
		}
		d.kv(f.Name, v)
	}
}

func pvDetails(d *detailsBuilder, pv *scan.PV) {
	d.section("Physical volume " + pv.UUID())
	d.kv("input", pv.Path)
	d.kv("offset", format.Offset(uint64(pv.Offset)))
	if pv.Partition > 0 {
		d.kv("partition", pv.Partition)
	}
	d.kv("readable", format.SizeExact(pv.Size))
	d.kv("device_size", format.SizeExact(int64(pv.Label.Header.DeviceSize)))
	d.kv("label sector", pv.Label.Sector)
	d.check("label crc", pv.Label.CRC)
	d.kv("metadata areas", len(pv.MDAs))
	for _, m := range pv.MDAs {
		if c := m.Committed; c != nil && c.VG != nil {
			d.kv(fmt.Sprintf("mda%d holds", m.Index), fmt.Sprintf("VG %s seqno %d", c.VG.Name, c.VG.Seqno))
		}
	}
	d.hint("x: hex view of the whole PV, read on demand")
	d.problems(pv.Problems)
}

func pvHeaderDetails(d *detailsBuilder, pv *scan.PV) {
	h := pv.Label.Header
	d.section("pv_header")
	d.kv("pv_uuid", model.DashedUUID(h.UUID))
	d.kv("device_size", fmt.Sprintf("%d (%s)", h.DeviceSize, format.Size(int64(h.DeviceSize))))
	for i, a := range h.DataAreas {
		d.kv(fmt.Sprintf("data area %d", i), fmt.Sprintf("offset %d size %d", a.Offset, a.Size))
	}
	for i, a := range h.MetadataAreas {
		d.kv(fmt.Sprintf("mda %d", i+1), fmt.Sprintf("offset %d size %s", a.Offset, format.Size(int64(a.Size))))
	}
	if h.HasExtension {
		d.kv("extension", fmt.Sprintf("version %d flags %#x", h.ExtVersion, h.ExtFlags))
		for i, a := range h.BootloaderAreas {
			d.kv(fmt.Sprintf("bootloader %d", i), fmt.Sprintf("offset %d size %d", a.Offset, a.Size))
		}
	}
	d.hint("x: hex view with every field named")
}

func mdaDetails(d *detailsBuilder, m *scan.MDA) {
	d.section(fmt.Sprintf("Metadata area %d", m.Index))
	d.kv("at", format.Offset(uint64(m.AbsOff)))
	d.kv("size", format.SizeExact(int64(m.Locn.Size)))
	if h := m.Header; h != nil {
		d.check("header crc", h.Checksum)
		d.kv("magic", d.mark(h.MagicOK, "✓", "✗ bad magic"))
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
		d.para(d.st.Check.Bad, "✗ the header could not be decoded")
	}
	d.hint("x: hex view of the header; select a copy and m for its text")
	d.problems(m.Problems)
}

func copyDetails(d *detailsBuilder, c *scan.Copy) {
	what := "Committed"
	if c.Slot == 1 {
		what = "Precommitted"
	}
	d.section(what + " metadata (raw_locn[" + fmt.Sprint(c.Slot) + "])")
	if c.TextCopy == nil {
		d.para(d.st.Check.Bad, "✗ the text could not be read")
		return
	}
	d.kv("at", format.Offset(uint64(c.Off)))
	d.kv("size", format.Count(int(c.Size), "byte", "bytes"))
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
		d.kv("written", format.Time(c.VG.CreationTime))
		d.kv("by", c.VG.CreationHost)
		d.kv("description", c.VG.Description)
	}
	if c.ParseErr != nil {
		d.para(d.st.Check.Bad, "✗ does not parse: "+c.ParseErr.Error())
	}
	d.hint("m: metadata text · x: hex view of the text")
}

// joinNonEmpty joins the non-empty strings with sep.
func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

// listText formats a word list as "a, b" or "-".
func listText(l []string) string {
	if len(l) == 0 {
		return "-"
	}
	return strings.Join(l, ", ")
}
