package scan

import (
	"errors"
	"fmt"
	"strings"

	"github.com/lvminspect/lvminspect/scan/content"
	"github.com/lvminspect/lvminspect/scan/device"
	"github.com/lvminspect/lvminspect/scan/md"
	"github.com/lvminspect/lvminspect/scan/partition"
)

// probeMD looks for an md superblock on the device of node n (base is
// where it starts in the input, for messages). A valid one makes the
// device an md member: n.MD is set and true returned. A member's PV label
// and partition table are not read, since through a member whose data
// starts at byte 0 (0.90, 1.0) they are the array's, which the layer
// above assembles (LVM hides such md components too, md-raid.md §8). A
// damaged superblock is reported and the device read as any other.
func probeMD(ir *InputResult, n *Node, d device.Device, base, size int64) bool {
	sb, err := md.Probe(d, size)
	if sb == nil {
		if err != nil && !errors.Is(err, md.ErrNoSuperblock) {
			ir.Problems = append(ir.Problems, Problem{Severity: SevWarn, Path: ir.Path, Off: base,
				Structure: "md superblock", Msg: err.Error()})
		}
		return false
	}
	if !sb.Valid() {
		ir.Problems = append(ir.Problems, Problem{Severity: SevWarn, Path: ir.Path, Off: base + sb.Offset,
			Structure: "md superblock " + sb.Version, Msg: fmt.Sprintf("not used: %v", sb.Err)})
		return false
	}
	markMD(n, sb)
	return true
}

// markMD makes n an md member with superblock sb.
func markMD(n *Node, sb *md.Superblock) {
	n.MD = sb
	n.Content = &content.Info{Format: "md", Name: fmt.Sprintf("Linux md RAID member (superblock %s)", sb.Version),
		Off: sb.Offset, Label: sb.Name, UUID: blkidUUID(sb.UUIDText),
		Hint: "a PV on the array is read through the array, assembled from its members (a device of kind md)"}
}

// blkidUUID writes an md array UUID as blkid does (8-4-4-4-12), from
// mdadm's form (four groups of 8 hex digits and colons).
func blkidUUID(s string) string {
	h := strings.ReplaceAll(s, ":", "")
	if len(h) != 32 {
		return s
	}
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// inputIsMD says whether a whole input is an md member. A superblock at
// the end (0.90, 1.0) that lies inside a partition of a valid table is the
// partition's, not the disk's: a 0.90 superblock of a last partition sits
// where the whole disk's would (md-raid.md §2.3).
func inputIsMD(ir *InputResult, opt Options) bool {
	in := ir.Input
	sb, err := md.Probe(in.dev, in.Size)
	if sb == nil || !sb.Valid() {
		if sb != nil || (err != nil && !errors.Is(err, md.ErrNoSuperblock)) {
			return probeMD(ir, in.Node, in.dev, 0, in.Size) // reports it
		}
		return false
	}
	if sb.Offset > 4096 && !opt.NoPartitions {
		if tab, err := partition.Read(in.dev, in.Size); err == nil && tab != nil {
			for _, p := range tab.Partitions {
				if !p.Extended && p.Start > 0 && sb.Offset >= p.Start && sb.Offset-p.Start < p.Size {
					return false
				}
			}
		}
	}
	markMD(in.Node, sb)
	return true
}
