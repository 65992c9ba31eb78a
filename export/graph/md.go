package graph

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/export/raid"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/md"
)

// mdState is what the md layer keeps from one round of Expand to the
// next: the arrays made so far by family and UUID, and the members they
// were made from.
type mdState struct {
	arrays  map[string]*scan.Node
	used    map[*scan.Node]bool
	members map[*scan.Node][]*scan.Node // array → member devices, in Array.Members order
}

// mdKey tells arrays apart as md.Assemble does: 0.90 and 1.x UUIDs are
// separate families.
func mdKey(sb *md.Superblock) string {
	if sb.Version == "0.90" {
		return "0.90 " + sb.UUIDText
	}
	return "1 " + sb.UUIDText
}

// memberNodes lists the devices found so far that hold a valid md
// superblock: inputs (files, containers' disks, LVs) and partitions.
func memberNodes(res *scan.Result) []*scan.Node {
	var out []*scan.Node
	for _, ir := range res.Inputs {
		if ir.Node != nil && ir.Node.MD != nil {
			out = append(out, ir.Node)
		}
		for _, p := range ir.PartNodes {
			if p.MD != nil {
				out = append(out, p)
			}
		}
	}
	return out
}

// assembleMD groups the md members found so far into arrays (md-raid.md
// §5) and returns, as new inputs, the arrays that can be read. An array
// is made once, from the members found by then: a member found later (in
// an LV of a VG on another array) is reported, not added.
func assembleMD(res *scan.Result, st *mdState) []*scan.Input {
	nodes := memberNodes(res)
	if len(nodes) == 0 {
		return nil
	}
	if st.arrays == nil {
		st.arrays, st.used, st.members = map[string]*scan.Node{}, map[*scan.Node]bool{}, map[*scan.Node][]*scan.Node{}
	}
	var fresh []*scan.Node
	for _, n := range nodes {
		if st.used[n] {
			continue
		}
		if arr := st.arrays[mdKey(n.MD)]; arr != nil {
			st.used[n] = true
			arr.Problems = append(arr.Problems, scan.Problem{Severity: scan.SevWarn, Path: arr.Label,
				Msg: fmt.Sprintf("%s is a member of this array too, found inside the graph after the array was assembled: not used", n.Label)})
			continue
		}
		fresh = append(fresh, n)
	}
	if len(fresh) == 0 {
		return nil
	}
	ms := make([]md.Member, len(fresh))
	bySB := map[*md.Superblock]*scan.Node{}
	for i, n := range fresh {
		ms[i] = md.Member{Name: n.ID, SB: n.MD}
		bySB[n.MD] = n
		st.used[n] = true
	}
	var added []*scan.Input
	for _, a := range md.Assemble(ms) {
		node := &scan.Node{Kind: scan.KindMD, Array: a}
		var members []*scan.Node
		for i, m := range a.Members {
			p := bySB[m.SB]
			members = append(members, p)
			node.Depth = max(node.Depth, p.Depth)
			node.LVKeys = appendKeys(node.LVKeys, p.LVKeys)
			readLogs(a, &a.Members[i], p)
		}
		st.members[node] = members
		node.Label = "md array " + mdDisplayName(a)
		node.ID = mdID(res, a)
		if a.Fresh != nil {
			st.arrays[mdKey(a.Fresh)] = node
		} else if len(a.Members) > 0 {
			st.arrays[mdKey(a.Members[0].SB)] = node
		}
		for _, p := range a.Problems {
			msg := p.Msg
			if len(p.Devices) > 0 {
				msg = strings.Join(p.Devices, ", ") + ": " + msg
			}
			node.Problems = append(node.Problems, scan.Problem{Severity: scan.Severity(p.Severity), Path: node.Label, Msg: msg})
		}
		res.MDNodes = append(res.MDNodes, node)
		if a.Refused != "" {
			node.Problems = append(node.Problems, scan.Problem{Severity: scan.SevError, Path: node.Label,
				Msg: "not read: " + a.Refused})
			continue
		}
		src, err := openArray(a, members)
		if err != nil {
			node.Problems = append(node.Problems, scan.Problem{Severity: scan.SevError, Path: node.Label, Msg: "not read: " + err.Error()})
			continue
		}
		if n, ok := src.(interface{ Notes() []string }); ok {
			for _, s := range n.Notes() {
				if a.Degraded && strings.HasPrefix(s, "role ") && strings.HasSuffix(s, " is missing") {
					continue // said by the degraded warning below
				}
				node.Problems = append(node.Problems, scan.Problem{Severity: scan.SevInfo, Path: node.Label, Msg: s})
			}
		}
		if a.Degraded {
			node.Problems = append(node.Problems, scan.Problem{Severity: scan.SevWarn, Path: node.Label,
				Msg: fmt.Sprintf("degraded: %s missing%s", rolesText(a.MissingRoles), degradedHow(a))})
		}
		d := NewDevice(src, node.Label)
		added = append(added, scan.NewDeviceInput(node, d))
	}
	return added
}

// readLogs reads a member's bad-block log and write-intent bitmap, and
// puts its structures (superblock, bitmap header) on its device for the
// hex view.
func readLogs(a *md.Array, m *md.ArrayMember, p *scan.Node) {
	if p.Device() == nil || m.SB == nil {
		return
	}
	p.Structures = append(p.Structures, m.SB.Structure())
	bb, err := md.ReadBadBlocks(p.Device(), p.Size, m.SB)
	if err != nil {
		a.Problems = append(a.Problems, md.Problem{Severity: "warning", Devices: []string{p.ID}, Msg: "bad-block log: " + err.Error()})
	}
	m.BadBlocks = bb
	if len(bb) > 0 {
		a.Problems = append(a.Problems, md.Problem{Severity: "info", Devices: []string{p.ID},
			Msg: fmt.Sprintf("%d ranges in the bad-block log: read from another copy or rebuilt from parity there", len(bb))})
	}
	bm, err := md.ReadBitmap(p.Device(), p.Size, m.SB)
	if err != nil {
		a.Problems = append(a.Problems, md.Problem{Severity: "warning", Devices: []string{p.ID}, Msg: "write-intent bitmap: " + err.Error()})
	}
	if bm != nil {
		m.Bitmap = bm
		p.Structures = append(p.Structures, bm.Structure())
		if bm.Dirty > 0 && m.State == md.StateInSync {
			a.Problems = append(a.Problems, md.Problem{Severity: "info", Devices: []string{p.ID},
				Msg: fmt.Sprintf("write-intent bitmap: %d of %d regions of %d bytes marked possibly out of sync", bm.Dirty, bm.Chunks, bm.ChunkSize)})
		}
	}
}

// rolesText names roles: "role 1", "roles 1, 3".
func rolesText(roles []int) string {
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = fmt.Sprint(r)
	}
	if len(roles) == 1 {
		return "role " + s[0]
	}
	return "roles " + strings.Join(s, ", ")
}

// degradedHow says how a degraded array's data is read.
func degradedHow(a *md.Array) string {
	switch a.LevelNumber {
	case 1:
		return ": read from the members left"
	case 4, 5, 6:
		return ": their chunks are rebuilt from parity where the level allows"
	case 10:
		return ": read from the other copies where one is left"
	}
	return ": their ranges have no source"
}

// appendKeys adds keys not yet in list.
func appendKeys(list, keys []string) []string {
	for _, k := range keys {
		list = appendOnce(list, k)
	}
	return list
}

// mdDisplayName is the array's name as mdadm would make its device: the
// 1.x name without the host part (mdN for a number N), mdN for a 0.90
// array of minor N, the UUID when the name is empty or not a plain word
// (letters, digits, ".", "_", "-").
func mdDisplayName(a *md.Array) string {
	if a.Fresh != nil && a.Fresh.Version == "0.90" {
		return fmt.Sprintf("md%d", a.Fresh.MDMinor)
	}
	name := a.Name
	if i := strings.LastIndexByte(name, ':'); i >= 0 {
		name = name[i+1:]
	}
	if name == "" || len(name) > 32 || strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != "" {
		// Only a plain word names a device: a crafted name with
		// slashes, spaces or control bytes would reach ids, export
		// names and terminals.
		return a.UUID
	}
	if strings.Trim(name, "0123456789") == "" {
		return "md" + name // /dev/md/0 is /dev/md0
	}
	return name
}

// openArray opens the array's data over its members (export/raid).
func openArray(a *md.Array, members []*scan.Node) (export.Source, error) {
	fresh := a.Fresh
	spec := raid.MDArray{Name: mdDisplayName(a), Level: a.LevelNumber, Layout: a.LayoutNumber, ChunkBytes: a.ChunkSize,
		Size: a.Size, Roles: make([]raid.MDMember, a.RaidDisks), ResyncFrom: math.MaxInt64}
	if fresh.FeatureMap&md.FeatureRaid0Layout != 0 {
		spec.Raid0Layout = int(fresh.Layout)
	}
	if !a.Clean {
		// resync_offset counts array sectors (md-raid.md §3.1): the
		// data-area offset it stands for is at least that divided by
		// the roles holding data side by side; rounded down to a chunk,
		// which trusts no copy or parity beyond it.
		spec.ResyncFrom = 0
		if fresh.ResyncOffset < math.MaxInt64/512 {
			k := int64(1)
			switch a.LevelNumber {
			case 4, 5:
				k = int64(max(1, a.RaidDisks-1))
			case 6:
				k = int64(max(1, a.RaidDisks-2))
			case 10:
				k = int64(max(1, a.RaidDisks))
			}
			from := int64(fresh.ResyncOffset) * 512 / k
			if a.ChunkSize > 0 {
				from -= from % a.ChunkSize
			}
			spec.ResyncFrom = from
		}
	}
	for r := range spec.Roles {
		spec.Roles[r] = raid.MDMember{Name: fmt.Sprintf("role %d", r)}
		j := a.RoleMembers[r]
		var bad []raid.MDBadRange
		if j < 0 {
			// A member being rebuilt into the role holds it below its
			// recovery offset.
			for i, m := range a.Members {
				if m.Role == r && (m.State == md.StateRebuilding || m.State == md.StateReplacement) {
					j = i
					bad = []raid.MDBadRange{{From: m.RecoveryOffset, To: math.MaxInt64,
						Why: fmt.Sprintf("is being rebuilt: valid below data byte %d only", m.RecoveryOffset)}}
					break
				}
			}
		}
		if j < 0 {
			if a.LevelNumber == 0 {
				// raid0 without a role: its size places the zones.
				// Taken as the others' when they all agree.
				spec.Roles[r].DataSize = commonDataSize(a)
			}
			continue
		}
		m, p := a.Members[j], members[j]
		for _, b := range m.BadBlocks {
			from := b.Start - m.DataOffset
			if from+b.Len > 0 {
				bad = append(bad, raid.MDBadRange{From: max(0, from), To: from + b.Len,
					Why: fmt.Sprintf("is in the bad-block log (member bytes %d to %d)", b.Start, b.Start+b.Len)})
			}
		}
		spec.Roles[r] = raid.MDMember{Name: p.ID, Src: export.NewDeviceSource(p.Device(), p.ID),
			DataOffset: m.DataOffset, DataSize: m.DataSize, Bad: bad}
	}
	src, err := raid.OpenMD(spec)
	var le *raid.MDLayoutError
	if errors.As(err, &le) && len(le.Differ) == 0 {
		// Zones, but the two layouts place them alike: either reads
		// the same bytes.
		spec.Raid0Layout = 1
		src, err = raid.OpenMD(spec)
	}
	if errors.As(err, &le) {
		return nil, fmt.Errorf("%v (the layout depends on the kernel that wrote the array: Linux before 3.14 used the original layout, 3.14 to 5.3 the alternate one)", err)
	}
	if err != nil {
		return nil, err
	}
	return src, nil
}

// mdParents fills each array's parents and member device ids, once
// every device has its final id.
func mdParents(res *scan.Result, st *mdState) {
	for _, n := range res.MDNodes {
		n.Parents = nil
		members := st.members[n]
		for i := range n.Array.Members {
			if i < len(members) && members[i] != nil {
				n.Array.Members[i].Device = members[i].ID
				n.Parents = appendOnce(n.Parents, members[i].ID)
			}
		}
	}
}

// mdID is the array's id: md:NAME, or md:UUID when an array of that name
// is already in the graph.
func mdID(res *scan.Result, a *md.Array) string {
	id := "md:" + mdDisplayName(a)
	for _, n := range res.MDNodes {
		if n.ID == id {
			return "md:" + a.UUID
		}
	}
	return id
}

// commonDataSize is the data size every in-sync member of the array has,
// or 0 when they differ.
func commonDataSize(a *md.Array) int64 {
	var size int64
	for _, j := range a.RoleMembers {
		if j < 0 {
			continue
		}
		switch d := a.Members[j].DataSize; {
		case size == 0:
			size = d
		case d != size:
			return 0
		}
	}
	return size
}
