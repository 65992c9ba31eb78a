package history

import (
	"io"
	"sync"

	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/metatext"
)

// History is every metadata copy, fragment and generation found.
type History struct {
	Areas       []*Area
	Copies      []*Copy       // every location, by area and offset in it
	Generations []*Generation // by VG (newest name), VG UUID, seqno, checksum
	Problems    []scan.Problem
}

// Area is one metadata area that was walked.
type Area struct {
	Path   string
	PV     *scan.PV  // nil for an area found by searching (no label)
	MDA    *scan.MDA // nil for an area found by searching
	Index  int       // 1 or 2 (mda1, mda2), as in the pv_header or by position
	Offset int64     // absolute offset of the area in the input
	// PVOffset is where the PV starts in the input (for an area found by
	// searching: where its header's start field puts it).
	PVOffset int64
	PVUUID   string // dashed; "" when no label tells it
	Size     uint64 // the size used as the wrap point
	// SizeFrom says where Size comes from: "header", "pv_header" or
	// "default" (the guess of metadata-area.md §5 for a lost header).
	SizeFrom string
	Header   *scan.MDAHeader // nil when unreadable
	HeaderOK bool            // magic, checksum and start are right
	Ignored  bool            // slot 0 carries RAW_LOCN_IGNORED
	// SlotsZero is set when slot 0 records no text (a removed VG, an
	// orphan PV): everything found is history.
	SlotsZero bool
	// OwnerUUID is the bare UUID of the VG the PV belongs to now (from
	// the assembled VGs, else from the committed copy), "" if unknown.
	OwnerUUID string
	Truncated bool // the walk stopped at its record limit
	Copies    []*Copy
	Problems  []scan.Problem

	r   io.ReaderAt // reads the PV (or region) the area was walked in
	rel uint64      // the area's offset for r
}

// Copy is one place where a metadata text copy, or the surviving part of
// one (Fragment set), was found.
type Copy struct {
	Area     *Area
	Offset   int64  // absolute offset of the first byte in the input
	RelOff   uint64 // relative to the area start
	Size     uint64 // bytes, NUL included; for a fragment, the bytes that survive
	Wrapped  bool
	WrapSize uint64 // bytes continued at relative offset 512
	// VGName, VGUUID (as written) and Seqno come from the copy's first
	// lines; empty and 0 when they did not survive (see HasSeqno).
	VGName   string
	VGUUID   string
	Seqno    uint64
	HasSeqno bool
	// Slot is the raw_locn slot (0 or 1) that records exactly this copy
	// (same offset and size), or -1.
	Slot int
	// StoredCRC is the checksum the recording slot holds (Slot >= 0).
	StoredCRC   uint32
	ComputedCRC uint32
	// CRCOK: for a copy a slot records, the stored checksum matches. For
	// any other copy, it is the best evidence there is: the text parses
	// without error, ends in "\n\n" and its NUL as LVM writes it, and no
	// slot points at the same offset with another size. Always false for
	// fragments.
	CRCOK        bool
	Committed    bool // slot 0 records it and its checksum matches
	Precommitted bool // slot 1 records it (an interrupted update) and its checksum matches
	// FoundBy is "ring" (the history walk) or "slot" (a slot points at it
	// but the walk did not find it there, e.g. its first lines are damaged).
	FoundBy  string
	Parsed   bool  // the text parses without error
	ParseErr error // why not, when not
	// EndsWell is set when the text ends in "\n\n" followed by its NUL.
	EndsWell bool
	// OtherVG is set when the copy belongs to another VG than the one the
	// area's PV belongs to now (disk re-use, vgsplit, vgmerge).
	OtherVG  bool
	Fragment *Fragment   // set for a partly overwritten copy
	Gen      *Generation // nil for fragments and copies without identity
}

// PVUUID is the dashed UUID of the PV holding the copy, "" if unknown.
func (c *Copy) PVUUID() string { return c.Area.PVUUID }

// Path is the input holding the copy.
func (c *Copy) Path() string { return c.Area.Path }

// Fragment is what could be recovered from a partly overwritten copy.
type Fragment struct {
	Kind       scan.FragmentKind
	Terminated bool   // its NUL survives
	Reason     string // why it is only a fragment
	// LVs are the names of the LV sections visible in the fragment, PVs
	// the UUIDs of the PV sections.
	LVs []string
	PVs []string
	// Description, CreationHost and CreationTime are the top-level keys,
	// when the end of the copy survives.
	Description  string
	CreationHost string
	CreationTime int64
	// Match is a generation found elsewhere whose text this fragment is
	// part of (a tail is its end, a head its beginning), nil if none.
	Match *Generation
	// ProbableSeqno and ProbableVGUUID are inferred from LVM's write
	// order (metadata-area.md §4) for a tail without Match: when the copy
	// that starts at the next 512-byte boundary after the fragment's NUL
	// has seqno N, the fragment was most likely written just before it, as
	// seqno N-1 of the same VG. 0 and "" when there is no such copy.
	ProbableSeqno  uint64
	ProbableVGUUID string
}

// Generation is one metadata text of a VG: the same VG UUID, seqno and
// checksum, wherever it was found.
type Generation struct {
	VGName string // as this generation names the VG
	VGUUID string // dashed, as written
	Seqno  uint64
	CRC    uint32 // lvm_crc of the text with its NUL
	Size   uint64 // bytes, NUL included
	// VG is the parsed text, when it is kept: nil when the text does not
	// parse, and also for generations whose model was dropped to bound
	// memory (a metadata area of thousands of copies). Use Model for the
	// model and Parses for whether there is one. ParseErr says why it
	// does not parse, or what LVM would object to (VG set,
	// metatext.InvalidError).
	VG           *model.VG
	ParseErr     error
	Description  string
	CreationHost string
	CreationTime int64 // seconds since 1970, UTC
	LVs          []string
	Copies       []*Copy
	// Committed is set when a slot 0 records it with a matching checksum,
	// Precommitted likewise for slot 1.
	Committed    bool
	Precommitted bool
	// Current is set for the generation the scan assembled the VG from.
	Current bool
	// Verified is set when some slot records it with a matching checksum.
	Verified bool
	text     []byte   // kept while the text budget lasts
	tails    []uint64 // hashes of the last 64, 128, 256... bytes of the text
	parses   bool     // the text parsed into a model (kept or not)
	dropped  bool     // the model was not kept: Model parses the text again
	cache    *modelCache
}

// Parses reports whether the generation's text parsed into a model (its
// model may have been dropped to bound memory: Model gives it again).
func (g *Generation) Parses() bool { return g.parses || g.VG != nil }

// Model is the generation's parsed VG: the one kept, or, for a
// generation whose model was dropped to bound memory, the text read again
// from one of its locations and parsed (the last few are cached). nil
// when the text does not parse or cannot be read again.
func (g *Generation) Model() *model.VG {
	if g.VG != nil || !g.dropped {
		return g.VG
	}
	return g.cache.get(g)
}

// modelCache keeps the last models parsed again, for callers that walk
// generations in order (diffs of neighbours, extents reused later).
type modelCache struct {
	mu   sync.Mutex
	keys []*Generation
	vgs  []*model.VG
}

const modelCacheSize = 4

func (c *modelCache) get(g *Generation) *model.VG {
	c.mu.Lock()
	for i, k := range c.keys {
		if k == g {
			vg := c.vgs[i]
			c.mu.Unlock()
			return vg
		}
	}
	c.mu.Unlock()
	text := g.text
	for _, cp := range g.Copies {
		if text != nil {
			break
		}
		if t, ok := readCopyText(cp); ok {
			text = t
		}
	}
	if text == nil {
		return nil
	}
	vg, _ := metatext.Parse(text)
	if vg == nil {
		return nil
	}
	c.mu.Lock()
	c.keys = append(c.keys, g)
	c.vgs = append(c.vgs, vg)
	if len(c.keys) > modelCacheSize {
		c.keys, c.vgs = c.keys[1:], c.vgs[1:]
	}
	c.mu.Unlock()
	return vg
}

// CRCOK reports whether any location's checksum check passed.
func (g *Generation) CRCOK() bool {
	for _, c := range g.Copies {
		if c.CRCOK {
			return true
		}
	}
	return false
}

// Key is the bare VG UUID, for grouping generations by VG.
func (g *Generation) Key() string { return model.BareUUID(g.VGUUID) }

// VG returns the generations of one VG, oldest first: vg is a VG name (as
// any of its generations names it) or a VG UUID (either form). Several
// VGs may share a name (a re-used disk); all of them are returned.
func (h *History) VG(vg string) []*Generation {
	keys := h.vgKeys(vg)
	var out []*Generation
	for _, g := range h.Generations {
		if keys[g.Key()] {
			out = append(out, g)
		}
	}
	return out
}

// vgKeys returns the bare UUIDs of the VGs that vg names.
func (h *History) vgKeys(vg string) map[string]bool {
	keys := map[string]bool{}
	for _, g := range h.Generations {
		if g.VGName == vg || g.Key() == model.BareUUID(vg) {
			keys[g.Key()] = true
		}
	}
	return keys
}

// Fragments lists the fragments found.
func (h *History) Fragments() []*Copy {
	var out []*Copy
	for _, c := range h.Copies {
		if c.Fragment != nil {
			out = append(out, c)
		}
	}
	return out
}
