package partition

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strings"
	"unicode/utf16"

	"github.com/lvminspect/lvminspect/model"
)

var gptSignature = []byte("EFI PART")

const (
	gptHeaderMin   = 92  // bytes of the header covered by the UEFI layout
	gptEntryMin    = 128 // minimum (and base) entry size
	gptRevision1_0 = 0x00010000
)

// gptSectorSizes are the logical sector sizes tried, in order.
var gptSectorSizes = []int{512, 4096}

// findGPTSignature returns the sector size at which LBA 1 starts with the
// GPT signature, or 0.
func (d *disk) findGPTSignature() int {
	for _, ss := range gptSectorSizes {
		if b, err := d.read(int64(ss), len(gptSignature)); err == nil && bytes.Equal(b, gptSignature) {
			return ss
		}
	}
	return 0
}

// gptHeader is a decoded GPT header and, when it is usable, its entry
// array.
type gptHeader struct {
	where      string // "primary" or "backup"
	lba        uint64 // LBA it was read from
	ss         int
	raw        []byte
	hdrSize    uint32
	crcStored  uint32
	crcCalc    uint32
	crcDone    bool
	revision   uint32
	reserved   uint32
	myLBA      uint64
	altLBA     uint64
	firstUse   uint64
	lastUse    uint64
	diskGUID   string
	entriesLBA uint64
	count      uint32
	entrySize  uint32
	entCRC     uint32

	bad   string   // why the header cannot be used; "" when usable
	notes []string // anomalies that do not make it unusable

	entries    []byte // the entry array, when read
	entCalc    uint32
	entriesOK  bool   // entry array read and its CRC matches
	entriesErr string // why the entry array was not read
}

func (h *gptHeader) usable() bool { return h != nil && h.bad == "" }

// readGPTHeader reads the GPT header at lba with sector size ss. It returns
// nil when there is no header signature there.
func readGPTHeader(d *disk, ss int, lba uint64, where string) *gptHeader {
	if lba > uint64(d.size/int64(ss)) {
		return nil
	}
	raw, err := d.read(int64(lba)*int64(ss), ss)
	if err != nil || !bytes.Equal(raw[:8], gptSignature) {
		return nil
	}
	le := binary.LittleEndian
	h := &gptHeader{
		where: where, lba: lba, ss: ss, raw: raw,
		revision:   le.Uint32(raw[8:12]),
		hdrSize:    le.Uint32(raw[12:16]),
		crcStored:  le.Uint32(raw[16:20]),
		reserved:   le.Uint32(raw[20:24]),
		myLBA:      le.Uint64(raw[24:32]),
		altLBA:     le.Uint64(raw[32:40]),
		firstUse:   le.Uint64(raw[40:48]),
		lastUse:    le.Uint64(raw[48:56]),
		diskGUID:   guidString(raw[56:72]),
		entriesLBA: le.Uint64(raw[72:80]),
		count:      le.Uint32(raw[80:84]),
		entrySize:  le.Uint32(raw[84:88]),
		entCRC:     le.Uint32(raw[88:92]),
	}
	if h.hdrSize < gptHeaderMin || int(h.hdrSize) > ss {
		h.bad = fmt.Sprintf("header size %d is not between %d and the sector size %d", h.hdrSize, gptHeaderMin, ss)
		return h
	}
	buf := make([]byte, h.hdrSize)
	copy(buf, raw)
	clear(buf[16:20])
	h.crcCalc = crc32.ChecksumIEEE(buf)
	h.crcDone = true
	if h.crcCalc != h.crcStored {
		h.bad = fmt.Sprintf("header CRC32 mismatch (stored 0x%08x, computed 0x%08x)", h.crcStored, h.crcCalc)
		return h
	}
	if h.revision != gptRevision1_0 {
		h.notes = append(h.notes, fmt.Sprintf("revision 0x%08x (expected 0x%08x)", h.revision, gptRevision1_0))
	}
	if h.reserved != 0 {
		h.notes = append(h.notes, fmt.Sprintf("reserved field is 0x%08x, not zero", h.reserved))
	}
	if h.myLBA != lba {
		h.notes = append(h.notes, fmt.Sprintf("MyLBA field says %d but the header is at LBA %d", h.myLBA, lba))
	}
	lastLBA := uint64(d.size/int64(ss)) - 1
	if h.firstUse > h.lastUse {
		h.notes = append(h.notes, fmt.Sprintf("first usable LBA %d is after last usable LBA %d", h.firstUse, h.lastUse))
	}
	if h.lastUse > lastLBA {
		h.notes = append(h.notes, fmt.Sprintf("last usable LBA %d is past the last LBA of the image (%d)", h.lastUse, lastLBA))
	}
	total := uint64(h.count) * uint64(h.entrySize)
	switch {
	case h.entrySize < gptEntryMin || h.entrySize%gptEntryMin != 0:
		h.bad = fmt.Sprintf("partition entry size %d is not a multiple of %d", h.entrySize, gptEntryMin)
	case total > maxGPTEntries:
		h.bad = fmt.Sprintf("partition entry array of %d x %d bytes exceeds the %d-byte limit", h.count, h.entrySize, maxGPTEntries)
	case h.entriesLBA > lastLBA || total > uint64(d.size)-h.entriesLBA*uint64(ss):
		h.bad = fmt.Sprintf("partition entry array (LBA %d, %d bytes) lies past the end of the image", h.entriesLBA, total)
	}
	if h.bad != "" {
		return h
	}
	if h.entriesLBA <= lba && lba < h.entriesLBA+(total+uint64(ss)-1)/uint64(ss) {
		h.notes = append(h.notes, fmt.Sprintf("partition entry array (LBA %d) overlaps the header at LBA %d", h.entriesLBA, lba))
	}
	if h.count == 0 {
		h.notes = append(h.notes, "the header declares 0 partition entries")
	}
	ent, err := d.read(int64(h.entriesLBA)*int64(ss), int(total))
	if err != nil {
		h.entriesErr = err.Error()
		return h
	}
	h.entries = ent
	h.entCalc = crc32.ChecksumIEEE(ent)
	h.entriesOK = h.entCalc == h.entCRC
	if !h.entriesOK {
		h.entriesErr = fmt.Sprintf("partition entry array CRC32 mismatch (stored 0x%08x, computed 0x%08x)", h.entCRC, h.entCalc)
	}
	return h
}

// structure describes the header fields.
func (h *gptHeader) structure() model.Structure {
	off := int64(h.lba) * int64(h.ss)
	n := int(h.hdrSize)
	if n < gptHeaderMin || n > h.ss {
		n = gptHeaderMin
	}
	st := model.Structure{Name: fmt.Sprintf("GPT header (%s, LBA %d)", h.where, h.lba), Off: off, Len: n}
	hex32 := func(v uint32) string { return fmt.Sprintf("0x%08x", v) }
	lbaVal := func(v uint64) string {
		if v < uint64(1)<<40 {
			return fmt.Sprintf("%d (byte %d)", v, v*uint64(h.ss))
		}
		return fmt.Sprintf("%d", v)
	}
	hcrc := model.Field{Name: "header CRC32", Off: off + 16, Len: 4, Value: hex32(h.crcStored)}
	if h.crcDone {
		hcrc.Check = &model.Check{OK: h.crcStored == h.crcCalc, Stored: hex32(h.crcStored), Computed: hex32(h.crcCalc)}
	} else {
		hcrc.Value += " (not verified: invalid header size)"
	}
	ecrc := model.Field{Name: "partition entry array CRC32", Off: off + 88, Len: 4, Value: hex32(h.entCRC)}
	if h.entries != nil {
		ecrc.Check = &model.Check{OK: h.entriesOK, Stored: hex32(h.entCRC), Computed: hex32(h.entCalc)}
	} else {
		ecrc.Value += " (not verified: entry array not read)"
	}
	st.Fields = []model.Field{
		{Name: "signature", Off: off, Len: 8, Value: string(h.raw[:8])},
		{Name: "revision", Off: off + 8, Len: 4, Value: fmt.Sprintf("%d.%d (0x%08x)", h.revision>>16, h.revision&0xffff, h.revision)},
		{Name: "header size", Off: off + 12, Len: 4, Value: fmt.Sprintf("%d", h.hdrSize)},
		hcrc,
		{Name: "reserved", Off: off + 20, Len: 4, Value: hex32(h.reserved)},
		{Name: "my LBA", Off: off + 24, Len: 8, Value: lbaVal(h.myLBA)},
		{Name: "alternate LBA", Off: off + 32, Len: 8, Value: lbaVal(h.altLBA)},
		{Name: "first usable LBA", Off: off + 40, Len: 8, Value: lbaVal(h.firstUse)},
		{Name: "last usable LBA", Off: off + 48, Len: 8, Value: lbaVal(h.lastUse)},
		{Name: "disk GUID", Off: off + 56, Len: 16, Value: h.diskGUID},
		{Name: "partition entry array LBA", Off: off + 72, Len: 8, Value: lbaVal(h.entriesLBA)},
		{Name: "number of partition entries", Off: off + 80, Len: 4, Value: fmt.Sprintf("%d", h.count)},
		{Name: "size of partition entry", Off: off + 84, Len: 4, Value: fmt.Sprintf("%d", h.entrySize)},
		ecrc,
	}
	return st
}

// readGPT fills t from the GPT of the image; m and s0 are sector 0.
func readGPT(d *disk, t *Table, m mbr, s0 []byte) error {
	pmbrName := "MBR"
	if m.protective() {
		pmbrName = "protective MBR"
	}
	t.Fields = append(t.Fields, mbrStructure(pmbrName, 0, s0))
	for i, e := range m.entries {
		t.Fields = append(t.Fields, entryStructure(fmt.Sprintf("%s entry %d", pmbrName, i+1), int64(mbrTableOff+i*mbrEntryLen), e, 0, ""))
	}

	// Find the header: primary at LBA 1, else a backup at the last LBA.
	var prim, back *gptHeader
	ss := 0
	for _, s := range gptSectorSizes {
		if h := readGPTHeader(d, s, 1, "primary"); h != nil {
			prim, ss = h, s
			break
		}
	}
	if prim == nil {
		for _, s := range gptSectorSizes {
			n := d.size / int64(s)
			if n < 3 {
				continue
			}
			if h := readGPTHeader(d, s, uint64(n-1), "backup"); h != nil {
				back, ss = h, s
				break
			}
		}
	}
	if ss == 0 {
		t.SectorSize = mbrSectorSize
		t.checkProtective(m, d.size)
		t.problem("protective MBR present but no GPT header found at LBA 1 or at the last LBA (512- or 4096-byte sectors)")
		return fmt.Errorf("no GPT header: %w", ErrDamaged)
	}
	t.SectorSize = ss
	t.checkProtective(m, d.size)
	lastLBA := uint64(d.size/int64(ss)) - 1

	if prim != nil {
		t.Fields = append(t.Fields, prim.structure())
		for _, n := range prim.notes {
			t.problem("primary GPT header: %s", n)
		}
		tried := map[uint64]bool{1: true}
		try := func(lba uint64) {
			if back == nil && !tried[lba] && lba >= 1 && lba <= lastLBA {
				tried[lba] = true
				back = readGPTHeader(d, ss, lba, "backup")
			}
		}
		if prim.usable() {
			switch {
			case prim.altLBA > lastLBA:
				t.problem("primary GPT header puts the backup header at LBA %d, past the last LBA of the image (%d): image truncated?", prim.altLBA, lastLBA)
			case prim.altLBA != lastLBA:
				t.problem("primary GPT header puts the backup header at LBA %d, not at the last LBA of the image (%d)", prim.altLBA, lastLBA)
			}
			try(prim.altLBA)
		}
		try(lastLBA)
	}
	if back != nil {
		t.Fields = append(t.Fields, back.structure())
		for _, n := range back.notes {
			t.problem("backup GPT header: %s", n)
		}
		if !back.usable() {
			t.problem("backup GPT header at LBA %d is unusable: %s", back.lba, back.bad)
		} else if back.entriesErr != "" {
			t.problem("backup GPT: %s", back.entriesErr)
		}
	} else {
		t.problem("backup GPT header missing (no signature at the last LBA %d)", lastLBA)
	}
	if prim.usable() && back.usable() {
		t.compareHeaders(prim, back)
	}

	var use *gptHeader
	damaged := ""
	switch {
	case prim.usable() && prim.entriesOK:
		use = prim
	case prim.usable() && back.usable() && back.entriesOK:
		t.problem("primary GPT: %s: using the backup entry array", prim.entriesErr)
		use = back
	case prim.usable():
		t.problem("primary GPT: %s", prim.entriesErr)
		use = prim
		damaged = "primary GPT entry array damaged and no valid backup"
	case back.usable():
		if prim == nil {
			t.problem("primary GPT header missing at LBA 1: using the backup header at LBA %d", back.lba)
		} else {
			t.problem("primary GPT header at LBA 1 is damaged (%s): using the backup header at LBA %d", prim.bad, back.lba)
		}
		use = back
		if !back.entriesOK {
			damaged = "primary GPT header damaged and backup entry array damaged"
		}
	default:
		if prim != nil {
			t.problem("primary GPT header at LBA 1 is damaged: %s", prim.bad)
		}
		return fmt.Errorf("no usable GPT header: %w", ErrDamaged)
	}
	t.DiskGUID = use.diskGUID
	if use.entries != nil {
		var alt *gptHeader // the other copy, for entries that are invalid in use
		if use == prim && back.usable() && back.entriesOK {
			alt = back
		}
		t.decodeEntries(use, alt, d.size)
	}
	t.checkExtents(d.size)
	if damaged != "" {
		return fmt.Errorf("%s: %w", damaged, ErrDamaged)
	}
	return nil
}

// checkProtective reports oddities of the protective MBR for a GPT disk
// of size bytes with sector size t.SectorSize.
func (t *Table) checkProtective(m mbr, size int64) {
	if !m.protective() {
		t.problem("no protective MBR (sector 0 has no 0x55AA signature or no 0xEE entry)")
		return
	}
	total := uint64(size / int64(t.SectorSize))
	want := total - 1
	if want > 0xFFFFFFFF {
		want = 0xFFFFFFFF
	}
	for i, e := range m.entries {
		switch {
		case e.typ == 0xEE:
			if e.start != 1 {
				t.problem("protective MBR entry %d starts at LBA %d, not 1", i+1, e.start)
			}
			if uint64(e.sectors) != want {
				t.problem("protective MBR entry %d covers %d sectors, the image has %d after LBA 0", i+1, e.sectors, want)
			}
			if e.status != 0x00 {
				t.problem("protective MBR entry %d has status byte 0x%02x", i+1, e.status)
			}
		case e.used():
			t.problem("protective MBR entry %d has type 0x%02x: hybrid MBR (its partitions are not used)", i+1, e.typ)
		}
	}
}

// compareHeaders reports differences between the primary and backup
// headers.
func (t *Table) compareHeaders(p, b *gptHeader) {
	diff := func(what string, pv, bv any) {
		t.problem("backup GPT header differs from the primary: %s %v (primary %v)", what, bv, pv)
	}
	if b.myLBA != p.altLBA {
		diff("my LBA", p.altLBA, b.myLBA)
	}
	if b.altLBA != p.myLBA {
		diff("alternate LBA", p.myLBA, b.altLBA)
	}
	if b.firstUse != p.firstUse {
		diff("first usable LBA", p.firstUse, b.firstUse)
	}
	if b.lastUse != p.lastUse {
		diff("last usable LBA", p.lastUse, b.lastUse)
	}
	if b.diskGUID != p.diskGUID {
		diff("disk GUID", p.diskGUID, b.diskGUID)
	}
	if b.count != p.count {
		diff("number of entries", p.count, b.count)
	}
	if b.entrySize != p.entrySize {
		diff("entry size", p.entrySize, b.entrySize)
	}
	if b.entCRC != p.entCRC {
		diff("entry array CRC32", fmt.Sprintf("0x%08x", p.entCRC), fmt.Sprintf("0x%08x", b.entCRC))
	}
	if p.entriesOK && b.entriesOK && !bytes.Equal(p.entries, b.entries) {
		t.problem("backup GPT entry array differs from the primary")
	}
}

// decodeEntries adds the used entries of h to t. An entry that is
// invalid in h (its LBA range reversed or out of range, or starting past
// the end of the image) is taken from alt, the backup entry array, when
// the entry there is valid and inside the image; nil alt for none.
func (t *Table) decodeEntries(h, alt *gptHeader, size int64) {
	es := int(h.entrySize)
	for i := 0; (i+1)*es <= len(h.entries); i++ {
		off := int64(h.entriesLBA)*int64(h.ss) + int64(i*es)
		p, e, bad := h.entry(i, size)
		if e == nil {
			continue
		}
		pastEnd := bad == "" && p.Start >= size
		if pastEnd && alt != nil {
			if bp, be, bbad := alt.entry(i, size); be != nil && bbad == "" && bp.Start < size {
				bad = fmt.Sprintf("it starts at byte %d, past the end of the image (%d bytes)", p.Start, size)
			}
		}
		if bad == "" {
			t.Fields = append(t.Fields, gptEntryStructure(i+1, off, h.ss, e, p))
			t.checkUsable(h, p)
			t.Partitions = append(t.Partitions, p)
			continue
		}
		if len(e) == gptEntryMin && allZero(e[:16]) {
			t.problem("GPT entry %d has a zero type GUID but other non-zero fields: ignored", i+1)
			continue
		}
		t.Fields = append(t.Fields, gptEntryStructure(i+1, off, h.ss, e, p))
		if alt != nil {
			if bp, be, bbad := alt.entry(i, size); be != nil && bbad == "" && bp.Start < size {
				boff := int64(alt.entriesLBA)*int64(alt.ss) + int64(i*int(alt.entrySize))
				t.problem("GPT entry %d in the %s entry array: %s: the %s entry is used (LBA %d-%d)",
					i+1, h.where, bad, alt.where, bp.Start/int64(alt.ss), bp.End()/int64(alt.ss)-1)
				t.Fields = append(t.Fields, gptEntryStructure(i+1, boff, alt.ss, be, bp))
				t.checkUsable(alt, bp)
				t.Partitions = append(t.Partitions, bp)
				continue
			}
		}
		t.problem("GPT entry %d: %s: ignored", i+1, bad)
	}
}

// entry decodes entry i of h: nil e for an unused (all-zero type GUID)
// entry, else the partition and why it is invalid ("" when it is not;
// a partition past the end of the image is not invalid here).
// A zero type GUID with other non-zero fields is returned with bad set
// and p zero.
func (h *gptHeader) entry(i int, size int64) (p Partition, e []byte, bad string) {
	le := binary.LittleEndian
	es := int(h.entrySize)
	if (i+1)*es > len(h.entries) {
		return p, nil, ""
	}
	e = h.entries[i*es : i*es+gptEntryMin]
	if allZero(e[:16]) {
		if !allZero(e) {
			return p, e, "zero type GUID but other non-zero fields"
		}
		return p, nil, ""
	}
	ss := uint64(h.ss)
	maxLBA := uint64(1<<63-1) / ss // LBAs whose byte offset fits in int64
	first, last := le.Uint64(e[32:40]), le.Uint64(e[40:48])
	p = Partition{
		Index: i + 1,
		Type:  guidString(e[0:16]),
		UUID:  guidString(e[16:32]),
		Name:  utf16Name(e[56:128]),
	}
	p.TypeName = gptTypeName(p.Type)
	switch {
	case last < first:
		return p, e, fmt.Sprintf("last LBA %d is before first LBA %d", last, first)
	case last >= maxLBA:
		return p, e, fmt.Sprintf("LBA range %d-%d is out of range", first, last)
	}
	p.Start = int64(first * ss)
	p.Size = int64((last - first + 1) * ss)
	return p, e, ""
}

// checkUsable reports a partition outside the usable LBAs of h.
func (t *Table) checkUsable(h *gptHeader, p Partition) {
	ss := int64(h.ss)
	first, last := uint64(p.Start/ss), uint64(p.End()/ss-1)
	if first < h.firstUse || last > h.lastUse {
		t.problem("GPT entry %d (LBA %d-%d) is outside the usable LBAs %d-%d", p.Index, first, last, h.firstUse, h.lastUse)
	}
}

func gptEntryStructure(n int, off int64, ss int, e []byte, p Partition) model.Structure {
	le := binary.LittleEndian
	first, last, attr := le.Uint64(e[32:40]), le.Uint64(e[40:48]), le.Uint64(e[48:56])
	typ := p.Type
	if p.TypeName != "" {
		typ += " (" + p.TypeName + ")"
	}
	lbaVal := func(v uint64) string {
		if v < uint64(1)<<40 {
			return fmt.Sprintf("%d (byte %d)", v, v*uint64(ss))
		}
		return fmt.Sprintf("%d", v)
	}
	return model.Structure{
		Name: fmt.Sprintf("GPT entry %d", n), Off: off, Len: gptEntryMin,
		Fields: []model.Field{
			{Name: "partition type GUID", Off: off, Len: 16, Value: typ},
			{Name: "unique partition GUID", Off: off + 16, Len: 16, Value: p.UUID},
			{Name: "first LBA", Off: off + 32, Len: 8, Value: lbaVal(first)},
			{Name: "last LBA", Off: off + 40, Len: 8, Value: lbaVal(last)},
			{Name: "attributes", Off: off + 48, Len: 8, Value: attrString(attr)},
			{Name: "partition name", Off: off + 56, Len: 72, Value: fmt.Sprintf("%q", p.Name)},
		},
	}
}

func attrString(a uint64) string {
	s := fmt.Sprintf("0x%016x", a)
	var flags []string
	if a&1 != 0 {
		flags = append(flags, "required")
	}
	if a&2 != 0 {
		flags = append(flags, "no block IO protocol")
	}
	if a&4 != 0 {
		flags = append(flags, "legacy BIOS bootable")
	}
	if len(flags) > 0 {
		s += " (" + strings.Join(flags, ", ") + ")"
	}
	return s
}

// guidString formats a 16-byte on-disk GUID (first three groups little
// endian) in the usual upper-case text form.
func guidString(b []byte) string {
	le := binary.LittleEndian
	return fmt.Sprintf("%08X-%04X-%04X-%X-%X", le.Uint32(b[0:4]), le.Uint16(b[4:6]), le.Uint16(b[6:8]), b[8:10], b[10:16])
}

// utf16Name decodes a NUL-terminated UTF-16LE name.
func utf16Name(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u))
}
