package ui

import (
	"fmt"
	"slices"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/lvminspect/lvminspect/internal/format"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/luks"
)

// The details of the LUKS layer: a volume (its state, what opened it or
// why it is locked, its header), a key slot, and a device's header row.
// They say what scan and scan --json say: the same ids, versions,
// ciphers, slots and KDF parameters. Nothing here is secret (a header
// holds salts and encrypted key material, never a key), and nothing
// typed to unlock a volume is ever shown.

// luksVolumeDetails describes a LUKS volume.
func luksVolumeDetails(d *detailsBuilder, n *node) {
	v := n.luks
	h := v.LUKS
	if h == nil {
		d.section("LUKS volume " + v.ID)
		d.problems(v.Problems)
		return
	}
	d.section(fmt.Sprintf("LUKS%d volume %s", h.Version, v.ID))
	d.kv("device", v.ID)
	if e := n.enc; e != nil {
		d.kv("on", fmt.Sprintf("%s (%s)", e.ID, e.Label))
	}
	switch {
	case h.Refused != "":
		d.kv("state", paint(d.st.Check.Bad, "✗ refused: "+h.Refused))
	case luksUnlocked(v):
		d.kv("state", paint(d.st.Check.Good, "✓ "+luksOpenedBy(v)))
	default:
		d.kv("state", paint(d.st.Check.Warn, "locked: "+lockedWhy(v)))
	}
	if v.Size > 0 {
		d.kv("decrypted", format.SizeExact(v.Size))
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
	luksHeaderDetails(d, n.enc, v, h)
	d.problems(luksProblems(v, n.in))
	switch {
	case luksUnlocked(v):
		d.hint("e: export the decrypted volume as a device · x: hex view of its decrypted bytes" + jsonHint(h) +
			" · the header's row under " + parentID(v) + " or a key slot: the encrypted bytes")
	case d.s.canUnlock(n):
		d.hint("u: unlock: type its passphrase (never shown) · x: hex view of the header, every field named and its checksum checked" + jsonHint(h))
	case h.Refused != "":
		d.hint("x: hex view of the header, every field named and its checksum checked" + jsonHint(h))
	default:
		d.hint("x: hex view of the header, every field named and its checksum checked" + jsonHint(h) +
			" · lvminspect --key-file or --volume-key-file opens it")
	}
}

// parentID is the id of the device that holds a volume's header.
func parentID(v *scan.Node) string {
	if len(v.Parents) == 0 {
		return "its device"
	}
	return v.Parents[0]
}

// jsonHint offers m for a LUKS2 header.
func jsonHint(h *luks.Header) string {
	if h.Version == 2 && h.JSON() != "" {
		return " · m: the JSON area as text"
	}
	return ""
}

// luksHeaderRowDetails describes a device's LUKS header row: the volume
// it opens, then the header.
func luksHeaderRowDetails(d *detailsBuilder, n *node) {
	e := n.enc
	h := e.LUKS
	d.section(fmt.Sprintf("LUKS%d header of %s", h.Version, e.ID))
	d.kv("device", fmt.Sprintf("%s (%s)", e.ID, e.Label))
	if v := n.luks; v != nil {
		d.kv("volume", fmt.Sprintf("%s (%s)", v.ID, luksStateWord(v)))
	} else {
		d.kv("volume", "none made (the inputs were scanned without the graph)")
	}
	luksHeaderDetails(d, e, n.luks, h)
	hint := "x: hex view of the header, every field named and its checksum checked" + jsonHint(h)
	if d.s.canUnlock(n) {
		hint = "u: unlock: type its passphrase (never shown) · " + hint
	}
	d.hint(hint)
}

// luksHeaderDetails is what a header says: version, UUID, label, cipher,
// key and sector sizes, where the payload is, the LUKS2 header copies
// and their checksums, the key slots; its problems and warnings.
func luksHeaderDetails(d *detailsBuilder, enc, v *scan.Node, h *luks.Header) {
	d.section(fmt.Sprintf("Header (LUKS%d)", h.Version))
	d.kv("version", h.Version)
	d.kv("UUID", h.UUID)
	if h.Label != "" {
		d.kv("label", h.Label)
	}
	if h.Subsystem != "" {
		d.kv("subsystem", h.Subsystem)
	}
	d.kv("cipher", cipherText(h))
	if h.HashSpec != "" {
		d.kv("hash", h.HashSpec)
	}
	if h.KeyBytes > 0 {
		d.kv("key size", fmt.Sprintf("%d bits", h.KeyBytes*8))
	}
	d.kv("sector size", fmt.Sprintf("%d bytes", h.SectorSize))
	d.kv("payload offset", format.Offset(uint64(h.PayloadOffset))+" of the LUKS device")
	switch {
	case enc != nil && h.PayloadDynamic:
		d.kv("payload size", format.SizeExact(h.PayloadSize(enc.Size))+", to the end of the device")
	case enc != nil || !h.PayloadDynamic:
		d.kv("payload size", format.SizeExact(h.PayloadSize(h.DeviceSize)))
	}
	if h.Version == 2 {
		d.kv("epoch", h.SeqID)
		d.kv("metadata", fmt.Sprintf("%s per copy (binary header and JSON area)", format.Size(h.HdrSize)))
		d.kv("key slots area", format.Size(h.KeyslotsSize))
		if len(h.Flags) > 0 {
			d.kv("flags", strings.Join(h.Flags, ", "))
		}
		if len(h.Requirements) > 0 {
			d.kv("requirements", strings.Join(h.Requirements, ", "))
		}
	}
	if h.Refused != "" {
		d.kv("refused", paint(d.st.Check.Bad, "✗ "+h.Refused))
	}
	if len(h.Copies) > 0 {
		copiesTable(d, h)
	}
	slotsTable(d, v, h)
	if len(h.Problems) > 0 || len(h.Warnings) > 0 {
		d.section(fmt.Sprintf("What the header says is wrong (%d)", len(h.Problems)+len(h.Warnings)))
		for _, p := range h.Problems {
			d.para(d.st.Status.Err, "✗ "+p)
		}
		for _, w := range h.Warnings {
			d.para(d.st.Status.Warn, "! "+w)
		}
	}
}

// copiesTable lists a LUKS2 header's binary header copies: where, their
// epoch, their checksum checked, which one is used.
func copiesTable(d *detailsBuilder, h *luks.Header) {
	d.section(fmt.Sprintf("Header copies (%d)", len(h.Copies)))
	rows := [][]string{{"copy", "at", "seqid", "checksum", "used"}}
	var bad []bool
	for _, c := range h.Copies {
		sum := "✓ " + c.CsumAlg
		if c.CsumComputed == "" {
			sum = "not checked"
		} else if c.CsumStored != c.CsumComputed {
			sum = "✗ BAD " + c.CsumAlg
		}
		used := "no"
		if c.Used {
			used = "yes"
		}
		rows = append(rows, []string{c.Name, fmt.Sprint(c.Offset), fmt.Sprint(c.SeqID), sum, used})
		bad = append(bad, !c.Valid)
	}
	d.grid(rows, bad)
	for _, c := range h.Copies {
		if c.CsumComputed != "" && c.CsumStored != c.CsumComputed {
			d.para(d.st.Check.Bad, fmt.Sprintf("✗ %s copy: checksum stored %s, computed %s", c.Name, c.CsumStored, c.CsumComputed))
		}
		if c.Problem != "" {
			d.para(d.st.Check.Bad, fmt.Sprintf("✗ %s copy: %s", c.Name, c.Problem))
		}
	}
}

// slotsTable lists every key slot: index, state, type, KDF and its cost,
// priority, and why a slot cannot be tried.
func slotsTable(d *detailsBuilder, v *scan.Node, h *luks.Header) {
	active := 0
	for _, ks := range h.Keyslots {
		if ks.State == "active" {
			active++
		}
	}
	d.section(fmt.Sprintf("Key slots (%d of %d active)", active, len(h.Keyslots)))
	if len(h.Keyslots) == 0 {
		d.para(d.st.Check.Bad, "✗ no key slot: only a volume key opens it")
		return
	}
	// LUKS1 has no priorities: its column is left out.
	rows := [][]string{{"slot", "state", "type", "KDF", "cost", "priority", "problem"}}
	if h.Version == 1 {
		rows[0] = slices.Delete(rows[0], 5, 6)
	}
	var bad []bool
	for i := range h.Keyslots {
		ks := &h.Keyslots[i]
		state := ks.State
		if slotOpened(v, ks) {
			state += ", opened it"
		}
		kdf, cost := ks.KDF.Type, kdfParams(&ks.KDF)
		if ks.State != "active" && ks.Type == "luks1" {
			kdf, cost = "-", "-" // a disabled LUKS1 slot's fields mean nothing
		}
		row := []string{fmt.Sprint(ks.Index), state, ks.Type, kdf, cost, priorityWord(ks.Priority), ks.Problem}
		if h.Version == 1 {
			row = slices.Delete(row, 5, 6)
		}
		rows = append(rows, row)
		bad = append(bad, ks.Problem != "")
	}
	d.grid(rows, bad)
}

// kdfParams is a KDF's cost without its type: "sha256, 3632 iterations",
// "time 4, 64.00 MiB, 2 threads".
func kdfParams(k *luks.KDF) string {
	switch k.Type {
	case "pbkdf2":
		return fmt.Sprintf("%s, %d iterations", k.Hash, k.Iterations)
	case "argon2i", "argon2id":
		return fmt.Sprintf("time %d, %s, %s", k.Time, format.Size(int64(k.Memory)*1024), format.Count(int(k.CPUs), "thread", "threads"))
	}
	return ""
}

// grid adds a table whose first row is its head: aligned columns when
// it fits the pane, else a line per row (its first three cells) and an
// indented line with the others, named. A last column that no row fills
// is left out. bad marks rows drawn as failed.
func (d *detailsBuilder) grid(rows [][]string, bad []bool) {
	head := rows[0]
	cols := len(head)
	if !anyCell(rows[1:], cols-1) {
		cols--
	}
	widths := make([]int, cols)
	total := 0
	for j := range widths {
		for _, r := range rows {
			widths[j] = max(widths[j], ansi.StringWidth(r[j]))
		}
		total += widths[j] + 2
	}
	style := func(i int) func(...string) string {
		switch {
		case i == 0:
			return d.st.Details.Key.Render
		case bad[i-1]:
			return d.st.Check.Bad.Render
		}
		return func(s ...string) string { return strings.Join(s, "") }
	}
	if total-2 <= d.width {
		for i, r := range rows {
			var b strings.Builder
			for j, c := range r[:cols] {
				b.WriteString(c)
				b.WriteString(strings.Repeat(" ", widths[j]-ansi.StringWidth(c)+2))
			}
			d.lines = append(d.lines, style(i)(strings.TrimRight(safeText(b.String()), " ")))
		}
		return
	}
	for i, r := range rows[1:] {
		d.lines = append(d.lines, style(i+1)(safeText(joinNonEmpty("  ", head[0]+" "+r[0], r[1], r[2]))))
		var rest []string
		for j := 3; j < cols; j++ {
			if r[j] != "" {
				rest = append(rest, head[j]+" "+r[j])
			}
		}
		if len(rest) > 0 {
			for _, l := range wrapText(safeText(strings.Join(rest, " · ")), max(d.width-4, 10)) {
				d.lines = append(d.lines, "    "+l)
			}
		}
	}
}

// anyCell reports whether any row has a cell in column j.
func anyCell(rows [][]string, j int) bool {
	for _, r := range rows {
		if j < len(r) && r[j] != "" {
			return true
		}
	}
	return false
}

// luksSlotDetails describes a key slot: its state, KDF and cost, where
// its key material is, whether it opened the volume.
func luksSlotDetails(d *detailsBuilder, n *node) {
	ks := n.keyslot()
	h := n.luksHeader()
	d.section(fmt.Sprintf("Key slot %d of %s", ks.Index, n.luks.ID))
	state := styled(safe(ks.State))
	if slotOpened(n.luks, ks) {
		state += " " + paint(d.st.Check.Good, "✓ opened the volume")
	}
	d.kv("state", state)
	d.kv("type", ks.Type)
	if h.Version == 2 {
		d.kv("priority", fmt.Sprintf("%d (%s)", ks.Priority, priorityWord(ks.Priority)))
	}
	k := &ks.KDF
	d.kv("KDF", k.Type)
	switch k.Type {
	case "pbkdf2":
		d.kv("hash", k.Hash)
		d.kv("iterations", k.Iterations)
	case "argon2i", "argon2id":
		d.kv("time", fmt.Sprintf("%d passes", k.Time))
		d.kv("memory", fmt.Sprintf("%s (%d in the header, counted in KiB)", format.Size(int64(k.Memory)*1024), k.Memory))
		d.kv("threads", k.CPUs)
	}
	d.kv("key material", fmt.Sprintf("%s at %s of the LUKS device", format.Count(int(ks.AreaSize), "byte", "bytes"), format.Offset(uint64(ks.AreaOffset))))
	d.kv("stripes", fmt.Sprintf("%d (AF %s, %s)", ks.Stripes, joinNonEmpty(" ", ks.AFType), ks.AFHash))
	d.kv("encrypted with", ks.Cipher)
	d.kv("key size", fmt.Sprintf("%d bits", ks.KeyBytes*8))
	if h.Version == 2 {
		if ks.Digest >= 0 {
			d.kv("digest", ks.Digest)
		} else {
			d.kv("digest", paint(d.st.Check.Warn, "none lists it: not tried"))
		}
		if !ks.Bound {
			d.para(d.st.Check.Warn, "! its digest does not cover the data segment: it does not open the volume")
		}
	}
	if ks.Problem != "" {
		d.kv("problem", paint(d.st.Check.Bad, "✗ "+ks.Problem+" (not tried)"))
	}
	for _, w := range ks.Warnings {
		d.para(d.st.Status.Warn, "! "+w)
	}
	d.para(d.st.Muted, "the key material is AF-split and encrypted with a key derived from the passphrase: it holds no key in clear")
	d.hint("x: hex view of the key material")
}

// luksSection is the LUKS section of a device that holds a header (an
// input, a partition, a container's disk, an LV or md array read as a
// disk): the volume it opens and its state, the header's checksums.
func luksSection(d *detailsBuilder, dev *scan.Node) {
	if dev == nil || dev.LUKS == nil || dev.Kind == scan.KindLUKS {
		return
	}
	h := dev.LUKS
	d.section(fmt.Sprintf("LUKS%d header", h.Version))
	var v *scan.Node
	for _, n := range d.s.res.LUKSNodes {
		if len(n.Parents) > 0 && n.Parents[0] == dev.ID {
			v = n
		}
	}
	if v != nil {
		d.kv("volume", fmt.Sprintf("%s (%s)", v.ID, luksStateWord(v)))
	}
	d.kv("UUID", h.UUID)
	if h.Cipher != "" {
		d.kv("cipher", fmt.Sprintf("%s, %d-bit key", h.Cipher, h.KeyBytes*8))
	} else {
		d.kv("cipher", cipherText(h))
	}
	if len(h.Copies) > 0 {
		d.kv("checksums", d.mark(copiesOK(h), "✓ ok", "✗ BAD")+safe(fmt.Sprintf(" (%s)", format.Count(len(h.Copies), "header copy", "header copies"))))
	}
	d.para(d.st.Muted, "what it holds is encrypted: it is read through the volume once unlocked; select the LUKS row for the header")
}

// cipherText is the volume's cipher, or why it is not known (no usable
// LUKS2 header copy: the JSON area that names it was not read).
func cipherText(h *luks.Header) string {
	if h.Cipher == "" {
		return "not known: no usable header copy names it"
	}
	return h.Cipher
}
