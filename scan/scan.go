// Package scan reads LVM2 from disks and disk images, read-only: labels
// and PV headers, metadata-area headers and their text, partition tables,
// and assembles volume groups across inputs.
//
// Every decoder works on an io.ReaderAt plus a size and checks sizes
// against the device before it allocates. Damage never stops a scan: it is
// reported as a Problem (structure, absolute offset, field, stored and
// computed values) and everything still readable is read.
package scan

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan/content"
	"github.com/lvminspect/lvminspect/scan/device"
	"github.com/lvminspect/lvminspect/scan/luks"
	"github.com/lvminspect/lvminspect/scan/metatext"
	"github.com/lvminspect/lvminspect/scan/partition"
)

// Result is everything a scan found.
type Result struct {
	Inputs   []*InputResult
	PVs      []*PV
	VGs      []*VG
	Problems []Problem
	// LVNodes are the LVs as devices of the graph, added by a layer
	// above (export/graph): those that hold a partition table or a PV
	// are inputs too.
	LVNodes []*Node
	// LUKSNodes are the LUKS volumes' decrypted mappings, added by a
	// layer above (export/graph) for every LUKS device found: those it
	// unlocked are inputs too.
	LUKSNodes []*Node
	// MDNodes are the md arrays assembled by a layer above (export/graph)
	// from the members found: those that can be read are inputs too.
	MDNodes []*Node

	dups map[string]*dupInfo // PV UUIDs found more than once, by bare UUID
}

// InputResult is what one input holds.
type InputResult struct {
	*Input
	Partitions *partition.Table
	PVs        []*PV
	Problems   []Problem
	// Content names what the input holds when it has neither a PV at its
	// start nor a partition table (a compressed file, a virtual-disk or
	// evidence container, LUKS, an md RAID member, a file system...).
	Content *content.Info
	// PartitionContent does the same for each partition without a PV,
	// by partition index.
	PartitionContent map[int]content.Info
	// PartNodes are the partitions as devices of the graph, in table
	// order.
	PartNodes []*Node
}

// PV is a physical volume found on an input.
type PV struct {
	Path      string // the input as given
	Offset    int64  // where the PV starts in the input (bytes)
	Partition int    // partition number holding it, 0 for none
	Carved    bool   // found by searching the whole input (Options.Carve)
	Size      int64  // readable bytes from Offset (to the partition's or input's end)
	Input     *Input
	R         io.ReaderAt // PV-relative reads
	// Dev is the PV as a device (offset 0 is the PV's first byte), with
	// the capabilities of what is below it (where the data is).
	Dev device.Device
	// Device is the device of the graph the PV lies on: the partition,
	// or the input (the container's disk, the LV).
	Device *Node

	Label    *Label
	MDAs     []*MDA
	Problems []Problem
}

// UUID is the PV's UUID in dashed form.
func (pv *PV) UUID() string { return model.DashedUUID(pv.Label.Header.UUID) }

// MDA is one metadata area of a PV.
type MDA struct {
	Index  int      // 1 or 2 (mda1, mda2); position in the pv_header list plus one
	Locn   DiskLocn // from the pv_header
	AbsOff int64    // absolute offset of the area in the input
	Header *MDAHeader

	Committed    *Copy // from slot 0, nil when the slot is empty or unreadable
	Precommitted *Copy // from slot 1, when it points at a different copy
	Problems     []Problem
}

// Copy is a metadata text copy located by a raw_locn slot.
type Copy struct {
	*TextCopy
	Slot     int
	Ignored  bool // the slot carries RAW_LOCN_IGNORED: possibly stale
	VG       *model.VG
	ParseErr error
	PV       *PV
	MDA      *MDA
}

// Usable reports whether the copy's checksum matched and it parsed.
func (c *Copy) Usable() bool {
	return c != nil && c.TextCopy != nil && c.CRCOK && c.VG != nil && c.ParseErr == nil
}

// Options tune a scan.
type Options struct {
	// NoPartitions skips partition-table probing.
	NoPartitions bool
	// Carve searches every sector of each input for PV labels, to find
	// PVs at any offset (inside unknown or damaged partition tables,
	// nested images). It reads the whole input, skipping holes of sparse
	// image files.
	Carve bool
	// PVs chooses, for a PV UUID found on more than one input, the one
	// to read: PV UUID (bare or dashed) to the input's path as given, or
	// "PATH@OFFSET" for a PV at that byte of an input (--pv UUID=PATH).
	// Without a choice, copies that differ are not exported.
	PVs map[string]string
	// Keys holds what unlocks LUKS volumes (the layer above, export/graph,
	// tries it); nil: LUKS volumes stay locked.
	Keys *luks.Keyring `json:"-"`
}

// Scan reads every input and assembles the volume groups found.
func Scan(inputs []*Input, opt Options) *Result {
	res := &Result{}
	res.Add(inputs, opt)
	return res
}

// Add scans more inputs (devices a layer above found: LVs that hold a
// partition table or PVs) and assembles the volume groups again over
// every PV found so far. The inputs scanned before are not read again.
func (res *Result) Add(inputs []*Input, opt Options) {
	for _, in := range inputs {
		ir := scanInput(in, opt)
		ir.Problems = append(append([]Problem(nil), in.Node.Problems...), ir.Problems...)
		res.Inputs = append(res.Inputs, ir)
		res.PVs = append(res.PVs, ir.PVs...)
	}
	assignIDs(res)
	res.VGs, res.Problems, res.dups = nil, nil, nil
	assemble(res, opt)
}

func scanInput(in *Input, opt Options) *InputResult {
	ir := &InputResult{Input: in}
	if inputIsMD(ir, opt) || probeLUKS(ir, in.Node, in.dev, 0, in.Size) {
		ir.Content = in.Node.Content
		return ir
	}
	if opt.Carve {
		defer carveInput(ir)
	}
	if pv, err := ProbePV(in, 0, in.Size, 0); err == nil {
		in.Node.Content = pvContent(pv)
		ir.PVs = append(ir.PVs, pv)
	} else if !errors.Is(err, ErrNoLabel) {
		ir.Problems = append(ir.Problems, problemFrom(SevError, in.Path, 0, err))
	}
	if opt.NoPartitions {
		identifyInput(ir)
		return ir
	}
	tab, err := partition.Read(in.dev, in.Size)
	var rejected *partition.RejectedError
	if err != nil && (!errors.Is(err, partition.ErrNoTable) || errors.As(err, &rejected)) {
		ir.Problems = append(ir.Problems, Problem{Severity: SevWarn, Path: in.Path, Structure: "partition table", Msg: err.Error()})
	}
	if tab == nil {
		identifyInput(ir)
		return ir
	}
	ir.Partitions = tab
	parts := map[int]*Node{}
	for _, p := range tab.Partitions {
		if p.Extended || p.Start <= 0 || p.Start >= in.Size {
			continue
		}
		size := min(p.Size, in.Size-p.Start)
		n := &Node{Kind: KindPartition, Offset: p.Start, Size: size, index: p.Index,
			Label: fmt.Sprintf("partition %d of %s", p.Index, in.Node.Label), dev: deviceOf(in, p.Start, size)}
		ir.PartNodes = append(ir.PartNodes, n)
		parts[p.Index] = n
	}
	for _, p := range tab.Problems {
		ir.Problems = append(ir.Problems, Problem{Severity: SevWarn, Path: in.Path, Structure: tab.Kind, Msg: p})
	}
	for _, p := range tab.Partitions {
		if p.Extended || p.Start <= 0 || p.Start >= in.Size {
			continue
		}
		size := min(p.Size, in.Size-p.Start)
		if n := parts[p.Index]; n != nil && (probeMD(ir, n, n.dev, p.Start, size) || probeLUKS(ir, n, n.dev, p.Start, size)) {
			if ir.PartitionContent == nil {
				ir.PartitionContent = map[int]content.Info{}
			}
			ir.PartitionContent[p.Index] = *n.Content
			continue
		}
		pv, err := ProbePV(in, p.Start, size, p.Index)
		if err == nil {
			pv.Device = parts[p.Index]
			if pv.Device != nil {
				pv.Device.Content = pvContent(pv)
			}
			ir.PVs = append(ir.PVs, pv)
			continue
		} else if !errors.Is(err, ErrNoLabel) {
			ir.Problems = append(ir.Problems, problemFrom(SevError, in.Path, p.Start, err))
		}
		if info, ok := content.Identify(io.NewSectionReader(in.dev, p.Start, size), size); ok {
			if n := parts[p.Index]; n != nil {
				c := info
				n.Content = &c
			}
			if ir.PartitionContent == nil {
				ir.PartitionContent = map[int]content.Info{}
			}
			if !in.IsDevice && strings.Contains(info.Hint, "DEVICE") {
				info.Hint += fmt.Sprintf("; the DEVICE of this partition: losetup --read-only --find --show --offset %d --sizelimit %d %s",
					p.Start, size, shellWord(in.Path))
			}
			ir.PartitionContent[p.Index] = info
			if info.MayHoldPV() {
				ir.Problems = append(ir.Problems, Problem{Severity: SevInfo, Path: in.Path, Off: p.Start + info.Off,
					Structure: fmt.Sprintf("partition %d", p.Index), Msg: notPV(info)})
			}
		}
	}
	return ir
}

// shellWord quotes path for a shell command line where it needs it.
func shellWord(path string) string {
	if path != "" && strings.IndexFunc(path, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+,:@%", r))
	}) < 0 {
		return path
	}
	return "'" + strings.ReplaceAll(path, "'", `'\''`) + "'"
}

// notPV says what a found format is and how to reach a PV inside it.
func notPV(info content.Info) string {
	return info.Name + " (not an LVM2 PV); " + info.Hint
}

// identifyInput names what an input without a PV at its start or a
// partition table holds, and says how to reach a PV that may be inside.
func identifyInput(ir *InputResult) {
	for _, pv := range ir.PVs {
		if pv.Offset == 0 {
			return
		}
	}
	info, ok := content.Identify(ir.dev, ir.Size)
	if !ok {
		return
	}
	info.Hint = strings.NewReplacer("FILE", shellWord(ir.Path), "DEVICE", shellWord(ir.Path)).Replace(info.Hint)
	ir.Content = &info
	ir.Node.Content = &info
	if info.MayHoldPV() {
		ir.Problems = append(ir.Problems, Problem{Severity: SevInfo, Path: ir.Path, Off: info.Off,
			Msg: notPV(info)})
	}
}

// ProbePV reads the PV whose label area starts at byte off of the input,
// with size readable bytes. ErrNoLabel means there is none.
func ProbePV(in *Input, off, size int64, partNo int) (*PV, error) {
	r := deviceOf(in, off, size)
	lb, probs, err := ReadLabel(r, size, off)
	if err != nil {
		return nil, err
	}
	pv := &PV{Path: in.Path, Offset: off, Partition: partNo, Size: size, Input: in, R: r, Dev: r, Device: in.Node, Label: lb}
	for _, p := range probs {
		p.Path = in.Path
		pv.Problems = append(pv.Problems, p)
	}
	h := lb.Header
	if h.DeviceSize > uint64(size) {
		pv.Problems = append(pv.Problems, Problem{Severity: SevError, Path: in.Path, Off: h.Struct.Off + 32,
			Structure: "pv_header", Field: "device_size", Stored: fmt.Sprint(h.DeviceSize), Computed: fmt.Sprint(size),
			Msg: fmt.Sprintf("device is shorter than pv_header.device_size: %d bytes missing (truncated image?)", h.DeviceSize-uint64(size))})
	}
	if !model.ValidUUID(h.UUID) {
		pv.Problems = append(pv.Problems, Problem{Severity: SevWarn, Path: in.Path, Off: h.Struct.Off,
			Structure: "pv_header", Field: "pv_uuid", Msg: fmt.Sprintf("PV UUID %q is not 32 characters of the UUID alphabet", h.UUID)})
	}
	for i, loc := range h.MetadataAreas {
		pv.MDAs = append(pv.MDAs, readMDA(pv, i+1, loc))
	}
	return pv, nil
}

func readMDA(pv *PV, idx int, loc DiskLocn) *MDA {
	m := &MDA{Index: idx, Locn: loc, AbsOff: pv.Offset + int64(loc.Offset)}
	h, probs, err := ReadMDAHeader(pv.R, pv.Size, pv.Offset, loc)
	m.Header = h
	m.Problems = append(m.Problems, probs...)
	if err != nil {
		m.Problems = append(m.Problems, problemFrom(SevError, pv.Path, m.AbsOff, err))
		return m
	}
	slot0 := h.Slots[0]
	if !slot0.Empty() {
		m.Committed = readCopy(pv, m, 0)
	}
	if s1 := h.Slots[1]; !s1.Empty() && (s1.Offset != slot0.Offset || s1.Size != slot0.Size) {
		m.Precommitted = readCopy(pv, m, 1)
		m.Problems = append(m.Problems, Problem{Severity: SevWarn, Off: m.AbsOff + 64, Structure: "mda_header",
			Field: "raw_locn[1]", Msg: "precommitted metadata present: an update was interrupted between precommit and commit"})
	}
	for i := range m.Problems {
		m.Problems[i].Path = pv.Path
	}
	return m
}

func readCopy(pv *PV, m *MDA, slot int) *Copy {
	c := &Copy{Slot: slot, Ignored: m.Header.Slots[slot].Ignored(), PV: pv, MDA: m}
	tc, err := ReadText(pv.R, pv.Size, pv.Offset, m.Locn.Offset, m.Header, slot)
	c.TextCopy = tc
	if err != nil {
		m.Problems = append(m.Problems, problemFrom(SevError, pv.Path, m.AbsOff, err))
		if tc == nil {
			return c
		}
	} else {
		m.Problems = append(m.Problems, tc.TextProblems()...)
	}
	if !tc.CRCOK {
		// Do not trust text with a bad checksum; history may hold a good copy.
		return c
	}
	vg, err := metatext.Parse(tc.Text)
	c.VG, c.ParseErr = vg, err
	if err != nil {
		m.Problems = append(m.Problems, Problem{Severity: SevError, Off: tc.Off, Structure: "metadata text",
			Msg: "does not parse: " + err.Error()})
	}
	return c
}

// carveInput adds the PVs that only a search of every sector finds.
func carveInput(ir *InputResult) {
	offs, err := carve(ir.Input)
	if err != nil {
		ir.Problems = append(ir.Problems, Problem{Severity: SevError, Path: ir.Path, Msg: "searching for labels: " + err.Error()})
	}
	have := map[int64]bool{}
	for _, pv := range ir.PVs {
		have[pv.Offset] = true
	}
	for _, off := range offs {
		if have[off] {
			continue
		}
		pv, err := ProbePV(ir.Input, off, ir.Size-off, 0)
		if err != nil {
			if !errors.Is(err, ErrNoLabel) {
				ir.Problems = append(ir.Problems, problemFrom(SevWarn, ir.Path, off, err))
			}
			continue
		}
		pv.Carved = true
		pv.Problems = append(pv.Problems, Problem{Severity: SevInfo, Path: ir.Path, Off: off, Structure: "label_header",
			Msg: fmt.Sprintf("PV found by searching the input at offset %d, outside any partition table entry", off)})
		ir.PVs = append(ir.PVs, pv)
	}
}

// pvContent is what a device holding a PV holds.
func pvContent(pv *PV) *content.Info {
	return &content.Info{Format: "lvm2", Name: "LVM2 physical volume", UUID: pv.UUID()}
}
