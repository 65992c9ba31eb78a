// Package graph builds the device graph above LVM: an LV is a device
// too, tasted again like any disk. An LV that holds a partition table or
// an LVM2 PV (a virtual machine's disk on a virtualisation host, as
// Proxmox VE and oVirt keep them) becomes an input of the scan: its
// partitions, the guest's PVs and VGs appear under it, with their
// history, and export like any other. Guest VGs are told apart from the
// host's by UUID.
//
// It sits above export (it opens LVs through export/volume) and below
// the front ends, which call Scan instead of scan.Scan.
package graph

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/export/volume"
	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/content"
	"github.com/lvminspect/lvminspect/scan/device"
	"github.com/lvminspect/lvminspect/scan/partition"
)

// MaxDepth bounds the LV layers opened: LVM in an LV in an LV… deeper
// than this is reported, not opened.
const MaxDepth = 4

// MaxTasted bounds the LVs whose content is looked at in one scan; a VG
// of more LVs (a crafted one of 290,000) has the rest reported, not
// opened. Looking costs a few small reads per LV: at 1,024 a scan of a
// 10,000-LV VG stays within 1.3 times LVM's own lvs (at 4,096, 2.2).
const MaxTasted = 1024

// Scan scans the inputs, then every LV that holds a partition table or
// a PV, as an input of its own, until no new one is found or MaxDepth
// layers were opened.
func Scan(ins []*scan.Input, opt scan.Options) *scan.Result {
	res := scan.Scan(ins, opt)
	Expand(res, opt)
	return res
}

// Expand adds to res the LVs that hold a partition table or a PV, and
// what is in them, and names what every other LV holds.
func Expand(res *scan.Result, opt scan.Options) {
	st := &state{tasted: map[string]bool{}, budget: MaxTasted, parents: map[*scan.Node][]*scan.Node{}}
	for {
		added := assembleMD(res, &st.md)
		added = append(added, unlockLUKS(res, &st.luks, opt.Keys)...)
		for _, vg := range res.VGs {
			added = append(added, expandVG(res, vg, st)...)
		}
		if len(added) == 0 {
			break
		}
		res.Add(added, opt)
	}
	nameLVs(res, st)
	mdParents(res, &st.md)
}

// state is what Expand keeps from one round to the next.
type state struct {
	tasted  map[string]bool // LV keys looked at
	budget  int             // LVs that may still be looked at
	parents map[*scan.Node][]*scan.Node
	md      mdState
	luks    luksState
}

// lvKey identifies an LV across generations and names: VG UUID and LV
// UUID.
func lvKey(vg *model.VG, lv *model.LV) string {
	return model.BareUUID(vg.UUID) + "/" + model.BareUUID(lv.UUID)
}

func expandVG(res *scan.Result, vg *scan.VG, st *state) []*scan.Input {
	if vg.Meta == nil {
		return nil
	}
	depth, parents, ancestors := 0, []*scan.Node(nil), map[string]bool{}
	for _, p := range vg.PVs {
		if p.PV == nil || p.PV.Device == nil {
			continue
		}
		depth = max(depth, p.PV.Device.Depth)
		parents = append(parents, p.PV.Device)
		for _, a := range ancestorsOf(res, p.PV.Input) {
			ancestors[a] = true
		}
	}
	var added []*scan.Input
	var todo []tasting
	rv := volume.ForScan(vg)
	for _, lv := range vg.Meta.LVs {
		key := lvKey(vg.Meta, lv)
		if st.tasted[key] || !tasteable(vg.Meta, lv) {
			continue
		}
		st.tasted[key] = true
		name := vg.Meta.Name + "/" + lv.Name
		if st.budget <= 0 {
			if st.budget == 0 {
				vg.Problems = append(vg.Problems, scan.Problem{Severity: scan.SevInfo,
					Msg: fmt.Sprintf("more than %d LVs: the content of %s and the LVs after it is not looked at", MaxTasted, name)})
			}
			st.budget--
			continue
		}
		st.budget--
		if ancestors[key] {
			vg.Problems = append(vg.Problems, scan.Problem{Severity: scan.SevError,
				Msg: fmt.Sprintf("LV %s lies inside itself (a PV of its VG is inside it): not opened", name)})
			continue
		}
		src, err := rv.OpenLV(lv)
		if err != nil {
			continue
		}
		todo = append(todo, tasting{lv: lv, key: key, name: name, d: NewDevice(src, name)})
	}
	tasteAll(todo)
	for _, t := range todo {
		lv, key, name, d, holds, info := t.lv, t.key, t.name, t.d, t.holds, t.info
		node := &scan.Node{ID: "lv:" + name, Kind: scan.KindLV, Label: name, Size: d.Size(), Depth: depth + 1,
			VG: vg.Meta.Name, VGUUID: vg.Meta.UUID, LV: lv.Name, Content: info}
		st.parents[node] = parents
		res.LVNodes = append(res.LVNodes, node)
		if !holds {
			continue
		}
		if depth+1 > MaxDepth {
			vg.Problems = append(vg.Problems, scan.Problem{Severity: scan.SevWarn,
				Msg: fmt.Sprintf("LV %s holds %s, %d layers of LVs deep: not opened (at most %d)", name, info.Name, depth+1, MaxDepth)})
			continue
		}
		if u := ownVG(d, name, vg.Meta.UUID, ancestors); u != "" {
			vg.Problems = append(vg.Problems, scan.Problem{Severity: scan.SevError,
				Msg: fmt.Sprintf("LV %s holds a PV of VG %s, which it is itself part of (a VG inside itself): its content is not scanned", name, u)})
			continue
		}
		in := scan.NewDeviceInput(node, d)
		node.LVKeys = append(append([]string(nil), keysOf(ancestors)...), key)
		added = append(added, in)
	}
	return added
}

// tasting is one LV to look at, and what was found.
type tasting struct {
	lv    *model.LV
	key   string
	name  string
	d     *Device
	holds bool
	info  *content.Info
}

// tasteWorkers is how many LVs are looked at at once: their first
// sectors are small reads, each waiting on the disk, which overlap.
const tasteWorkers = 8

// tasteAll tastes every LV of todo, several at once, each result in its
// place (the order of the VG's LVs, whatever the timing).
func tasteAll(todo []tasting) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(tasteWorkers, len(todo)) {
		wg.Go(func() {
			for i := range next {
				todo[i].holds, todo[i].info = taste(todo[i].d)
			}
		})
	}
	for i := range todo {
		next <- i
	}
	close(next)
	wg.Wait()
}

// ownVG scans the device d alone and returns the UUID of a VG its PVs
// belong to that is the LV's own VG or one the LV is inside (ancestors'
// VG UUIDs), or "" when there is none.
func ownVG(d device.Device, name, vgUUID string, ancestors map[string]bool) string {
	own := map[string]bool{model.BareUUID(vgUUID): true}
	for k := range ancestors {
		v, _, _ := strings.Cut(k, "/")
		own[v] = true
	}
	res := scan.Scan([]*scan.Input{scan.NewDeviceInput(&scan.Node{Kind: scan.KindLV, Label: name}, d)}, scan.Options{})
	for _, pv := range res.PVs {
		for _, m := range pv.MDAs {
			if c := m.Committed; c != nil && c.VG != nil && own[model.BareUUID(c.VG.UUID)] {
				return c.VG.UUID
			}
		}
	}
	return ""
}

// keysOf lists a set's keys, sorted.
func keysOf(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ancestorsOf lists the LVs an input is inside (their keys).
func ancestorsOf(res *scan.Result, in *scan.Input) []string {
	if in == nil || in.Node == nil {
		return nil
	}
	return in.Node.LVKeys
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// tasteable says whether an LV is a disk to look into: a visible LV
// that presents data of its own. Pools, sub-LVs, snapshots and the
// COW stores of old-style snapshots are not (a snapshot of a VM's disk
// holds the same guest PVs as the disk itself: opened too, they would
// be duplicates of them).
func tasteable(vg *model.VG, lv *model.LV) bool {
	if !lv.Visible() || len(lv.Segments) == 0 {
		return false
	}
	for _, s := range lv.Segments {
		switch s.Kind() {
		case model.KindThinPool, model.KindCachePool, model.KindSnapshot:
			return false
		case model.KindThin:
			if s.Thin != nil && (s.Thin.Origin != "" || s.Thin.MergingOrigin != "") {
				return false
			}
		}
	}
	return !vg.IsCOWStore(lv)
}

// taste says whether d holds a partition table or a PV (then it is
// scanned as a disk), and what it holds.
func taste(d device.Device) (bool, *content.Info) {
	if !hasData(d, 0, tasteHead) && !hasData(d, d.Size()-tasteTail, tasteTail) {
		// Nothing stored where any signature lies (an unprovisioned
		// thin LV, the holes of a sparse image): nothing to read.
		return false, nil
	}
	if !signsOfLife(d) {
		// Zeros where a label, a partition table and the superblocks
		// of nearly every format lie: not read further (a device that
		// cannot say where its holes are, such as a block device,
		// would otherwise have 132 KiB read of each LV).
		return false, nil
	}
	info, known := content.Identify(d, d.Size())
	if lb, _, err := scan.ReadLabel(d, d.Size(), 0); err == nil {
		if !known || info.Format != "lvm2" {
			info = content.Info{Format: "lvm2", Name: "LVM2 physical volume", UUID: model.DashedUUID(lb.Header.UUID)}
		}
		return true, &info
	}
	if tab, err := partition.Read(d, d.Size()); err == nil && tab != nil && len(tab.Partitions) > 0 {
		if !known || info.Format != tab.Kind {
			info = content.Info{Format: tab.Kind, Name: strings.ToUpper(tab.Kind) + " partition table"}
		}
		return true, &info
	}
	if known {
		// An md member is scanned as a disk too: the md layer
		// assembles its array.
		return info.Format == "md", &info
	}
	return false, nil
}

// What content.Identify and the label and partition table readers look
// at: the first 68 KiB (a Btrfs superblock at 64 KiB, GPT entries) and the
// last 64 KiB (md superblocks 0.90 and 1.0, a GPT's backup).
const (
	tasteHead = 68 << 10
	tasteTail = 64 << 10
)

// signsOfLife reads the places where an LV that holds anything at all
// holds something that is not zero: the first 8 KiB (LVM2 label, MBR and
// GPT, LUKS, ext2/3/4, XFS, swap, FAT, NTFS, md 1.1 and 1.2) and 4 KiB at
// 64 KiB (Btrfs). An LV that is zero there is taken to hold nothing
// known (an md 0.90 or 1.0 superblock at the end of a zeroed LV is not
// looked for).
func signsOfLife(d device.Device) bool {
	buf := make([]byte, 8<<10)
	for _, at := range []struct{ off, n int64 }{{0, 8 << 10}, {64 << 10, 4 << 10}} {
		if at.off >= d.Size() {
			break
		}
		n, err := d.ReadAt(buf[:min(at.n, d.Size()-at.off)], at.off)
		if err != nil && err != io.EOF {
			return true // let the full look say what is wrong
		}
		if !bytes.Equal(buf[:n], zeroBuf[:n]) {
			return true
		}
	}
	return false
}

// zeroBuf is what signsOfLife compares with.
var zeroBuf = make([]byte, 8<<10)

// hasData reports whether [off, off+n) of d holds anything but holes (an
// unreadable range counts: reading it says why).
func hasData(d device.Device, off, n int64) bool {
	if off < 0 {
		n += off
		off = 0
	}
	if n <= 0 {
		return false
	}
	ext, err := device.MapAll(d, off, n)
	if err != nil {
		return true
	}
	for _, e := range ext {
		if e.Kind != device.Hole {
			return true
		}
	}
	return false
}

// nameLVs gives every LV device its id: lv:VG/LV, or lv:VGUUID/LV where
// two VGs share a name; and names the partitions under them again.
func nameLVs(res *scan.Result, st *state) {
	names := map[string]map[string]bool{}
	for _, n := range res.LVNodes {
		if names[n.VG] == nil {
			names[n.VG] = map[string]bool{}
		}
		names[n.VG][n.VGUUID] = true
	}
	for _, vg := range res.VGs {
		if vg.Meta != nil {
			if names[vg.Meta.Name] == nil {
				names[vg.Meta.Name] = map[string]bool{}
			}
			names[vg.Meta.Name][vg.Meta.UUID] = true
		}
	}
	for _, n := range res.LVNodes {
		vg := n.VG
		if len(names[n.VG]) > 1 {
			vg = n.VGUUID
		}
		n.ID = "lv:" + vg + "/" + n.LV
	}
	res.AssignIDs()
	// A crafted name can make an id another device already has (an LV
	// named x.p2 beside partition 2 of LV x): such an LV gets a number
	// after its id, and the ids below it follow.
	for range 4 {
		seen, clash := map[string]bool{}, false
		for _, d := range res.Devices() {
			if seen[d.ID] && d.Kind == scan.KindLV {
				for k := 2; ; k++ {
					if id := fmt.Sprintf("%s#%d", d.ID, k); !seen[id] {
						d.ID, clash = id, true
						break
					}
				}
			}
			seen[d.ID] = true
		}
		if !clash {
			break
		}
		res.AssignIDs()
	}
	for _, n := range res.LVNodes {
		n.Parents = nil
		for _, p := range st.parents[n] {
			n.Parents = appendOnce(n.Parents, p.ID)
		}
	}
}

// Device is an LV (an export.Source) as a device of the graph: holes
// where the LV has none (unprovisioned thin blocks, holes of the images
// below), an *device.UnreadableError where its bytes have no source (a
// missing PV), never zeros in their place.
type Device struct {
	src  export.Source
	name string
}

// NewDevice returns src as a device named name ("VG/LV").
func NewDevice(src export.Source, name string) *Device { return &Device{src: src, name: name} }

// Source is the LV as the export engine reads it.
func (d *Device) Source() export.Source { return d.src }

// Size is the LV's size.
func (d *Device) Size() int64 { return d.src.Size() }

// ReadAt reads the LV: its data, zeros for its holes, an error for bytes
// no input holds.
func (d *Device) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("%s: read at negative offset %d", d.name, off)
	}
	size := d.src.Size()
	if off >= size {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	want := len(p)
	if int64(want) > size-off {
		p = p[:size-off]
	}
	runs, err := d.src.Runs(off, int64(len(p)))
	if err != nil {
		return 0, err
	}
	done := 0
	for _, r := range runs {
		q := p[r.Off-off : r.Off-off+r.Len]
		switch r.Kind {
		case export.RunData:
			n, err := d.src.ReadAt(q, r.Off)
			done += n
			if err != nil && !(err == io.EOF && n == len(q)) {
				return done, err
			}
		case export.RunZero:
			clear(q)
			done += len(q)
		default:
			why := r.Reason
			if why == "" {
				why = "no input holds these bytes"
			}
			return done, &device.UnreadableError{Device: d.name, Off: r.Off, Len: r.Len, Why: why}
		}
	}
	if done < want {
		return done, io.EOF
	}
	return done, nil
}

// Map describes the LV's runs as extents.
func (d *Device) Map(off, length int64) ([]device.Extent, error) {
	size := d.src.Size()
	if off < 0 || length < 0 || off >= size {
		return nil, nil
	}
	length = min(length, size-off)
	runs, err := d.src.Runs(off, length)
	if err != nil {
		return nil, err
	}
	var out []device.Extent
	for _, r := range runs {
		e := device.Extent{Off: r.Off, Len: r.Len, Kind: device.Data}
		switch r.Kind {
		case export.RunZero:
			e.Kind = device.Hole
		case export.RunMissing:
			e.Kind, e.Why = device.Unreadable, r.Reason
		}
		if n := len(out); n > 0 && out[n-1].Kind == e.Kind && out[n-1].Why == e.Why && out[n-1].Off+out[n-1].Len == e.Off {
			out[n-1].Len += e.Len
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

// ConcurrentReads is the source's answer.
func (d *Device) ConcurrentReads() bool {
	if c, ok := d.src.(export.ConcurrentSource); ok {
		return c.ConcurrentReads()
	}
	return false
}

// AdviseSequential passes the hint to the source, when it takes hints
// (an md array passes it to its members).
func (d *Device) AdviseSequential(off, n int64) {
	if a, ok := d.src.(device.Advisor); ok {
		a.AdviseSequential(off, n)
	}
}

// AdviseWillNeed passes the hint to the source, when it takes hints.
func (d *Device) AdviseWillNeed(off, n int64) {
	if a, ok := d.src.(device.Advisor); ok {
		a.AdviseWillNeed(off, n)
	}
}
