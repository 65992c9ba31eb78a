package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/lvminspect/lvminspect/internal/format"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/md"
)

// The details of the md layer: an array (its geometry and state, its
// members and missing roles, its problems), a member of it, a missing
// role, and a member device's superblock and bitmap. They say what scan
// and scan --json say: the same ids, roles, states and events.

// mdArrayDetails describes an array.
func mdArrayDetails(d *detailsBuilder, n *node) {
	a, arr := n.arr, n.arr.Array
	d.section("md array " + mdName(a))
	d.kv("device", a.ID)
	if arr == nil {
		d.problems(a.Problems)
		return
	}
	d.kv("level", arr.Level)
	if arr.Layout != "" {
		d.kv("layout", arr.Layout)
	}
	if arr.ChunkSize > 0 && arr.Level != "raid1" {
		d.kv("chunk size", format.Size(arr.ChunkSize))
	}
	if a.Device() != nil {
		d.kv("array size", format.SizeExact(a.Size))
	}
	d.kv("member size", format.SizeExact(arr.Size)+" of each member used")
	d.kv("roles", arr.RaidDisks)
	d.kv("UUID", arr.UUID)
	if arr.Name != "" {
		d.kv("name", arr.Name)
	}
	d.kv("metadata", arr.Metadata)
	switch st := mdState(a); st {
	case "refused":
		d.kv("state", paint(d.st.Check.Bad, "✗ refused: "+refusedWhy(a)))
	case "active":
		d.kv("state", paint(d.st.Check.Warn, "active (not clean: written to when last seen)"))
	default:
		d.kv("state", st)
	}
	d.kv("events", arr.Events)
	if arr.Degraded {
		d.kv("degraded", paint(d.st.Check.Warn, "yes: "+rolesWord(arr.MissingRoles)+" missing"))
	} else {
		d.kv("degraded", "no")
	}
	if in := n.in; in != nil {
		if c := in.Content; c != nil {
			d.kv("holds", c.Name)
		}
		d.kv("PVs found", len(in.PVs))
		if in.Partitions != nil {
			d.kv("partitions", fmt.Sprintf("%s, %d", strings.ToUpper(in.Partitions.Kind), len(in.Partitions.Partitions)))
		}
	}
	mdMembersTable(d, arr)
	luksSection(d, a)
	d.problems(mdProblems(a, n.in))
	if a.Device() != nil {
		d.hint("e: export the array as a device · x: hex view of the array's bytes · select a member for its superblock")
	} else {
		d.hint("select a member for its superblock")
	}
}

// refusedWhy is why an array was not read: md's refusal, or why its
// members could not be put together.
func refusedWhy(a *scan.Node) string {
	if a.Array != nil && a.Array.Refused != "" {
		return a.Array.Refused
	}
	for _, p := range a.Problems {
		if p.Severity == scan.SevError {
			if s, ok := strings.CutPrefix(p.Msg, "not read: "); ok {
				return s
			}
		}
	}
	return "not read (see its problems)"
}

// rolesWord names roles: "role 1", "roles 1, 3".
func rolesWord(roles []int) string {
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = fmt.Sprint(r)
	}
	if len(roles) == 1 {
		return "role " + s[0]
	}
	return "roles " + strings.Join(s, ", ")
}

// mdMembersTable lists an array's members (device, role, state, events,
// data offset, bad-block ranges, bitmap) and its missing roles: a table
// when it fits the pane, else a line and an indented line per member.
func mdMembersTable(d *detailsBuilder, arr *md.Array) {
	d.section(fmt.Sprintf("Members (%d of %s)", len(arr.Members), format.Count(arr.RaidDisks, "role", "roles")))
	head := []string{"device", "role", "state", "events", "data offset", "bad blocks", "bitmap"}
	rows := [][]string{head}
	for i := range arr.Members {
		m := &arr.Members[i]
		rows = append(rows, []string{m.Device, roleText(m), m.State, fmt.Sprint(m.Events), format.Size(m.DataOffset),
			badBlocksWord(m.BadBlocks), bitmapWord(m.Bitmap)})
	}
	for _, r := range arr.MissingRoles {
		rows = append(rows, []string{"-", fmt.Sprintf("role %d", r), "MISSING", "", "", "", ""})
	}
	widths := make([]int, len(head))
	for _, r := range rows {
		for j, c := range r {
			widths[j] = max(widths[j], ansi.StringWidth(c))
		}
	}
	total := 0
	for _, w := range widths {
		total += w + 2
	}
	styleOf := func(i int, r []string) func(...string) string {
		switch {
		case i == 0:
			return d.st.Details.Key.Render
		case r[2] == "MISSING" || memberBad(r[2]):
			return d.st.Check.Bad.Render
		}
		return func(s ...string) string { return strings.Join(s, "") }
	}
	if total-2 <= d.width {
		for i, r := range rows {
			var b strings.Builder
			for j, c := range r {
				b.WriteString(c)
				if j < len(r)-1 {
					b.WriteString(strings.Repeat(" ", widths[j]-ansi.StringWidth(c)+2))
				}
			}
			d.lines = append(d.lines, styleOf(i, r)(strings.TrimRight(safeText(b.String()), " ")))
		}
	} else {
		for i, r := range rows[1:] {
			if r[2] == "MISSING" {
				d.lines = append(d.lines, styleOf(i+1, r)(r[1]+"  MISSING"))
				continue
			}
			d.lines = append(d.lines, styleOf(i+1, r)(safeText(joinNonEmpty("  ", r[1], r[0], r[2], eventsWord(r[3])))))
			for _, l := range wrapText(safeText(fmt.Sprintf("data offset %s · bad blocks %s · bitmap %s", r[4], r[5], r[6])), max(d.width-4, 10)) {
				d.lines = append(d.lines, "    "+l)
			}
		}
	}
	for i := range arr.Members {
		m := &arr.Members[i]
		for _, b := range m.BadBlocks {
			d.para(d.st.Check.Warn, fmt.Sprintf("! %s: bad blocks at member bytes %d–%d (%s)", m.Device, b.Start, b.Start+b.Len, format.Size(b.Len)))
		}
	}
}

// safeText escapes text from a disk for a line of the program's own.
func safeText(s string) string { return string(safe(s)) }

func eventsWord(s string) string {
	if s == "" {
		return ""
	}
	return "events " + s
}

// badBlocksWord is a member's bad-block log in a word: none, or how
// many ranges.
func badBlocksWord(bb []md.BadBlock) string {
	if len(bb) == 0 {
		return "none"
	}
	return format.Count(len(bb), "range", "ranges")
}

// bitmapWord is a member's write-intent bitmap in a word: none, or how
// many regions it marks dirty.
func bitmapWord(b *md.Bitmap) string {
	if b == nil {
		return "none"
	}
	s := fmt.Sprintf("%d dirty", b.Dirty)
	if !b.Counted {
		s += "+"
	}
	return s
}

// mdMemberDetails describes a member of an array (its row under the
// array), then its superblock.
func mdMemberDetails(d *detailsBuilder, n *node) {
	m := n.arrayMember()
	d.section(fmt.Sprintf("Member %s of %s", m.Device, n.arr.ID))
	memberKVs(d, m)
	if n.dev != nil && n.dev.MD != nil {
		d.kv("device", n.dev.Label)
		superblockDetails(d, n.dev)
		d.hint("x: hex view of the member at its superblock, every field named and its checksum checked")
	}
}

// memberKVs are what the array says of a member.
func memberKVs(d *detailsBuilder, m *md.ArrayMember) {
	if m.Role >= 0 {
		d.kv("role", m.Role)
	} else {
		d.kv("role", "none ("+m.State+")")
	}
	st := styled(safe(m.State))
	if memberBad(m.State) {
		st = paint(d.st.Check.Bad, "✗ "+m.State)
	}
	d.kv("state", st+safe(" ("+memberStateWords(m.State)+")"))
	d.kv("events", m.Events)
	d.kv("data offset", format.Offset(uint64(m.DataOffset)))
	d.kv("data size", format.SizeExact(m.DataSize))
	if m.RecoveryOffset > 0 {
		d.kv("rebuilt", "below data byte "+fmt.Sprint(m.RecoveryOffset))
	}
	if m.WriteMostly {
		d.kv("write-mostly", "yes")
	}
	d.kv("bad blocks", badBlocksWord(m.BadBlocks))
	for _, b := range m.BadBlocks {
		d.kv("", fmt.Sprintf("member bytes %d–%d (%s)", b.Start, b.Start+b.Len, format.Size(b.Len)))
	}
	if b := m.Bitmap; b != nil {
		d.kv("bitmap", fmt.Sprintf("%d of %d regions of %s dirty", b.Dirty, b.Chunks, format.Size(b.ChunkSize)))
	}
}

// memberStateWords says what a member's state means for the array.
func memberStateWords(state string) string {
	switch state {
	case md.StateInSync:
		return "used for its role"
	case md.StateRebuilding:
		return "being rebuilt: valid below its recovery offset only"
	case md.StateReplacement:
		return "being built to replace its role"
	case md.StateSpare:
		return "holds no role"
	case md.StateFaulty:
		return "marked faulty: not used"
	case md.StateJournal:
		return "the array's write journal"
	case md.StateStale:
		return "its events are behind the freshest member's: not used"
	case md.StateDuplicate:
		return "another member holds its role: not used"
	case md.StateConflict:
		return "same UUID, other geometry: not used"
	case md.StateInvalid:
		return "its superblock failed a check: not used"
	case md.StateOutside:
		return "its role is outside the array: not used"
	}
	return "not used"
}

// mdMissingDetails describes a role that no member holds.
func mdMissingDetails(d *detailsBuilder, n *node) {
	arr := n.arr.Array
	d.section(fmt.Sprintf("Role %d of %s: missing", n.role, n.arr.ID))
	d.para(d.st.Check.Bad, "✗ no member given holds this role")
	var how string
	switch arr.LevelNumber {
	case 1:
		how = "the array is read from the members left"
	case 4, 5, 6:
		how = "its chunks are rebuilt from parity where the level allows"
	case 10:
		how = "its data is read from the other copies where one is left"
	default:
		how = "its ranges of the array have no source"
	}
	if mdState(n.arr) == "refused" {
		how = "the array is not read: " + refusedWhy(n.arr)
	}
	d.kv("read", how)
	d.kv("events", fmt.Sprintf("%d (the array's)", arr.Events))
	d.hint("give the image that holds it too, then the array is read from every member")
}

// mdSuperDetails describes a member device's superblock row (or its
// bitmap row): the array it is of, then the superblock.
func mdSuperDetails(d *detailsBuilder, n *node) {
	dev := n.dev
	if n.kind == kMDBitmap {
		bitmapDetails(d, n)
		return
	}
	d.section(fmt.Sprintf("md superblock %s of %s", dev.MD.Version, dev.ID))
	d.kv("device", dev.Label)
	if m := n.arrayMember(); m != nil {
		d.kv("array", fmt.Sprintf("%s (%s)", n.arr.ID, arraySummary(n.arr)))
		memberKVs(d, m)
	} else {
		d.kv("array", "none assembled")
	}
	superblockDetails(d, dev)
	d.hint("x: hex view of the member at its superblock, every field named and its checksum checked")
}

// arraySummary is an array in a line: level, layout, size, state.
func arraySummary(a *scan.Node) string {
	arr := a.Array
	parts := []string{arr.Level, arr.Layout}
	if a.Device() != nil {
		parts = append(parts, format.Size(a.Size))
	}
	parts = append(parts, mdState(a))
	if arr.Degraded {
		parts = append(parts, "degraded")
	}
	return joinNonEmpty(" ", parts...)
}

// superblockDetails sums up a member's superblock: version and place,
// what it says of the array and of the member, its checksum.
func superblockDetails(d *detailsBuilder, dev *scan.Node) {
	sb := dev.MD
	d.section("Superblock " + sb.Version)
	d.kv("at", format.Offset(uint64(sb.Offset))+" of the member")
	d.check("checksum", sbCheck(dev))
	d.kv("array UUID", sb.UUIDText)
	if sb.Name != "" {
		d.kv("array name", sb.Name)
	}
	d.kv("level", joinNonEmpty(" ", sb.LevelName, sb.LayoutName))
	d.kv("events", sb.Events)
	if sb.DevUUIDText != "" {
		d.kv("device UUID", sb.DevUUIDText)
	}
	if sb.Version == "0.90" {
		d.kv("this disk", fmt.Sprintf("number %d, raid_disk %d", sb.ThisDisk.Number, sb.ThisDisk.RaidDisk))
	} else {
		d.kv("dev_number", sb.DevNumber)
	}
	d.kv("data offset", format.Offset(uint64(sb.DataOffset)))
	d.kv("data size", format.SizeExact(sb.DataSize))
	if !sb.UTime.IsZero() {
		d.kv("updated", format.Time(sb.UTimeUnix))
	}
	if sb.Bitmap {
		d.kv("bitmap", fmt.Sprintf("at %+d sectors from the superblock", sb.BitmapOffset))
	}
	for _, w := range sb.Warnings {
		d.para(d.st.Status.Warn, "! "+w)
	}
}

// bitmapDetails describes a member's write-intent bitmap.
func bitmapDetails(d *detailsBuilder, n *node) {
	d.section("md write-intent bitmap of " + n.dev.ID)
	m := n.arrayMember()
	if m == nil || m.Bitmap == nil {
		d.para(d.st.Muted, "not read")
		return
	}
	b := m.Bitmap
	d.kv("at", format.Offset(uint64(b.Offset))+" of the member")
	d.kv("events", fmt.Sprintf("%d (cleared %d)", b.Events, b.EventsCleared))
	d.kv("covers", format.SizeExact(b.SyncSize))
	d.kv("region", format.Size(b.ChunkSize)+" per bit")
	dirty := fmt.Sprintf("%d of %d regions", b.Dirty, b.Chunks)
	if !b.Counted {
		dirty += " (not every bit read)"
	}
	d.kv("dirty", dirty)
	if b.Stale {
		d.para(d.st.Status.Warn, "! the bitmap is marked stale")
	}
	d.para(d.st.Muted, "dirty regions may differ between copies or have stale parity; the bitmap never moves data")
	d.hint("x: hex view of the bitmap's header, every field named")
}

// memberSection is the md section of a device that is a member (an
// input, a partition, a container's disk, an LV read as a disk).
func memberSection(d *detailsBuilder, dev *scan.Node) {
	if dev == nil || dev.MD == nil {
		return
	}
	ref, ok := mdIndex(d.s.res)[dev.MD]
	if !ok {
		ref.i = -1
	}
	d.section("md member")
	d.line(memberOfText(ref))
	if ref.arr != nil && ref.i >= 0 {
		m := &ref.arr.Array.Members[ref.i]
		d.kv("array", fmt.Sprintf("%s (%s)", ref.arr.ID, arraySummary(ref.arr)))
		d.kv("state", fmt.Sprintf("%s, events %d", m.State, m.Events))
	}
	c := sbCheck(dev)
	d.kv("superblock", styled(safe(fmt.Sprintf("%s at %s, checksum ", dev.MD.Version, format.Offset(uint64(dev.MD.Offset)))))+
		d.mark(c.OK, "✓ ok", "✗ BAD"))
	d.para(d.st.Muted, "its PV label and partition table are the array's: they are read through the array")
}
