package luks

import (
	"encoding/binary"
	"fmt"
)

// probe1 decodes a LUKS1 phdr (luks.md §3) from buf, the first bytes of
// the device.
func probe1(buf []byte, size int64) (*Header, error) {
	h := &Header{Version: 1, DataSegment: -1, DeviceSize: size, SectorSize: SectorBytes, PayloadDynamic: true}
	if len(buf) < luks1HdrSize {
		h.Refused = "LUKS1 header truncated"
		return h, &FormatError{Structure: "luks1_phdr", Off: int64(len(buf)),
			Msg: fmt.Sprintf("the device ends at byte %d, inside the %d-byte header", size, luks1HdrSize), Err: ErrTruncated}
	}
	h.raw1 = append([]byte(nil), buf[:luks1HdrSize]...)
	b := h.raw1
	be := binary.BigEndian
	text := func(name string, off, n int) string {
		s, ok := cString(b[off : off+n])
		if !ok {
			h.warn("luks1_phdr.%s: no NUL terminator in the %d-byte field", name, n)
		}
		return s
	}
	h.CipherName = text("cipher-name", 8, 32)
	h.CipherMode = text("cipher-mode", 40, 32)
	h.HashSpec = text("hash-spec", 72, 32)
	h.UUID = text("uuid", 168, 40)
	h.Cipher = luks1Cipher(h.CipherName, h.CipherMode)
	payload := be.Uint32(b[104:])
	h.PayloadOffset = int64(payload) * SectorBytes
	keyBytes := be.Uint32(b[108:])
	h.KeyBytes = int(min(keyBytes, 1<<30))
	keyOK := keyBytes >= 1 && keyBytes <= maxKeyBytes
	if !keyOK {
		h.problem("key-bytes %d is not a usable key length (1..%d)", keyBytes, maxKeyBytes)
	}
	if payload == 0 {
		h.warn("payload-offset 0: a detached-header layout (the data is on another device)")
	} else if h.PayloadOffset == size {
		h.warn("the payload starts at the end of the %d-byte device: no data", size)
	} else if h.PayloadOffset > size {
		h.problem("the payload starts at byte %d, past the end of the %d-byte device (truncated image)", h.PayloadOffset, size)
	}
	hashOK := knownHash(h.HashSpec)
	if !hashOK {
		h.problem("hash-spec %q is not supported", h.HashSpec)
	}
	kb := 0
	if keyOK {
		kb = int(keyBytes)
	}
	if err := checkCipher1(h.CipherName, h.CipherMode, kb); err != nil {
		h.refuse("cipher %s: %v", h.Cipher, err)
	}

	d := Digest{ID: 0, Type: "pbkdf2", Hash: h.HashSpec, Iterations: be.Uint32(b[164:]),
		Salt: append([]byte(nil), b[132:164]...), Digest: append([]byte(nil), b[112:132]...), Segments: []int{0}}
	switch {
	case !hashOK:
		d.Problem = fmt.Sprintf("hash %q is not supported", h.HashSpec)
	case d.Iterations == 0:
		d.Problem = "mk-digest-iter is 0"
	}
	for i := range luks1Slots {
		d.Keyslots = append(d.Keyslots, i)
	}
	h.Digests = []Digest{d}
	h.Segments = []Segment{{ID: 0, Type: "crypt", Offset: h.PayloadOffset, Dynamic: true, Cipher: h.Cipher, SectorSize: SectorBytes}}
	h.DataSegment = 0

	for i := range luks1Slots {
		o := luks1SlotOff + luks1SlotSize*i
		ks := Keyslot{Index: i, Type: "luks1", ActiveField: be.Uint32(b[o:]), Cipher: h.Cipher,
			KeyBytes: h.KeyBytes, SlotKeyLen: h.KeyBytes, Stripes: int(be.Uint32(b[o+44:])),
			AFType: "luks1", AFHash: h.HashSpec, Priority: 1, Digest: 0, Bound: true,
			KDF: KDF{Type: "pbkdf2", Hash: h.HashSpec, Iterations: be.Uint32(b[o+4:]), Salt: append([]byte(nil), b[o+8:o+40]...)}}
		ks.AreaOffset = int64(be.Uint32(b[o+40:])) * SectorBytes
		ks.AreaSize = ks.MaterialBytes()
		switch ks.ActiveField {
		case luks1Active:
			ks.State = "active"
		case luks1Disabled:
			ks.State = "inactive"
		default:
			ks.State = "inactive"
			h.problem("key slot %d: active field %#08x, neither enabled nor disabled (not tried)", i, ks.ActiveField)
		}
		if ks.State == "active" {
			switch {
			case ks.Stripes < 1 || ks.Stripes > maxStripes:
				ks.Problem = fmt.Sprintf("stripes %d outside 1..%d", ks.Stripes, maxStripes)
			case !keyOK:
				ks.Problem = fmt.Sprintf("key-bytes %d is not a usable key length", keyBytes)
			case !hashOK:
				ks.Problem = fmt.Sprintf("hash %q is not supported", h.HashSpec)
			case ks.KDF.Iterations == 0:
				ks.Problem = "iterations 0"
			case ks.AreaOffset < luks1HdrSize:
				ks.Problem = fmt.Sprintf("key material at byte %d overlaps the header", ks.AreaOffset)
			case ks.AreaOffset+ks.AreaSize > size:
				ks.Problem = fmt.Sprintf("key material at bytes %d..%d runs past the end of the %d-byte device (truncated image)",
					ks.AreaOffset, ks.AreaOffset+ks.AreaSize, size)
			}
			if ks.Stripes != stripesLUKS && ks.Problem == "" {
				h.problem("key slot %d: stripes %d, not %d (cryptsetup rejects the header)", i, ks.Stripes, stripesLUKS)
			}
			if ks.Problem != "" {
				h.problem("key slot %d: %s", i, ks.Problem)
			}
		}
		h.Keyslots = append(h.Keyslots, ks)
	}
	// cryptsetup's layout checks over all eight areas (luks.md §3.2).
	if keyOK {
		for i := range h.Keyslots {
			a := &h.Keyslots[i]
			if a.Stripes < 1 || a.Stripes > maxStripes {
				continue
			}
			if payload != 0 && a.AreaOffset+a.AreaSize > h.PayloadOffset {
				h.problem("key slot %d: key material (bytes %d..%d) reaches past the payload at byte %d",
					i, a.AreaOffset, a.AreaOffset+a.AreaSize, h.PayloadOffset)
			}
			for j := i + 1; j < len(h.Keyslots); j++ {
				c := &h.Keyslots[j]
				if c.Stripes < 1 || c.Stripes > maxStripes {
					continue
				}
				if a.AreaOffset < c.AreaOffset+c.AreaSize && c.AreaOffset < a.AreaOffset+a.AreaSize {
					h.problem("key slots %d and %d: key material areas overlap (cryptsetup rejects the header)", i, j)
				}
			}
		}
	}
	return h, nil
}

// luks1Cipher joins a LUKS1 cipher-name and cipher-mode into the dm-crypt
// specification (luks.md §3.1, §6.2): "aes" + "xts-plain64" =
// "aes-xts-plain64".
func luks1Cipher(name, mode string) string {
	if mode == "" {
		return name
	}
	return name + "-" + mode
}
