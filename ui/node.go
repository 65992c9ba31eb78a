package ui

import (
	"fmt"
	"strings"

	"github.com/lvminspect/lvminspect/export/volume"
	"github.com/lvminspect/lvminspect/internal/format"
	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/partition"
)

// nodeKind says what a tree item stands for.
type nodeKind int

const (
	kInput nodeKind = iota
	kPartTable
	kPartition
	kPV
	kLabel
	kPVHeader
	kMDA
	kMDAHeader
	kCopy
	kVG
	kVGPVs
	kVGPV
	kLV
	kSegment
	kArea
	kContainer      // the virtual disk of an evidence or virtual-disk container
	kContainerFiles // the files of a container made of several
	kContainerFile  // one of them, with its structures
	kHolds          // what an LV holds, read as a disk of its own
	kMD             // an md RAID array, assembled from its members
	kMDMember       // a member of an array, by its role
	kMDMissing      // a role of an array that no member holds
	kMDSuper        // a member device's md superblock: which array it is of
	kMDBitmap       // a member device's write-intent bitmap
	kLUKS           // a LUKS volume: the decrypted device of a LUKS header
	kLUKSSlot       // a key slot of a LUKS volume
	kLUKSHeader     // a device's LUKS header: which volume it opens
)

// node is one item of the device tree. Exactly the payload fields that
// its kind needs are set.
type node struct {
	kind     nodeKind
	name     string // what search matches and the row shows first
	parent   *node
	children []*node
	expanded bool
	depth    int

	in    *scan.InputResult
	table *partition.Table
	part  *partition.Partition
	pv    *scan.PV
	mda   *scan.MDA
	cp    *scan.Copy
	vg    *vgView
	vgpv  *scan.VGPV
	lv    *model.LV
	seg   int // segment index (kSegment, kArea)
	area  int // area index (kArea)
	// dev is the device of the graph the item stands for: a partition, a
	// container's virtual disk, an LV (kLV: where it was looked into),
	// the LV an LV input is (kHolds).
	dev  *scan.Node
	file *containerFile // kContainerFile, and the first file for kContainer
	// arr is the md array a row is about (kMD: dev too; kMDMember,
	// kMDMissing; kMDSuper and kMDBitmap when the member is in one), and
	// member the index of the member in arr.Array.Members (-1: none);
	// role is the role of a kMDMissing row. dev is the member's device
	// for kMDMember, kMDSuper and kMDBitmap.
	arr    *scan.Node
	member int
	role   int
	// luks is the LUKS volume (a device of kind luks) a row is about
	// (kLUKS: dev too; kLUKSSlot; kLUKSHeader when the graph made one),
	// enc the device that holds its header (encrypted), and slot the
	// index of a kLUKSSlot's slot in the header's Keyslots.
	luks *scan.Node
	enc  *scan.Node
	slot int

	hidden  bool // a hidden sub-LV
	removed bool // an LV of a past generation that the current one no longer has
	damaged bool // a structure with a failed check or a problem

	cheap *lvFacts // an LV's facts from its metadata alone (its row)
}

// vgView is a VG as the tree shows it: the current metadata, or a past
// generation chosen in the history view ("time travel").
type vgView struct {
	vg      *scan.VG // what is shown and exported
	current *scan.VG // the VG as scanned
	asOf    *genInfo // nil: the current metadata
}

// genInfo describes the generation a vgView shows when it is not the
// current one.
type genInfo struct {
	Seqno   uint64
	Created int64
	Desc    string
	// Removed holds the LVs of this generation that the current metadata
	// no longer has; Reused says, per such LV, which of its extents other
	// LVs use now.
	Removed map[string]bool
	Reused  map[string]string
}

// shown says, per LV of the viewed metadata, whether LVM presents it to
// users (model.VG.Shown), in one pass over the LVs.
func (v *vgView) shown() []bool {
	meta := v.vg.Meta
	snapStore := map[string]bool{}
	isSnap := make([]bool, len(meta.LVs))
	for i, lv := range meta.LVs {
		for _, s := range lv.Segments {
			if p := s.Snapshot; p != nil {
				isSnap[i] = true
				snapStore[p.CowStore] = true
				snapStore[p.MergingStore] = true
			}
		}
	}
	out := make([]bool, len(meta.LVs))
	for i, lv := range meta.LVs {
		switch {
		case isSnap[i]:
			out[i] = false
		case snapStore[lv.Name]:
			out[i] = true
		default:
			out[i] = lv.Visible()
		}
	}
	return out
}

// travelling reports whether the view shows a past generation.
func (v *vgView) travelling() bool { return v.asOf != nil }

// serious reports whether any problem is a warning or an error: notes
// (severity info) do not mark a node as damaged.
func serious(ps []scan.Problem) bool {
	return countSerious(ps) > 0
}

func countSerious(ps []scan.Problem) int {
	n := 0
	for _, p := range ps {
		if p.Severity != scan.SevInfo {
			n++
		}
	}
	return n
}

func setDepth(n, parent *node, d int) {
	n.parent, n.depth = parent, d
	for _, c := range n.children {
		setDepth(c, n, d+1)
	}
}

func pvNode(pv *scan.PV) *node {
	n := &node{kind: kPV, name: "PV " + pv.UUID(), pv: pv, expanded: true, damaged: serious(pv.Problems)}
	lb := pv.Label
	n.children = append(n.children,
		&node{kind: kLabel, name: "label_header", pv: pv, damaged: !lb.CRC.OK || lb.Weak},
		&node{kind: kPVHeader, name: "pv_header", pv: pv})
	for _, m := range pv.MDAs {
		mn := &node{kind: kMDA, name: fmt.Sprintf("mda%d", m.Index), pv: pv, mda: m, damaged: m.Header == nil || serious(m.Problems)}
		if m.Header != nil {
			mn.children = append(mn.children, &node{kind: kMDAHeader, name: "mda_header", pv: pv, mda: m,
				damaged: !m.Header.Checksum.OK || !m.Header.MagicOK})
		}
		for _, c := range []*scan.Copy{m.Committed, m.Precommitted} {
			if c == nil {
				continue
			}
			what := "committed"
			if c.Slot == 1 {
				what = "precommitted"
			}
			mn.children = append(mn.children, &node{kind: kCopy, name: what, pv: pv, mda: m, cp: c,
				damaged: !c.Usable()})
		}
		n.children = append(n.children, mn)
	}
	return n
}

func (c *treeCtx) vgNode(v *vgView) *node {
	c.placedVG[v] = true
	meta := v.vg.Meta
	n := &node{kind: kVG, name: "VG " + meta.Name, vg: v, damaged: serious(v.vg.Problems) || v.vg.Fallback != ""}
	pvs := &node{kind: kVGPVs, name: "physical volumes", vg: v}
	for _, p := range v.vg.PVs {
		pvs.children = append(pvs.children, &node{kind: kVGPV, name: p.Meta.Label + " " + p.Meta.UUID, vg: v, vgpv: p,
			damaged: p.Missing || p.Stale})
	}
	n.children = append(n.children, pvs)
	shown := v.shown()
	r := volume.FromScan(v.vg)
	for i, lv := range meta.LVs {
		hidden := !shown[i]
		if hidden && !c.showHidden {
			continue
		}
		ln := &node{kind: kLV, name: lv.Name, vg: v, lv: lv, hidden: hidden, cheap: cheapFacts(r, lv)}
		if v.asOf != nil && v.asOf.Removed[lv.Name] {
			ln.removed = true
		}
		for i, s := range lv.Segments {
			sn := &node{kind: kSegment, name: format.Segment(i), vg: v, lv: lv, seg: i}
			for j := range s.Areas {
				sn.children = append(sn.children, &node{kind: kArea, name: areaName(s, j), vg: v, lv: lv, seg: i, area: j})
			}
			for j := range s.MetaAreas {
				if s.MetaAreas[j].LV == "" {
					continue
				}
				sn.children = append(sn.children, &node{kind: kArea, name: "meta " + areaName2(s.MetaAreas[j]), vg: v, lv: lv, seg: i, area: -1 - j})
			}
			ln.children = append(ln.children, sn)
		}
		// What the LV holds, read as a disk, after its own mapping.
		if sameLV(v, lv) {
			k := lvDevKey(v.current.Meta.UUID, lv.Name)
			ln.dev = c.lvNodes[k]
			if in := c.lvInputs[k]; in != nil && !c.placed[in] {
				ln.children = append(ln.children, c.holdsNode(in, true))
				ln.expanded = c.expandHolds
			}
		}
		n.children = append(n.children, ln)
	}
	n.expanded = true
	return n
}

func areaName(s *model.Segment, j int) string { return areaName2(s.Areas[j]) }

func areaName2(a model.Area) string {
	if a.IsPV() {
		return fmt.Sprintf("%s PE %d", a.PV, a.Start)
	}
	return fmt.Sprintf("LV %s LE %d", a.LV, a.Start)
}

// flatten lists the visible nodes in display order.
func flatten(roots []*node) []*node {
	var out []*node
	var walk func(n *node)
	walk = func(n *node) {
		out = append(out, n)
		if n.expanded {
			for _, c := range n.children {
				walk(c)
			}
		}
	}
	for _, r := range roots {
		walk(r)
	}
	return out
}

// walkAll lists every node, collapsed ones included, in display order.
func walkAll(roots []*node) []*node {
	var out []*node
	var walk func(n *node)
	walk = func(n *node) {
		out = append(out, n)
		for _, c := range n.children {
			walk(c)
		}
	}
	for _, r := range roots {
		walk(r)
	}
	return out
}

// key identifies a node across rebuilds of the tree (for keeping the
// selection when hidden LVs are toggled or a generation is chosen).
func (n *node) key() string {
	var parts []string
	for p := n; p != nil; p = p.parent {
		parts = append(parts, fmt.Sprintf("%d:%s", p.kind, p.name))
	}
	return strings.Join(parts, "/")
}

// segment returns the node's segment, or nil.
func (n *node) segment() *model.Segment {
	if n.lv == nil || (n.kind != kSegment && n.kind != kArea) || n.seg < 0 || n.seg >= len(n.lv.Segments) {
		return nil
	}
	return n.lv.Segments[n.seg]
}

// areaRef returns the area of a kArea node.
func (n *node) areaRef() (model.Area, bool) {
	s := n.segment()
	if s == nil || n.kind != kArea {
		return model.Area{}, false
	}
	if n.area >= 0 && n.area < len(s.Areas) {
		return s.Areas[n.area], true
	}
	if j := -1 - n.area; j >= 0 && j < len(s.MetaAreas) {
		return s.MetaAreas[j], true
	}
	return model.Area{}, false
}

// searchText is what / matches in the tree: the item's name, and its
// UUID and tags where it has them.
func (n *node) searchText() []string {
	out := []string{n.name}
	switch n.kind {
	case kInput, kContainerFile:
		out = append(out, n.in.Path)
	case kContainer, kHolds:
		out = append(out, n.in.Path, n.dev.ID, n.dev.Kind)
	case kPartition:
		out = append(out, n.part.Name, n.part.UUID, n.part.TypeName)
		if n.dev != nil {
			out = append(out, n.dev.ID)
		}
	case kPV:
		out = append(out, n.pv.UUID())
	case kVG:
		m := n.vg.vg.Meta
		out = append(out, m.UUID)
		out = append(out, m.Tags...)
	case kVGPV:
		out = append(out, n.vgpv.Meta.UUID, n.vgpv.Meta.Device)
		out = append(out, n.vgpv.Meta.Tags...)
	case kLV:
		out = append(out, n.lv.UUID)
		out = append(out, n.lv.Tags...)
		if n.dev != nil {
			out = append(out, n.dev.ID)
		}
	case kSegment:
		if s := n.segment(); s != nil {
			out = append(out, s.Tags...)
		}
	case kMD:
		out = append(out, n.arr.ID, n.arr.Label)
		if a := n.arr.Array; a != nil {
			out = append(out, a.UUID, a.Name, a.Level)
		}
	case kMDMember, kMDSuper, kMDBitmap:
		if n.dev != nil {
			out = append(out, n.dev.ID)
			if sb := n.dev.MD; sb != nil {
				out = append(out, sb.UUIDText, sb.DevUUIDText)
			}
		}
	case kLUKS, kLUKSHeader:
		if h := n.luksHeader(); h != nil {
			out = append(out, h.UUID, h.Label, h.Cipher, fmt.Sprintf("luks%d", h.Version))
		}
		if n.enc != nil {
			out = append(out, n.enc.ID)
		}
	}
	return out
}

// holds is what an LV holds in a word (ext2, swap, GPT, PV), where the
// graph looked into it.
func (n *node) holds() string {
	if n.kind != kLV || n.dev == nil || n.vg.travelling() {
		return "" // a past generation: what the LV holds now is in its details
	}
	return holdsWord(n.dev.Content)
}
