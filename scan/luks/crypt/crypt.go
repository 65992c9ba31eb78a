// Package crypt decrypts the sectors of LUKS payloads and key-slot
// areas: the dm-crypt cipher specifications of luks.md §6 (XTS as in
// IEEE 1619 / NIST SP 800-38E, CBC and ECB over AES and Twofish, with the
// plain, plain64, plain64be, essiv:HASH and null IV generators), and the
// decrypted payload as a device of the device graph. Read-only: nothing
// here encrypts.
//
// Checked against: the IEEE 1619 XTS-AES vectors; luks.md §9.1; files
// encrypted by cryptsetup 2.6's own user-space code (aes-xts-plain64 with
// 512-, 2048- and 4096-byte sectors, aes-cbc-essiv:sha256, aes-xts-plain,
// aes-cbc-plain64, aes-xts-plain64be and aes-ecb); the kernel-made
// fixtures luks1-lvm and luks2-lvm (aes-xts-plain64). Twofish and the
// other combinations rest on round trips through an independent
// encryptor in the tests. Serpent is refused: neither the Go standard
// library nor golang.org/x/crypto implements it.
package crypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"

	//lint:ignore SA1019 Twofish volumes exist: reading them needs the cipher
	"golang.org/x/crypto/twofish"
)

// Cipher decrypts sectors encrypted with a dm-crypt cipher specification
// and a key. It is safe for concurrent use; Wipe clears its key.
//
// The sector number given to Decrypt is the IV sector number of
// luks.md §6.4: for a LUKS payload, iv_tweak + (byte offset in the data
// area) / 512, counted in 512-byte units whatever the sector size (so the
// IVs of consecutive 4096-byte sectors are 0, 8, 16, ...); for LUKS key
// material (§5.3), 512-byte sectors numbered from 0 at the first byte of
// the material. The IVLargeSectors option counts in sector-size units
// instead (dm-crypt's iv_large_sectors, never used by LUKS).
type Cipher struct {
	spec       string
	name       string // block cipher: "aes", "twofish", "cipher_null"
	mode       string // "xts", "cbc", "ecb"
	ivmode     string // "plain64", "plain", "plain64be", "essiv", "null", "" (ecb)
	ivhash     string // essiv's hash
	sectorSize int
	ivStep     uint64 // IV sector numbers per encryption sector
	keySize    int

	mu    sync.RWMutex
	wiped bool
	key   []byte       // the copy of the key
	data  cipher.Block // decrypts the data (XTS: first half of the key)
	tweak cipher.Block // XTS: encrypts the tweak (second half of the key)
	essiv cipher.Block // ESSIV: encrypts the sector number (keyed with H(key))
	// cleared says whether Wipe could clear each key schedule (see Wipe).
	cleared bool
}

// Option changes how New builds a Cipher.
type Option func(*options)

type options struct {
	largeIV bool
}

// IVLargeSectors makes IV sector numbers count in sector-size units
// (dm-crypt's iv_large_sectors option): consecutive sectors of any size
// get IVs first, first+1, first+2, .... LUKS never uses it (luks.md
// §6.4): without it IVs count in 512-byte units.
func IVLargeSectors() Option { return func(o *options) { o.largeIV = true } }

// ErrWiped is returned by Decrypt after Wipe.
var ErrWiped = errors.New("crypt: the cipher's key has been wiped")

// SpecError is a cipher specification that cannot be used: malformed,
// unknown, or known but not supported (then errors.Is(err,
// errors.ErrUnsupported) is true).
type SpecError struct {
	Spec        string // the specification as given
	Why         string // what is wrong with it
	Unsupported bool   // a form or algorithm that exists but is not implemented here
}

func (e *SpecError) Error() string {
	return fmt.Sprintf("crypt: cipher specification %q: %s", e.Spec, e.Why)
}

// Is makes errors.Is(err, errors.ErrUnsupported) true for specifications
// that are valid dm-crypt but not supported here.
func (e *SpecError) Is(target error) bool {
	return e.Unsupported && target == errors.ErrUnsupported
}

// KeySizeError is a key whose length does not fit the specification.
type KeySizeError struct {
	Spec string
	Size int   // the key's length in bytes
	Want []int // the lengths the specification takes
	Why  string
}

func (e *KeySizeError) Error() string {
	if e.Why != "" {
		return fmt.Sprintf("crypt: %s: %s", e.Spec, e.Why)
	}
	w := make([]string, len(e.Want))
	for i, n := range e.Want {
		w[i] = fmt.Sprint(n)
	}
	alt := strings.Join(w, ", ")
	if i := strings.LastIndex(alt, ", "); i >= 0 {
		alt = alt[:i] + " or " + alt[i+2:]
	}
	return fmt.Sprintf("crypt: %s needs a key of %s bytes, got %d", e.Spec, alt, e.Size)
}

// SectorSizeError is an encryption sector size other than 512, 1024,
// 2048 or 4096 bytes.
type SectorSizeError struct {
	Size int
}

func (e *SectorSizeError) Error() string {
	return fmt.Sprintf("crypt: encryption sector size %d bytes: must be 512, 1024, 2048 or 4096", e.Size)
}

// LengthError is a buffer given to Decrypt that is not a whole number of
// encryption sectors.
type LengthError struct {
	Len, SectorSize int
}

func (e *LengthError) Error() string {
	return fmt.Sprintf("crypt: %d bytes to decrypt: not a multiple of the %d-byte encryption sector", e.Len, e.SectorSize)
}

// blockCipher is one block cipher by its dm-crypt name.
type blockCipher struct {
	keySizes []int // sizes of one key (per half for XTS)
	new      func(key []byte) (cipher.Block, error)
}

var ciphers = map[string]blockCipher{
	"aes": {[]int{16, 24, 32}, aes.NewCipher},
	"twofish": {[]int{16, 24, 32}, func(k []byte) (cipher.Block, error) {
		return twofish.NewCipher(k)
	}},
}

// Refused by name (luks.md §6.2, §6.7).
var unsupportedCiphers = map[string]string{
	"serpent":     "Serpent is not supported: neither the Go standard library nor golang.org/x/crypto has an implementation",
	"cast5":       "CAST5 is not supported (64-bit blocks)",
	"cast6":       "CAST6 is not supported",
	"camellia":    "Camellia is not supported",
	"blowfish":    "Blowfish is not supported (64-bit blocks)",
	"des":         "DES is not supported (64-bit blocks)",
	"des3_ede":    "Triple DES is not supported (64-bit blocks)",
	"sm4":         "SM4 is not supported",
	"aria":        "ARIA is not supported",
	"anubis":      "Anubis is not supported",
	"khazad":      "Khazad is not supported",
	"tnepres":     "Tnepres is not supported",
	"xchacha12":   "Adiantum (xchacha) is not supported",
	"xchacha20":   "Adiantum (xchacha) is not supported",
	"chacha20":    "ChaCha20 is not supported",
	"aegis128":    "AEGIS (an AEAD with integrity) is not supported",
	"morus640":    "MORUS (an AEAD with integrity) is not supported",
	"morus1280":   "MORUS (an AEAD with integrity) is not supported",
	"twofish_avx": "the kernel's driver names are not supported; use \"twofish\"",
	"aes_ni":      "the kernel's driver names are not supported; use \"aes\"",
}

var unsupportedModes = map[string]string{
	"lrw":      "the LRW chain mode is not supported",
	"pcbc":     "the PCBC chain mode is not supported",
	"ctr":      "the CTR chain mode is not supported",
	"cts":      "the CTS chain mode is not supported",
	"gcm":      "the GCM mode (AEAD, needs dm-integrity) is not supported",
	"ccm":      "the CCM mode (AEAD, needs dm-integrity) is not supported",
	"hctr2":    "the HCTR2 mode is not supported",
	"adiantum": "the Adiantum mode is not supported",
	"ofb":      "the OFB chain mode is not supported",
	"cfb":      "the CFB chain mode is not supported",
}

var unsupportedIVs = map[string]string{
	"lmk":      "the lmk IV generator (loop-AES compatibility) is not supported",
	"tcw":      "the tcw IV generator (TrueCrypt compatibility) is not supported",
	"random":   "the random IV generator (authenticated encryption with dm-integrity) is not supported",
	"eboiv":    "the eboiv IV generator (BitLocker compatibility) is not supported",
	"elephant": "the elephant IV generator (BitLocker's diffuser) is not supported",
	"benbi":    "the benbi IV generator is not supported",
}

// essivHashes computes the ESSIV salt into out (at least 64 bytes) and
// returns its length. The one-shot Sum functions keep their state on the
// stack, where a heap hash.Hash would keep the key's last partial block.
var essivHashes = map[string]func(out, key []byte) int{
	"sha1":   func(out, key []byte) int { s := sha1.Sum(key); return copy(out, s[:]) },
	"sha224": func(out, key []byte) int { s := sha256.Sum224(key); return copy(out, s[:]) },
	"sha256": func(out, key []byte) int { s := sha256.Sum256(key); return copy(out, s[:]) },
	"sha384": func(out, key []byte) int { s := sha512.Sum384(key); return copy(out, s[:]) },
	"sha512": func(out, key []byte) int { s := sha512.Sum512(key); return copy(out, s[:]) },
}

// New returns a Cipher for spec, a dm-crypt cipher specification
// ("aes-xts-plain64", "aes-cbc-essiv:sha256", "twofish-xts-plain64",
// "aes-ecb", "cipher_null-ecb", ...; luks.md §6.2), key (the volume key
// or a slot key; copied) and the encryption sector size in bytes (512,
// 1024, 2048 or 4096; key material is always decrypted in 512-byte
// sectors, luks.md §5.3).
//
// Key lengths: XTS takes two keys of the block cipher's size, 32, 48 or
// 64 bytes for AES and Twofish (the first half decrypts the data, the
// second encrypts the tweak; 48 bytes, AES-192, is unverified in LUKS);
// CBC and ECB take 16, 24 or 32 bytes; cipher_null (no encryption) takes
// any key. ESSIV encrypts the sector number with the same block cipher
// keyed with HASH(key): with AES or Twofish only sha256 gives a usable
// key length (sha1, sha224, sha384 and sha512 are refused with a
// KeySizeError saying so).
//
// Serpent, loop-AES key counts ("aes:64-cbc-lmk"), the "capi:" form, the
// lmk, tcw, random, eboiv, elephant and benbi IV generators and AEAD
// modes are refused with a SpecError naming them (errors.Is(err,
// errors.ErrUnsupported)).
func New(spec string, key []byte, sectorSize int, opts ...Option) (*Cipher, error) {
	var o options
	for _, f := range opts {
		if f != nil {
			f(&o)
		}
	}
	switch sectorSize {
	case 512, 1024, 2048, 4096:
	default:
		return nil, &SectorSizeError{Size: sectorSize}
	}
	c := &Cipher{spec: spec, sectorSize: sectorSize, ivStep: uint64(sectorSize / 512), keySize: len(key)}
	if o.largeIV {
		c.ivStep = 1
	}
	if err := c.parse(); err != nil {
		return nil, err
	}
	if err := c.setKey(key); err != nil {
		return nil, err
	}
	return c, nil
}

// New2 is New for LUKS1, whose header gives the cipher name ("aes") and
// the cipher mode ("xts-plain64", "cbc-essiv:sha256") separately: the
// specification is name + "-" + mode (luks.md §6.2).
func New2(name, mode string, key []byte, sectorSize int, opts ...Option) (*Cipher, error) {
	spec := name + "-" + mode
	if name == "" || strings.Contains(name, "-") {
		return nil, &SpecError{Spec: spec, Why: fmt.Sprintf("cipher name %q is not a single name", name)}
	}
	return New(spec, key, sectorSize, opts...)
}

func (c *Cipher) parse() error {
	spec := c.spec
	bad := func(unsupported bool, format string, a ...any) error {
		return &SpecError{Spec: spec, Why: fmt.Sprintf(format, a...), Unsupported: unsupported}
	}
	if spec == "" {
		return bad(false, "empty")
	}
	if strings.HasPrefix(spec, "capi:") {
		return bad(true, "the kernel crypto API form \"capi:...\" is not supported")
	}
	for _, r := range spec {
		if r <= ' ' || r >= 0x7f {
			return bad(false, "contains a space, control or non-ASCII character")
		}
	}
	parts := strings.SplitN(spec, "-", 3)
	name := parts[0]
	if i := strings.IndexByte(name, ':'); i >= 0 {
		return bad(true, "a key count (%q, loop-AES style multi-key) is not supported", name[i:])
	}
	if name == "" {
		return bad(false, "no cipher name")
	}
	if name == "cipher_null" {
		// No encryption: "cipher_null-ecb" (luks.md §6.7).
		if len(parts) < 2 || parts[1] != "ecb" {
			return bad(false, "cipher_null takes only the ecb mode (cipher_null-ecb)")
		}
		if len(parts) == 3 && parts[2] != "null" && parts[2] != "" {
			return bad(false, "cipher_null takes no IV generator, not %q", parts[2])
		}
		c.name, c.mode = name, "ecb"
		return nil
	}
	if why, ok := unsupportedCiphers[name]; ok {
		return bad(true, "%s", why)
	}
	if _, ok := ciphers[name]; !ok {
		return bad(false, "unknown cipher %q (supported: aes, twofish, cipher_null)", name)
	}
	c.name = name
	if len(parts) < 2 || parts[1] == "" {
		return bad(false, "no chain mode after the cipher name (e.g. %s-xts-plain64)", name)
	}
	mode := parts[1]
	if why, ok := unsupportedModes[mode]; ok {
		return bad(true, "%s", why)
	}
	switch mode {
	case "xts", "cbc", "ecb":
	default:
		return bad(false, "unknown chain mode %q (supported: xts, cbc, ecb)", mode)
	}
	c.mode = mode
	if mode == "ecb" {
		if len(parts) == 3 && parts[2] != "" && parts[2] != "null" {
			return bad(false, "ecb takes no IV generator, not %q", parts[2])
		}
		return nil
	}
	if len(parts) < 3 || parts[2] == "" {
		return bad(false, "no IV generator after the chain mode (e.g. %s-%s-plain64)", name, mode)
	}
	iv, opt, hasOpt := strings.Cut(parts[2], ":")
	if why, ok := unsupportedIVs[iv]; ok {
		return bad(true, "%s", why)
	}
	switch iv {
	case "plain64", "plain", "plain64be", "null":
		if hasOpt {
			return bad(false, "the %s IV generator takes no option, not %q", iv, opt)
		}
	case "essiv":
		if !hasOpt || opt == "" {
			return bad(false, "the essiv IV generator needs a hash (essiv:sha256)")
		}
		if _, ok := essivHashes[opt]; !ok {
			return bad(false, "unknown ESSIV hash %q (supported: sha256; sha1, sha224, sha384, sha512 parse but give no usable key)", opt)
		}
		c.ivhash = opt
	default:
		return bad(false, "unknown IV generator %q (supported: plain64, plain, plain64be, essiv:sha256, null)", parts[2])
	}
	c.ivmode = iv
	return nil
}

func (c *Cipher) setKey(key []byte) error {
	if c.name == "cipher_null" {
		c.key = append([]byte(nil), key...)
		return nil
	}
	bc := ciphers[c.name]
	want := bc.keySizes
	if c.mode == "xts" {
		want = make([]int, len(bc.keySizes))
		for i, n := range bc.keySizes {
			want[i] = 2 * n
		}
	}
	ok := false
	for _, n := range want {
		ok = ok || len(key) == n
	}
	if !ok {
		return &KeySizeError{Spec: c.spec, Size: len(key), Want: want}
	}
	c.key = append([]byte(nil), key...)
	var err error
	if c.mode == "xts" {
		h := len(c.key) / 2
		if c.data, err = bc.new(c.key[:h]); err == nil {
			c.tweak, err = bc.new(c.key[h:])
		}
	} else {
		c.data, err = bc.new(c.key)
	}
	if err == nil && c.ivmode == "essiv" {
		var buf [64]byte
		salt := buf[:essivHashes[c.ivhash](buf[:], c.key)]
		ok := false
		for _, n := range bc.keySizes {
			ok = ok || len(salt) == n
		}
		if ok {
			c.essiv, err = bc.new(salt)
		} else {
			err = &KeySizeError{Spec: c.spec, Size: len(key), Why: fmt.Sprintf("the ESSIV salt %s(key) has %d bytes, not a %s key size", c.ivhash, len(salt), c.name)}
		}
		clear(salt)
	}
	if err != nil {
		c.wipeLocked()
		var ke *KeySizeError
		if errors.As(err, &ke) {
			return err
		}
		return &KeySizeError{Spec: c.spec, Size: len(key), Want: want, Why: err.Error()}
	}
	return nil
}

// Spec is the cipher specification.
func (c *Cipher) Spec() string { return c.spec }

// SectorSize is the encryption sector size in bytes.
func (c *Cipher) SectorSize() int { return c.sectorSize }

// IVStep is how far the IV sector number advances from one encryption
// sector to the next: sector size / 512, or 1 with IVLargeSectors.
func (c *Cipher) IVStep() uint64 { return c.ivStep }

// KeySize is the key's length in bytes.
func (c *Cipher) KeySize() int { return c.keySize }

// Decrypt decrypts b in place. len(b) must be a multiple of the sector
// size; first is the IV sector number of b's first sector, the next
// sectors' are first + IVStep(), first + 2·IVStep(), ... (wrapping at
// 2⁶⁴; the plain generator uses the low 32 bits). Safe for concurrent
// use on distinct buffers.
func (c *Cipher) Decrypt(b []byte, first uint64) error {
	if len(b)%c.sectorSize != 0 {
		return &LengthError{Len: len(b), SectorSize: c.sectorSize}
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.wiped {
		return ErrWiped
	}
	if c.name == "cipher_null" {
		return nil
	}
	s := first
	iv := new([16]byte) // one allocation per call: it escapes to the block ciphers
	for len(b) > 0 {
		sec := b[:c.sectorSize]
		b = b[c.sectorSize:]
		switch c.mode {
		case "xts":
			c.iv(iv, s)
			c.tweak.Encrypt(iv[:], iv[:])
			xtsDecrypt(c.data, sec, iv)
		case "cbc":
			c.iv(iv, s)
			cbcDecrypt(c.data, sec, iv)
		case "ecb":
			for i := 0; i < len(sec); i += 16 {
				c.data.Decrypt(sec[i:i+16], sec[i:i+16])
			}
		}
		s += c.ivStep
	}
	return nil
}

// iv writes the IV of sector s (luks.md §6.3).
func (c *Cipher) iv(iv *[16]byte, s uint64) {
	*iv = [16]byte{}
	switch c.ivmode {
	case "plain64":
		binary.LittleEndian.PutUint64(iv[:8], s)
	case "plain":
		binary.LittleEndian.PutUint32(iv[:4], uint32(s))
	case "plain64be":
		binary.BigEndian.PutUint64(iv[8:], s)
	case "essiv":
		binary.LittleEndian.PutUint64(iv[:8], s)
		c.essiv.Encrypt(iv[:], iv[:])
	}
}

// xtsDecrypt decrypts one XTS data unit in place; t is the encrypted
// tweak (IEEE 1619: T = E_K2(i) ⊗ α^j, little-endian GF(2¹²⁸)). It works
// in runs of up to 32 blocks: the tweaks of a run first, then the run
// XORed with them (crypto/subtle, vector instructions), decrypted block
// by block, and XORed again, which keeps the block decryptions' loads
// clear of the 8-byte stores that computing a tweak makes.
func xtsDecrypt(b cipher.Block, sec []byte, t *[16]byte) {
	lo := binary.LittleEndian.Uint64(t[:8])
	hi := binary.LittleEndian.Uint64(t[8:])
	var tw [512]byte
	for len(sec) >= 16 {
		n := min(len(sec), len(tw)) &^ 15
		run, tws := sec[:n], tw[:n]
		for i := 0; i < n; i += 16 {
			binary.LittleEndian.PutUint64(tws[i:], lo)
			binary.LittleEndian.PutUint64(tws[i+8:], hi)
			// t = t·α: shift left by one bit, reduce by x¹²⁸ + x⁷ + x² + x + 1.
			carry := hi >> 63
			hi = hi<<1 | lo>>63
			lo = lo<<1 ^ carry*0x87
		}
		subtle.XORBytes(run, run, tws)
		for i := 0; i < n; i += 16 {
			blk := run[i : i+16 : i+16]
			b.Decrypt(blk, blk)
		}
		subtle.XORBytes(run, run, tws)
		sec = sec[n:]
	}
}

// cbcDecrypt decrypts one CBC chain in place, in runs of up to 32 blocks
// from the end of the sector to its start, so that the ciphertext each
// run is XORed with (the blocks before it, or the IV) is still there to
// be copied first.
func cbcDecrypt(b cipher.Block, sec []byte, iv *[16]byte) {
	var prev [512]byte
	for end := len(sec) &^ 15; end > 0; {
		n := min(end, len(prev))
		start := end - n
		run, p := sec[start:end], prev[:n]
		if start == 0 {
			copy(p, iv[:])
			copy(p[16:], sec[:n-16])
		} else {
			copy(p, sec[start-16:end-16])
		}
		for i := 0; i < n; i += 16 {
			blk := run[i : i+16 : i+16]
			b.Decrypt(blk, blk)
		}
		subtle.XORBytes(run, run, p)
		end = start
	}
}

// Wipe clears the key: the Cipher's copy of it and the expanded key
// schedules of the block ciphers (data, tweak and ESSIV), which are
// zeroed in place where they are plain arrays of integers (crypto/aes's
// and x/crypto/twofish's are); Decrypt then returns ErrWiped. It waits
// for Decrypt calls under way.
//
// What cannot be cleared: transient copies made while New ran (the
// ESSIV hash's state and the key-expansion temporaries, on the goroutine
// stack and in registers), the caller's own key buffer (the caller
// clears it), and a schedule whose type is not a plain array of integers
// (SchedulesCleared reports false then; it is dropped for the garbage
// collector).
func (c *Cipher) Wipe() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wipeLocked()
}

func (c *Cipher) wipeLocked() {
	clear(c.key)
	c.key = nil
	ok := true
	for _, b := range []*cipher.Block{&c.data, &c.tweak, &c.essiv} {
		if *b != nil {
			ok = zeroSchedule(*b) && ok
			*b = nil
		}
	}
	c.cleared = ok
	c.wiped = true
}

// SchedulesCleared reports, after Wipe, whether every expanded key
// schedule was zeroed in place (true with crypto/aes and Twofish).
func (c *Cipher) SchedulesCleared() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.wiped && c.cleared
}
