package luks

import (
	"crypto/aes"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/xts"
)

// A test-only LUKS writer, from luks.md: key material is AF-split and
// encrypted here with golang.org/x/crypto/xts and digests computed with
// the standard library's PBKDF2, independently of the reader's code
// paths (only diffuse is shared, and checked against luks.md §9.1).

type hmSlot struct {
	id       int
	pass     string
	kdf      string // "pbkdf2" (default), "argon2i", "argon2id"
	hash     string // pbkdf2 hash, default sha256
	iter     uint32 // pbkdf2 iterations, default 1000
	time     uint32 // argon2, default 1
	mem      uint32 // argon2 KiB, default 64
	cpus     uint32 // argon2 lanes, default 1
	priority *int
	unbound  bool   // LUKS2: a key of its own, its digest bound to no segment
	afHash   string // default sha256
	stripes  int    // default 4000
	active   uint32 // LUKS1: the active word, default enabled
}

type hmVol struct {
	version int
	key     []byte // volume key; default 64 bytes
	slots   []hmSlot
	hash    string // LUKS1 hash-spec, default sha256
	uuid    string
	seqid   uint64
	mutate  func(m map[string]any) // LUKS2: changes the JSON before it is written
	rng     *rand.Rand
}

func (v *hmVol) random(n int) []byte {
	if v.rng == nil {
		v.rng = rand.New(rand.NewChaCha8([32]byte{1}))
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(v.rng.Uint32())
	}
	return b
}

func (s *hmSlot) defaults() {
	if s.kdf == "" {
		s.kdf = "pbkdf2"
	}
	if s.hash == "" {
		s.hash = "sha256"
	}
	if s.iter == 0 {
		s.iter = 1000
	}
	if s.time == 0 {
		s.time = 1
	}
	if s.mem == 0 {
		s.mem = 64
	}
	if s.cpus == 0 {
		s.cpus = 1
	}
	if s.afHash == "" {
		s.afHash = "sha256"
	}
	if s.stripes == 0 {
		s.stripes = stripesLUKS
	}
	if s.active == 0 {
		s.active = luks1Active
	}
}

func testPBKDF2(t testing.TB, hashName, pass string, salt []byte, iter uint32, n int) []byte {
	t.Helper()
	h := hashFunc(hashName)
	k, err := pbkdf2.Key(h, pass, salt, int(iter), n)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// material AF-splits key (luks.md §5.4 in reverse) and encrypts it with
// aes-xts-plain64 under the slot key, in 512-byte sectors from IV 0.
func (v *hmVol) material(t testing.TB, s *hmSlot, key, salt []byte) []byte {
	t.Helper()
	k := len(key)
	split := v.random(k * s.stripes)
	d := make([]byte, k)
	for j := 0; j < s.stripes-1; j++ {
		for i := range d {
			d[i] ^= split[j*k+i]
		}
		diffuse(d, hashFunc(s.afHash))
	}
	last := split[(s.stripes-1)*k:]
	for i := range d {
		last[i] = d[i] ^ key[i]
	}
	var slotKey []byte
	switch s.kdf {
	case "pbkdf2":
		slotKey = testPBKDF2(t, s.hash, s.pass, salt, s.iter, k)
	case "argon2i":
		slotKey = argon2.Key([]byte(s.pass), salt, s.time, s.mem, uint8(s.cpus), uint32(k))
	case "argon2id":
		slotKey = argon2.IDKey([]byte(s.pass), salt, s.time, s.mem, uint8(s.cpus), uint32(k))
	}
	c, err := xts.NewCipher(aes.NewCipher, slotKey)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, roundUp(int64(len(split)), SectorBytes))
	copy(out, split)
	for i := 0; i < len(out); i += SectorBytes {
		c.Encrypt(out[i:i+SectorBytes], out[i:i+SectorBytes], uint64(i/SectorBytes))
	}
	return out
}

func (v *hmVol) setDefaults() {
	if v.key == nil {
		v.key = v.random(64)
	}
	if v.hash == "" {
		v.hash = "sha256"
	}
	if v.uuid == "" {
		v.uuid = "0a1b2c3d-1111-4222-8333-444455556666"
	}
	if v.seqid == 0 {
		v.seqid = 1
	}
	for i := range v.slots {
		v.slots[i].defaults()
	}
}

// build1 writes a LUKS1 volume: slot i's key material at sector 8 + i ×
// (its sectors rounded up to 8), the payload after slot 7's area.
func (v *hmVol) build1(t testing.TB) *device {
	t.Helper()
	v.setDefaults()
	k := len(v.key)
	areaSectors := roundUp(roundUp(int64(k*stripesLUKS), SectorBytes)/SectorBytes, 8)
	payload := 8 + 8*areaSectors
	size := payload*SectorBytes + 65536
	b := make([]byte, size)
	copy(b, magic1)
	be := binary.BigEndian
	be.PutUint16(b[6:], 1)
	copy(b[8:], "aes")
	copy(b[40:], "xts-plain64")
	copy(b[72:], v.hash)
	be.PutUint32(b[104:], uint32(payload))
	be.PutUint32(b[108:], uint32(k))
	mkSalt := v.random(32)
	copy(b[112:], testPBKDF2(t, v.hash, string(v.key), mkSalt, 1000, 20))
	copy(b[132:], mkSalt)
	be.PutUint32(b[164:], 1000)
	copy(b[168:], v.uuid)
	for i := range luks1Slots {
		o := luks1SlotOff + luks1SlotSize*i
		off := 8 + int64(i)*areaSectors
		be.PutUint32(b[o:], luks1Disabled)
		be.PutUint32(b[o+40:], uint32(off))
		be.PutUint32(b[o+44:], stripesLUKS)
		copy(b[off*SectorBytes:], v.random(k*stripesLUKS))
	}
	for _, s := range v.slots {
		s.hash, s.afHash = v.hash, v.hash
		o := luks1SlotOff + luks1SlotSize*s.id
		salt := v.random(32)
		be.PutUint32(b[o:], s.active)
		be.PutUint32(b[o+4:], s.iter)
		copy(b[o+8:], salt)
		be.PutUint32(b[o+44:], uint32(s.stripes))
		off := int64(be.Uint32(b[o+40:])) * SectorBytes
		copy(b[off:], v.material(t, &s, v.key, salt))
	}
	return &device{b: b, size: size}
}

// build2 writes a LUKS2 volume with 16 KiB metadata copies, the key slot
// areas one after another from byte 32768, the data segment after them.
func (v *hmVol) build2(t testing.TB) *device {
	t.Helper()
	v.setDefaults()
	const hdr = 16384
	type placed struct {
		off, size int64
		mat       []byte
		key       []byte
		salt      []byte
	}
	var areas []placed
	next := int64(2 * hdr)
	for i := range v.slots {
		s := &v.slots[i]
		key := v.key
		if s.unbound {
			key = v.random(32)
		}
		salt := v.random(32)
		mat := v.material(t, s, key, salt)
		size := roundUp(int64(len(mat)), 4096)
		areas = append(areas, placed{next, size, mat, key, salt})
		next += size
	}
	ksSize := roundUp(next-2*hdr, 4096)
	segOff := 2*hdr + ksSize
	size := segOff + 65536

	keyslots := map[string]any{}
	digests := map[string]any{}
	var bound []string
	for i, s := range v.slots {
		a := areas[i]
		id := strconv.Itoa(s.id)
		kdf := map[string]any{"type": s.kdf, "salt": base64.StdEncoding.EncodeToString(a.salt)}
		if s.kdf == "pbkdf2" {
			kdf["hash"], kdf["iterations"] = s.hash, s.iter
		} else {
			kdf["time"], kdf["memory"], kdf["cpus"] = s.time, s.mem, s.cpus
		}
		ks := map[string]any{
			"type":     "luks2",
			"key_size": len(a.key),
			"af":       map[string]any{"type": "luks1", "stripes": s.stripes, "hash": s.afHash},
			"area": map[string]any{"type": "raw", "offset": fmt.Sprint(a.off), "size": fmt.Sprint(a.size),
				"encryption": "aes-xts-plain64", "key_size": len(a.key)},
			"kdf": kdf,
		}
		if s.priority != nil {
			ks["priority"] = *s.priority
		}
		keyslots[id] = ks
		if s.unbound {
			salt := v.random(32)
			digests[strconv.Itoa(100+s.id)] = map[string]any{"type": "pbkdf2", "keyslots": []string{id}, "segments": []string{},
				"hash": "sha256", "iterations": 1000, "salt": base64.StdEncoding.EncodeToString(salt),
				"digest": base64.StdEncoding.EncodeToString(testPBKDF2(t, "sha256", string(a.key), salt, 1000, 32))}
		} else {
			bound = append(bound, id)
		}
	}
	salt := v.random(32)
	digests["0"] = map[string]any{"type": "pbkdf2", "keyslots": bound, "segments": []string{"0"},
		"hash": "sha256", "iterations": 1000, "salt": base64.StdEncoding.EncodeToString(salt),
		"digest": base64.StdEncoding.EncodeToString(testPBKDF2(t, "sha256", string(v.key), salt, 1000, 32))}
	m := map[string]any{
		"keyslots": keyslots,
		"tokens":   map[string]any{},
		"segments": map[string]any{"0": map[string]any{"type": "crypt", "offset": fmt.Sprint(segOff), "size": "dynamic",
			"iv_tweak": "0", "encryption": "aes-xts-plain64", "sector_size": 512}},
		"digests": digests,
		"config":  map[string]any{"json_size": fmt.Sprint(hdr - 4096), "keyslots_size": fmt.Sprint(ksSize)},
	}
	if v.mutate != nil {
		v.mutate(m)
	}
	b := make([]byte, size)
	for _, a := range areas {
		copy(b[a.off:], a.mat)
	}
	for _, off := range []int64{0, hdr} {
		bin := b[off : off+4096]
		if off == 0 {
			copy(bin, magic1)
		} else {
			copy(bin, magic2)
		}
		be := binary.BigEndian
		be.PutUint16(bin[6:], 2)
		be.PutUint64(bin[l2HdrSize:], hdr)
		be.PutUint64(bin[l2SeqID:], v.seqid)
		copy(bin[l2CsumAlg:], "sha256")
		copy(bin[l2Salt:], v.random(64))
		copy(bin[l2UUID:], v.uuid)
		be.PutUint64(bin[l2HdrOffset:], uint64(off))
	}
	setJSON(t, b, m)
	return &device{b: b, size: size}
}

// copyAt returns the binary header and JSON area of the LUKS2 copy at off
// of a device in memory.
func copyAt(b []byte, off int64) (bin, area []byte) {
	hs := int64(binary.BigEndian.Uint64(b[off+l2HdrSize:]))
	return b[off : off+4096], b[off+4096 : off+hs]
}

// fixCsum recomputes the checksum of the LUKS2 copy at off.
func fixCsum(b []byte, off int64) {
	bin, area := copyAt(b, off)
	clear(bin[l2Csum : l2Csum+l2CsumLen])
	copy(bin[l2Csum:], checksum2(bin, area))
}

// setJSON writes m as the JSON text of both copies (primary at 0, the
// secondary at its hdr_size) and fixes their checksums.
func setJSON(t testing.TB, b []byte, m any) {
	t.Helper()
	text, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	hs := int64(binary.BigEndian.Uint64(b[l2HdrSize:]))
	for _, off := range []int64{0, hs} {
		_, area := copyAt(b, off)
		if len(text) >= len(area) {
			t.Fatalf("JSON of %d bytes does not fit the %d-byte area", len(text), len(area))
		}
		clear(area)
		copy(area, text)
		fixCsum(b, off)
	}
}

// editJSON changes the JSON of both copies of a LUKS2 device in memory
// (a copy of d) through f.
func editJSON(t testing.TB, d *device, f func(m map[string]any)) *device {
	t.Helper()
	b := append([]byte(nil), d.b...)
	_, area := copyAt(b, 0)
	text, _ := cString(area)
	var m map[string]any
	if err := json.Unmarshal([]byte(text), &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	setJSON(t, b, m)
	return &device{b: b, size: d.size}
}

// obj walks a JSON object path.
func obj(m map[string]any, path ...string) map[string]any {
	for _, p := range path {
		m = m[p].(map[string]any)
	}
	return m
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return fmt.Sprintf("%x", s)
}
