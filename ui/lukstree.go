package ui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/lvminspect/lvminspect/internal/format"
	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/luks"
)

// The LUKS layer in the tree: each LUKS volume the graph made (a device
// of kind luks, ID DEVICE.luks) is a root after the inputs and the md
// arrays, as an md array is, with a row per active key slot and, once
// unlocked, what the decrypted volume holds, as for any disk. A device
// that holds a LUKS header (an input, a partition, a container's disk,
// an LV or an md array read as a disk) has a row naming the volume,
// which opens the header in the hex view and its JSON area as text.

// luksDeviceOf is the device that holds a volume's header: its parent.
func luksDeviceOf(devs map[string]*scan.Node, v *scan.Node) *scan.Node {
	if len(v.Parents) == 0 {
		return nil
	}
	return devs[v.Parents[0]]
}

// luksNode is a LUKS volume: its active key slots, then what it holds
// when it is unlocked.
func (c *treeCtx) luksNode(v *scan.Node) *node {
	in := c.luksInputs[v]
	if in != nil {
		c.placed[in] = true
	}
	enc := luksDeviceOf(c.devs, v)
	n := &node{kind: kLUKS, name: v.ID, dev: v, luks: v, enc: enc, in: in, expanded: true, damaged: luksDamaged(v, in)}
	if h := v.LUKS; h != nil {
		for i := range h.Keyslots {
			ks := &h.Keyslots[i]
			if ks.State != "active" {
				continue // LUKS1's disabled slots: in the volume's key slot table
			}
			n.children = append(n.children, &node{kind: kLUKSSlot, name: fmt.Sprintf("key slot %d", ks.Index), luks: v, enc: enc,
				slot: i, damaged: ks.Problem != ""})
		}
	}
	if in != nil {
		n.children = append(n.children, c.layerRows(in.Node)...)
		n.children = append(n.children, c.contentChildren(in)...)
	}
	return n
}

// luksRows is the row of a device that holds a LUKS header: which volume
// it opens, locked or not, and its header's checksums.
func (c *treeCtx) luksRows(d *scan.Node) []*node {
	if d == nil || d.LUKS == nil || d.Kind == scan.KindLUKS {
		return nil // a volume's own header is its row
	}
	v := c.luksVols[d]
	return []*node{{kind: kLUKSHeader, name: luksHeaderName(d.LUKS, v), enc: d, luks: v, damaged: headerDamaged(d.LUKS)}}
}

// layerRows are the rows of a device that a layer of the graph reads:
// an md member's superblock and bitmap, a LUKS header.
func (c *treeCtx) layerRows(d *scan.Node) []*node {
	return append(c.mdRows(d), c.luksRows(d)...)
}

// luksHeaderName is a LUKS device's row: "LUKS2 volume → in1.p2.luks", or
// "LUKS2 header" when no volume was made (a scan without the graph).
func luksHeaderName(h *luks.Header, v *scan.Node) string {
	if v == nil {
		return fmt.Sprintf("LUKS%d header", h.Version)
	}
	return fmt.Sprintf("LUKS%d volume → %s", h.Version, v.ID)
}

// luksHeader is the header a LUKS row is about.
func (n *node) luksHeader() *luks.Header {
	switch {
	case n.luks != nil && n.luks.LUKS != nil:
		return n.luks.LUKS
	case n.enc != nil:
		return n.enc.LUKS
	}
	return nil
}

// keyslot is a kLUKSSlot's slot.
func (n *node) keyslot() *luks.Keyslot {
	h := n.luksHeader()
	if h == nil || n.slot < 0 || n.slot >= len(h.Keyslots) {
		return nil
	}
	return &h.Keyslots[n.slot]
}

// luksUnlocked reports whether a volume was opened: its decrypted device
// is in the graph.
func luksUnlocked(v *scan.Node) bool { return v != nil && v.Device() != nil }

// luksProblems are a volume's problems: its input's when it was opened
// (they begin with the volume's own), else its own.
func luksProblems(v *scan.Node, in *scan.InputResult) []scan.Problem {
	if in != nil {
		return in.Problems
	}
	return v.Problems
}

// luksDamaged: the header has problems, the volume is refused, or an
// error or warning says why it was not opened (a passphrase that opened
// no slot). A volume merely locked (nothing given) is not damaged.
func luksDamaged(v *scan.Node, in *scan.InputResult) bool {
	if h := v.LUKS; h != nil && (h.Refused != "" || headerDamaged(h)) {
		return true
	}
	return serious(luksProblems(v, in))
}

// headerDamaged: a problem in the header, or a checksum that fails.
func headerDamaged(h *luks.Header) bool {
	return len(h.Problems) > 0 || !copiesOK(h)
}

// copiesOK reports whether every LUKS2 header copy's checksum matches.
func copiesOK(h *luks.Header) bool {
	for _, c := range h.Copies {
		if c.CsumComputed != "" && c.CsumStored != c.CsumComputed {
			return false
		}
	}
	return true
}

// luksStateWord is a volume's state in a few words: unlocked (and by
// what), locked, refused.
func luksStateWord(v *scan.Node) string {
	switch {
	case v == nil:
		return ""
	case v.LUKS != nil && v.LUKS.Refused != "":
		return "✗ refused"
	case luksUnlocked(v) && v.Unlock != nil && v.Unlock.Slot < 0:
		return "unlocked (volume key)"
	case luksUnlocked(v) && v.Unlock != nil:
		return fmt.Sprintf("unlocked (slot %d)", v.Unlock.Slot)
	case luksUnlocked(v):
		return "unlocked"
	}
	return "locked"
}

// luksOpenedBy says what opened a volume, as scan says it.
func luksOpenedBy(v *scan.Node) string {
	k := v.Unlock
	switch {
	case k == nil:
		return "unlocked"
	case k.Slot < 0:
		return "unlocked with the volume key given"
	}
	return fmt.Sprintf("unlocked by key slot %d (%s)", k.Slot, k.KDF)
}

// lockedWhy is why a volume is locked: the graph's reason without its
// "locked: " or "not opened: ", or that nothing was given.
func lockedWhy(v *scan.Node) string {
	if h := v.LUKS; h != nil && h.Refused != "" {
		return h.Refused
	}
	for _, p := range v.Problems {
		if p.Severity == scan.SevInfo {
			continue
		}
		s := strings.TrimPrefix(p.Msg, "locked: ")
		return strings.TrimPrefix(s, "not opened: ")
	}
	return "no passphrase, key file or volume key given"
}

// luksBadge is a volume's row: version, state, size, cipher.
func luksBadge(n *node) string {
	v := n.luks
	h := v.LUKS
	if h == nil {
		return "✗ no header" + damagedWord(n)
	}
	size := ""
	if v.Size > 0 {
		size = format.Size(v.Size)
	}
	// The state first: a narrow tree cuts the end of the row.
	return joinNonEmpty(" ", fmt.Sprintf("LUKS%d", h.Version), luksStateWord(v), size, h.Cipher) + damagedWord(n)
}

// luksHeaderBadge is a LUKS device's row: the volume's state and, for
// LUKS2, its header copies' checksums.
func luksHeaderBadge(n *node) string {
	h := n.enc.LUKS
	var parts []string
	if w := luksStateWord(n.luks); w != "" {
		parts = append(parts, w)
	}
	if len(h.Copies) > 0 {
		mark := "✓"
		if !copiesOK(h) {
			mark = "✗"
		}
		parts = append(parts, "csum "+mark)
	}
	s := strings.Join(parts, " · ")
	if len(h.Problems) > 0 {
		s += " !"
	}
	return s
}

// slotBadge is a key slot's row: its state (and whether it opened the
// volume), its KDF and cost.
func slotBadge(n *node) string {
	ks := n.keyslot()
	if ks == nil {
		return ""
	}
	state := ks.State
	if slotOpened(n.luks, ks) {
		state += " (opened it)"
	}
	s := state + " · " + kdfCost(&ks.KDF)
	if ks.Problem != "" {
		s += " !"
	}
	return s
}

// slotOpened reports whether the slot opened the volume.
func slotOpened(v *scan.Node, ks *luks.Keyslot) bool {
	return luksUnlocked(v) && v.Unlock != nil && v.Unlock.Slot == ks.Index
}

// kdfCost is a KDF and what it costs: "pbkdf2 sha256, 3632 iterations",
// "argon2id, time 4, 64.00 MiB, 2 threads".
func kdfCost(k *luks.KDF) string {
	switch k.Type {
	case "pbkdf2":
		return fmt.Sprintf("pbkdf2 %s, %d iterations", k.Hash, k.Iterations)
	case "argon2i", "argon2id":
		return fmt.Sprintf("%s, time %d, %s, %s", k.Type, k.Time, format.Size(int64(k.Memory)*1024), format.Count(int(k.CPUs), "thread", "threads"))
	case "":
		return "no KDF"
	}
	return k.Type
}

// priorityWord names a LUKS2 slot's priority as cryptsetup does.
func priorityWord(p int) string {
	switch p {
	case 0:
		return "ignore"
	case 2:
		return "prefer"
	}
	return "normal"
}

// isLUKSStructure reports a structure the LUKS layer put on a device
// (its header, key-slot table, JSON area, key material): its offsets
// are in the LUKS device.
func isLUKSStructure(st model.Structure) bool {
	return strings.HasPrefix(st.Name, "luks1_") || strings.HasPrefix(st.Name, "luks2_")
}

// luksFields are the fields of a LUKS device's header structures,
// offsets from the device's start plus shift.
func luksFields(d *scan.Node, shift int64) []model.Field {
	if d == nil || d.LUKS == nil || d.Kind == scan.KindLUKS {
		return nil
	}
	var out []model.Field
	for _, st := range d.Structures {
		if !isLUKSStructure(st) {
			continue
		}
		for _, f := range st.Fields {
			f.Off += shift
			out = append(out, f)
		}
	}
	return out
}

// luksTarget is a LUKS device's bytes, read through the device (as the
// header's offsets count), its header's fields named and the checksums
// checked, at the row's structure: the header, or a key slot's area.
func luksTarget(n *node) (hexTarget, error) {
	d := n.enc
	if d == nil || d.LUKS == nil || d.Device() == nil {
		return hexTarget{}, fmt.Errorf("%s: the LUKS device is not in the graph", n.name)
	}
	var off int64
	if ks := n.keyslot(); n.kind == kLUKSSlot && ks != nil {
		off = ks.AreaOffset
	}
	title := fmt.Sprintf("LUKS%d header of %s (%s)", d.LUKS.Version, d.ID, d.Label)
	src := &hexSource{title: title, unit: "LUKS device", r: d.Device(), start: 0, end: d.Size, fields: tidyFields(luksFields(d, 0))}
	return hexTarget{src: src, off: off}, nil
}

// luksText is the LUKS2 JSON area of a LUKS row's header, indented for
// reading (the area holds it on one line), for the text view.
func luksText(n *node) (string, string, bool) {
	h := n.luksHeader()
	if h == nil || h.Version != 2 || h.JSON() == "" {
		return "", "", false
	}
	raw := h.JSON()
	copyName := ""
	for _, c := range h.Copies {
		if c.Used {
			copyName = c.Name + " copy, "
		}
	}
	on := ""
	if n.enc != nil {
		on = " of " + n.enc.ID
	}
	title := fmt.Sprintf("LUKS2 JSON area%s (%s%d bytes, indented)", on, copyName, len(raw))
	var b bytes.Buffer
	if err := json.Indent(&b, []byte(raw), "", "  "); err != nil {
		return strings.Replace(title, ", indented)", ", as stored: not valid JSON)", 1), raw, true
	}
	return title, b.String(), true
}

// canUnlock reports whether u does something on n: a LUKS volume (or
// its header's row) left locked that may be opened, when the inspector
// can scan its inputs again.
func (s *session) canUnlock(n *node) bool {
	if n == nil || (n.kind != kLUKS && n.kind != kLUKSHeader) || n.luks == nil || s.snaps == nil {
		return false
	}
	v := n.luks
	return !luksUnlocked(v) && v.LUKS != nil && v.LUKS.Refused == "" && len(v.Parents) > 0
}
