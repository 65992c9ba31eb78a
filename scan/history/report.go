package history

import (
	"fmt"

	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan"
)

// Report is the JSON form of a history, as `lvminspect history --json`
// prints it (docs/history-json.md). Field names are an interface other
// tools read.
type Report struct {
	// Generations has one entry per location found: the same generation
	// in two areas gives two entries; fragments are entries too (with
	// Fragment set).
	Generations []Location `json:"generations"`
	// Distinct has one entry per generation (VG UUID, seqno, checksum).
	Distinct []GenerationSummary `json:"distinct_generations"`
	Areas    []AreaSummary       `json:"areas"`
	Problems []scan.Problem      `json:"problems"`
}

// Location is one copy or fragment in the JSON form.
type Location struct {
	VGName    string   `json:"vg_name"`
	VGUUID    string   `json:"vg_uuid"`
	Seqno     uint64   `json:"seqno"`
	PVUUID    string   `json:"pv_uuid"`
	MDA       int      `json:"mda"`
	Offset    int64    `json:"offset"` // absolute byte in the input
	Size      uint64   `json:"size"`   // NUL included
	CRCOK     bool     `json:"crc_ok"`
	Committed bool     `json:"committed"`
	Parsed    bool     `json:"parsed"`
	LVs       []string `json:"lvs"`

	Path         string    `json:"path"`
	PVOffset     int64     `json:"pv_offset"`
	AreaOffset   int64     `json:"area_offset"`
	RelOffset    uint64    `json:"rel_offset"`
	Wrapped      bool      `json:"wrapped"`
	WrapSize     uint64    `json:"wrap_size"`
	SeqnoKnown   bool      `json:"seqno_known"`
	Slot         *int      `json:"slot"`
	StoredCRC    *string   `json:"stored_crc"`
	ComputedCRC  string    `json:"computed_crc"`
	Precommitted bool      `json:"precommitted"`
	IgnoredArea  bool      `json:"ignored_area"`
	FoundBy      string    `json:"found_by"`
	EndsWell     bool      `json:"ends_with_blank_line"`
	ParseError   string    `json:"parse_error,omitempty"`
	OtherVG      bool      `json:"other_vg"`
	Current      bool      `json:"current"`
	Description  string    `json:"description"`
	CreationHost string    `json:"creation_host"`
	CreationTime int64     `json:"creation_time"`
	Fragment     *FragJSON `json:"fragment"`
}

// FragJSON is what a fragment entry adds.
type FragJSON struct {
	Kind       string   `json:"kind"` // "head" or "tail"
	Terminated bool     `json:"terminated"`
	Reason     string   `json:"reason"`
	PVUUIDs    []string `json:"pv_uuids"`
	// MatchSeqno and MatchCRC name the generation found elsewhere that
	// this fragment is part of; null when none is.
	MatchSeqno *uint64 `json:"match_seqno"`
	MatchCRC   *string `json:"match_crc"`
	// ProbableSeqno and ProbableVGUUID: inferred from the write order
	// (the copy written right after it); 0 and "" when unknown.
	ProbableSeqno  uint64 `json:"probable_seqno"`
	ProbableVGUUID string `json:"probable_vg_uuid"`
}

// GenerationSummary is one generation in the JSON form.
type GenerationSummary struct {
	VGName       string   `json:"vg_name"`
	VGUUID       string   `json:"vg_uuid"`
	Seqno        uint64   `json:"seqno"`
	CRC          string   `json:"crc"`
	Size         uint64   `json:"size"`
	Parsed       bool     `json:"parsed"`
	ParseError   string   `json:"parse_error,omitempty"`
	Verified     bool     `json:"verified"`
	Committed    bool     `json:"committed"`
	Precommitted bool     `json:"precommitted"`
	Current      bool     `json:"current"`
	Description  string   `json:"description"`
	CreationHost string   `json:"creation_host"`
	CreationTime int64    `json:"creation_time"`
	LVs          []string `json:"lvs"`
	Locations    int      `json:"locations"`
}

// AreaSummary is one walked metadata area in the JSON form.
type AreaSummary struct {
	Path          string `json:"path"`
	PVUUID        string `json:"pv_uuid"`
	PVOffset      int64  `json:"pv_offset"`
	MDA           int    `json:"mda"`
	Offset        int64  `json:"offset"`
	Size          uint64 `json:"size"`
	SizeFrom      string `json:"size_from"`
	HeaderOK      bool   `json:"header_ok"`
	Ignored       bool   `json:"ignored"`
	SlotsZero     bool   `json:"slots_zero"`
	FoundBySearch bool   `json:"found_by_search"`
	OwnerVGUUID   string `json:"owner_vg_uuid"`
	Copies        int    `json:"copies"`
	Fragments     int    `json:"fragments"`
	Truncated     bool   `json:"truncated"`
}

func crcText(v uint32) string { return fmt.Sprintf("0x%08x", v) }

// Report builds the JSON form; vg ("" for all) keeps only what belongs to
// the VG it designates (a name or UUID, as for History.VG).
func (h *History) Report(vg string) *Report {
	keys := h.vgKeys(vg)
	keep := func(c *Copy) bool {
		if vg == "" {
			return true
		}
		if c.VGUUID != "" && keys[model.BareUUID(c.VGUUID)] {
			return true
		}
		return c.Fragment != nil && (c.Fragment.Match != nil && keys[c.Fragment.Match.Key()] ||
			c.Fragment.ProbableVGUUID != "" && keys[model.BareUUID(c.Fragment.ProbableVGUUID)])
	}
	r := &Report{Generations: []Location{}, Distinct: []GenerationSummary{}, Areas: []AreaSummary{}, Problems: []scan.Problem{}}
	for _, c := range h.Copies {
		if keep(c) {
			r.Generations = append(r.Generations, location(c))
		}
	}
	for _, g := range h.Generations {
		if vg == "" || keys[g.Key()] {
			r.Distinct = append(r.Distinct, summary(g))
		}
	}
	for _, a := range h.Areas {
		s := AreaSummary{Path: a.Path, PVUUID: a.PVUUID, PVOffset: a.PVOffset, MDA: a.Index, Offset: a.Offset, Size: a.Size,
			SizeFrom: a.SizeFrom, HeaderOK: a.HeaderOK, Ignored: a.Ignored, SlotsZero: a.SlotsZero, FoundBySearch: a.PV == nil,
			OwnerVGUUID: model.DashedUUID(a.OwnerUUID), Truncated: a.Truncated}
		any := vg == ""
		for _, c := range a.Copies {
			if c.Fragment != nil {
				s.Fragments++
			} else {
				s.Copies++
			}
			any = any || keep(c)
		}
		if any {
			r.Areas = append(r.Areas, s)
		}
	}
	r.Problems = append(r.Problems, h.Problems...)
	return r
}

func location(c *Copy) Location {
	a := c.Area
	l := Location{VGName: c.VGName, VGUUID: c.VGUUID, Seqno: c.Seqno, PVUUID: a.PVUUID, MDA: a.Index, Offset: c.Offset,
		Size: c.Size, CRCOK: c.CRCOK, Committed: c.Committed, Parsed: c.Parsed, LVs: []string{},
		Path: a.Path, PVOffset: a.PVOffset, AreaOffset: a.Offset, RelOffset: c.RelOff, Wrapped: c.Wrapped, WrapSize: c.WrapSize,
		SeqnoKnown: c.HasSeqno, ComputedCRC: crcText(c.ComputedCRC), Precommitted: c.Precommitted, IgnoredArea: a.Ignored,
		FoundBy: c.FoundBy, EndsWell: c.EndsWell, OtherVG: c.OtherVG}
	if c.Slot >= 0 {
		slot, stored := c.Slot, crcText(c.StoredCRC)
		l.Slot, l.StoredCRC = &slot, &stored
	}
	if c.ParseErr != nil {
		l.ParseError = c.ParseErr.Error()
	}
	if g := c.Gen; g != nil {
		l.LVs = append(l.LVs, g.LVs...)
		l.Current = g.Current
		l.Description, l.CreationHost, l.CreationTime = g.Description, g.CreationHost, g.CreationTime
	}
	if f := c.Fragment; f != nil {
		fj := &FragJSON{Kind: string(f.Kind), Terminated: f.Terminated, Reason: f.Reason, PVUUIDs: append([]string{}, f.PVs...),
			ProbableSeqno: f.ProbableSeqno, ProbableVGUUID: f.ProbableVGUUID}
		l.LVs = append(l.LVs, f.LVs...)
		l.Description, l.CreationHost, l.CreationTime = f.Description, f.CreationHost, f.CreationTime
		if m := f.Match; m != nil {
			seq, crc := m.Seqno, crcText(m.CRC)
			fj.MatchSeqno, fj.MatchCRC = &seq, &crc
		}
		l.Fragment = fj
	}
	return l
}

func summary(g *Generation) GenerationSummary {
	s := GenerationSummary{VGName: g.VGName, VGUUID: g.VGUUID, Seqno: g.Seqno, CRC: crcText(g.CRC), Size: g.Size,
		Parsed: g.Parses() && g.ParseErr == nil, Verified: g.Verified, Committed: g.Committed, Precommitted: g.Precommitted,
		Current: g.Current, Description: g.Description, CreationHost: g.CreationHost, CreationTime: g.CreationTime,
		LVs: append([]string{}, g.LVs...), Locations: len(g.Copies)}
	if g.ParseErr != nil {
		s.ParseError = g.ParseErr.Error()
	}
	return s
}
