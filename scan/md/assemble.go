package md

import (
	"fmt"
	"strings"
)

// Member is a device that holds an md superblock: a name to report it by
// and its superblock (from Probe).
type Member struct {
	Name string
	SB   *Superblock
}

// Member states in an Array.
const (
	StateInSync      = "in_sync"     // used for its role
	StateRebuilding  = "rebuilding"  // feature bit 1: valid below recovery_offset only
	StateReplacement = "replacement" // feature bit 4: being built to replace its role
	StateSpare       = "spare"
	StateFaulty      = "faulty"
	StateJournal     = "journal"   // write-journal device, not a data member
	StateStale       = "stale"     // events behind the freshest member: not used
	StateDuplicate   = "duplicate" // another member already holds its role
	StateConflict    = "conflict"  // same UUID, other geometry
	StateInvalid     = "invalid"   // its superblock failed a check
	StateOutside     = "outside"   // role not below raid_disks, or no entry in the table
)

// Limits on hostile member sets.
const (
	maxMembersPerArray = 4096
	maxProblems        = 64
)

// ArrayMember is one member of an Array.
type ArrayMember struct {
	Device     string `json:"device"`
	Role       int    `json:"role"` // 0..raid_disks-1, or a negative Role* constant
	State      string `json:"state"`
	Events     uint64 `json:"events"`
	DataOffset int64  `json:"data_offset"` // bytes from the start of the member
	DataSize   int64  `json:"data_size"`   // bytes
	// RecoveryOffset is the bytes of the data area already rebuilt, for a
	// rebuilding member.
	RecoveryOffset int64 `json:"recovery_offset,omitempty"`
	WriteMostly    bool  `json:"write_mostly,omitempty"`
	// BadBlocks and Bitmap are the member's bad-block log entries and
	// write-intent bitmap, when the layer that reads members fills them
	// (ReadBadBlocks, ReadBitmap).
	BadBlocks []BadBlock  `json:"bad_blocks,omitempty"`
	Bitmap    *Bitmap     `json:"bitmap,omitempty"`
	SB        *Superblock `json:"-"`
}

// Problem is something wrong or unusual about an array.
type Problem struct {
	Severity string   `json:"severity"` // "error", "warning", "info"
	Devices  []string `json:"devices,omitempty"`
	Msg      string   `json:"message"`
}

func (p Problem) String() string {
	s := p.Severity + ": "
	if len(p.Devices) > 0 {
		s += strings.Join(p.Devices, ", ") + ": "
	}
	return s + p.Msg
}

// Array is the members of one md array (one array UUID) as far as the
// superblocks tell.
type Array struct {
	UUID         string        `json:"uuid"`
	Name         string        `json:"name"`
	Level        string        `json:"level"`
	Layout       string        `json:"layout"`
	ChunkSize    int64         `json:"chunk_size"` // bytes
	RaidDisks    int           `json:"raid_disks"`
	Metadata     string        `json:"metadata"` // "0.90", "1.0", "1.1", "1.2"
	Degraded     bool          `json:"degraded"`
	Members      []ArrayMember `json:"members"`
	MissingRoles []int         `json:"missing_roles"`
	Events       uint64        `json:"events"`
	Clean        bool          `json:"clean"`
	Size         int64         `json:"size"` // bytes of each member the array uses (superblock size field)
	// Refused says why the array must not be read (a reshape in
	// progress, an unclean journal, unknown features...); empty when it
	// may be read.
	Refused  string    `json:"refused,omitempty"`
	Problems []Problem `json:"problems,omitempty"`

	LevelNumber  int32       `json:"-"`
	LayoutNumber uint32      `json:"-"`
	Fresh        *Superblock `json:"-"` // the freshest valid superblock
	// RoleMembers is, per role, the index in Members of the member used
	// for it, or -1.
	RoleMembers []int `json:"-"`

	dropped int // problems left out
}

func (a *Array) problem(sev string, devs []string, format string, args ...any) {
	if len(a.Problems) >= maxProblems {
		a.dropped++
		return
	}
	a.Problems = append(a.Problems, Problem{Severity: sev, Devices: devs, Msg: fmt.Sprintf(format, args...)})
}

func (a *Array) refuse(format string, args ...any) {
	r := fmt.Sprintf(format, args...)
	if a.Refused == "" {
		a.Refused = r
	} else {
		a.Refused += "; " + r
	}
}

// RoleOf is the role the freshest superblock fresh gives the member whose
// superblock is m (md-raid.md §5.3).
func (fresh *Superblock) RoleOf(m *Superblock) int {
	if fresh.Version == "0.90" {
		if n := m.ThisDisk.Number; n < uint32(len(fresh.Disks)) {
			return fresh.Disks[n].Role()
		}
		return RoleUnknown
	}
	if m.DevNumber < uint32(len(fresh.DevRoles)) {
		return Role1(fresh.DevRoles[m.DevNumber])
	}
	return RoleUnknown
}

func family(sb *Superblock) string {
	if sb.Version == "0.90" {
		return "0.90"
	}
	return "1"
}

// Assemble groups members by array UUID, picks each array's freshest
// superblock by events, maps members to roles and says what is missing,
// stale, conflicting or refused (md-raid.md §5). Members without a
// superblock are skipped. Arrays come in the order of their first member.
func Assemble(members []Member) []*Array {
	type group struct {
		idx  []int
		over int
	}
	groups := map[string]*group{}
	var order []string
	for i, m := range members {
		if m.SB == nil {
			continue
		}
		k := family(m.SB) + " " + m.SB.UUIDText // 0.90: the UUID words as numbers, whatever the byte order
		g := groups[k]
		if g == nil {
			g = &group{}
			groups[k] = g
			order = append(order, k)
		}
		if len(g.idx) >= maxMembersPerArray {
			g.over++
			continue
		}
		g.idx = append(g.idx, i)
	}
	var out []*Array
	for _, k := range order {
		g := groups[k]
		a := assemble1(members, g.idx)
		if g.over > 0 {
			a.problem("error", nil, "%d more members claim this array: only the first %d were examined", g.over, maxMembersPerArray)
			a.refuse("more than %d members claim this array", maxMembersPerArray)
		}
		if a.dropped > 0 {
			a.Problems = append(a.Problems, Problem{Severity: "info", Msg: fmt.Sprintf("%d more problems not listed", a.dropped)})
		}
		out = append(out, a)
	}
	return out
}

func assemble1(all []Member, idx []int) *Array {
	first := all[idx[0]].SB
	a := &Array{UUID: first.UUIDText, Metadata: first.Version, MissingRoles: []int{}}
	var fresh *Superblock
	for _, i := range idx {
		sb := all[i].SB
		if sb.Valid() && (fresh == nil || sb.Events > fresh.Events) {
			fresh = sb
		}
	}
	ref := fresh
	if ref == nil {
		ref = first
	}
	a.Fresh = fresh
	a.Name, a.Level, a.Layout, a.ChunkSize = ref.Name, ref.LevelName, ref.LayoutName, ref.ChunkSize
	a.RaidDisks, a.Metadata, a.Events, a.Clean, a.Size = int(ref.RaidDisks), ref.Version, ref.Events, ref.Clean, ref.Size
	a.LevelNumber, a.LayoutNumber = ref.Level, ref.Layout

	for _, i := range idx {
		m := all[i]
		sb := m.SB
		am := ArrayMember{Device: m.Name, Role: sb.Role, Events: sb.Events, DataOffset: sb.DataOffset,
			DataSize: sb.DataSize, WriteMostly: sb.DevFlags&1 != 0, SB: sb}
		switch {
		case !sb.Valid():
			am.State = StateInvalid
			a.problem("error", []string{m.Name}, "superblock not used: %v", sb.Err)
		case fresh != nil && sb.Events < fresh.Events:
			am.State = StateStale
			a.problem("warning", []string{m.Name}, "stale: events %d behind the freshest %d (last update %s); its data is not used",
				sb.Events, fresh.Events, sb.UTime.Format("2006-01-02 15:04:05 UTC"))
		case sb.Level != fresh.Level || sb.Layout != fresh.Layout || sb.ChunkSize != fresh.ChunkSize ||
			sb.RaidDisks != fresh.RaidDisks || sb.Version != fresh.Version:
			am.State = StateConflict
			a.problem("error", []string{m.Name, a.memberName(all, idx, fresh)},
				"same array UUID and events, other geometry (metadata %s, level %d, layout %d, chunk %d, %d roles against %s, %d, %d, %d, %d): two arrays with one UUID; not mixed",
				sb.Version, sb.Level, sb.Layout, sb.ChunkSize, sb.RaidDisks, fresh.Version, fresh.Level, fresh.Layout, fresh.ChunkSize, fresh.RaidDisks)
		default:
			if sb.Size != fresh.Size && sb != fresh {
				a.problem("warning", []string{m.Name}, "its superblock gives each member %d bytes, the freshest %d: the freshest is used",
					sb.Size, fresh.Size)
			}
			am.Role = fresh.RoleOf(sb)
			switch {
			case am.Role == RoleSpare:
				am.State = StateSpare
			case am.Role == RoleFaulty:
				am.State = StateFaulty
			case am.Role == RoleJournal:
				am.State = StateJournal
			case am.Role < 0 || am.Role >= a.RaidDisks:
				am.State = StateOutside
				a.problem("warning", []string{m.Name}, "%s is not an active role of this %d-role array: not used", roleText(am.Role), a.RaidDisks)
			case sb.FeatureMap&FeatureReplacement != 0:
				am.State = StateReplacement
				am.RecoveryOffset, _ = bytesOf(sb.RecoveryOffset, sectorBytes)
			case sb.FeatureMap&FeatureRecovery != 0:
				am.State = StateRebuilding
				am.RecoveryOffset, _ = bytesOf(sb.RecoveryOffset, sectorBytes)
			default:
				am.State = StateInSync
			}
		}
		a.Members = append(a.Members, am)
	}

	// Roles: the first in-sync member of each role is used.
	if a.RaidDisks > MaxDev || a.RaidDisks < 0 {
		a.refuse("%d roles is more than md allows (%d)", a.RaidDisks, MaxDev)
		a.RaidDisks = 0
	}
	a.RoleMembers = make([]int, a.RaidDisks)
	for r := range a.RoleMembers {
		a.RoleMembers[r] = -1
	}
	partial := map[int]bool{}
	for i := range a.Members {
		am := &a.Members[i]
		switch am.State {
		case StateInSync:
			if j := a.RoleMembers[am.Role]; j >= 0 {
				other := &a.Members[j]
				am.State = StateDuplicate
				what := "two members claim one role with equal events"
				if other.SB.Version != "0.90" && other.SB.DevUUID == am.SB.DevUUID {
					what = "same device UUID: copies of one disk (cloned image, multipath?)"
				}
				a.problem("warning", []string{other.Device, am.Device}, "both hold role %d: %s; %s is used", am.Role, what, other.Device)
				continue
			}
			a.RoleMembers[am.Role] = i
		case StateRebuilding, StateReplacement:
			partial[am.Role] = true
		}
	}
	journalSeen := false
	for _, am := range a.Members {
		if am.State == StateJournal {
			journalSeen = true
		}
	}
	for r, j := range a.RoleMembers {
		if j < 0 {
			a.MissingRoles = append(a.MissingRoles, r)
		}
	}
	for _, r := range a.MissingRoles {
		if partial[r] {
			a.problem("warning", nil, "role %d is only held by a member being rebuilt: valid below its recovery offset only", r)
		}
	}
	a.Degraded = len(a.MissingRoles) > 0

	if fresh == nil {
		a.refuse("no member has a valid superblock")
		return a
	}
	missing := len(a.MissingRoles)
	switch {
	case a.RaidDisks == 0:
		a.refuse("no roles (raid_disks 0)")
	case (fresh.Level == 0 || fresh.Level == -1) && missing > 0:
		a.problem("error", nil, "%s without roles %v: their ranges are holes", a.Level, a.MissingRoles)
	case fresh.Level == 1 && missing == a.RaidDisks:
		a.problem("error", nil, "no in-sync member: nothing to read")
	case (fresh.Level == 4 || fresh.Level == 5) && missing > 1:
		a.problem("error", nil, "%d roles missing: %s survives one", missing, a.Level)
	case fresh.Level == 6 && missing > 2:
		a.problem("error", nil, "%d roles missing: raid6 survives two", missing)
	}
	if fresh.Reshaping() {
		rs := fresh.Reshape
		a.refuse("reshape in progress (position %d sectors, %+d roles, to level %d layout %d chunk %d): the array is in two geometries",
			rs.Position, rs.DeltaDisks, rs.NewLevel, rs.NewLayout, rs.NewChunk)
	}
	if u := fresh.UnknownFeatures(); u != 0 {
		a.refuse("unknown feature bits %#x", u)
	}
	if fresh.FeatureMap&FeatureRaid0Layout != 0 && fresh.Level != 0 {
		a.refuse("feature bit 12 (raid0 layout) on %s", a.Level)
	}
	if !KnownLevel(fresh.Level) {
		a.refuse("unknown level %d", fresh.Level)
	} else if fresh.LayoutError != "" {
		a.refuse("%s", fresh.LayoutError)
	}
	if fresh.FeatureMap&FeatureCluster != 0 {
		a.problem("warning", nil, "md-cluster array: other nodes may have written since")
	}
	if fresh.Journal {
		if !fresh.Clean {
			a.refuse("write journal and the array was not clean: the latest writes may exist only in the journal")
		} else if !journalSeen {
			a.problem("warning", nil, "the write-journal device is missing (the array was clean: not needed)")
		}
	}
	parity := fresh.Level == 4 || fresh.Level == 5 || fresh.Level == 6
	if !fresh.Clean {
		switch {
		case parity && a.Degraded && fresh.PPL:
			a.refuse("unclean and degraded with a partial parity log that is not replayed: rebuilt chunks may be wrong")
		case parity && a.Degraded:
			a.refuse("unclean and degraded: parity may not match the data, rebuilt chunks may be wrong (the kernel needs --force)")
		default:
			a.problem("warning", nil, "not clean (resync offset %#x): copies or parity may differ from the data", fresh.ResyncOffset)
		}
	}
	if fresh.Level == 0 && fresh.FeatureMap&FeatureRaid0Layout == 0 {
		a.problem("info", nil, "raid0 layout not recorded (%d without feature bit 12): it matters only when members differ in size", fresh.Layout)
	}
	return a
}

func (a *Array) memberName(all []Member, idx []int, sb *Superblock) string {
	for _, i := range idx {
		if all[i].SB == sb {
			return all[i].Name
		}
	}
	return ""
}
