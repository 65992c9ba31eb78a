package luks

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// On-disk constants (luks.md §2-4).
const (
	SectorBytes = 512 // LUKS1 sectors, key material sectors, IV units

	luks1HdrSize   = 592
	luks1SlotOff   = 208
	luks1SlotSize  = 48
	luks1Slots     = 8
	luks1Active    = 0x00AC71F3
	luks1Disabled  = 0x0000DEAD
	luks2BinSize   = 4096
	probeSize      = 4096
	stripesLUKS    = 4000 // the only value cryptsetup writes
	maxStripes     = 4000
	maxKeyBytes    = 512 // refuse larger keys (area read = key × stripes)
	maxArgon2CPUs  = 16
	warnArgon2Time = 100
)

var (
	magic1 = []byte{'L', 'U', 'K', 'S', 0xBA, 0xBE}
	magic2 = []byte{'S', 'K', 'U', 'L', 0xBA, 0xBE}
)

// HeaderSizes are the nine LUKS2 hdr_size values (luks.md §4.2): each is
// also the offset of the secondary header for that size.
var HeaderSizes = []int64{16384, 32768, 65536, 131072, 262144, 524288, 1048576, 2097152, 4194304}

// KDF is a key slot's key derivation (luks.md §5.2).
type KDF struct {
	Type       string `json:"type"`                 // "pbkdf2", "argon2i", "argon2id"
	Hash       string `json:"hash,omitempty"`       // pbkdf2: PRF hash
	Iterations uint32 `json:"iterations,omitempty"` // pbkdf2
	Time       uint32 `json:"time,omitempty"`       // argon2: passes
	Memory     uint32 `json:"memory,omitempty"`     // argon2: KiB
	CPUs       uint32 `json:"cpus,omitempty"`       // argon2: lanes
	Salt       []byte `json:"salt"`
}

// Keyslot is one key slot: LUKS1's eight fixed slots, or a LUKS2 keyslots
// member. Offsets are bytes from the start of the LUKS device.
type Keyslot struct {
	Index       int    `json:"index"`
	Type        string `json:"type"`                   // "luks1"; LUKS2 "luks2", "reencrypt", ...
	State       string `json:"state"`                  // "active", "inactive"
	ActiveField uint32 `json:"active_field,omitempty"` // LUKS1: the stored active word
	KDF         KDF    `json:"kdf"`
	AreaType    string `json:"area_type,omitempty"` // LUKS2 area.type ("raw")
	AreaOffset  int64  `json:"area_offset"`
	AreaSize    int64  `json:"area_size"`
	KeyBytes    int    `json:"key_bytes"`      // length of the key stored (AF-merged)
	SlotKeyLen  int    `json:"slot_key_bytes"` // length of the slot key (LUKS2 area.key_size)
	Stripes     int    `json:"stripes"`
	AFType      string `json:"af_type"`
	AFHash      string `json:"af_hash"`
	Cipher      string `json:"cipher"`   // of the key material
	Priority    int    `json:"priority"` // 0 ignore, 1 normal, 2 prefer
	Digest      int    `json:"digest"`   // id of the digest that lists the slot; -1 none
	Bound       bool   `json:"bound"`    // that digest lists the data segment
	// Problem says why the slot cannot be tried ("" when it can).
	Problem  string   `json:"problem,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

// Usable reports whether Unlock may try the slot.
func (k *Keyslot) Usable() bool {
	return k.State == "active" && k.Problem == "" && (k.Type == "luks1" || k.Type == "luks2")
}

// MaterialBytes is the length of the key material read for the slot:
// KeyBytes × Stripes rounded up to whole 512-byte sectors (luks.md §5.3).
func (k *Keyslot) MaterialBytes() int64 {
	n := int64(k.KeyBytes) * int64(k.Stripes)
	return (n + SectorBytes - 1) / SectorBytes * SectorBytes
}

// Digest checks a volume key (luks.md §4.8, §5.5). LUKS1's mk-digest is
// digest 0, listing every slot and segment 0.
type Digest struct {
	ID         int    `json:"id"`
	Type       string `json:"type"` // "pbkdf2"
	Keyslots   []int  `json:"keyslots"`
	Segments   []int  `json:"segments"`
	Hash       string `json:"hash"`
	Iterations uint32 `json:"iterations"`
	Salt       []byte `json:"salt"`
	Digest     []byte `json:"digest"`
	Problem    string `json:"problem,omitempty"`
}

// Segment is a data segment (luks.md §4.9). LUKS1 has one, made from the
// phdr: offset payload-offset × 512, dynamic, sector size 512.
type Segment struct {
	ID         int      `json:"id"`
	Type       string   `json:"type"` // "crypt", ...
	Offset     int64    `json:"offset"`
	Size       int64    `json:"size,omitempty"` // bytes, unless Dynamic
	Dynamic    bool     `json:"dynamic"`        // to the end of the device
	IVTweak    uint64   `json:"iv_tweak"`       // 512-byte units
	Cipher     string   `json:"cipher"`
	SectorSize int      `json:"sector_size"`
	Integrity  string   `json:"integrity,omitempty"` // integrity type, if the segment has one
	Flags      []string `json:"flags,omitempty"`

	bad bool // its JSON could not be decoded
}

// Token is a LUKS2 token (luks.md §4.10): shown, never used.
type Token struct {
	ID       int    `json:"id"`
	Type     string `json:"type"`
	Keyslots []int  `json:"keyslots,omitempty"`
}

// Copy is one LUKS2 binary header plus JSON area.
type Copy struct {
	Name         string `json:"name"` // "primary", "secondary"
	Offset       int64  `json:"offset"`
	HdrSize      int64  `json:"hdr_size"`
	SeqID        uint64 `json:"seqid"`
	UUID         string `json:"uuid,omitempty"`
	Label        string `json:"label,omitempty"`
	CsumAlg      string `json:"csum_alg,omitempty"`
	CsumStored   string `json:"csum_stored,omitempty"`   // hex
	CsumComputed string `json:"csum_computed,omitempty"` // hex
	Valid        bool   `json:"valid"`
	Used         bool   `json:"used"`
	Problem      string `json:"problem,omitempty"` // why it is not valid
	// Err is the *FormatError behind Problem.
	Err error `json:"-"`

	bin      []byte // the 4096-byte binary header
	jsonArea int    // bytes of the JSON area read (0: not read)
	jsonText []byte // up to the first NUL
	jsonPad  int    // non-zero bytes after the NUL
	meta     *meta
}

// JSON is the copy's JSON text (up to the first NUL of its area).
func (c *Copy) JSON() string { return string(c.jsonText) }

// Header is a decoded LUKS1 or LUKS2 header. Offsets and sizes are bytes
// from the start of the LUKS device unless a name says otherwise.
type Header struct {
	Version   int    `json:"version"` // 1 or 2
	UUID      string `json:"uuid"`
	Label     string `json:"label,omitempty"`     // LUKS2
	Subsystem string `json:"subsystem,omitempty"` // LUKS2
	// Cipher is the payload's cipher specification as dm-crypt names it
	// ("aes-xts-plain64"); LUKS1's cipher-name "-" cipher-mode.
	Cipher     string `json:"cipher"`
	CipherName string `json:"cipher_name,omitempty"` // LUKS1
	CipherMode string `json:"cipher_mode,omitempty"` // LUKS1
	HashSpec   string `json:"hash_spec,omitempty"`   // LUKS1
	KeyBytes   int    `json:"key_bytes"`             // volume key length (0: unknown)
	SectorSize int    `json:"sector_size"`           // encryption sector
	// PayloadOffset is where the encrypted data starts.
	PayloadOffset int64 `json:"payload_offset"`
	// PayloadLength is the data's length when the segment has a fixed
	// size; PayloadDynamic says it runs to the end of the device (see the
	// PayloadSize method).
	PayloadLength  int64 `json:"payload_length,omitempty"`
	PayloadDynamic bool  `json:"payload_dynamic"`
	// IVTweak is added to every IV sector number, in 512-byte units: the
	// encryption sector at byte b of the data area has IV sector
	// IVTweak + b/512 (luks.md §6.4; see IVSector).
	IVTweak uint64 `json:"iv_tweak"`

	Keyslots []Keyslot `json:"keyslots"`
	Digests  []Digest  `json:"digests"`
	Segments []Segment `json:"segments"`
	Tokens   []Token   `json:"tokens,omitempty"`

	// LUKS2 only.
	SeqID        uint64   `json:"seqid,omitempty"`         // "Epoch"
	HdrSize      int64    `json:"hdr_size,omitempty"`      // metadata area: binary header + JSON
	KeyslotsSize int64    `json:"keyslots_size,omitempty"` // key slots area, from 2 × HdrSize
	Flags        []string `json:"flags,omitempty"`         // config.flags
	Requirements []string `json:"requirements,omitempty"`  // config.requirements (mandatory)
	Copies       []*Copy  `json:"copies,omitempty"`        // the binary header copies found

	// DataSegment is the index in Segments of the data segment, -1 none.
	DataSegment int `json:"data_segment"`
	// Problems lists damage: a damaged header copy, a slot that cannot be
	// used, a layout cryptsetup would reject.
	Problems []string `json:"problems,omitempty"`
	// Warnings lists oddities that do not stop anything.
	Warnings []string `json:"warnings,omitempty"`
	// Refused says why the payload cannot be opened safely ("" when it
	// can): reencryption in progress, integrity, an unknown requirement,
	// an unsupported segment.
	Refused string `json:"refused,omitempty"`

	DeviceSize int64 `json:"device_size"` // as given to Probe

	raw1 []byte // LUKS1: the 592-byte phdr
	used *Copy
}

// PayloadSize is the length in bytes of the encrypted data on a LUKS
// device of devSize bytes: the segment's size, or for a dynamic segment
// what lies between PayloadOffset and devSize; 0 when the data starts at
// or past devSize.
func (h *Header) PayloadSize(devSize int64) int64 {
	if h.PayloadDynamic {
		return max(0, devSize-h.PayloadOffset)
	}
	return h.PayloadLength
}

// IVSector is the IV sector number of the encryption sector that starts
// at byte b of the data area (b a multiple of SectorSize): IVTweak +
// b/512, counted in 512-byte units whatever the sector size (luks.md §6.4).
func (h *Header) IVSector(b int64) uint64 { return h.IVTweak + uint64(b)/SectorBytes }

// JSON is the text of the LUKS2 JSON area in use ("" for LUKS1).
func (h *Header) JSON() string {
	if h.used == nil {
		return ""
	}
	return h.used.JSON()
}

// Keyslot returns the key slot with the index, or nil.
func (h *Header) Keyslot(index int) *Keyslot {
	for i := range h.Keyslots {
		if h.Keyslots[i].Index == index {
			return &h.Keyslots[i]
		}
	}
	return nil
}

func (h *Header) digestByID(id int) *Digest {
	for i := range h.Digests {
		if h.Digests[i].ID == id {
			return &h.Digests[i]
		}
	}
	return nil
}

func (h *Header) problem(format string, a ...any) {
	if len(h.Problems) < maxMessages {
		h.Problems = append(h.Problems, fmt.Sprintf(format, a...))
	}
}

func (h *Header) warn(format string, a ...any) {
	if len(h.Warnings) < maxMessages {
		h.Warnings = append(h.Warnings, fmt.Sprintf(format, a...))
	}
}

func (h *Header) refuse(format string, a ...any) {
	s := fmt.Sprintf(format, a...)
	if h.Refused == "" {
		h.Refused = s
	} else if !strings.Contains(h.Refused, s) && len(h.Refused) < 4096 {
		h.Refused += "; " + s
	}
}

const maxMessages = 256

// Probe reads the LUKS header of a device of size bytes read through r
// (luks.md §2, §3, §4). It returns ErrNotLUKS when there is no LUKS magic
// at offset 0 nor a LUKS2 secondary header at any offset of §4.2. When a
// magic is found the header is returned even if it cannot be used, with
// an error saying why (a *FormatError; ErrNoValidHeader for a LUKS2
// volume without a valid copy): its Structures can still be shown.
func Probe(r io.ReaderAt, size int64) (*Header, error) {
	n := min(int64(probeSize), size)
	if n < int64(len(magic1))+2 {
		return nil, ErrNotLUKS
	}
	buf := make([]byte, n)
	if err := readFull(r, buf, 0); err != nil {
		return nil, fmt.Errorf("luks: reading %d bytes at byte 0: %w", n, err)
	}
	if bytes.Equal(buf[:6], magic1) {
		switch v := binary.BigEndian.Uint16(buf[6:]); v {
		case 1:
			return probe1(buf, size)
		case 2:
			return probe2(r, size, buf)
		default:
			h := &Header{Version: int(v), DataSegment: -1, DeviceSize: size}
			h.Refused = fmt.Sprintf("LUKS header with unknown version %d", v)
			return h, &FormatError{Structure: "luks_header", Field: "version", Off: 6,
				Msg: h.Refused, Stored: fmt.Sprint(v), Computed: "1 or 2", Err: ErrUnsupported}
		}
	}
	return probe2(r, size, nil)
}

func readFull(r io.ReaderAt, b []byte, off int64) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// cString is a NUL-terminated text field: up to the first NUL, or the
// whole field (ok false) when it has none.
func cString(b []byte) (s string, ok bool) {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return string(b[:i]), true
	}
	return string(b), false
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func nonZero(b []byte) int {
	n := 0
	for _, c := range b {
		if c != 0 {
			n++
		}
	}
	return n
}

// roundUp rounds n up to a multiple of m (m > 0), saturating near the top.
func roundUp(n, m int64) int64 {
	if n > (1<<62)-m {
		return 1 << 62
	}
	return (n + m - 1) / m * m
}
