package raid

import (
	"fmt"
	"math"
	"strings"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/model"
)

// This file opens the data of a Linux md array (made by mdadm) from its
// members, with the engine the raid LVs use (docs/format/md-raid.md §5.5,
// §6): linear and raid0 as a concatenation (of member data areas, of
// zones), raid1 as Legs, raid10 and each raid0 zone as Copies, raid4/5/6
// as Parity. Image offsets are bytes of a member's data area.

// MDMember is one role (raid disk) of an md array.
type MDMember struct {
	Name       string        // device id, for messages and run sources
	Src        export.Source // the member device; nil when the role is missing
	DataOffset int64         // byte of Src where the role's data area starts
	DataSize   int64         // bytes of data area this member contributes (used by linear and raid0: Dm of spec 5.5)
	Bad        []MDBadRange  // data-area ranges not to read (a member rebuilt only below its recovery offset, bad-block log entries)
}

// MDBadRange is a range of a member's data area that must not be read:
// the array's redundancy is used there as if the member were missing.
type MDBadRange struct {
	From, To int64 // data-area bytes; To == math.MaxInt64 for "to the end"
	Why      string
}

// MDArray describes an md array as its freshest superblock and its
// members do (md-raid.md §5).
type MDArray struct {
	Name        string // for messages, e.g. "md0"
	Level       int32  // md level number: -1 linear, 0, 1, 4, 5, 6, 10
	Layout      uint32 // superblock layout field
	Raid0Layout int    // raid0 only: 1 original, 2 alternate, 0 not recorded
	ChunkBytes  int64
	Size        int64      // D: bytes of each member used (superblock size); not used by linear/raid0
	Roles       []MDMember // by role, len == raid_disks
	// ResyncFrom: the array was not clean; from this data-area offset
	// copies and parity may differ from the data (use only the first copy
	// / do not rebuild from parity there). math.MaxInt64 when clean.
	ResyncFrom int64
}

// MDSource is the data of an md array as an export.Source. Notes says
// what was found on the way (roles missing, ranges not used, the raid0
// layout used); Redundant lists the ranges read from another copy or
// rebuilt from parity, with the reason.
type MDSource interface {
	export.Source
	Notes() []string
	Redundant(off, n int64) ([]export.Range, error)
}

// MaxMDRoles is the largest raid_disks OpenMD accepts. raid4/5/6 arrays
// may have at most MaxImages roles (the rebuild keeps a set of missing
// roles in 64 bits).
const MaxMDRoles = 256

// mdMaxChunk bounds the chunk size (md-raid.md §9.7: at most a few
// hundred MiB).
const mdMaxChunk = 1 << 30

// MDError says that an md array cannot be opened as described: a count,
// size, offset or layout is out of range, unknown or inconsistent with
// the members. It wraps model.ErrMapping.
type MDError struct {
	Array  string
	Field  string // the MDArray field at fault, e.g. "Layout", "Roles[2].Src"
	Reason string
}

func (e *MDError) Error() string {
	return fmt.Sprintf("md array %s: %s: %s", e.Array, e.Field, e.Reason)
}

// Unwrap returns model.ErrMapping.
func (e *MDError) Unwrap() error { return model.ErrMapping }

// MDLayoutError says that a raid0 array has zones (members of different
// sizes) but its layout is not recorded (Raid0Layout 0): the original
// (1) and alternate (2) layouts map the zones after the first
// differently, and which one the data was written with depends on the
// kernel that wrote it (md-raid.md §6.3). Open the array again with
// Raid0Layout 1 or 2.
type MDLayoutError struct {
	Array  string
	Zones  int   // number of zones
	Differ []int // the zones (from 0) the two layouts map differently; empty when they read alike
	zones  []string
}

func (e *MDLayoutError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "md array %s: Raid0Layout: the raid0 layout is not recorded and the members differ in size (%d zones: %s); ",
		e.Array, e.Zones, strings.Join(e.zones, "; "))
	if len(e.Differ) == 0 {
		b.WriteString("the original (1) and alternate (2) layouts read these zones alike; open it with either")
	} else {
		d := make([]string, len(e.Differ))
		for i, z := range e.Differ {
			d[i] = fmt.Sprint(z)
		}
		fmt.Fprintf(&b, "the original (1) and alternate (2) layouts read zone %s differently; open it with the layout of the kernel that wrote it", strings.Join(d, ", "))
	}
	return b.String()
}

// Unwrap returns model.ErrMapping.
func (e *MDLayoutError) Unwrap() error { return model.ErrMapping }

// mdSetup is what OpenMD learns before it builds the Source.
type mdSetup struct {
	a     MDArray
	name  string
	n     int
	notes []string
}

func (m *mdSetup) errf(field, format string, args ...any) error {
	return &MDError{Array: m.name, Field: field, Reason: fmt.Sprintf(format, args...)}
}

func (m *mdSetup) notef(format string, args ...any) {
	m.notes = append(m.notes, fmt.Sprintf(format, args...))
}

// OpenMD returns the array's bytes as an export.Source. Size is the array
// size of spec 5.5. Missing roles (Src nil) and the Bad ranges of members
// read as missing there: the level's redundancy is used (another raid1
// member or raid10 copy, a rebuild from parity); where none is left the
// bytes are RunMissing with a reason naming the roles, never guessed.
func OpenMD(a MDArray) (MDSource, error) {
	m := &mdSetup{a: a, name: a.Name, n: len(a.Roles)}
	if m.name == "" {
		m.name = "(unnamed)"
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	switch a.Level {
	case -1:
		return m.linear()
	case 0:
		return m.raid0()
	case 1:
		return m.raid1()
	case 4, 5, 6:
		return m.parity()
	case 10:
		return m.raid10()
	}
	return nil, m.errf("Level", "md level %d is not supported (linear -1, raid0, raid1, raid4, raid5, raid6 and raid10 are)", a.Level)
}

// check validates what every level uses.
func (m *mdSetup) check() error {
	a := &m.a
	if m.n == 0 || m.n > MaxMDRoles {
		return m.errf("Roles", "%d roles (raid_disks); 1 to %d are supported", m.n, MaxMDRoles)
	}
	if a.ResyncFrom < 0 {
		return m.errf("ResyncFrom", "%d is negative", a.ResyncFrom)
	}
	for r := range a.Roles {
		mb := &a.Roles[r]
		if mb.DataOffset < 0 {
			return m.errf(fmt.Sprintf("Roles[%d].DataOffset", r), "%d is negative", mb.DataOffset)
		}
		if mb.DataSize < 0 {
			return m.errf(fmt.Sprintf("Roles[%d].DataSize", r), "%d is negative", mb.DataSize)
		}
		for i, b := range mb.Bad {
			if b.From < 0 || b.To < b.From {
				return m.errf(fmt.Sprintf("Roles[%d].Bad[%d]", r, i), "range [%d, %d) is not a range of the data area", b.From, b.To)
			}
		}
	}
	if a.ResyncFrom < noEnd {
		switch a.Level {
		case 1, 4, 5, 6, 10:
			m.notef("the array was not clean: from data byte %d of each member on, only the first copy is used and nothing is rebuilt from parity", a.ResyncFrom)
		}
	}
	return nil
}

// checkChunk validates ChunkBytes: a positive multiple of 4 KiB (a power
// of two with pow2), at most mdMaxChunk.
func (m *mdSetup) checkChunk(pow2 bool) error {
	c := m.a.ChunkBytes
	if c <= 0 || c%4096 != 0 || c > mdMaxChunk {
		return m.errf("ChunkBytes", "%d: the chunk size must be a positive multiple of 4096 bytes, at most %d", c, mdMaxChunk)
	}
	if pow2 && c&(c-1) != 0 {
		return m.errf("ChunkBytes", "%d: md level %d needs a power of two", c, m.a.Level)
	}
	return nil
}

// roleName names role r in messages.
func (m *mdSetup) roleName(r int) string {
	name := m.a.Roles[r].Name
	role := fmt.Sprintf("role %d", r)
	if name == "" || name == role {
		return role
	}
	return fmt.Sprintf("%s (%s)", name, role)
}

// images opens every role as an image of its data area; need(r) is the
// bytes of role r's data area the layout reads. A missing role is an
// image whose bytes are all missing. A member shorter than its data
// offset plus need(r) is refused, unless its Bad ranges cover the part
// it lacks.
func (m *mdSetup) images(need func(r int) int64) ([]*image, error) {
	imgs := make([]*image, m.n)
	for r := range m.a.Roles {
		mb := &m.a.Roles[r]
		name := m.roleName(r)
		if mb.Src == nil {
			imgs[r] = &image{name: name, src: &missingSrc{name: mb.Name, why: fmt.Sprintf("missing: no member holds role %d", r)}, base: mb.DataOffset}
			m.notef("%s is missing", name)
			continue
		}
		nb := need(r)
		if nb > math.MaxInt64-mb.DataOffset {
			return nil, m.errf(fmt.Sprintf("Roles[%d].DataOffset", r), "data offset %d + %d bytes of data overflow", mb.DataOffset, nb)
		}
		if have := mb.Src.Size(); have < mb.DataOffset+nb && !coversTail(mb.Bad, max(0, have-mb.DataOffset), nb) {
			return nil, m.errf(fmt.Sprintf("Roles[%d].Src", r), "member %s is %d bytes; the layout needs %d (data offset %d + %d bytes of data)",
				name, have, mb.DataOffset+nb, mb.DataOffset, nb)
		}
		im := &image{name: name, src: mb.Src, base: mb.DataOffset}
		for _, b := range mb.Bad {
			if b.From == b.To {
				continue
			}
			why := b.Why
			if why == "" {
				why = "is not to be read there"
			}
			im.addBad(b.From, b.To, why)
			if b.To == noEnd {
				m.notef("%s: data bytes from %d on not used: %s", name, b.From, why)
			} else {
				m.notef("%s: data bytes [%d, %d) not used: %s", name, b.From, b.To, why)
			}
		}
		imgs[r] = im
	}
	return imgs, nil
}

// coversTail reports whether one of bad covers [from, to).
func coversTail(bad []MDBadRange, from, to int64) bool {
	for _, b := range bad {
		if b.From <= from && b.To >= to {
			return true
		}
	}
	return false
}

func (m *mdSetup) names() []string {
	out := make([]string, m.n)
	for r := range out {
		out[r] = m.roleName(r)
	}
	return out
}

func (m *mdSetup) info() arrayInfo {
	return arrayInfo{notes: m.notes, imageNames: m.names()}
}

// linear concatenates the members' data areas in role order (§6.2).
func (m *mdSetup) linear() (MDSource, error) {
	a := &m.a
	if a.ChunkBytes != 0 {
		if err := m.checkChunk(false); err != nil {
			return nil, err
		}
	}
	dm := make([]int64, m.n)
	for r, mb := range a.Roles {
		if mb.DataSize == 0 {
			return nil, m.errf(fmt.Sprintf("Roles[%d].DataSize", r), "0: the data size of %s is not known, so the array cannot be laid out", m.roleName(r))
		}
		dm[r] = mb.DataSize
		if a.ChunkBytes != 0 {
			dm[r] -= dm[r] % a.ChunkBytes
		}
	}
	imgs, err := m.images(func(r int) int64 { return dm[r] })
	if err != nil {
		return nil, err
	}
	c := &mdConcat{name: m.name, level: "linear"}
	for r, im := range imgs {
		if dm[r] == 0 {
			m.notef("%s contributes nothing: its data size %d is smaller than a chunk", m.roleName(r), a.Roles[r].DataSize)
			continue
		}
		if c.size > math.MaxInt64-dm[r] {
			return nil, m.errf("Roles", "the members' data sizes add up to more than 2^63 bytes")
		}
		c.parts = append(c.parts, mdPart{off: c.size, src: &memberSource{im: im, size: dm[r]}})
		c.size += dm[r]
	}
	c.arrayInfo = m.info()
	return c, nil
}

// mdZoneSpec is a raid0 zone (§6.3): roles, device range and array start.
type mdZoneSpec struct {
	roles    []int
	ds, de   int64 // data-area bytes
	as, size int64 // array bytes
}

// raid0 stripes the members over zones (§6.3).
func (m *mdSetup) raid0() (MDSource, error) {
	a := &m.a
	if err := m.checkChunk(false); err != nil {
		return nil, err
	}
	if a.Raid0Layout < 0 || a.Raid0Layout > 2 {
		return nil, m.errf("Raid0Layout", "%d is not a raid0 layout (1 original, 2 alternate, 0 not recorded)", a.Raid0Layout)
	}
	C := a.ChunkBytes
	z := make([]int64, m.n)
	for r, mb := range a.Roles {
		if mb.DataSize == 0 {
			return nil, m.errf(fmt.Sprintf("Roles[%d].DataSize", r), "0: the data size of %s is not known, so the zones cannot be laid out", m.roleName(r))
		}
		z[r] = mb.DataSize - mb.DataSize%C
	}
	var zones []mdZoneSpec
	var end, as int64
	for {
		zs := mdZoneSpec{ds: end, as: as, de: math.MaxInt64}
		for r := range z {
			if z[r] > end {
				zs.roles = append(zs.roles, r)
				zs.de = min(zs.de, z[r])
			}
		}
		if len(zs.roles) == 0 {
			break
		}
		l := zs.de - zs.ds
		if l > (math.MaxInt64-as)/int64(len(zs.roles)) {
			return nil, m.errf("Roles", "the zones add up to more than 2^63 bytes")
		}
		zs.size = l * int64(len(zs.roles))
		as += zs.size
		end = zs.de
		zones = append(zones, zs)
	}
	if len(zones) == 0 {
		return nil, m.errf("Roles", "no member has a whole chunk of %d bytes of data", C)
	}
	describe := func(z mdZoneSpec) string {
		rs := make([]string, len(z.roles))
		for i, r := range z.roles {
			rs[i] = fmt.Sprint(r)
		}
		return fmt.Sprintf("roles %s, data bytes [%d, %d), array bytes [%d, %d)", strings.Join(rs, ","), z.ds, z.de, z.as, z.as+z.size)
	}
	if len(zones) > 1 && a.Raid0Layout == 0 {
		e := &MDLayoutError{Array: m.name, Zones: len(zones)}
		for i, zs := range zones {
			e.zones = append(e.zones, fmt.Sprintf("zone %d: %s", i, describe(zs)))
			if k := zs.as / C; i > 0 && k%int64(len(zs.roles)) != 0 {
				e.Differ = append(e.Differ, i)
			}
		}
		return nil, e
	}
	imgs, err := m.images(func(r int) int64 { return z[r] })
	if err != nil {
		return nil, err
	}
	if len(zones) == 1 {
		m.notef("raid0 of one zone: %s", describe(zones[0]))
		return &Copies{lv: m.name, level: "raid0", size: as, usable: as, cb: C, c: 1, imgs: imgs, resyncFrom: noEnd, arrayInfo: m.info()}, nil
	}
	lay := "original (1)"
	if a.Raid0Layout == 2 {
		lay = "alternate (2)"
	}
	c := &mdConcat{name: m.name, level: "raid0", size: as}
	for i, zs := range zones {
		m.notef("raid0 zone %d, layout %s: %s", i, lay, describe(zs))
		zi := make([]*image, len(zs.roles))
		for j, r := range zs.roles {
			zi[j] = imgs[r]
		}
		pl := &mdZone{m: int64(len(zs.roles)), ds: zs.ds, cb: C}
		if a.Raid0Layout == 1 {
			pl.rot = (zs.as / C) % pl.m
		}
		c.parts = append(c.parts, mdPart{off: zs.as, src: &Copies{lv: fmt.Sprintf("%s zone %d", m.name, i), level: "raid0",
			size: zs.size, usable: zs.size, cb: C, c: 1, imgs: zi, resyncFrom: noEnd, pl: pl}})
	}
	c.arrayInfo = m.info()
	return c, nil
}

// raid1: every role holds the whole array (§6.4).
func (m *mdSetup) raid1() (MDSource, error) {
	a := &m.a
	if a.Size <= 0 {
		return nil, m.errf("Size", "%d: a raid1 array needs the size of its members' data", a.Size)
	}
	imgs, err := m.images(func(int) int64 { return a.Size })
	if err != nil {
		return nil, err
	}
	// The legs are the roles in order (a missing one reads as missing,
	// so that what is read from a later role is reported), or beyond
	// MaxImages roles the first MaxImages present ones.
	legs := imgs
	if len(imgs) > MaxImages {
		legs = nil
		for r, im := range imgs {
			if a.Roles[r].Src != nil && len(legs) < MaxImages {
				legs = append(legs, im)
			}
		}
		if len(legs) == 0 {
			legs = imgs[:MaxImages]
		}
		m.notef("%d roles: only the first %d present roles are read", len(imgs), len(legs))
	}
	first := true
	for _, im := range legs {
		if _, missing := im.src.(*missingSrc); missing {
			continue
		}
		if !first && a.ResyncFrom < noEnd {
			im.addBad(a.ResyncFrom, noEnd, fmt.Sprintf("may differ from the first member from data byte %d on (the array was not clean)", a.ResyncFrom))
		}
		first = false
	}
	return &Legs{lv: m.name, kind: "raid1", size: a.Size, imgs: legs, arrayInfo: m.info()}, nil
}

// mdParityName maps an md level and layout to a parity layout name
// (md-raid.md §6.5), "" when md does not have it.
func mdParityName(level int32, layout uint32) string {
	switch level {
	case 4:
		if layout == 0 || layout == 5 {
			return "n" // md's raid4 keeps parity on the last role
		}
	case 5:
		if layout <= 5 {
			return [...]string{"la", "ra", "ls", "rs", "p0", "n"}[layout]
		}
	case 6:
		switch layout {
		case 0, 1, 2, 3, 4:
			return [...]string{"md6_la", "md6_ra", "md6_ls", "md6_rs", "md6_p0"}[layout]
		case 5:
			return "n_6"
		case 8:
			return "zr"
		case 9:
			return "nr"
		case 10:
			return "nc"
		case 16, 17, 18, 19:
			return [...]string{"la_6", "ra_6", "ls_6", "rs_6"}[layout-16]
		case 20:
			return "md6_p0_6"
		}
	}
	return ""
}

// parity: raid4, raid5, raid6 (§6.5).
func (m *mdSetup) parity() (MDSource, error) {
	a := &m.a
	name := mdParityName(a.Level, a.Layout)
	if name == "" {
		return nil, m.errf("Layout", "%d (%#x) is not a layout of md level %d", a.Layout, a.Layout, a.Level)
	}
	if m.n > MaxImages {
		return nil, m.errf("Roles", "%d roles; raid%d arrays of at most %d roles are supported", m.n, a.Level, MaxImages)
	}
	lay, err := newParityLayout(name, m.n)
	if err != nil {
		return nil, m.errf("Roles", "%v", err)
	}
	if err := m.checkChunk(true); err != nil {
		return nil, err
	}
	C := a.ChunkBytes
	if a.Size < C {
		return nil, m.errf("Size", "%d: less than one chunk of %d bytes per member", a.Size, C)
	}
	imgLen := a.Size - a.Size%C
	if imgLen > math.MaxInt64/int64(lay.d) {
		return nil, m.errf("Size", "%d bytes per member make an array of more than 2^63 bytes", a.Size)
	}
	imgs, err := m.images(func(int) int64 { return imgLen })
	if err != nil {
		return nil, err
	}
	size := imgLen * int64(lay.d)
	level := fmt.Sprintf("raid%d", a.Level)
	return &Parity{lv: m.name, level: level, lay: lay, size: size, usable: size, cb: C, imgs: imgs,
		resyncFrom: a.ResyncFrom, arrayInfo: m.info()}, nil
}

// raid10: near, far and offset copies (§6.6).
func (m *mdSetup) raid10() (MDSource, error) {
	a := &m.a
	g, err := m.raid10Geometry()
	if err != nil {
		return nil, err
	}
	imgs, err := m.images(func(int) int64 { return g.limit })
	if err != nil {
		return nil, err
	}
	s := &Copies{lv: m.name, level: "raid10", size: g.A * a.ChunkBytes, usable: g.A * a.ChunkBytes, cb: a.ChunkBytes,
		c: g.nc * g.fc, imgs: imgs, resyncFrom: a.ResyncFrom, arrayInfo: m.info()}
	if g.fc > 1 {
		s.pl = g
	}
	return s, nil
}

// raid10Geometry decodes and checks the raid10 layout and size.
func (m *mdSetup) raid10Geometry() (*mdRaid10, error) {
	a := &m.a
	L := a.Layout
	g := &mdRaid10{n: int64(m.n), nc: int64(L & 0xFF), fc: int64(L >> 8 & 0xFF), offset: L>>16&1 != 0, sets: int(L >> 17 & 3), cb: a.ChunkBytes}
	switch {
	case L>>19 != 0:
		return nil, m.errf("Layout", "raid10 layout %#x has bits 19-31 set", L)
	case g.sets == 3:
		return nil, m.errf("Layout", "raid10 layout %#x: far-set mode 3 is not defined", L)
	case g.nc == 0 || g.fc == 0 || g.nc*g.fc < 2 || g.nc*g.fc > g.n:
		return nil, m.errf("Layout", "raid10 layout %#x: %d near x %d far copies on %d roles (2 to %d copies are possible)", L, g.nc, g.fc, g.n, g.n)
	}
	if err := m.checkChunk(true); err != nil {
		return nil, err
	}
	C := a.ChunkBytes
	if a.Size < C*g.fc {
		return nil, m.errf("Size", "%d: less than %d chunks of %d bytes per member", a.Size, g.fc, C)
	}
	rows := a.Size / C
	g.A = rows / g.fc * g.n / g.nc
	if g.A > math.MaxInt64/C {
		return nil, m.errf("Size", "%d bytes per member make an array of more than 2^63 bytes", a.Size)
	}
	if g.A == 0 {
		return nil, m.errf("Size", "%d: the array has no chunk", a.Size)
	}
	g.U = (g.A*g.nc*g.fc + g.n - 1) / g.n
	g.strideRows = 1
	if !g.offset {
		g.strideRows = g.U / g.fc
	}
	g.limit = rows * C
	top, err := g.verify(rows)
	if err != nil {
		return nil, m.errf("Layout", "raid10 layout %#x on %d roles: %v", L, g.n, err)
	}
	g.limit = top * C
	if g.fc > 1 && g.sets != 0 {
		m.notef("raid10 far-set mode %d: its placement is not verified against a real array (mdadm does not create it)", g.sets)
	}
	return g, nil
}
