package scan

import (
	"context"
	"fmt"

	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan/content"
	"github.com/lvminspect/lvminspect/scan/device"
	"github.com/lvminspect/lvminspect/scan/luks"
	"github.com/lvminspect/lvminspect/scan/md"
)

// The kinds of device in the graph (Node.Kind), as scan --json names
// them.
const (
	KindFile        = "file"
	KindBlockDevice = "block-device"
	KindEWF         = "ewf"
	KindQCOW2       = "qcow2"
	KindVMDK        = "vmdk"
	KindVHD         = "vhd"
	KindVHDX        = "vhdx"
	KindVDI         = "vdi"
	KindSplitRaw    = "split-raw"
	KindPartition   = "partition"
	KindLV          = "lv"
	KindMD          = "md"
	KindLUKS        = "luks"
)

// Node is one device of the graph: an input file or block device, the
// virtual disk of a container, a partition, an LV that holds a
// partition table or a PV. Every device has an id, stable for the same
// inputs given in the same order, and the ids of the devices it is made
// from (Parents).
type Node struct {
	ID      string   `json:"id"`
	Kind    string   `json:"kind"`
	Parents []string `json:"parents,omitempty"`
	// Path is the file or device given, for inputs and containers.
	Path string `json:"path,omitempty"`
	// Offset is where the device starts in its parent (partitions), in
	// bytes; Size its length.
	Offset int64 `json:"offset"`
	Size   int64 `json:"size"`
	// Format is what a container says about itself (virtual size, block
	// or cluster size, compression, backing chain, stored hashes,
	// segment files): the container reader's Info.
	Format any `json:"format,omitempty"`
	// Content names what the device holds when it is not a PV: a file
	// system, LUKS, an md member, a partition table.
	Content *content.Info `json:"content,omitempty"`

	// Label names the device for people: the path, "partition 2 of X",
	// "VG/LV".
	Label string `json:"-"`
	// Structures are the container's own headers with their fields, for
	// the hex view; their offsets are in the file the structure's name
	// gives (the input's file when it names none).
	Structures []model.Structure `json:"-"`
	// Problems of the device itself (a container's checksums).
	Problems []Problem `json:"-"`
	// Depth counts the LV layers above the inputs: 0 for inputs,
	// containers and their partitions, 1 for an LV of a VG on them, 2 for
	// an LV of a VG inside such an LV...
	Depth int `json:"-"`
	// VG and LV name the LV a device of kind lv is, with the VG's UUID.
	VG, VGUUID, LV string `json:"-"`
	// LVKeys are the LVs (VG UUID/LV UUID) the device is inside, itself
	// included for an LV: an LV whose VG has a PV inside it is a cycle.
	LVKeys []string `json:"-"`
	// MD is the md superblock of a device that is an md member; Array
	// the array a device of kind md is (its members by device id).
	MD    *md.Superblock `json:"-"`
	Array *md.Array      `json:"-"`
	// LUKS is the header of a LUKS device (the encrypted one) and of its
	// decrypted mapping (a device of kind luks); Unlock what opened the
	// mapping (nil while it is locked).
	LUKS   *luks.Header `json:"-"`
	Unlock *luks.Key    `json:"-"`

	index  int // partition number, for partitions
	dev    device.Device
	verify func(ctx context.Context, progress func(done, total int64)) (any, bool, error)
}

// Device is the node's device, to read.
func (n *Node) Device() device.Device { return n.dev }

// assignIDs gives every device of the graph its id: in1, in2… for the
// inputs in order; INPUT.KIND for a container's disk in one (in1.qcow2);
// PARENT.pN for partition N; lv:VG/LV for an LV (lv:VGUUID/LV when two
// VGs share a name). Devices added by a layer above keep the id they
// were given.
func assignIDs(res *Result) {
	n := 0
	for _, ir := range res.Inputs {
		in := ir.Input
		if in.Node.ID == "" {
			n++
			id := fmt.Sprintf("in%d", n)
			if in.File != nil {
				in.File.ID = id
				in.Node.ID = id + "." + in.Node.Kind
				in.Node.Parents = []string{id}
			} else {
				in.Node.ID = id
			}
		}
		for _, p := range ir.PartNodes {
			p.ID = fmt.Sprintf("%s.p%d", in.Node.ID, p.index)
			p.Parents = []string{in.Node.ID}
			p.Depth = in.Node.Depth
		}
	}
}

// AssignIDs gives the partitions of every input their ids again, after
// a layer above renamed the inputs it added.
func (res *Result) AssignIDs() { assignIDs(res) }

// Devices lists the devices of the graph in order: each input (its file,
// then the container's disk), its partitions, then what layers above
// added.
func (res *Result) Devices() []*Node {
	var out []*Node
	seen := map[*Node]bool{}
	for _, ir := range res.Inputs {
		if ir.File != nil {
			out = append(out, ir.File)
		}
		out = append(out, ir.Node)
		seen[ir.Node] = true
		out = append(out, ir.PartNodes...)
	}
	for _, list := range [][]*Node{res.MDNodes, res.LUKSNodes} {
		for _, n := range list {
			if !seen[n] {
				out = append(out, n)
				seen[n] = true
			}
		}
	}
	for _, n := range res.LVNodes {
		if !seen[n] {
			out = append(out, n)
		}
	}
	return out
}

// DeviceByID finds a device of the graph.
func (res *Result) DeviceByID(id string) *Node {
	for _, d := range res.Devices() {
		if d.ID == id {
			return d
		}
	}
	return nil
}

// LVNodesOf returns the LV devices of the VG of that UUID, by LV name.
func (res *Result) LVNodesOf(vgUUID string) map[string]*Node {
	out := map[string]*Node{}
	for _, n := range res.LVNodes {
		if n.VGUUID == vgUUID {
			out[n.LV] = n
		}
	}
	return out
}

// Given lists the inputs that were given (files and devices, with the
// containers in them), not the LVs and md arrays a layer above added as
// inputs.
func (res *Result) Given() []*InputResult {
	var out []*InputResult
	for _, in := range res.Inputs {
		if in.Node == nil || (in.Node.Kind != KindLV && in.Node.Kind != KindMD && in.Node.Kind != KindLUKS) {
			out = append(out, in)
		}
	}
	return out
}
