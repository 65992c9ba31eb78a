package luks

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
)

// Fields of the LUKS2 binary header (luks.md §4.1).
const (
	l2HdrSize   = 8
	l2SeqID     = 16
	l2Label     = 24
	l2CsumAlg   = 72
	l2Salt      = 104
	l2UUID      = 168
	l2Subsystem = 208
	l2HdrOffset = 256
	l2Pad1      = 264
	l2Csum      = 448
	l2Pad2      = 512
	l2CsumLen   = 64
)

func validHdrSize(n int64) bool { return slices.Contains(HeaderSizes, n) }

func copyName(off int64) string {
	if off == 0 {
		return "primary"
	}
	return "secondary"
}

func structName(kind string, off int64) string {
	if off == 0 {
		return "luks2_" + kind + "_primary"
	}
	return "luks2_" + kind + "_secondary"
}

// readCopy reads and validates the LUKS2 header copy at off (luks.md
// §4.4); bin is its binary header when already read. Every check that
// fails leaves Valid false, Problem and Err set; what could be decoded
// is kept for display.
func readCopy(r io.ReaderAt, size, off int64, bin []byte) *Copy {
	c := &Copy{Name: copyName(off), Offset: off}
	st := structName("header", off)
	fail := func(field string, foff int64, err error, format string, a ...any) *Copy {
		c.Err = &FormatError{Structure: st, Field: field, Off: off + foff, Msg: fmt.Sprintf(format, a...), Err: err}
		c.Problem = c.Err.Error()
		return c
	}
	if bin == nil {
		if off+luks2BinSize > size {
			return fail("", 0, ErrTruncated, "the device ends at byte %d", size)
		}
		bin = make([]byte, luks2BinSize)
		if err := readFull(r, bin, off); err != nil {
			return fail("", 0, err, "reading the binary header: %v", err)
		}
	} else {
		bin = append([]byte(nil), bin[:min(len(bin), luks2BinSize)]...)
	}
	if len(bin) < luks2BinSize {
		return fail("", int64(len(bin)), ErrTruncated, "the device ends at byte %d, inside the binary header", size)
	}
	c.bin = bin
	be := binary.BigEndian
	c.HdrSize = int64(min(be.Uint64(bin[l2HdrSize:]), 1<<62))
	c.SeqID = be.Uint64(bin[l2SeqID:])
	c.Label, _ = cString(bin[l2Label : l2Label+48])
	c.CsumAlg, _ = cString(bin[l2CsumAlg : l2CsumAlg+32])
	c.UUID, _ = cString(bin[l2UUID : l2UUID+40])
	c.CsumStored = hex.EncodeToString(bin[l2Csum : l2Csum+l2CsumLen])

	want := magic1
	if off != 0 {
		want = magic2
	}
	if !bytes.Equal(bin[:6], want) {
		return fail("magic", 0, ErrInvalid, "bad magic %x, want %x", bin[:6], want)
	}
	if v := be.Uint16(bin[6:]); v != 2 {
		return fail("version", 6, ErrInvalid, "version %d, want 2", v)
	}
	if !validHdrSize(c.HdrSize) {
		return fail("hdr_size", l2HdrSize, ErrInvalid, "hdr_size %d is not one of the nine LUKS2 sizes", c.HdrSize)
	}
	if off != 0 && c.HdrSize != off {
		return fail("hdr_size", l2HdrSize, ErrInvalid, "hdr_size %d of a secondary header at byte %d", c.HdrSize, off)
	}
	if ho := be.Uint64(bin[l2HdrOffset:]); ho != uint64(off) {
		return fail("hdr_offset", l2HdrOffset, ErrInvalid, "hdr_offset %d, but the header is at byte %d (moved or copied)", ho, off)
	}
	if off+c.HdrSize > size {
		return fail("", 0, ErrTruncated, "the %d-byte metadata area runs past the end of the %d-byte device", c.HdrSize, size)
	}
	area := make([]byte, c.HdrSize-luks2BinSize)
	if err := readFull(r, area, off+luks2BinSize); err != nil {
		return fail("", luks2BinSize, err, "reading the JSON area: %v", err)
	}
	c.jsonArea = len(area)
	text, ok := cString(area)
	c.jsonText = []byte(text)
	if ok {
		c.jsonPad = nonZero(area[len(text)+1:])
	}
	if c.CsumAlg != "sha256" {
		return fail("csum_alg", l2CsumAlg, ErrUnsupported, "checksum algorithm %q is not supported (only sha256)", clip(c.CsumAlg))
	}
	sum := checksum2(bin, area)
	comp := make([]byte, l2CsumLen)
	copy(comp, sum)
	c.CsumComputed = hex.EncodeToString(comp)
	if !bytes.Equal(bin[l2Csum:l2Csum+l2CsumLen], comp) {
		c.Err = &FormatError{Structure: st, Field: "csum", Off: off + l2Csum, Msg: "checksum mismatch",
			Stored: hex.EncodeToString(bin[l2Csum : l2Csum+len(sum)]), Computed: hex.EncodeToString(sum), Err: ErrBadChecksum}
		if !allZero(bin[l2Csum+len(sum) : l2Csum+l2CsumLen]) {
			c.Err.(*FormatError).Msg = "checksum mismatch (bytes after the digest are not zero)"
		}
		c.Problem = c.Err.Error()
		return c
	}
	jst := structName("json", off)
	if !ok {
		c.Err = &FormatError{Structure: jst, Off: off + luks2BinSize, Msg: "the JSON area has no NUL terminator", Err: ErrInvalid}
		c.Problem = c.Err.Error()
		return c
	}
	m, err := parseMeta(c.jsonText)
	if err != nil {
		c.Err = &FormatError{Structure: jst, Off: off + luks2BinSize, Msg: err.Error(), Err: ErrInvalid}
		c.Problem = c.Err.Error()
		return c
	}
	if m.config.JSONSize.v != c.HdrSize-luks2BinSize {
		c.Err = &FormatError{Structure: jst, Field: "config.json_size", Off: off + luks2BinSize, Msg: "json_size does not match hdr_size",
			Stored: fmt.Sprint(m.config.JSONSize.v), Computed: fmt.Sprint(c.HdrSize - luks2BinSize), Err: ErrInvalid}
		c.Problem = c.Err.Error()
		return c
	}
	c.meta = m
	c.Valid = true
	return c
}

// checksum2 is luks.md §4.3: sha256 over the binary header with its csum
// field zeroed, then the JSON area.
func checksum2(bin, area []byte) []byte {
	h := sha256.New()
	h.Write(bin[:l2Csum])
	h.Write(make([]byte, l2CsumLen))
	h.Write(bin[l2Csum+l2CsumLen : luks2BinSize])
	h.Write(area)
	return h.Sum(nil)
}

// probe2 finds the LUKS2 header copies and chooses one (luks.md §4.5).
// first is the binary header at offset 0 when it has the LUKS magic and
// version 2, nil otherwise.
func probe2(r io.ReaderAt, size int64, first []byte) (*Header, error) {
	h := &Header{Version: 2, DataSegment: -1, DeviceSize: size}
	var primary *Copy
	if first != nil {
		primary = readCopy(r, size, 0, first)
		h.Copies = append(h.Copies, primary)
	}
	var use *Copy
	if primary != nil && primary.Valid {
		use = primary
		sec := readCopy(r, size, primary.HdrSize, nil)
		h.Copies = append(h.Copies, sec)
		switch {
		case !sec.Valid:
			h.problem("secondary LUKS2 header at byte %d damaged: %s (cryptsetup would rewrite it from the primary)", sec.Offset, sec.Problem)
		case sec.SeqID != primary.SeqID:
			if sec.SeqID > primary.SeqID {
				use = sec
			}
			h.problem("LUKS2 headers out of sync: primary seqid %d, secondary seqid %d; the %s is used (cryptsetup would rewrite the other)",
				primary.SeqID, sec.SeqID, use.Name)
		case !bytes.Equal(sec.jsonText, primary.jsonText):
			h.warn("the LUKS2 header copies have the same seqid %d but different JSON metadata; the primary is used", primary.SeqID)
		}
		if sec.Valid && sec.UUID != primary.UUID {
			h.warn("the LUKS2 header copies name different UUIDs: primary %s, secondary %s", primary.UUID, sec.UUID)
		}
	} else {
		var cands []*Copy
		for _, off := range HeaderSizes {
			if off+luks2BinSize > size {
				break
			}
			bin := make([]byte, luks2BinSize)
			if readFull(r, bin, off) != nil || !bytes.Equal(bin[:6], magic2) {
				continue
			}
			cands = append(cands, readCopy(r, size, off, bin))
		}
		if primary == nil && len(cands) == 0 {
			return nil, ErrNotLUKS
		}
		h.Copies = append(h.Copies, cands...)
		for _, c := range cands {
			if !c.Valid {
				continue
			}
			if use == nil {
				use = c
				continue
			}
			h.warn("another valid secondary LUKS2 header at byte %d (uuid %s, seqid %d), left over from an earlier format?", c.Offset, c.UUID, c.SeqID)
		}
		if primary != nil {
			h.problem("primary LUKS2 header damaged: %s", primary.Problem)
		} else {
			h.problem("no primary LUKS2 header at byte 0 (its magic is missing: overwritten?)")
		}
		for _, c := range cands {
			if !c.Valid {
				h.problem("secondary LUKS2 header at byte %d damaged: %s", c.Offset, c.Problem)
			}
		}
		if use != nil {
			h.problem("the secondary LUKS2 header at byte %d is used (cryptsetup would rewrite the primary from it)", use.Offset)
		}
	}
	if use == nil {
		show := h.Copies[0]
		h.UUID, h.Label, h.SeqID, h.HdrSize = show.UUID, show.Label, show.SeqID, show.HdrSize
		h.Refused = "no valid LUKS2 header"
		return h, &FormatError{Structure: structName("header", show.Offset), Off: show.Offset, Msg: "no valid LUKS2 header copy; " + show.Problem, Err: ErrNoValidHeader}
	}
	use.Used = true
	h.used = use
	h.build2(use)
	return h, nil
}

// build2 fills the header from a valid copy's metadata.
func (h *Header) build2(c *Copy) {
	h.UUID, h.Label, h.SeqID, h.HdrSize = c.UUID, c.Label, c.SeqID, c.HdrSize
	h.Subsystem, _ = cString(c.bin[l2Subsystem : l2Subsystem+48])
	for _, f := range []struct {
		name   string
		off, n int
	}{{"label", l2Label, 48}, {"csum_alg", l2CsumAlg, 32}, {"uuid", l2UUID, 40}, {"subsystem", l2Subsystem, 48}} {
		if _, ok := cString(c.bin[f.off : f.off+f.n]); !ok {
			h.warn("%s.%s: no NUL terminator in the %d-byte field", structName("header", c.Offset), f.name, f.n)
		}
	}
	if n := nonZero(c.bin[l2Pad1:l2Csum]) + nonZero(c.bin[l2Pad2:]); n > 0 {
		h.warn("%s: %d non-zero bytes in the padding", structName("header", c.Offset), n)
	}
	if c.jsonPad > 0 {
		h.warn("%s: %d non-zero bytes after the JSON text's NUL", structName("json", c.Offset), c.jsonPad)
	}
	m := c.meta
	for _, w := range m.warnings {
		h.warn("%s", w)
	}
	cfg := &m.config
	h.KeyslotsSize = cfg.KeyslotsSize.v
	if !cfg.KeyslotsSize.set {
		h.problem("config has no keyslots_size")
	} else if cfg.KeyslotsSize.v%4096 != 0 {
		h.warn("config.keyslots_size %d is not a multiple of 4096", cfg.KeyslotsSize.v)
	}
	h.Flags = clipList(cfg.Flags)
	if slices.Contains(h.Flags, "allow-discards") {
		h.warn("flag allow-discards: areas the filesystem trimmed may hold zeros on disk, which decrypt to noise")
	}
	req, ok := cfg.requirements()
	if !ok {
		h.refuse("config.requirements in an unknown form")
	}
	h.Requirements = clipList(req)
	for _, r := range h.Requirements {
		h.refuse("%s", requirementReason(r))
	}

	h.segments2(m)
	h.digests2(m)
	h.keyslots2(m)
	h.tokens2(m)
	for i := range h.Segments {
		h.checkSegment(&h.Segments[i])
	}
}

func clipList(l []string) []string {
	if len(l) > maxListItems {
		l = l[:maxListItems]
	}
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = clip(s)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// requirementReason is what a mandatory requirement means (luks.md §4.11).
func requirementReason(r string) string {
	switch r {
	case "online-reencrypt", "online-reencrypt-v2", "online-reencrypt-v3":
		return fmt.Sprintf("requirement %s: reencryption in progress", r)
	case "offline-reencrypt":
		return "requirement offline-reencrypt: offline reencryption in progress"
	case "opal":
		return "requirement opal: self-encrypting drive segment"
	case "inline-hw-tags":
		return "requirement inline-hw-tags: integrity tags in hardware sector metadata"
	}
	return fmt.Sprintf("unknown requirement %q", r)
}

var reencryptFlags = []string{"in-reencryption", "backup-final", "backup-previous", "backup-moved-segment"}

func (h *Header) segments2(m *meta) {
	for _, mb := range m.segments {
		s := Segment{ID: mb.id}
		var js jSegment
		if err := json.Unmarshal(mb.raw, &js); err != nil {
			s.Type, _ = memberType(mb.raw)
			s.bad = true
			h.Segments = append(h.Segments, s)
			h.refuse("segment %d: %v", mb.id, jsonErr(err))
			continue
		}
		s.Type, s.Offset, s.Size, s.Dynamic = js.Type, js.Offset.v, js.Size.v, js.Size.dynamic
		s.IVTweak, s.Cipher, s.SectorSize = uint64(js.IVTweak.v), clip(js.Encryption), js.SectorSize
		s.Flags = clipList(js.Flags)
		if len(js.Integrity) > 0 && string(js.Integrity) != "null" {
			var it struct {
				Type string `json:"type"`
			}
			_ = json.Unmarshal(js.Integrity, &it)
			s.Integrity = clip(it.Type)
			if s.Integrity == "" {
				s.Integrity = "(present)"
			}
		}
		h.Segments = append(h.Segments, s)
	}
	switch len(h.Segments) {
	case 0:
		h.refuse("no data segment")
		return
	case 1:
	default:
		if !slices.ContainsFunc(h.Requirements, func(r string) bool { return len(r) > 6 && r[:6] == "online" }) {
			h.refuse("%d segments (only one is supported)", len(h.Segments))
		} else {
			h.refuse("%d segments", len(h.Segments))
		}
	}
	h.DataSegment = 0
	s := &h.Segments[0]
	h.Cipher, h.SectorSize, h.IVTweak = s.Cipher, s.SectorSize, s.IVTweak
	h.PayloadOffset, h.PayloadLength, h.PayloadDynamic = s.Offset, s.Size, s.Dynamic
}

func (h *Header) checkSegment(s *Segment) {
	id := s.ID
	if s.bad {
		return
	}
	if s.Type == "" {
		h.refuse("segment %d has no type", id)
		return
	}
	if s.Type != "crypt" {
		switch s.Type {
		case "hw-opal", "hw-opal-crypt":
			h.refuse("segment %d of type %s: self-encrypting drive", id, s.Type)
		case "linear":
			h.refuse("segment %d of type linear: plaintext, reencryption in progress", id)
		default:
			h.refuse("segment %d of unknown type %q", id, clip(s.Type))
		}
		return
	}
	if s.Integrity != "" {
		h.refuse("segment %d uses integrity (%s)", id, s.Integrity)
	}
	for _, f := range s.Flags {
		if slices.Contains(reencryptFlags, f) {
			h.refuse("segment %d flagged %s: reencryption", id, f)
		}
	}
	switch s.SectorSize {
	case 512, 1024, 2048, 4096:
	default:
		h.refuse("segment %d: sector_size %d is not 512, 1024, 2048 or 4096", id, s.SectorSize)
	}
	if err := checkCipher(s.Cipher, h.KeyBytes); err != nil {
		h.refuse("segment %d: cipher %q: %v", id, s.Cipher, err)
	}
	if s.Offset == 0 {
		h.warn("segment %d at offset 0: a detached-header layout (the data is on another device), or damage", id)
	} else if s.Offset < 2*h.HdrSize+h.KeyslotsSize {
		h.problem("segment %d at byte %d overlaps the header or the key slots area (ending at byte %d)", id, s.Offset, 2*h.HdrSize+h.KeyslotsSize)
	}
	if s.SectorSize > 0 && s.Offset%int64(s.SectorSize) != 0 {
		h.warn("segment %d: offset %d is not a multiple of its sector size %d", id, s.Offset, s.SectorSize)
	}
	if !s.Dynamic && s.SectorSize > 0 && s.Size%int64(s.SectorSize) != 0 {
		h.warn("segment %d: size %d is not a multiple of its sector size %d", id, s.Size, s.SectorSize)
	}
	if !s.Dynamic && s.Size == 0 {
		h.problem("segment %d: size 0", id)
	}
	switch {
	case s.Offset == h.DeviceSize && s.Offset != 0:
		h.warn("segment %d starts at the end of the %d-byte device: no data", id, h.DeviceSize)
	case s.Offset > h.DeviceSize:
		h.problem("segment %d starts at byte %d, past the end of the %d-byte device (truncated image)", id, s.Offset, h.DeviceSize)
	case !s.Dynamic && s.Offset+s.Size > h.DeviceSize:
		h.problem("segment %d runs past the end of the device: %d bytes missing (truncated image)", id, s.Offset+s.Size-h.DeviceSize)
	}
}

func (h *Header) digests2(m *meta) {
	for _, mb := range m.digests {
		d := Digest{ID: mb.id}
		var jd jDigest
		err := json.Unmarshal(mb.raw, &jd)
		if err != nil {
			d.Type, _ = memberType(mb.raw)
			d.Problem = jsonErr(err).Error()
		} else {
			d.Type, d.Hash, d.Iterations, d.Salt, d.Digest = clip(jd.Type), clip(jd.Hash), jd.Iterations, jd.Salt, jd.Digest
			if d.Keyslots, err = parseIDs(jd.Keyslots); err == nil {
				d.Segments, err = parseIDs(jd.Segments)
			}
			switch {
			case err != nil:
				d.Problem = err.Error()
			case d.Type != "pbkdf2":
				d.Problem = fmt.Sprintf("unknown digest type %q", d.Type)
			case !knownHash(d.Hash):
				d.Problem = fmt.Sprintf("hash %q is not supported", d.Hash)
			case d.Iterations == 0:
				d.Problem = "iterations 0"
			case len(d.Digest) == 0:
				d.Problem = "empty digest"
			}
		}
		if d.Problem != "" {
			h.problem("digest %d: %s", d.ID, d.Problem)
		}
		h.Digests = append(h.Digests, d)
	}
}

func (h *Header) dataSegmentID() int {
	if h.DataSegment < 0 || h.DataSegment >= len(h.Segments) {
		return -1
	}
	return h.Segments[h.DataSegment].ID
}

func (h *Header) keyslots2(m *meta) {
	dataID := h.dataSegmentID()
	lo, hi := 2*h.HdrSize, 2*h.HdrSize+h.KeyslotsSize
	for _, mb := range m.keyslots {
		ks := Keyslot{Index: mb.id, State: "active", Priority: 1, Digest: -1}
		typ, ok := memberType(mb.raw)
		ks.Type = clip(typ)
		var jk jKeyslot
		err := json.Unmarshal(mb.raw, &jk)
		if err == nil {
			ks.KeyBytes, ks.SlotKeyLen = jk.KeySize, jk.Area.KeySize
			ks.AFType, ks.AFHash, ks.Stripes = clip(jk.AF.Type), clip(jk.AF.Hash), jk.AF.Stripes
			ks.AreaType, ks.AreaOffset, ks.AreaSize, ks.Cipher = clip(jk.Area.Type), jk.Area.Offset.v, jk.Area.Size.v, clip(jk.Area.Encryption)
			ks.KDF = KDF{Type: clip(jk.KDF.Type), Hash: clip(jk.KDF.Hash), Iterations: jk.KDF.Iterations,
				Time: jk.KDF.Time, Memory: jk.KDF.Memory, CPUs: jk.KDF.CPUs, Salt: jk.KDF.Salt}
			if jk.Priority != nil {
				ks.Priority = *jk.Priority
				if ks.Priority < 0 || ks.Priority > 2 {
					ks.Warnings = append(ks.Warnings, fmt.Sprintf("priority %d is not 0, 1 or 2 (taken as 1)", ks.Priority))
					ks.Priority = 1
				}
			}
		}
		for _, d := range h.Digests {
			if slices.Contains(d.Keyslots, ks.Index) {
				ks.Digest = d.ID
				ks.Bound = slices.Contains(d.Segments, dataID)
				break
			}
		}
		switch {
		case !ok:
			ks.Problem = "no type"
		case ks.Type == "reencrypt":
			ks.Problem = "a reencryption key slot (it holds no key)"
		case ks.Type != "luks2":
			ks.Problem = fmt.Sprintf("unknown key slot type %q", ks.Type)
		case err != nil:
			ks.Problem = jsonErr(err).Error()
		default:
			ks.Problem = ks.check2(h, lo, hi)
		}
		if ks.Problem == "" && ks.Stripes != stripesLUKS {
			ks.Warnings = append(ks.Warnings, fmt.Sprintf("stripes %d, not %d (cryptsetup refuses the slot)", ks.Stripes, stripesLUKS))
		}
		if ks.Problem == "" && (ks.KDF.Type == "argon2i" || ks.KDF.Type == "argon2id") && ks.KDF.Time > warnArgon2Time {
			ks.Warnings = append(ks.Warnings, fmt.Sprintf("argon2 time cost %d is unusually high", ks.KDF.Time))
		}
		if ks.Problem != "" {
			h.problem("key slot %d: %s", ks.Index, ks.Problem)
		}
		for _, w := range ks.Warnings {
			h.warn("key slot %d: %s", ks.Index, w)
		}
		h.Keyslots = append(h.Keyslots, ks)
	}
	for _, ks := range h.Keyslots {
		if ks.Type == "luks2" && ks.Bound && ks.KeyBytes > 0 {
			h.KeyBytes = ks.KeyBytes
			break
		}
	}
}

// check2 is luks.md §4.7's and §7's checks of a luks2 key slot; it
// returns why the slot cannot be tried, or "".
func (ks *Keyslot) check2(h *Header, lo, hi int64) string {
	switch {
	case ks.KeyBytes < 1 || ks.KeyBytes > maxKeyBytes:
		return fmt.Sprintf("key_size %d outside 1..%d", ks.KeyBytes, maxKeyBytes)
	case ks.SlotKeyLen < 1 || ks.SlotKeyLen > maxKeyBytes:
		return fmt.Sprintf("area.key_size %d outside 1..%d", ks.SlotKeyLen, maxKeyBytes)
	case ks.AFType != "luks1":
		return fmt.Sprintf("unknown af.type %q", ks.AFType)
	case ks.Stripes < 1 || ks.Stripes > maxStripes:
		return fmt.Sprintf("af.stripes %d outside 1..%d", ks.Stripes, maxStripes)
	case !knownHash(ks.AFHash):
		return fmt.Sprintf("af.hash %q is not supported", ks.AFHash)
	case ks.AreaType != "raw":
		return fmt.Sprintf("unknown area.type %q", ks.AreaType)
	case ks.Cipher == "":
		return "no area.encryption"
	case ks.AreaOffset < lo:
		return fmt.Sprintf("area at byte %d lies inside the metadata (the key slots area starts at byte %d)", ks.AreaOffset, lo)
	case ks.AreaOffset+ks.AreaSize > hi:
		return fmt.Sprintf("area (bytes %d..%d) runs past the key slots area (ending at byte %d)", ks.AreaOffset, ks.AreaOffset+ks.AreaSize, hi)
	case ks.MaterialBytes() > ks.AreaSize:
		return fmt.Sprintf("key material of %d bytes does not fit the %d-byte area", ks.MaterialBytes(), ks.AreaSize)
	case ks.AreaOffset+ks.AreaSize > h.DeviceSize:
		return fmt.Sprintf("area (bytes %d..%d) runs past the end of the %d-byte device (truncated image)", ks.AreaOffset, ks.AreaOffset+ks.AreaSize, h.DeviceSize)
	case ks.Digest < 0:
		return "no digest lists the slot: its key cannot be verified"
	}
	if d := h.digestByID(ks.Digest); d != nil && d.Problem != "" {
		return fmt.Sprintf("its digest %d cannot be used: %s", d.ID, d.Problem)
	}
	if err := checkCipher(ks.Cipher, ks.SlotKeyLen); err != nil {
		return fmt.Sprintf("area.encryption %q: %v", ks.Cipher, err)
	}
	k := &ks.KDF
	if len(k.Salt) == 0 {
		return "kdf has no salt"
	}
	switch k.Type {
	case "pbkdf2":
		if !knownHash(k.Hash) {
			return fmt.Sprintf("kdf.hash %q is not supported", k.Hash)
		}
		if k.Iterations == 0 {
			return "kdf.iterations 0"
		}
	case "argon2i", "argon2id":
		switch {
		case k.Time < 1:
			return "kdf.time 0"
		case k.CPUs < 1 || k.CPUs > maxArgon2CPUs:
			return fmt.Sprintf("kdf.cpus %d outside 1..%d", k.CPUs, maxArgon2CPUs)
		case uint64(k.Memory) < 8*uint64(k.CPUs):
			return fmt.Sprintf("kdf.memory %d KiB is below 8 KiB per lane (%d lanes)", k.Memory, k.CPUs)
		}
	default:
		return fmt.Sprintf("unknown kdf.type %q", k.Type)
	}
	return ""
}

func (h *Header) tokens2(m *meta) {
	for _, mb := range m.tokens {
		var jt jToken
		t := Token{ID: mb.id}
		if err := json.Unmarshal(mb.raw, &jt); err != nil {
			t.Type, _ = memberType(mb.raw)
		} else {
			t.Type = jt.Type
			t.Keyslots, _ = parseIDs(jt.Keyslots)
		}
		t.Type = clip(t.Type)
		h.Tokens = append(h.Tokens, t)
	}
}
