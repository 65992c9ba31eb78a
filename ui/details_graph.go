package ui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/lvminspect/lvminspect/internal/format"
	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan"
)

// table adds key/value lines with a key column as wide as the longest
// key needs (up to half the pane): a longer key gets a line of its own.
func (d *detailsBuilder) table(rows [][2]string) {
	kw := 0
	for _, r := range rows {
		kw = max(kw, ansi.StringWidth(r[0]))
	}
	kw = min(kw+2, max(d.width/2, keyWidth))
	vw := d.width - kw
	for _, r := range rows {
		key := string(paint(d.st.Details.Key, r[0]))
		if ansi.StringWidth(r[0]) > kw-2 || vw < 12 {
			d.lines = append(d.lines, key)
			for _, l := range wrapText(string(safe(r[1])), max(d.width-4, 10)) {
				d.lines = append(d.lines, "    "+l)
			}
			continue
		}
		for i, l := range wrapText(string(safe(r[1])), vw) {
			if i == 0 {
				d.lines = append(d.lines, key+strings.Repeat(" ", kw-ansi.StringWidth(r[0]))+l)
			} else {
				d.lines = append(d.lines, strings.Repeat(" ", kw)+l)
			}
		}
	}
}

// formatValue is a value of a container's description as read: sizes
// in bytes also in binary units.
func formatValue(p formatPair) string {
	if strings.Contains(p.key(), "size") {
		if n, err := strconv.ParseInt(p.value, 10, 64); err == nil && n >= 1024 {
			return fmt.Sprintf("%s (%s)", p.value, format.Size(n))
		}
	}
	return p.value
}

// formatDetails shows a container's description: its own values, then
// one section per group of values (acquisition notes, backing chain).
func formatDetails(d *detailsBuilder, v any) {
	var top [][2]string
	var groups []string
	grouped := map[string][][2]string{}
	for _, p := range formatPairs(v) {
		if len(p.path) < 2 {
			top = append(top, [2]string{p.key(), formatValue(p)})
			continue
		}
		g := p.path[0]
		if grouped[g] == nil {
			groups = append(groups, g)
		}
		grouped[g] = append(grouped[g], [2]string{strings.Join(p.path[1:], " "), formatValue(p)})
	}
	if len(top) > 0 {
		d.section("What the container says of itself")
		d.table(top)
	}
	for _, g := range groups {
		d.section(strings.ToUpper(g[:1]) + g[1:])
		d.table(grouped[g])
	}
}

func containerDetails(d *detailsBuilder, n *node) {
	in, dev := n.in, n.dev
	d.section(fmt.Sprintf("%s container %s", containerName(dev.Kind), in.Path))
	d.kv("device", dev.ID)
	d.kv("virtual disk", format.SizeExact(dev.Size))
	if f := in.File; f != nil {
		d.kv("file", fmt.Sprintf("%s, %s", in.Path, format.SizeExact(f.Size)))
	}
	d.kv("PVs found", len(in.PVs))
	if in.Partitions != nil {
		d.kv("partitions", fmt.Sprintf("%s, %d", strings.ToUpper(in.Partitions.Kind), len(in.Partitions.Partitions)))
	}
	checksumsDetails(d, dev.Structures)
	memberSection(d, dev)
	luksSection(d, dev)
	d.section("Verification")
	switch r := d.s.verified[dev]; {
	case r != nil:
		for _, l := range verifyLines(r, 10) {
			d.para(verdictStyle(d.st, l), l)
		}
	case dev.Kind == scan.KindEWF:
		d.para(d.st.Muted, "not verified yet: V reads every chunk, checks its checksum and recomputes the stored MD5 and SHA-1")
	default:
		d.para(d.st.Muted, "not verified yet: V checks the container's own integrity data (its header checksums were checked when it was opened)")
	}
	d.problems(dev.Problems)
	formatDetails(d, dev.Format)
	d.hint("x: hex view of the container file, its structures named and checked · V: verify · e: export the virtual disk")
}

// checksumsDetails sums up the checks of a container's structures and
// lists the ones that fail.
func checksumsDetails(d *detailsBuilder, sts []model.Structure) {
	checks := 0
	var bad []string
	for _, st := range sts {
		for _, f := range st.Fields {
			if f.Check == nil {
				continue
			}
			checks++
			if !f.Check.OK {
				bad = append(bad, fmt.Sprintf("✗ %s %s at byte %d: stored %s, computed %s", st.Name, f.Name, f.Off, f.Check.Stored, f.Check.Computed))
			}
		}
	}
	if checks == 0 {
		return
	}
	d.section("Header checksums")
	d.kv("checked", fmt.Sprintf("%d of %d match", checks-len(bad), checks))
	for _, b := range bad {
		d.para(d.st.Check.Bad, b)
	}
}

func containerFilesDetails(d *detailsBuilder, n *node) {
	d.section(fmt.Sprintf("Files of the %s container %s", containerName(n.dev.Kind), n.in.Path))
	var rows [][2]string
	for _, c := range n.children {
		s := format.Count(len(c.file.structs), "structure", "structures")
		if b := badChecks(c.file.structs); b > 0 {
			s += fmt.Sprintf(", %d bad checksums", b)
		}
		rows = append(rows, [2]string{c.file.name, s})
	}
	d.table(rows)
	d.hint("select a file and press x for its bytes, the container's structures in it named and checked")
}

func containerFileDetails(d *detailsBuilder, n *node) {
	f := n.file
	d.section("Container file " + f.name)
	if f.first {
		d.kv("path", n.in.Path)
		d.kv("size", format.SizeExact(n.in.File.Size))
	} else if e := d.s.files[f.key()]; e != nil && e.ready && e.err == nil {
		d.kv("path", e.path)
		d.kv("size", format.SizeExact(e.size))
	} else {
		d.kv("path", strings.Join(f.paths, " or "))
		if e != nil && e.err != nil {
			d.kv("opened", paint(d.st.Check.Bad, "✗ "+e.err.Error()))
		}
	}
	d.kv("structures", len(f.structs))
	checksumsDetails(d, f.structs)
	d.section("Structures")
	for _, st := range f.structs {
		d.line(fmt.Sprintf("%s: %d bytes at %s", strings.TrimPrefix(st.Name, f.name+": "), st.Len, format.Offset(uint64(st.Off))))
	}
	if f.first {
		d.hint("x: hex view of the file, every field named")
	} else {
		d.hint("x: hex view of the file (opened read-only), every field named")
	}
}

func holdsDetails(d *detailsBuilder, n *node) {
	in, dev := n.in, n.dev
	d.section("LV " + in.Path + " read as a disk")
	d.kv("device", dev.ID)
	if c := dev.Content; c != nil {
		d.kv("holds", c.Name)
	}
	d.kv("size", format.SizeExact(in.Size))
	if in.Partitions != nil {
		d.kv("partitions", fmt.Sprintf("%s, %d", strings.ToUpper(in.Partitions.Kind), len(in.Partitions.Partitions)))
	}
	d.kv("PVs found", len(in.PVs))
	var vgs []string
	for _, c := range n.children {
		if c.kind == kVG {
			vgs = append(vgs, c.vg.vg.Meta.Name)
		}
	}
	if len(vgs) > 0 {
		d.kv("guest VGs", strings.Join(vgs, ", "))
	}
	memberSection(d, dev)
	luksSection(d, dev)
	d.para(d.st.Muted, "read through the LV as the current metadata maps it, as an export of the LV reads it")
	d.hint("e: export the LV as a device · x: hex view of the LV, its partition table and PV structures named")
	d.problems(in.Problems)
}
