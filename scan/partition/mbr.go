package partition

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/lvminspect/lvminspect/model"
)

const (
	mbrTableOff = 446
	mbrEntryLen = 16
	mbrSigOff   = 510
)

// mbrEntry is one 16-byte partition entry of an MBR or EBR.
type mbrEntry struct {
	status   byte
	chsFirst [3]byte
	typ      byte
	chsLast  [3]byte
	start    uint32 // LBA
	sectors  uint32
}

func decodeEntry(b []byte) mbrEntry {
	var e mbrEntry
	e.status = b[0]
	copy(e.chsFirst[:], b[1:4])
	e.typ = b[4]
	copy(e.chsLast[:], b[5:8])
	e.start = binary.LittleEndian.Uint32(b[8:12])
	e.sectors = binary.LittleEndian.Uint32(b[12:16])
	return e
}

func (e mbrEntry) zero() bool { return e == mbrEntry{} }

// used reports whether the entry describes a partition (non-zero type).
func (e mbrEntry) used() bool { return e.typ != 0 }

func isExtendedType(t byte) bool { return t == 0x05 || t == 0x0f || t == 0x85 }

// mbr is a decoded sector holding a partition table (MBR or EBR).
type mbr struct {
	sigOK   bool
	entries [4]mbrEntry
}

func decodeMBR(s []byte) mbr {
	var m mbr
	m.sigOK = s[mbrSigOff] == 0x55 && s[mbrSigOff+1] == 0xAA
	for i := range m.entries {
		off := mbrTableOff + i*mbrEntryLen
		m.entries[i] = decodeEntry(s[off : off+mbrEntryLen])
	}
	return m
}

// protective reports a GPT protective MBR: signature and a 0xEE entry.
func (m mbr) protective() bool {
	if !m.sigOK {
		return false
	}
	for _, e := range m.entries {
		if e.typ == 0xEE {
			return true
		}
	}
	return false
}

// implausible returns why sector 0 s (decoded as m) is not taken for an
// MBR partition table, or "" when it is. Only what makes Linux ignore a
// table makes it implausible: no 0x55AA signature, a status byte other
// than 0x00 or 0x80, a filesystem boot sector, no entry describing a
// partition. Overlaps and entries of size 0 or at sector 0 are reported
// by readMBR and the table used, as the kernel uses it.
func (m mbr) implausible(s []byte) string {
	if !m.sigOK {
		return "no 0x55AA signature"
	}
	if fs := fsBootSector(s); fs != "" {
		return "sector 0 is a " + fs + " boot sector"
	}
	n := 0
	for i, e := range m.entries {
		if e.status != 0x00 && e.status != 0x80 {
			return fmt.Sprintf("entry %d has status byte 0x%02x (0x00 or 0x80 expected)", i+1, e.status)
		}
		if e.used() && e.sectors > 0 {
			n++
		}
	}
	if n == 0 {
		return "no entry describes a partition (all are of type 0x00 or of size 0)"
	}
	return ""
}

// overlaps says once that overlapping primary entries are used anyway
// (checkExtents lists the pairs).
func (m mbr) overlaps(t *Table) {
	for i, e := range m.entries {
		for j := 0; j < i; j++ {
			o := m.entries[j]
			if e.used() && e.sectors > 0 && o.used() && o.sectors > 0 &&
				uint64(e.start) < uint64(o.start)+uint64(o.sectors) && uint64(o.start) < uint64(e.start)+uint64(e.sectors) {
				t.problem("MBR entries overlap (entries %d and %d first): every entry is used all the same, as Linux uses them (it does not check overlaps)", j+1, i+1)
				return
			}
		}
	}
}

// fsBootSector names the filesystem whose boot sector s looks like (a
// jump instruction and a FAT, exFAT or NTFS signature), or "".
func fsBootSector(s []byte) string {
	jump := (s[0] == 0xEB && s[2] == 0x90) || s[0] == 0xE9
	if !jump {
		return ""
	}
	switch {
	case bytes.Equal(s[3:11], []byte("NTFS    ")):
		return "NTFS"
	case bytes.Equal(s[3:11], []byte("EXFAT   ")):
		return "exFAT"
	case bytes.Equal(s[82:87], []byte("FAT32")):
		return "FAT32"
	case bytes.Equal(s[54:59], []byte("FAT12")), bytes.Equal(s[54:59], []byte("FAT16")), bytes.Equal(s[54:62], []byte("FAT     ")):
		return "FAT"
	}
	return ""
}

// readMBR fills t from a plausible MBR m (sector 0), following the EBR
// chain of every extended partition.
func readMBR(d *disk, t *Table, m mbr, s0 []byte) error {
	t.Fields = append(t.Fields, mbrStructure("MBR", 0, s0))
	for i, e := range m.entries {
		off := int64(mbrTableOff + i*mbrEntryLen)
		t.Fields = append(t.Fields, entryStructure(fmt.Sprintf("MBR entry %d", i+1), off, e, 0, ""))
		if !e.used() {
			if !e.zero() && (e.start != 0 || e.sectors != 0) {
				t.problem("MBR entry %d has type 0x00 but start %d and size %d: ignored", i+1, e.start, e.sectors)
			}
			continue
		}
		if e.sectors == 0 {
			t.problem("MBR entry %d (type 0x%02x) has size 0: ignored, as Linux ignores it", i+1, e.typ)
			continue
		}
		if e.start == 0 {
			if isExtendedType(e.typ) {
				t.problem("MBR entry %d is an extended partition starting at sector 0, the MBR itself: its chain is not followed", i+1)
				continue
			}
			t.problem("MBR entry %d (type 0x%02x) starts at sector 0: the partition holds the MBR itself", i+1, e.typ)
		}
		p := Partition{
			Index:    i + 1,
			Start:    int64(e.start) * mbrSectorSize,
			Size:     int64(e.sectors) * mbrSectorSize,
			Type:     fmt.Sprintf("0x%02x", e.typ),
			TypeName: mbrTypeName(e.typ),
			Extended: isExtendedType(e.typ),
		}
		t.Partitions = append(t.Partitions, p)
	}
	m.overlaps(t)
	var err error
	next := 5
	nExt := 0
	chains := map[uint32]int{} // start LBA of each chain followed -> entry
	for i, e := range m.entries {
		if !e.used() || !isExtendedType(e.typ) || e.sectors == 0 || e.start == 0 {
			continue
		}
		nExt++
		if nExt == 2 {
			t.problem("more than one extended partition (entry %d)", i+1)
		}
		if j, ok := chains[e.start]; ok {
			t.problem("extended partition %d starts at the same sector (%d) as extended partition %d: its logical partitions are listed once", i+1, e.start, j)
			continue
		}
		chains[e.start] = i + 1
		if cerr := readEBRChain(d, t, e, &next); cerr != nil && err == nil {
			err = cerr
		}
	}
	t.checkExtents(d.size)
	return err
}

// readEBRChain follows the EBR chain of extended partition ext. Each EBR
// holds the logical partition (relative to the EBR) in its first entry and
// the link to the next EBR (relative to the extended partition start) in
// its second.
func readEBRChain(d *disk, t *Table, ext mbrEntry, next *int) error {
	extStart := uint64(ext.start)
	extEnd := extStart + uint64(ext.sectors)
	visited := map[uint64]bool{}
	ebr := extStart
	for n := 1; ; n++ {
		if n > maxEBRs {
			t.problem("EBR chain longer than %d entries: stopped", maxEBRs)
			return fmt.Errorf("EBR chain too long: %w", ErrDamaged)
		}
		if visited[ebr] {
			t.problem("EBR chain loops back to LBA %d: stopped", ebr)
			return fmt.Errorf("EBR chain loop at LBA %d: %w", ebr, ErrDamaged)
		}
		visited[ebr] = true
		if ebr < extStart || ebr >= extEnd {
			t.problem("EBR %d at LBA %d lies outside the extended partition (LBA %d-%d)", n, ebr, extStart, extEnd-1)
		}
		off := int64(ebr) * mbrSectorSize
		s, rerr := d.read(off, mbrSectorSize)
		if rerr != nil {
			t.problem("EBR %d at LBA %d cannot be read: %v", n, ebr, rerr)
			return fmt.Errorf("EBR %d: %v: %w", n, rerr, ErrDamaged)
		}
		m := decodeMBR(s)
		name := fmt.Sprintf("EBR %d", n)
		t.Fields = append(t.Fields, mbrStructure(fmt.Sprintf("%s (LBA %d)", name, ebr), off, s))
		if !m.sigOK {
			t.problem("EBR %d at LBA %d has no 0x55AA signature: chain stopped", n, ebr)
			return fmt.Errorf("EBR %d without signature: %w", n, ErrDamaged)
		}
		for i, e := range m.entries {
			if i < 2 || !e.zero() {
				var base uint64
				var what string
				switch i {
				case 0:
					base, what = ebr, "logical partition"
				case 1:
					base, what = extStart, "next EBR"
				}
				t.Fields = append(t.Fields, entryStructure(fmt.Sprintf("%s entry %d", name, i+1),
					off+int64(mbrTableOff+i*mbrEntryLen), e, base, what))
			}
			if e.status != 0x00 && e.status != 0x80 {
				t.problem("EBR %d entry %d has status byte 0x%02x", n, i+1, e.status)
			}
			if i >= 2 && !e.zero() {
				t.problem("EBR %d entry %d is not empty: ignored", n, i+1)
			}
		}
		lp := m.entries[0]
		switch {
		case !lp.used():
			if !lp.zero() {
				t.problem("EBR %d entry 1 has type 0x00 but start %d and size %d: ignored", n, lp.start, lp.sectors)
			}
		case isExtendedType(lp.typ):
			t.problem("EBR %d entry 1 has extended type 0x%02x: ignored", n, lp.typ)
		case lp.start == 0 || lp.sectors == 0:
			t.problem("EBR %d entry 1 (type 0x%02x) has start %d and size %d: ignored", n, lp.typ, lp.start, lp.sectors)
		default:
			start := ebr + uint64(lp.start)
			end := start + uint64(lp.sectors)
			if start < extStart || end > extEnd {
				t.problem("logical partition %d (LBA %d-%d) is not inside the extended partition (LBA %d-%d)", *next, start, end-1, extStart, extEnd-1)
			}
			t.Partitions = append(t.Partitions, Partition{
				Index:    *next,
				Start:    int64(start) * mbrSectorSize,
				Size:     int64(lp.sectors) * mbrSectorSize,
				Type:     fmt.Sprintf("0x%02x", lp.typ),
				TypeName: mbrTypeName(lp.typ),
				Logical:  true,
			})
			*next++
		}
		link := m.entries[1]
		if !link.used() || link.sectors == 0 {
			return nil
		}
		if !isExtendedType(link.typ) {
			t.problem("EBR %d entry 2 has type 0x%02x, not an extended link: chain stopped", n, link.typ)
			return nil
		}
		nextEBR := extStart + uint64(link.start)
		if nextEBR >= extEnd || int64(nextEBR) >= d.size/mbrSectorSize {
			t.problem("EBR %d links to LBA %d, outside the extended partition or the image: chain stopped", n, nextEBR)
			return fmt.Errorf("EBR %d links outside: %w", n, ErrDamaged)
		}
		ebr = nextEBR
	}
}

// mbrStructure describes the non-entry fields of an MBR or EBR sector s
// at absolute offset off.
func mbrStructure(name string, off int64, s []byte) model.Structure {
	st := model.Structure{Name: name, Off: off, Len: mbrSectorSize}
	code := "zero"
	if !allZero(s[:440]) {
		code = "present"
	}
	st.Fields = append(st.Fields,
		model.Field{Name: "bootstrap code", Off: off, Len: 440, Value: code},
		model.Field{Name: "disk signature", Off: off + 440, Len: 4, Value: fmt.Sprintf("0x%08x", binary.LittleEndian.Uint32(s[440:444]))},
		model.Field{Name: "reserved", Off: off + 444, Len: 2, Value: fmt.Sprintf("0x%04x", binary.LittleEndian.Uint16(s[444:446]))},
	)
	stored := fmt.Sprintf("%02X %02X", s[mbrSigOff], s[mbrSigOff+1])
	ok := s[mbrSigOff] == 0x55 && s[mbrSigOff+1] == 0xAA
	st.Fields = append(st.Fields, model.Field{
		Name: "boot signature", Off: off + mbrSigOff, Len: 2, Value: stored,
		Check: &model.Check{OK: ok, Stored: stored, Computed: "55 AA"},
	})
	return st
}

// entryStructure describes one MBR/EBR entry at absolute offset off. For
// EBR entries base is the LBA the start is relative to and what says what
// the entry points at.
func entryStructure(name string, off int64, e mbrEntry, base uint64, what string) model.Structure {
	st := model.Structure{Name: name, Off: off, Len: mbrEntryLen}
	status := fmt.Sprintf("0x%02x", e.status)
	switch e.status {
	case 0x80:
		status += " (active)"
	case 0x00:
		status += " (inactive)"
	default:
		status += " (invalid)"
	}
	typ := fmt.Sprintf("0x%02x", e.typ)
	if n := mbrTypeName(e.typ); n != "" {
		typ += " (" + n + ")"
	}
	start := fmt.Sprintf("%d", e.start)
	if what != "" && e.used() {
		abs := base + uint64(e.start)
		start += fmt.Sprintf(" (relative to LBA %d: %s at LBA %d, byte %d)", base, what, abs, abs*mbrSectorSize)
	} else if e.used() {
		start += fmt.Sprintf(" (byte %d)", uint64(e.start)*mbrSectorSize)
	}
	st.Fields = []model.Field{
		{Name: "status", Off: off, Len: 1, Value: status},
		{Name: "first sector (CHS)", Off: off + 1, Len: 3, Value: chs(e.chsFirst)},
		{Name: "partition type", Off: off + 4, Len: 1, Value: typ},
		{Name: "last sector (CHS)", Off: off + 5, Len: 3, Value: chs(e.chsLast)},
		{Name: "first sector (LBA)", Off: off + 8, Len: 4, Value: start},
		{Name: "number of sectors", Off: off + 12, Len: 4, Value: fmt.Sprintf("%d (%s)", e.sectors, sizeString(int64(e.sectors)*mbrSectorSize))},
	}
	return st
}

func chs(b [3]byte) string {
	head := int(b[0])
	sector := int(b[1] & 0x3f)
	cyl := int(b[1]&0xc0)<<2 | int(b[2])
	return fmt.Sprintf("C/H/S %d/%d/%d", cyl, head, sector)
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
