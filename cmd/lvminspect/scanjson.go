package main

import (
	"encoding/json"
	"fmt"

	"github.com/lvminspect/lvminspect/export/lvfacts"
	"github.com/lvminspect/lvminspect/export/volume"
	"github.com/lvminspect/lvminspect/internal/format"
	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/content"
	"github.com/lvminspect/lvminspect/scan/md"
)

// The JSON schema of `scan --json`, documented in docs/json.md. Field
// names are part of the interface other tools rely on.

type jsonScan struct {
	Tool     string         `json:"tool"`
	Version  string         `json:"version"`
	Devices  []jsonDevice   `json:"devices"`
	Inputs   []jsonInput    `json:"inputs"`
	PVs      []jsonPV       `json:"pvs"`
	VGs      []jsonVG       `json:"vgs"`
	Problems []scan.Problem `json:"problems"`
}

// jsonDevice is one device of the graph: an input, a container's
// virtual disk, a partition, an LV.
type jsonDevice struct {
	ID      string       `json:"id"`
	Kind    string       `json:"kind"`
	Parents []string     `json:"parents"`
	Path    string       `json:"path,omitempty"`
	Offset  uint64       `json:"offset"`
	Size    uint64       `json:"size"`
	Format  any          `json:"format,omitempty"`
	Content *jsonContent `json:"content"`
	// For an LV: its VG (name and UUID) and name.
	VG     string `json:"vg,omitempty"`
	VGUUID string `json:"vg_uuid,omitempty"`
	LV     string `json:"lv,omitempty"`
	// For an md array (kind md) or a LUKS volume (kind luks): the
	// fields of jsonMD or jsonLUKS, at the device's level.
	md   *jsonMD
	luks *jsonLUKS
}

// MarshalJSON writes the device's fields, then those of its array or
// LUKS volume at the same level.
func (d jsonDevice) MarshalJSON() ([]byte, error) {
	type plain jsonDevice
	b, err := json.Marshal(plain(d))
	if err != nil {
		return nil, err
	}
	var extra any
	switch {
	case d.md != nil:
		extra = d.md
	case d.luks != nil:
		extra = d.luks
	default:
		return b, nil
	}
	x, err := json.Marshal(extra)
	if err != nil || len(x) < 3 {
		return b, err
	}
	return append(append(b[:len(b)-1], ','), x[1:]...), nil
}

// jsonLUKS is a LUKS volume (a device of kind luks: its decrypted
// mapping, listed whether or not it could be unlocked).
type jsonLUKS struct {
	UUID          string        `json:"uuid"`
	Version       int           `json:"version"`
	Label         string        `json:"label,omitempty"`
	Cipher        string        `json:"cipher"`
	KeySize       int           `json:"key_size"` // bits
	SectorSize    int           `json:"sector_size"`
	PayloadOffset int64         `json:"payload_offset"`
	Keyslots      []jsonKeyslot `json:"keyslots"`
	Unlocked      bool          `json:"unlocked"`
	// OpenedBySlot is the slot that opened it; -1 for a volume key given,
	// null while locked.
	OpenedBySlot *int   `json:"opened_by_slot"`
	Refused      string `json:"refused,omitempty"`
}

type jsonKeyslot struct {
	Index      int     `json:"index"`
	State      string  `json:"state"`
	Type       string  `json:"type"`
	KDF        jsonKDF `json:"kdf"`
	KeySize    int     `json:"key_size"` // bits
	Priority   int     `json:"priority"`
	Stripes    int     `json:"stripes"`
	AreaOffset int64   `json:"area_offset"`
	AreaSize   int64   `json:"area_size"`
	Problem    string  `json:"problem,omitempty"`
}

type jsonKDF struct {
	Type       string `json:"type"`
	Hash       string `json:"hash,omitempty"`
	Iterations uint32 `json:"iterations,omitempty"`
	Time       uint32 `json:"time,omitempty"`
	Memory     uint32 `json:"memory,omitempty"` // KiB
	CPUs       uint32 `json:"cpus,omitempty"`
}

func luksJSON(n *scan.Node) *jsonLUKS {
	h := n.LUKS
	j := &jsonLUKS{UUID: h.UUID, Version: h.Version, Label: h.Label, Cipher: h.Cipher, KeySize: h.KeyBytes * 8,
		SectorSize: h.SectorSize, PayloadOffset: h.PayloadOffset, Keyslots: []jsonKeyslot{}, Refused: h.Refused,
		Unlocked: n.Device() != nil}
	for _, k := range h.Keyslots {
		j.Keyslots = append(j.Keyslots, jsonKeyslot{Index: k.Index, State: k.State, Type: k.Type,
			KDF:     jsonKDF{Type: k.KDF.Type, Hash: k.KDF.Hash, Iterations: k.KDF.Iterations, Time: k.KDF.Time, Memory: k.KDF.Memory, CPUs: k.KDF.CPUs},
			KeySize: k.KeyBytes * 8, Priority: k.Priority, Stripes: k.Stripes, AreaOffset: k.AreaOffset, AreaSize: k.AreaSize, Problem: k.Problem})
	}
	if k := n.Unlock; k != nil && j.Unlocked {
		slot := k.Slot
		j.OpenedBySlot = &slot
	}
	return j
}

// jsonMD is an md array (a device of kind md), as the superblocks of its
// members describe it.
type jsonMD struct {
	UUID      string `json:"uuid"`
	Name      string `json:"name"`
	Level     string `json:"level"`
	Layout    string `json:"layout"`
	ChunkSize int64  `json:"chunk_size"`
	RaidDisks int    `json:"raid_disks"`
	Metadata  string `json:"metadata"`
	Degraded  bool   `json:"degraded"`
	// State is "clean", "active" (not clean: written to when last
	// seen) or "refused" (not read: see refused).
	State        string           `json:"state"`
	Events       uint64           `json:"events"`
	MemberSize   int64            `json:"member_size"` // bytes of each member the array uses
	Members      []md.ArrayMember `json:"members"`
	MissingRoles []int            `json:"missing_roles"`
	Refused      string           `json:"refused,omitempty"`
	Problems     []md.Problem     `json:"problems"`
}

func mdJSON(a *md.Array, readable bool) *jsonMD {
	j := &jsonMD{UUID: a.UUID, Name: a.Name, Level: a.Level, Layout: a.Layout, ChunkSize: a.ChunkSize, RaidDisks: a.RaidDisks,
		Metadata: a.Metadata, Degraded: a.Degraded, Events: a.Events, MemberSize: a.Size, Members: a.Members,
		MissingRoles: a.MissingRoles, Refused: a.Refused, Problems: a.Problems}
	switch {
	case a.Refused != "" || !readable:
		j.State = "refused"
	case a.Clean:
		j.State = "clean"
	default:
		j.State = "active"
	}
	if j.Members == nil {
		j.Members = []md.ArrayMember{}
	}
	if j.MissingRoles == nil {
		j.MissingRoles = []int{}
	}
	if j.Problems == nil {
		j.Problems = []md.Problem{}
	}
	return j
}

func devicesJSON(res *scan.Result) []jsonDevice {
	out := []jsonDevice{}
	for _, n := range res.Devices() {
		j := jsonDevice{ID: n.ID, Kind: n.Kind, Parents: nonNil(n.Parents), Path: n.Path, Offset: uint64(n.Offset),
			Size: uint64(n.Size), Format: n.Format, VG: n.VG, VGUUID: n.VGUUID, LV: n.LV}
		if n.Content != nil {
			j.Content = contentJSON(*n.Content)
		}
		if n.Array != nil {
			j.md = mdJSON(n.Array, n.Device() != nil)
		}
		if n.Kind == scan.KindLUKS && n.LUKS != nil {
			j.luks = luksJSON(n)
		}
		out = append(out, j)
	}
	return out
}

type jsonInput struct {
	Device         string         `json:"device"`
	Path           string         `json:"path"`
	Size           int64          `json:"size"`
	IsDevice       bool           `json:"is_device"`
	PartitionTable *jsonPartTable `json:"partition_table"`
	Content        *jsonContent   `json:"content"`
}

// jsonContent names what an input or partition holds instead of a PV.
type jsonContent struct {
	Format    string `json:"format"`
	Name      string `json:"name"`
	Label     string `json:"label,omitempty"`
	UUID      string `json:"uuid,omitempty"`
	Offset    uint64 `json:"offset"`
	MayHoldPV bool   `json:"may_hold_pv"`
	Hint      string `json:"hint,omitempty"`
}

func contentJSON(c content.Info) *jsonContent {
	return &jsonContent{Format: c.Format, Name: c.Name, Label: c.Label, UUID: c.UUID, Offset: uint64(c.Off), MayHoldPV: c.MayHoldPV(), Hint: c.Hint}
}

type jsonPartTable struct {
	Kind       string          `json:"kind"`
	SectorSize int             `json:"sector_size"`
	Partitions []jsonPartition `json:"partitions"`
}

type jsonPartition struct {
	Index    int    `json:"index"`
	Start    uint64 `json:"start"`
	Size     uint64 `json:"size"`
	Type     string `json:"type"`
	TypeName string `json:"type_name,omitempty"`
	Name     string `json:"name,omitempty"`
	UUID     string `json:"uuid,omitempty"`
	Extended bool   `json:"extended,omitempty"`
	Logical  bool   `json:"logical,omitempty"`
	// Content: what the partition holds when it is not a PV.
	Content *jsonContent `json:"content,omitempty"`
}

type jsonCheck struct {
	OK       bool   `json:"ok"`
	Stored   string `json:"stored"`
	Computed string `json:"computed"`
}

type jsonPV struct {
	Path            string               `json:"path"`
	Offset          uint64               `json:"offset"`
	Partition       int                  `json:"partition"`
	Device          string               `json:"device"`
	UUID            string               `json:"uuid"`
	DeviceSize      uint64               `json:"device_size"`
	ReadableSize    int64                `json:"readable_size"`
	LabelSector     int                  `json:"label_sector"`
	LabelWeak       bool                 `json:"label_weak"`
	ExtVersion      uint32               `json:"ext_version"`
	ExtFlags        uint32               `json:"ext_flags"`
	InUse           bool                 `json:"in_use"`
	DataAreas       []scan.DiskLocn      `json:"data_areas"`
	BootloaderAreas []scan.DiskLocn      `json:"bootloader_areas"`
	Checksums       map[string]jsonCheck `json:"checksums"`
	MDAs            []jsonMDA            `json:"mdas"`
	VGName          string               `json:"vg_name"`
	VGUUID          string               `json:"vg_uuid"`
	Attr            string               `json:"attr"` // pvs's pv_attr
	Structures      []model.Structure    `json:"structures"`
	Problems        []scan.Problem       `json:"problems"`
}

type jsonMDA struct {
	Index        int            `json:"index"`
	Offset       uint64         `json:"offset"` // absolute in the input
	Size         uint64         `json:"size"`
	HeaderOK     bool           `json:"header_ok"`
	HeaderStart  uint64         `json:"header_start"`
	HeaderSize   uint64         `json:"header_size"`
	Ignored      bool           `json:"ignored"`
	Committed    *jsonCopy      `json:"committed"`
	Precommitted *jsonCopy      `json:"precommitted"`
	Problems     []scan.Problem `json:"problems"`
}

type jsonCopy struct {
	Offset   uint64 `json:"offset"`
	RelOff   uint64 `json:"rel_offset"`
	Size     uint64 `json:"size"`
	Wrapped  bool   `json:"wrapped"`
	CRCOK    bool   `json:"crc_ok"`
	Stored   string `json:"stored_crc"`
	Computed string `json:"computed_crc"`
	Parsed   bool   `json:"parsed"`
	VGName   string `json:"vg_name,omitempty"`
	VGUUID   string `json:"vg_uuid,omitempty"`
	Seqno    uint64 `json:"seqno,omitempty"`
}

type jsonVG struct {
	Name         string                `json:"name"`
	UUID         string                `json:"uuid"`
	Seqno        uint64                `json:"seqno"`
	ExtentSize   int64                 `json:"extent_size"`
	Status       []string              `json:"status"`
	Flags        []string              `json:"flags"`
	Tags         []string              `json:"tags"`
	SystemID     string                `json:"system_id,omitempty"`
	Description  string                `json:"description"`
	CreationHost string                `json:"creation_host"`
	CreationTime int64                 `json:"creation_time"`
	Source       *jsonSource           `json:"source"`
	Fallback     string                `json:"fallback,omitempty"`
	Partial      bool                  `json:"partial"`
	Attr         string                `json:"attr"` // vgs's vg_attr
	Size         json.Number           `json:"size"` // extents of every PV × extent size
	Free         json.Number           `json:"free"` // extents no LV uses × extent size
	PVs          []jsonVGPV            `json:"pvs"`
	LVs          *lvStream             `json:"lvs"`
	Historical   []*model.HistoricalLV `json:"historical_lvs"`
	Anomalies    []string              `json:"anomalies"`
	Problems     []scan.Problem        `json:"problems"`
}

type jsonSource struct {
	Path   string `json:"path"`
	Offset uint64 `json:"offset"`
	MDA    int    `json:"mda"`
	Copies int    `json:"copies"`
}

type jsonVGPV struct {
	UUID       string      `json:"uuid"`
	Name       string      `json:"name"`
	Path       *string     `json:"path"`
	Offset     *int64      `json:"offset"`
	Missing    bool        `json:"missing"`
	Stale      bool        `json:"stale"`
	DeviceHint string      `json:"device_hint"`
	PEStart    json.Number `json:"pe_start"`
	PECount    uint64      `json:"pe_count"`
	DevSize    json.Number `json:"dev_size"`
	Status     []string    `json:"status"`
	Tags       []string    `json:"tags"`
	Attr       string      `json:"attr"` // pvs's pv_attr
}

type jsonLV struct {
	Name string `json:"name"`
	UUID string `json:"uuid"`
	// Device is the LV's id in the graph; Content what it holds (a file
	// system, a partition table, a PV…).
	Device        string        `json:"device,omitempty"`
	Content       *jsonContent  `json:"content,omitempty"`
	Visible       bool          `json:"visible"`
	Size          json.Number   `json:"size"`
	ExtentCount   uint64        `json:"extent_count"`
	Status        []string      `json:"status"`
	Flags         []string      `json:"flags"`
	Tags          []string      `json:"tags"`
	CreationTime  int64         `json:"creation_time,omitempty"`
	CreationHost  string        `json:"creation_host,omitempty"`
	Exportable    bool          `json:"exportable"`
	MissingBytes  int64         `json:"missing_bytes"`
	NotExportable string        `json:"not_exportable_reason,omitempty"`
	Segments      []jsonSegment `json:"segments"`

	// What lvs shows about the LV, from lvfacts (docs/json.md).
	Attr          string            `json:"attr"`
	Type          string            `json:"type"`
	PresentedSize int64             `json:"presented_size"`
	Role          string            `json:"role,omitempty"`
	UsedBy        string            `json:"used_by,omitempty"`
	Origin        string            `json:"origin,omitempty"`
	Pool          string            `json:"pool,omitempty"`
	DataLV        string            `json:"data_lv,omitempty"`
	MetaLV        string            `json:"metadata_lv,omitempty"`
	MirrorLog     string            `json:"mirror_log,omitempty"`
	Snapshots     []string          `json:"snapshots,omitempty"`
	Partial       bool              `json:"partial"`
	DataPercent   *float64          `json:"data_percent,omitempty"`
	MetaPercent   *float64          `json:"metadata_percent,omitempty"`
	Snapshot      *lvfacts.Snapshot `json:"snapshot,omitempty"`
	ThinPool      *lvfacts.ThinPool `json:"thin_pool,omitempty"`
	Thin          *lvfacts.Thin     `json:"thin,omitempty"`
	Cache         *lvfacts.Cache    `json:"cache,omitempty"`
	ReadErrors    []string          `json:"read_errors,omitempty"`
}

type jsonSegment struct {
	StartExtent uint64        `json:"start_extent"`
	ExtentCount uint64        `json:"extent_count"`
	Type        string        `json:"type"`
	StripeCount uint64        `json:"stripe_count"`
	StripeSize  json.Number   `json:"stripe_size"`
	Areas       []jsonArea    `json:"areas"`
	MetaAreas   []jsonArea    `json:"meta_areas"`
	Params      []model.Param `json:"params"`
}

type jsonArea struct {
	PVUUID      string `json:"pv_uuid,omitempty"`
	LV          string `json:"lv,omitempty"`
	StartExtent uint64 `json:"start_extent"`
}

// bytesJSON is n × unit bytes as a JSON number, exact however large the
// counts a metadata text claims (a pe_count of 2^64 - 1).
func bytesJSON(n uint64, unit int64) json.Number {
	return json.Number(format.Product(n, unit).String())
}

func checkJSON(c model.Check) jsonCheck {
	return jsonCheck{OK: c.OK, Stored: c.Stored, Computed: c.Computed}
}

// buildScanJSON is the document of a scan; check gives each LV's export
// verdict (exportable, not_exportable_reason, missing_bytes).
func buildScanJSON(res *scan.Result, check lvCheck, past bool) *jsonScan {
	out := &jsonScan{Tool: "lvminspect", Version: Version(), Devices: devicesJSON(res), Inputs: []jsonInput{}, PVs: []jsonPV{}, VGs: []jsonVG{},
		Problems: nonNilProblems(res.AllProblems())}
	for _, in := range res.Inputs {
		ji := jsonInput{Device: in.Node.ID, Path: in.Path, Size: in.Size, IsDevice: in.IsDevice}
		if t := in.Partitions; t != nil {
			pt := &jsonPartTable{Kind: t.Kind, SectorSize: t.SectorSize, Partitions: []jsonPartition{}}
			for _, p := range t.Partitions {
				jp := jsonPartition{Index: p.Index, Start: uint64(p.Start), Size: uint64(p.Size), Type: p.Type,
					TypeName: p.TypeName, Name: p.Name, UUID: p.UUID, Extended: p.Extended, Logical: p.Logical}
				if c, ok := in.PartitionContent[p.Index]; ok {
					jp.Content = contentJSON(c)
				}
				pt.Partitions = append(pt.Partitions, jp)
			}
			ji.PartitionTable = pt
		}
		if in.Content != nil {
			ji.Content = contentJSON(*in.Content)
		}
		out.Inputs = append(out.Inputs, ji)
	}
	for _, pv := range res.PVs {
		out.PVs = append(out.PVs, pvJSON(pv))
	}
	for _, vg := range res.VGs {
		out.VGs = append(out.VGs, vgJSON(res, vg, check, past))
	}
	pvAttrsJSON(out, res)
	return out
}

// pvAttrsJSON sets the attr of each PV found: pv_attr within its VG, "---"
// for a PV in none.
func pvAttrsJSON(out *jsonScan, res *scan.Result) {
	for i, pv := range res.PVs {
		if i >= len(out.PVs) {
			break
		}
		out.PVs[i].Attr = lvfacts.PVAttr(nil, nil, false)
		for _, vg := range res.VGs {
			for _, p := range vg.PVs {
				if p.PV == pv {
					out.PVs[i].Attr = lvfacts.PVAttr(vg.Meta, p.Meta, false)
				}
			}
		}
	}
}

// factsJSON adds what lvfacts knows about lv to its JSON.
func factsJSON(j *jsonLV, r *volume.Resolver, lv *model.LV, past bool) {
	f := lvFacts(r, lv, past)
	j.Attr, j.Type, j.PresentedSize, j.Role, j.UsedBy = f.Attr, f.Type, f.Size, f.Role, f.UsedBy
	j.Origin, j.Pool, j.DataLV, j.MetaLV, j.MirrorLog = f.Origin, f.Pool, f.DataLV, f.MetaLV, f.MirrorLog
	j.Snapshots, j.Partial, j.DataPercent, j.MetaPercent = f.Snapshots, f.Partial, f.DataPercent, f.MetaPercent
	j.Snapshot, j.ThinPool, j.Thin, j.Cache, j.ReadErrors = f.Snapshot, f.ThinPool, f.Thin, f.Cache, f.Problems
}

func nonNilProblems(p []scan.Problem) []scan.Problem {
	if p == nil {
		return []scan.Problem{}
	}
	return p
}

func copyJSON(c *scan.Copy) *jsonCopy {
	if c == nil || c.TextCopy == nil {
		return nil
	}
	j := &jsonCopy{Offset: uint64(c.Off), RelOff: c.RelOff, Size: c.Size, Wrapped: c.Wrapped, CRCOK: c.CRCOK,
		Stored: fmt.Sprintf("%#08x", c.Stored), Computed: fmt.Sprintf("%#08x", c.Computed), Parsed: c.Usable()}
	if c.VG != nil {
		j.VGName, j.VGUUID, j.Seqno = c.VG.Name, c.VG.UUID, c.VG.Seqno
	}
	return j
}

func pvJSON(pv *scan.PV) jsonPV {
	h := pv.Label.Header
	j := jsonPV{Path: pv.Path, Offset: uint64(pv.Offset), Partition: pv.Partition, Device: pv.Device.ID, UUID: pv.UUID(), DeviceSize: h.DeviceSize,
		ReadableSize: pv.Size, LabelSector: pv.Label.Sector, LabelWeak: pv.Label.Weak, ExtVersion: h.ExtVersion,
		ExtFlags: h.ExtFlags, InUse: h.InUse(), DataAreas: nonNilLocn(h.DataAreas), BootloaderAreas: nonNilLocn(h.BootloaderAreas),
		Checksums: map[string]jsonCheck{"label_header": checkJSON(pv.Label.CRC)}, MDAs: []jsonMDA{},
		Structures: []model.Structure{pv.Label.Struct, h.Struct}, Problems: nonNilProblems(pv.Problems)}
	for _, m := range pv.MDAs {
		jm := jsonMDA{Index: m.Index, Offset: uint64(m.AbsOff), Size: m.Locn.Size, Problems: nonNilProblems(m.Problems)}
		if m.Header != nil {
			jm.HeaderOK = m.Header.Checksum.OK && m.Header.MagicOK
			jm.HeaderStart, jm.HeaderSize = m.Header.Start, m.Header.Size
			jm.Ignored = m.Header.Slots[0].Ignored()
			j.Checksums[fmt.Sprintf("mda%d_header", m.Index)] = checkJSON(m.Header.Checksum)
			j.Structures = append(j.Structures, m.Header.Struct)
		}
		jm.Committed = copyJSON(m.Committed)
		jm.Precommitted = copyJSON(m.Precommitted)
		if c := jm.Committed; c != nil {
			j.Checksums[fmt.Sprintf("mda%d_text", m.Index)] = jsonCheck{OK: c.CRCOK, Stored: c.Stored, Computed: c.Computed}
			if j.VGName == "" && c.Parsed {
				j.VGName, j.VGUUID = c.VGName, c.VGUUID
			}
		}
		j.MDAs = append(j.MDAs, jm)
	}
	return j
}

func nonNilLocn(l []scan.DiskLocn) []scan.DiskLocn {
	if l == nil {
		return []scan.DiskLocn{}
	}
	return l
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func vgJSON(res *scan.Result, vg *scan.VG, check lvCheck, past bool) jsonVG {
	m := vg.Meta
	j := jsonVG{Name: m.Name, UUID: m.UUID, Seqno: m.Seqno, ExtentSize: m.ExtentBytes(), Status: nonNil(m.Status),
		Flags: nonNil(m.Flags), Tags: nonNil(m.Tags), SystemID: m.SystemID, Description: m.Description,
		CreationHost: m.CreationHost, CreationTime: m.CreationTime, Fallback: vg.Fallback, PVs: []jsonVGPV{},
		Historical: m.HistoricalLVs, Anomalies: nonNil(m.Anomalies), Problems: nonNilProblems(vg.Problems)}
	if j.Historical == nil {
		j.Historical = []*model.HistoricalLV{}
	}
	if s := vg.Source; s != nil && s.PV != nil {
		j.Source = &jsonSource{Path: s.PV.Path, Offset: uint64(s.Off), Copies: len(vg.Sources)}
		if s.MDA != nil {
			j.Source.MDA = s.MDA.Index
		}
	}
	for _, p := range vg.PVs {
		jp := jsonVGPV{UUID: p.Meta.UUID, Name: p.Meta.Label, Missing: p.Missing, Stale: p.Stale, DeviceHint: p.Meta.Device,
			PEStart: bytesJSON(p.Meta.PEStart, model.SectorSize), PECount: p.Meta.PECount, DevSize: bytesJSON(p.Meta.DevSize, model.SectorSize),
			Status: nonNil(p.Meta.Status), Tags: nonNil(p.Meta.Tags)}
		if p.PV != nil {
			path, off := p.PV.Path, p.PV.Offset
			jp.Path, jp.Offset = &path, &off
		} else {
			j.Partial = true
		}
		jp.Attr = lvfacts.PVAttr(m, p.Meta, p.Missing)
		j.PVs = append(j.PVs, jp)
	}
	j.Attr = lvfacts.VGAttrPartial(m, j.Partial)
	var used uint64
	for _, n := range usedExtents(m) {
		used += n
	}
	total := vgExtents(m)
	j.Size, j.Free = bytesJSON(total, m.ExtentBytes()), bytesJSON(total-min(used, total), m.ExtentBytes())
	r := volume.ForScan(vg)
	lvNodes := res.LVNodesOf(m.UUID)
	j.LVs = &lvStream{n: len(m.LVs), each: func(i int) any {
		lv := m.LVs[i]
		jl := lvJSON(m, lv)
		factsJSON(&jl, r, lv, past)
		if n := lvNodes[lv.Name]; n != nil && !past {
			jl.Device = n.ID
			if n.Content != nil {
				jl.Content = contentJSON(*n.Content)
			}
		}
		v := check(vg, lv)
		jl.Exportable, jl.MissingBytes = v.Exportable, v.MissingBytes
		if !v.Exportable {
			jl.NotExportable = v.Reason
		}
		return jl
	}}
	return j
}

func lvJSON(vg *model.VG, lv *model.LV) jsonLV {
	j := jsonLV{Name: lv.Name, UUID: lv.UUID, Visible: vg.Shown(lv), Size: bytesJSON(lv.ExtentCount(), vg.ExtentBytes()), ExtentCount: lv.ExtentCount(),
		Status: nonNil(lv.Status), Flags: nonNil(lv.Flags), Tags: nonNil(lv.Tags), CreationTime: lv.CreationTime,
		CreationHost: lv.CreationHost, Segments: []jsonSegment{}}
	for _, s := range lv.Segments {
		js := jsonSegment{StartExtent: s.StartExtent, ExtentCount: s.ExtentCount, Type: s.Type, StripeCount: s.StripeCount,
			StripeSize: bytesJSON(s.StripeSize, model.SectorSize), Areas: areasJSON(vg, s.Areas), MetaAreas: areasJSON(vg, s.MetaAreas),
			Params: s.Params}
		if js.Params == nil {
			js.Params = []model.Param{}
		}
		j.Segments = append(j.Segments, js)
	}
	return j
}

func areasJSON(vg *model.VG, as []model.Area) []jsonArea {
	out := []jsonArea{}
	for _, a := range as {
		if a.IsPV() {
			u := a.PV
			if pv := vg.PVByLabel(a.PV); pv != nil {
				u = pv.UUID
			}
			out = append(out, jsonArea{PVUUID: u, StartExtent: a.Start})
		} else {
			out = append(out, jsonArea{LV: a.LV, StartExtent: a.Start})
		}
	}
	return out
}
