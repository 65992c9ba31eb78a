package luks

import (
	"bytes"
	"context"
	"crypto/pbkdf2"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/spf13/afero"
)

func seqBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// luks.md §9.1.
func TestAFVectors(t *testing.T) {
	for _, c := range []struct {
		hash string
		n    int
		want string
	}{
		{"sha256", 64, "bff51a6d513395979e3a870c8483769a5a70002e6e32c146c53e1d2edc467002b32f0e0ffb9565b7420f28f7178244f549461806e38b750e2d47de25d70e9049"},
		{"sha1", 32, "84e066de1e0d3544386085dd64a6451af137c6f0348ec54d3df31b787d1ba9d0"},
		{"sha512", 16, "5af0cc565253d18674eee4dd51f4c736"},
	} {
		x := seqBytes(c.n)
		diffuse(x, hashFunc(c.hash))
		if hex.EncodeToString(x) != c.want {
			t.Errorf("diffuse %s %d: %x", c.hash, c.n, x)
		}
	}
	for _, c := range []struct {
		k, stripes int
		hash       string
		want       string
	}{
		{16, 3, "sha256", "0fa6a714d55010dc0f8da9d73da26074"},
		{32, 2, "sha1", "a4c144fd3a2813631049aff6488b6b35c106f4c300bbf37a05ca2143412697ef"},
	} {
		got, err := afMerge(seqBytes(c.k*c.stripes), c.k, c.stripes, hashFunc(c.hash))
		if err != nil || hex.EncodeToString(got) != c.want {
			t.Errorf("AF merge %d×%d %s: %x %v", c.k, c.stripes, c.hash, got, err)
		}
	}
	if _, err := afMerge(make([]byte, 10), 16, 1, hashFunc("sha1")); err == nil {
		t.Error("short material merged")
	}
}

func TestPBKDF2(t *testing.T) {
	// RFC 6070.
	k, err := pbkdf2Key(context.Background(), sha1.New, []byte("password"), []byte("salt"), 4096, 20)
	if err != nil || hex.EncodeToString(k) != "4b007901b765489abead49d926f721d065a429c1" {
		t.Errorf("RFC 6070: %x %v", k, err)
	}
	for _, name := range []string{"sha1", "sha256", "sha512", "ripemd160", "sha3-256", "blake2b-512", "blake2s-256"} {
		for _, n := range []int{1, 20, 32, 64, 65, 100} {
			got, err := pbkdf2Key(context.Background(), hashFunc(name), []byte("pass"), []byte("NaCl"), 77, n)
			want, _ := pbkdf2.Key(hashFunc(name), "pass", []byte("NaCl"), 77, n)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s %d: %x, want %x", name, n, got, want)
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := pbkdf2Key(ctx, sha1.New, []byte("p"), nil, 1<<30, 20); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled PBKDF2: %v", err)
	}
}

// luks.md §9.2 and §9.3: the slot keys, key material and its decryption.
func TestSpecVectors(t *testing.T) {
	l2 := loadHead(t, "luks2-lvm")
	h := mustProbe(t, l2.dev)
	ks := h.Keyslot(0)
	slotKey, err := deriveSlotKey(context.Background(), &ks.KDF, []byte("correct horse battery staple"), ks.SlotKeyLen)
	if err != nil || hex.EncodeToString(slotKey) != "f140f06492afc96e5bc0a8306b7e3269e661edd9809e7ef8e0412ba005a9378761b9b149f23a35c076fd5a5a3f40858e5c8707415c56acfd75adc1fac71879eb" {
		t.Fatalf("LUKS2 slot key %x %v", slotKey, err)
	}
	mat := make([]byte, ks.MaterialBytes())
	if err := readFull(l2.dev, mat, ks.AreaOffset); err != nil {
		t.Fatal(err)
	}
	if sha(mat) != "bebc89520680882c490807080b2824dc7eded30fccbbdf6e62c854f912e9dc95" || hex.EncodeToString(mat[:16]) != "fd550890b5c9c91cea546ebad47d31c4" {
		t.Errorf("LUKS2 key material %x...", mat[:16])
	}
	c, err := h.newCipher(ks.Cipher, slotKey, SectorBytes)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Decrypt(mat, 0); err != nil || hex.EncodeToString(mat[:16]) != "c87fc0561f6f863481e7ee8bf7df5237" {
		t.Errorf("LUKS2 split material %x %v", mat[:16], err)
	}

	l1 := loadHead(t, "luks1-lvm")
	h1 := mustProbe(t, l1.dev)
	ks = h1.Keyslot(0)
	slotKey, err = deriveSlotKey(context.Background(), &ks.KDF, []byte("luks one on the disk"), ks.SlotKeyLen)
	if err != nil || hex.EncodeToString(slotKey) != "f2e4732bbd7afe705de6659652350b07e8e049b5242fcbf7518591146d5e44d638214d7776a780ddd7a9c34d013fbe2507863999e9c934a33dd7dcc5421a5b94" {
		t.Errorf("LUKS1 slot key %x %v", slotKey, err)
	}
	if full := loadFull(t, "luks1-lvm"); full != nil {
		mat := make([]byte, ks.MaterialBytes())
		if err := readFull(full.dev, mat, ks.AreaOffset); err != nil {
			t.Fatal(err)
		}
		if sha(mat) != "92cd16f2bd5a67effc4ea1a6eb1b671dbb6fe789af57487fdbf54b7133a95b5e" {
			t.Errorf("LUKS1 key material %x...", mat[:16])
		}
		c, _ := h1.newCipher(ks.Cipher, slotKey, SectorBytes)
		if err := c.Decrypt(mat, 0); err != nil || hex.EncodeToString(mat[:16]) != "1d659f8df03567bfa562c9c8b37c70b9" {
			t.Errorf("LUKS1 split material %x %v", mat[:16], err)
		}
	}
	if d := h1.Digests[0]; hex.EncodeToString(d.Digest) != "f6e668560644925640805628d6ded745d53738f0" || d.Iterations != 5603 {
		t.Errorf("LUKS1 digest %+v", d)
	}
}

func checkRedacted(t *testing.T, key *Key) {
	t.Helper()
	vk := key.VolumeKey
	js, _ := json.Marshal(key)
	for _, s := range []string{
		fmt.Sprintf("%v %+v %#v %s %x %X %q %d", key, key, key, key, key, key, key, key),
		fmt.Sprintf("%v %+v %#v %s %x %q", *key, *key, *key, *key, *key, *key),
		fmt.Sprint(key, *key), fmt.Sprintln(key), key.String(), key.GoString(),
		fmt.Sprintf("%v", struct{ K Key }{*key}), fmt.Sprintf("%+v", []*Key{key}), string(js),
	} {
		if strings.Contains(s, hex.EncodeToString(vk)) || strings.Contains(s, strings.ToUpper(hex.EncodeToString(vk))) ||
			bytes.Contains([]byte(s), vk) || strings.Contains(s, fmt.Sprint(vk)) || strings.Contains(s, fmt.Sprintf("%q", vk)) {
			t.Errorf("the key shows in %q", s)
		}
		if !strings.Contains(s, "[redacted]") && !strings.HasPrefix(s, "{") {
			t.Errorf("no [redacted] in %q", s)
		}
	}
}

func TestKeyWipe(t *testing.T) {
	key := &Key{VolumeKey: []byte{1, 2, 3, 4}, Slot: 2}
	checkRedacted(t, key)
	vk := key.VolumeKey
	key.Wipe()
	if key.VolumeKey != nil || !allZero(vk) {
		t.Errorf("after Wipe: %v %v", key.VolumeKey, vk)
	}
	(*Key)(nil).Wipe()
}

func intp(i int) *int { return &i }

// slotsTried lists the slots Unlock ran a KDF for, in order.
func slotsTried(as []Attempt) []int {
	var out []int
	for _, a := range as {
		if a.Result == "opened" || a.Result == "no match" {
			out = append(out, a.Slot)
		}
	}
	return out
}

func TestHandmadeLUKS2(t *testing.T) {
	v := &hmVol{version: 2, slots: []hmSlot{
		{id: 0, pass: "a", kdf: "argon2id", mem: 256, cpus: 2, time: 2},
		{id: 1, pass: "b", kdf: "pbkdf2", hash: "sha512", priority: intp(2), afHash: "sha512"},
		{id: 2, pass: "c", kdf: "argon2i", priority: intp(0), afHash: "sha1"},
		{id: 3, pass: "d", unbound: true},
		{id: 5, pass: "e", kdf: "pbkdf2", hash: "sha1", iter: 3},
	}}
	dev := v.build2(t)
	h := mustProbe(t, dev)
	if len(h.Problems) != 0 || len(h.Warnings) != 0 || h.Refused != "" {
		t.Fatalf("problems %q warnings %q refused %q", h.Problems, h.Warnings, h.Refused)
	}
	if h.KeyBytes != 64 || len(h.Keyslots) != 5 || h.Keyslot(3).Bound || !h.Keyslot(5).Bound || h.Keyslot(1).Priority != 2 {
		t.Fatalf("%+v", h.Keyslots)
	}
	checkStructures(t, h)
	all := UnlockOptions{Slot: AllSlots}
	for _, c := range []struct {
		pass  string
		slot  int
		tried []int
	}{
		{"a", 0, []int{1, 0}},
		{"b", 1, []int{1}},
		{"e", 5, []int{1, 0, 5}},
		{"c", 2, []int{1, 0, 5, 2}}, // priority 0 last
	} {
		var progress []string
		opt := all
		opt.Progress = func(a Attempt) { progress = append(progress, fmt.Sprintf("%d:%s", a.Slot, a.Result)) }
		key, err := Unlock(h, dev, dev.size, []byte(c.pass), opt)
		if err != nil {
			t.Fatalf("%q: %v", c.pass, err)
		}
		if key.Slot != c.slot || !bytes.Equal(key.VolumeKey, v.key) || !slices.Equal(slotsTried(key.Attempts), c.tried) {
			t.Errorf("%q: slot %d, tried %v, attempts %+v", c.pass, key.Slot, slotsTried(key.Attempts), key.Attempts)
		}
		if progress[0] != "3:key slot 3: holds an unbound key: its digest lists no data segment (not tried)" || progress[len(progress)-1] != fmt.Sprintf("%d:opened", c.slot) {
			t.Errorf("%q: progress %q", c.pass, progress)
		}
	}
	// The unbound slot is tried only when named, and gives no volume key.
	_, err := Unlock(h, dev, dev.size, []byte("d"), all)
	var nse *NoSlotError
	if !errors.As(err, &nse) || nse.Tried != 4 || len(nse.Refused) != 1 || !strings.Contains(err.Error(), "key slot 3: holds an unbound key") {
		t.Errorf("unbound passphrase: %v", err)
	}
	_, err = Unlock(h, dev, dev.size, []byte("d"), UnlockOptions{Slot: 3})
	if !errors.As(err, &nse) || nse.Tried != 1 || !strings.Contains(err.Error(), "key slot 3: holds an unbound key (digest 103 lists no data segment)") {
		t.Errorf("unbound slot named: %v", err)
	}
	// A named slot alone.
	if _, err = Unlock(h, dev, dev.size, []byte("a"), UnlockOptions{Slot: 1}); !errors.As(err, &nse) || nse.Tried != 1 {
		t.Errorf("slot 1 with slot 0's passphrase: %v", err)
	}
	if key, err := Unlock(h, dev, dev.size, []byte("b"), UnlockOptions{Slot: 1}); err != nil || key.Slot != 1 {
		t.Errorf("slot 1: %v", err)
	}
	if _, err = Unlock(h, dev, dev.size, []byte("a"), UnlockOptions{Slot: 7}); err == nil || err.Error() != "no key slot opened (tried 0); key slot 7: no such key slot" {
		t.Errorf("slot 7: %v", err)
	}
	// Argon2 memory above the limit: refused, never attempted.
	opt := all
	opt.MaxMemoryKiB = 128
	var started []int
	opt.Progress = func(a Attempt) {
		if a.Result == "" {
			started = append(started, a.Slot)
		}
	}
	_, err = Unlock(h, dev, dev.size, []byte("a"), opt)
	var mle *MemoryLimitError
	if !errors.As(err, &mle) || mle.Slot != 0 || mle.NeedKiB != 256 || mle.LimitKiB != 128 || slices.Contains(started, 0) ||
		!strings.Contains(err.Error(), "key slot 0: argon2id needs 256 KiB of memory, above the limit of 128 KiB") {
		t.Errorf("memory limit: %v (started %v)", err, started)
	}
	opt.MaxMemoryKiB, opt.MaxArgon2Work = 0, 100
	if _, err = Unlock(h, dev, dev.size, []byte("a"), opt); err == nil || !strings.Contains(err.Error(), "key slot 0: argon2id with time 2 and memory 256 KiB is 512 KiB of memory passes, above the bound of 100") {
		t.Errorf("work limit: %v", err)
	}
	opt.MaxArgon2Work, opt.MaxSlots = 0, 1
	if _, err = Unlock(h, dev, dev.size, []byte("a"), opt); err == nil || !strings.Contains(err.Error(), "key slot 0: not tried: at most 1 slots are tried") {
		t.Errorf("max slots: %v", err)
	}
	checkVolumeKey(t, h, hex.EncodeToString(v.key))
}

func TestUnlockCancel(t *testing.T) {
	v := &hmVol{version: 2, slots: []hmSlot{{id: 0, pass: "a"}}}
	dev := editJSON(t, v.build2(t), func(m map[string]any) {
		obj(m, "keyslots", "0", "kdf")["iterations"] = 1 << 31
	})
	h := mustProbe(t, dev)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Unlock(h, dev, dev.size, []byte("a"), UnlockOptions{Slot: AllSlots, Context: ctx})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("cancelled unlock: %v after %v", err, time.Since(start))
	}
}

func TestHandmadeLUKS1(t *testing.T) {
	v := &hmVol{version: 1, key: seqBytes(32), hash: "sha1", slots: []hmSlot{
		{id: 0, pass: "x"},
		{id: 2, pass: "y", iter: 10},
		{id: 5, pass: "z", active: 0x12345678},
	}}
	dev := v.build1(t)
	h := mustProbe(t, dev)
	if len(h.Problems) != 1 || h.Problems[0] != "key slot 5: active field 0x12345678, neither enabled nor disabled (not tried)" || h.Refused != "" {
		t.Fatalf("problems %q refused %q", h.Problems, h.Refused)
	}
	checkStructures(t, h)
	key, err := Unlock(h, dev, dev.size, []byte("y"), UnlockOptions{Slot: AllSlots})
	if err != nil || key.Slot != 2 || !bytes.Equal(key.VolumeKey, v.key) || !slices.Equal(slotsTried(key.Attempts), []int{0, 2}) || key.KDF != "pbkdf2" {
		t.Fatalf("%v %+v", err, key)
	}
	_, err = Unlock(h, dev, dev.size, []byte("z"), UnlockOptions{Slot: AllSlots})
	var nse *NoSlotError
	if !errors.As(err, &nse) || nse.Tried != 2 {
		t.Errorf("slot 5's passphrase: %v", err)
	}
	if _, err = Unlock(h, dev, dev.size, []byte("z"), UnlockOptions{Slot: 5}); err == nil || !strings.Contains(err.Error(), "key slot 5: not active") {
		t.Errorf("slot 5 named: %v", err)
	}
	checkVolumeKey(t, h, hex.EncodeToString(v.key))

	// Truncated inside slot 2's key material: slot 2 is reported and
	// skipped, slot 0 still opens.
	cut := &device{b: dev.b, size: h.Keyslot(2).AreaOffset + 1000}
	h2 := mustProbe(t, cut)
	if p := h2.Keyslot(2).Problem; !strings.Contains(p, "truncated image") {
		t.Errorf("slot 2 problem %q", p)
	}
	if key, err := Unlock(h2, cut, cut.size, []byte("x"), UnlockOptions{Slot: AllSlots}); err != nil || key.Slot != 0 {
		t.Errorf("truncated: %v", err)
	}
	if _, err := Unlock(h2, cut, cut.size, []byte("y"), UnlockOptions{Slot: AllSlots}); err == nil || !strings.Contains(err.Error(), "key slot 2: key material at bytes") {
		t.Errorf("truncated slot 2: %v", err)
	}

	// Damage cryptsetup rejects: overlapping areas, stripes 2000.
	b := append([]byte(nil), dev.b...)
	binary.BigEndian.PutUint32(b[luks1SlotOff+luks1SlotSize*3+40:], 8+10)
	binary.BigEndian.PutUint32(b[luks1SlotOff+44:], 2000)
	h3 := mustProbe(t, &device{b: b, size: dev.size})
	want := []string{"key slot 0: stripes 2000, not 4000 (cryptsetup rejects the header)", "key slots 0 and 3: key material areas overlap (cryptsetup rejects the header)"}
	for _, w := range want {
		if !slices.Contains(h3.Problems, w) {
			t.Errorf("no problem %q in %q", w, h3.Problems)
		}
	}
	// Unknown version.
	b = append([]byte(nil), dev.b...)
	b[7] = 3
	hv, err := Probe(&device{b: b, size: dev.size}, dev.size)
	if !errors.Is(err, ErrUnsupported) || hv == nil || hv.Refused != "LUKS header with unknown version 3" {
		t.Errorf("version 3: %v", err)
	}
	if _, err := Unlock(hv, dev, dev.size, []byte("x"), UnlockOptions{Slot: AllSlots}); !errors.Is(err, ErrRefused) {
		t.Errorf("unlock of version 3: %v", err)
	}
}

func TestNotLUKS(t *testing.T) {
	for _, size := range []int64{0, 5, 4096, 1 << 20, 8 << 20} {
		d := &device{size: size}
		if h, err := Probe(d, size); h != nil || !errors.Is(err, ErrNotLUKS) {
			t.Errorf("%d zero bytes: %v %v", size, h, err)
		}
	}
	d := &device{b: magic1, size: 300}
	if _, err := Probe(d, 300); err == nil {
		t.Error("300-byte LUKS1 header accepted")
	}
	if _, err := Probe(errReaderAt{}, 4096); err == nil {
		t.Error("read error hidden")
	}
}

type errReaderAt struct{}

func (errReaderAt) ReadAt([]byte, int64) (int, error) { return 0, io.ErrClosedPipe }

// l2 is a copy of the luks2-lvm test data's device.
func l2(t testing.TB) *device {
	d := loadHead(t, "luks2-lvm")
	return &device{b: append([]byte(nil), d.dev.b...), size: d.dev.size}
}

const l2Pass = "correct horse battery staple"

func TestLUKS2Damage(t *testing.T) {
	const vk = "e694949a1e1d94a14a6d531790fa4ef6131190e650dd5504b1e5ae761f3899feca894a74710f6b846cc431c8fab80cb317857e49f45878d52bdc776717005b8a"
	opens := func(t *testing.T, h *Header, d *device) {
		t.Helper()
		key, err := Unlock(h, d, d.size, []byte(l2Pass), UnlockOptions{Slot: AllSlots})
		if err != nil || hex.EncodeToString(key.VolumeKey) != vk {
			t.Errorf("unlock: %v", err)
		}
	}
	// luks.md §9.4: one byte of the primary JSON area changed.
	t.Run("primary-json", func(t *testing.T) {
		d := l2(t)
		d.b[4096+100] ^= 0x20
		h := mustProbe(t, d)
		if h.Copies[0].Valid || !errors.Is(h.Copies[0].Err, ErrBadChecksum) || !h.Copies[1].Used || len(h.Copies) != 2 {
			t.Fatalf("copies %+v", h.Copies)
		}
		if !strings.HasPrefix(h.Problems[0], "primary LUKS2 header damaged: luks2_header_primary.csum at byte 448 (0x1c0): checksum mismatch (stored bb393e96") ||
			h.Problems[1] != "the secondary LUKS2 header at byte 16384 is used (cryptsetup would rewrite the primary from it)" {
			t.Errorf("problems %q", h.Problems)
		}
		for _, st := range h.Structures() {
			for _, f := range st.Fields {
				if f.Name == "csum" && f.Check.OK != (st.Name == "luks2_header_secondary") {
					t.Errorf("%s.csum check %+v", st.Name, f.Check)
				}
			}
		}
		opens(t, h, d)
	})
	t.Run("both-json", func(t *testing.T) {
		d := l2(t)
		d.b[4096+100] ^= 0x20
		d.b[16384+4096+100] ^= 0x20
		h, err := Probe(d, d.size)
		if !errors.Is(err, ErrNoValidHeader) || h == nil || h.Refused != "no valid LUKS2 header" || len(h.Copies) != 2 {
			t.Fatalf("%v %+v", err, h)
		}
		if h.UUID != "1ada2859-3811-4e3c-9b04-2bea396a43e3" || len(h.Structures()) != 4 {
			t.Errorf("uuid %q, %d structures", h.UUID, len(h.Structures()))
		}
		if _, err := Unlock(h, d, d.size, []byte(l2Pass), UnlockOptions{Slot: AllSlots}); !errors.Is(err, ErrRefused) {
			t.Errorf("unlock: %v", err)
		}
	})
	for _, c := range []struct {
		name string
		edit func(b []byte)
		want string
	}{
		{"magic", func(b []byte) { clear(b[:6]) }, "no primary LUKS2 header at byte 0 (its magic is missing: overwritten?)"},
		{"zeroed", func(b []byte) { clear(b[:16384]) }, "no primary LUKS2 header at byte 0 (its magic is missing: overwritten?)"},
		{"hdr_offset", func(b []byte) { b[l2HdrOffset+7] = 1; fixCsum(b, 0) },
			"primary LUKS2 header damaged: luks2_header_primary.hdr_offset at byte 256 (0x100): hdr_offset 1, but the header is at byte 0 (moved or copied)"},
		{"hdr_size", func(b []byte) { b[l2HdrSize+6] = 0x50 },
			"primary LUKS2 header damaged: luks2_header_primary.hdr_size at byte 8 (0x8): hdr_size 20480 is not one of the nine LUKS2 sizes"},
		{"version", func(b []byte) { b[7] = 2; b[6] = 1 }, ""},
		{"csum_alg", func(b []byte) { copy(b[l2CsumAlg:], "sha1\x00\x00") },
			`primary LUKS2 header damaged: luks2_header_primary.csum_alg at byte 72 (0x48): checksum algorithm "sha1" is not supported (only sha256)`},
		{"no-nul", func(b []byte) {
			for i := 4096; i < 16384; i++ {
				if b[i] == 0 {
					b[i] = ' '
				}
			}
			fixCsum(b, 0)
		}, "primary LUKS2 header damaged: luks2_json_primary at byte 4096 (0x1000): the JSON area has no NUL terminator"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := l2(t)
			c.edit(d.b)
			h, err := Probe(d, d.size)
			if c.name == "version" {
				// Version 258 at the LUKS magic: unknown.
				if !errors.Is(err, ErrUnsupported) {
					t.Errorf("%v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if h.Problems[0] != c.want || !h.Copies[len(h.Copies)-1].Used || h.Copies[len(h.Copies)-1].Offset != 16384 {
				t.Errorf("problems %q, copies %+v", h.Problems, h.Copies)
			}
			opens(t, h, d)
		})
	}
	// Out of sync: the copy with the higher seqid is used (luks.md §4.5).
	for _, newer := range []int64{0, 16384} {
		d := l2(t)
		binary.BigEndian.PutUint64(d.b[newer+l2SeqID:], 9)
		fixCsum(d.b, newer)
		h := mustProbe(t, d)
		want := "LUKS2 headers out of sync: primary seqid 9, secondary seqid 3; the primary is used (cryptsetup would rewrite the other)"
		if newer != 0 {
			want = "LUKS2 headers out of sync: primary seqid 3, secondary seqid 9; the secondary is used (cryptsetup would rewrite the other)"
		}
		if len(h.Problems) != 1 || h.Problems[0] != want || h.SeqID != 9 || h.used.Offset != newer {
			t.Errorf("newer at %d: %q", newer, h.Problems)
		}
	}
	// The secondary damaged: reported, the primary used.
	d := l2(t)
	d.b[16384+20] ^= 1
	h := mustProbe(t, d)
	if len(h.Problems) != 1 || !strings.HasPrefix(h.Problems[0], "secondary LUKS2 header at byte 16384 damaged: luks2_header_secondary.csum") || !h.Copies[0].Used {
		t.Errorf("secondary damaged: %q", h.Problems)
	}
	// A truncated image: the metadata is cut.
	d = l2(t)
	h, err := Probe(d, 20000)
	if err != nil || !h.Copies[0].Valid || h.Copies[1].Valid || !errors.Is(h.Copies[1].Err, ErrTruncated) {
		t.Errorf("cut at 20000: %v %+v", err, h.Copies)
	}
	if !strings.Contains(strings.Join(h.Problems, "\n"), "key slot 0: area (bytes 32768..290816) runs past the end of the 20000-byte device (truncated image)") {
		t.Errorf("cut at 20000: %q", h.Problems)
	}
}

func TestLUKS2Refused(t *testing.T) {
	base := l2(t)
	for _, c := range []struct {
		name string
		edit func(m map[string]any)
		want string
	}{
		{"unknown-requirement", func(m map[string]any) {
			obj(m, "config")["requirements"] = map[string]any{"mandatory": []any{"frobnicate"}}
		}, `unknown requirement "frobnicate"`},
		{"requirement-array", func(m map[string]any) { obj(m, "config")["requirements"] = []any{"opal"} },
			"requirement opal: self-encrypting drive segment"},
		{"requirement-form", func(m map[string]any) { obj(m, "config")["requirements"] = 3 }, "config.requirements in an unknown form"},
		{"reencrypt", func(m map[string]any) {
			obj(m, "config")["requirements"] = map[string]any{"mandatory": []any{"online-reencrypt-v2"}}
			seg := obj(m, "segments")
			seg["1"] = map[string]any{"type": "crypt", "offset": "17825792", "size": "dynamic", "iv_tweak": "2048", "encryption": "aes-xts-plain64", "sector_size": 512}
			obj(seg, "0")["size"] = "1048576"
		}, "requirement online-reencrypt-v2: reencryption in progress; 2 segments"},
		{"integrity", func(m map[string]any) {
			obj(m, "segments", "0")["integrity"] = map[string]any{"type": "hmac(sha256)", "journal_encryption": "none", "journal_integrity": "none"}
		}, "segment 0 uses integrity (hmac(sha256))"},
		{"two-segments", func(m map[string]any) {
			obj(m, "segments")["1"] = map[string]any{"type": "crypt", "offset": "20000000", "size": "dynamic", "iv_tweak": "0", "encryption": "aes-xts-plain64", "sector_size": 512}
		}, "2 segments (only one is supported)"},
		{"linear", func(m map[string]any) { obj(m, "segments", "0")["type"] = "linear" }, "segment 0 of type linear: plaintext, reencryption in progress"},
		{"opal", func(m map[string]any) { obj(m, "segments", "0")["type"] = "hw-opal-crypt" }, "segment 0 of type hw-opal-crypt: self-encrypting drive"},
		{"no-segment", func(m map[string]any) { m["segments"] = map[string]any{} }, "no data segment"},
		{"flag", func(m map[string]any) { obj(m, "segments", "0")["flags"] = []any{"backup-final"} }, "segment 0 flagged backup-final: reencryption"},
		{"sector", func(m map[string]any) { obj(m, "segments", "0")["sector_size"] = 8192 }, "segment 0: sector_size 8192 is not 512, 1024, 2048 or 4096"},
		{"serpent", func(m map[string]any) { obj(m, "segments", "0")["encryption"] = "serpent-xts-plain64" }, `segment 0: cipher "serpent-xts-plain64": Serpent is not supported`},
		{"lmk", func(m map[string]any) { obj(m, "segments", "0")["encryption"] = "aes:64-cbc-lmk" }, `segment 0: cipher "aes:64-cbc-lmk": `},
		{"bad-offset", func(m map[string]any) { obj(m, "segments", "0")["offset"] = 16777216 }, "segment 0: want a string of decimal digits, got 16777216"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := editJSON(t, base, c.edit)
			h := mustProbe(t, d)
			if !strings.Contains(h.Refused, c.want) {
				t.Fatalf("refused %q, want %q", h.Refused, c.want)
			}
			var re *RefusedError
			if _, err := Unlock(h, d, d.size, []byte(l2Pass), UnlockOptions{Slot: AllSlots}); !errors.As(err, &re) || re.Reason != h.Refused {
				t.Errorf("Unlock: %v", err)
			}
			if _, err := UnlockVolumeKey(h, make([]byte, 64)); !errors.Is(err, ErrRefused) {
				t.Errorf("UnlockVolumeKey: %v", err)
			}
			checkStructures(t, h)
		})
	}
}

func TestLUKS2Slots(t *testing.T) {
	base := l2(t)
	for _, c := range []struct {
		name string
		edit func(m map[string]any)
		want string // the slot's problem
	}{
		{"kdf-type", func(m map[string]any) { obj(m, "keyslots", "0", "kdf")["type"] = "scrypt" }, `unknown kdf.type "scrypt"`},
		{"af-type", func(m map[string]any) { obj(m, "keyslots", "0", "af")["type"] = "luks2" }, `unknown af.type "luks2"`},
		{"area-type", func(m map[string]any) { obj(m, "keyslots", "0", "area")["type"] = "datashift" }, `unknown area.type "datashift"`},
		{"slot-type", func(m map[string]any) { obj(m, "keyslots", "0")["type"] = "luks3" }, `unknown key slot type "luks3"`},
		{"reencrypt", func(m map[string]any) { obj(m, "keyslots", "0")["type"] = "reencrypt" }, "a reencryption key slot (it holds no key)"},
		{"no-type", func(m map[string]any) { delete(obj(m, "keyslots", "0"), "type") }, "no type"},
		{"stripes", func(m map[string]any) { obj(m, "keyslots", "0", "af")["stripes"] = 4001 }, "af.stripes 4001 outside 1..4000"},
		{"key-size", func(m map[string]any) { obj(m, "keyslots", "0")["key_size"] = 513 }, "key_size 513 outside 1..512"},
		{"key-size-type", func(m map[string]any) { obj(m, "keyslots", "0")["key_size"] = "64" }, "key_size: JSON string where int was expected"},
		{"area-outside", func(m map[string]any) { obj(m, "keyslots", "0", "area")["offset"] = "600000" },
			"area (bytes 600000..858048) runs past the key slots area (ending at byte 557056)"},
		{"area-inside-metadata", func(m map[string]any) { obj(m, "keyslots", "0", "area")["offset"] = "16384" },
			"area at byte 16384 lies inside the metadata (the key slots area starts at byte 32768)"},
		{"area-small", func(m map[string]any) { obj(m, "keyslots", "0", "area")["size"] = "4096" },
			"key material of 256000 bytes does not fit the 4096-byte area"},
		{"cpus", func(m map[string]any) { obj(m, "keyslots", "0", "kdf")["cpus"] = 0 }, "kdf.cpus 0 outside 1..16"},
		{"memory", func(m map[string]any) { obj(m, "keyslots", "0", "kdf")["memory"] = 8 }, "kdf.memory 8 KiB is below 8 KiB per lane (2 lanes)"},
		{"hash", func(m map[string]any) { obj(m, "keyslots", "0", "af")["hash"] = "whirlpool" }, `af.hash "whirlpool" is not supported`},
		{"salt", func(m map[string]any) { obj(m, "keyslots", "0", "kdf")["salt"] = "!!" }, `bad base64 "!!"`},
		{"no-digest", func(m map[string]any) { obj(m, "digests", "0")["keyslots"] = []any{} }, "no digest lists the slot: its key cannot be verified"},
		{"digest-type", func(m map[string]any) { obj(m, "digests", "0")["type"] = "argon2" }, `its digest 0 cannot be used: unknown digest type "argon2"`},
		{"cipher", func(m map[string]any) { obj(m, "keyslots", "0", "area")["encryption"] = "aes-xts-benbi" }, `area.encryption "aes-xts-benbi": `},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := editJSON(t, base, c.edit)
			h := mustProbe(t, d)
			if len(h.Keyslots) != 1 || !strings.Contains(h.Keyslots[0].Problem, c.want) {
				t.Fatalf("slot problem %q, want %q", h.Keyslots[0].Problem, c.want)
			}
			if !slices.Contains(h.Problems, "key slot 0: "+h.Keyslots[0].Problem) {
				t.Errorf("problems %q", h.Problems)
			}
			_, err := Unlock(h, d, d.size, []byte(l2Pass), UnlockOptions{Slot: AllSlots})
			var nse *NoSlotError
			var se *SlotError
			if !errors.As(err, &nse) || nse.Tried != 0 || len(nse.Refused) != 1 || !errors.As(err, &se) || se.Slot != 0 {
				t.Errorf("Unlock: %v", err)
			}
			checkStructures(t, h)
		})
	}
}

func TestLUKS2JSONOddities(t *testing.T) {
	base := l2(t)
	d := editJSON(t, base, func(m map[string]any) {
		m["extension"] = map[string]any{"x": 1}
		obj(m, "keyslots", "0")["vendor_field"] = []any{1, 2}
		obj(m, "keyslots")["01"] = map[string]any{"type": "luks2"}
		obj(m, "keyslots")["x"] = 3
		obj(m, "tokens")["2"] = map[string]any{"type": "systemd-tpm2", "keyslots": []any{"0"}, "tpm2-pcrs": []any{7}}
		obj(m, "tokens")["0"] = map[string]any{"type": "luks2-keyring", "keyslots": []any{"0"}, "key_description": "k"}
		obj(m, "config")["flags"] = []any{"allow-discards", "no-read-workqueue"}
		obj(m, "keyslots", "0")["priority"] = 2
	})
	h := mustProbe(t, d)
	want := []string{`keyslots: member "01" is not a number, ignored`, `keyslots: member "x" is not a number, ignored`,
		"flag allow-discards: areas the filesystem trimmed may hold zeros on disk, which decrypt to noise"}
	for _, w := range want {
		if !slices.Contains(h.Warnings, w) {
			t.Errorf("no warning %q in %q", w, h.Warnings)
		}
	}
	if len(h.Tokens) != 2 || h.Tokens[0].Type != "luks2-keyring" || h.Tokens[1].Type != "systemd-tpm2" || !slices.Equal(h.Tokens[1].Keyslots, []int{0}) ||
		!slices.Equal(h.Flags, []string{"allow-discards", "no-read-workqueue"}) || h.Keyslots[0].Priority != 2 || len(h.Keyslots) != 1 {
		t.Errorf("tokens %+v flags %q slots %+v", h.Tokens, h.Flags, h.Keyslots)
	}
	if key, err := Unlock(h, d, d.size, []byte(l2Pass), UnlockOptions{Slot: AllSlots}); err != nil || key.Slot != 0 {
		t.Errorf("unlock: %v", err)
	}

	// Invalid JSON areas: the copy is damaged, with both copies so the
	// header has none.
	for _, c := range []struct {
		name, text, want string
	}{
		{"deep", `{"keyslots":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`, "nested deeper than 32 levels"},
		{"missing", `{"keyslots":{},"tokens":{},"segments":{},"digests":{}}`, `no "config" object`},
		{"not-object", `{"keyslots":[],"tokens":{},"segments":{},"digests":{},"config":{}}`, `"keyslots" is not an object`},
		{"syntax", `{"keyslots":{},`, "JSON syntax error at byte"},
		{"json_size", `{"keyslots":{},"tokens":{},"segments":{},"digests":{},"config":{"json_size":"4096","keyslots_size":"0"}}`,
			"config.json_size at byte 4096 (0x1000): json_size does not match hdr_size (stored 4096, computed 12288)"},
		{"no-json_size", `{"keyslots":{},"tokens":{},"segments":{},"digests":{},"config":{}}`, "config: no json_size"},
		{"array", `[]`, "JSON "},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := l2(t)
			for _, off := range []int64{0, 16384} {
				_, area := copyAt(d.b, off)
				clear(area)
				copy(area, c.text)
				fixCsum(d.b, off)
			}
			h, err := Probe(d, d.size)
			if !errors.Is(err, ErrNoValidHeader) || !strings.Contains(h.Copies[0].Problem, c.want) || !errors.Is(h.Copies[0].Err, ErrInvalid) {
				t.Errorf("%v; primary: %s", err, h.Copies[0].Problem)
			}
		})
	}
}

func TestSecondaryProbe(t *testing.T) {
	// A volume with a 64 KiB metadata area whose primary is gone is found
	// through its secondary at 65536, and a left-over secondary header of
	// an earlier format at 16384 is reported.
	v := &hmVol{version: 2, slots: []hmSlot{{id: 0, pass: "p"}}}
	small := v.build2(t)
	// Move the layout: the primary's copy and area grow to 64 KiB.
	const hs = 65536
	b := make([]byte, small.size+2*hs)
	for _, off := range []int64{0, hs} {
		bin, area := copyAt(small.b, 0)
		copy(b[off:], bin)
		if off != 0 {
			copy(b[off:], magic2)
		}
		binary.BigEndian.PutUint64(b[off+l2HdrSize:], hs)
		binary.BigEndian.PutUint64(b[off+l2HdrOffset:], uint64(off))
		text, _ := cString(area)
		var m map[string]any
		_ = json.Unmarshal([]byte(text), &m)
		obj(m, "config")["json_size"] = fmt.Sprint(hs - 4096)
		ksOff := int64(2 * hs)
		obj(m, "keyslots", "0", "area")["offset"] = fmt.Sprint(ksOff)
		obj(m, "segments", "0")["offset"] = fmt.Sprint(ksOff + 262144)
		obj(m, "config")["keyslots_size"] = "262144"
		js, _ := json.Marshal(m)
		copy(b[off+4096:], js)
		fixCsum(b, off)
	}
	ks := mustProbe(t, small).Keyslot(0)
	copy(b[2*hs:], small.b[ks.AreaOffset:ks.AreaOffset+ks.AreaSize])
	// A stale secondary of a 16 KiB header at 16384, with another UUID.
	copy(b[16384:], small.b[16384:32768])
	copy(b[16384+l2UUID:], "ffffffff")
	fixCsum(b, 16384)
	clear(b[:4096]) // the primary's binary header overwritten
	d := &device{b: b, size: int64(len(b))}
	h := mustProbe(t, d)
	if h.used.Offset != 16384 || len(h.Copies) != 2 {
		t.Fatalf("used %d, copies %+v", h.used.Offset, h.Copies)
	}
	if !slices.Contains(h.Warnings, "another valid secondary LUKS2 header at byte 65536 (uuid 0a1b2c3d-1111-4222-8333-444455556666, seqid 1), left over from an earlier format?") {
		t.Errorf("warnings %q", h.Warnings)
	}
	// Without the stale copy the volume opens through the one at 65536.
	clear(b[16384:20480])
	h = mustProbe(t, d)
	if h.used.Offset != hs || len(h.Copies) != 1 || h.HdrSize != hs {
		t.Fatalf("used %d, copies %+v", h.used.Offset, h.Copies)
	}
	if key, err := Unlock(h, d, d.size, []byte("p"), UnlockOptions{Slot: AllSlots}); err != nil || !bytes.Equal(key.VolumeKey, v.key) {
		t.Errorf("unlock through the secondary: %v", err)
	}
}

func TestJSONBounds(t *testing.T) {
	for text, want := range map[string]string{
		strings.Repeat("[", 33) + strings.Repeat("]", 33): "nested deeper than 32 levels",
		strings.Repeat("[", 32) + strings.Repeat("]", 32): "",
		`{"a":[` + strings.Repeat("0,", 1<<17) + `0]}`:    "more than 131072 members and elements",
		`{"a":"` + strings.Repeat("[,\\\"", 1<<17) + `"}`: "",
	} {
		err := checkJSONBounds([]byte(text))
		if (err == nil) != (want == "") || (err != nil && err.Error() != want) {
			t.Errorf("%.20s...: %v", text, err)
		}
	}
	for _, s := range []string{"0", "1", "31", "1048576"} {
		if _, ok := parseID(s); !ok {
			t.Errorf("id %q refused", s)
		}
	}
	for _, s := range []string{"", "01", "-1", "1048577", "1e3", " 1", "99999999"} {
		if _, ok := parseID(s); ok {
			t.Errorf("id %q accepted", s)
		}
	}
	for _, s := range []string{`"18446744073709551616"`, `"-1"`, `""`, `"1 "`, `1`, `"4611686018427387905"`} {
		var u u64s
		if u.UnmarshalJSON([]byte(s)) == nil {
			t.Errorf("string-uint64 %s accepted", s)
		}
	}
}

func TestReadKey(t *testing.T) {
	data := []byte("key file line\n")
	k, err := ReadKey(bytes.NewReader(data), 0, 0)
	if err != nil || string(k) != "key file line\n" {
		t.Errorf("whole file: %q %v", k, err)
	}
	big := make([]byte, 4096)
	for i := range big {
		big[i] = byte(i * 7)
	}
	k, err = ReadKey(bytes.NewReader(big), 100, 64)
	if err != nil || !bytes.Equal(k, big[100:164]) {
		t.Errorf("offset 100 size 64: %v", err)
	}
	k, err = ReadKey(iotest.OneByteReader(bytes.NewReader(big)), 4000, 200)
	if err != nil || !bytes.Equal(k, big[4000:]) {
		t.Errorf("size past the end: %d bytes %v", len(k), err)
	}
	if _, err = ReadKey(bytes.NewReader(big), 5000, 0); err == nil || err.Error() != "luks: the key file has 4096 bytes, fewer than the offset 5000" {
		t.Errorf("offset past the end: %v", err)
	}
	if _, err = ReadKey(bytes.NewReader(nil), 0, 0); err == nil {
		t.Error("empty key file accepted")
	}
	huge := io.LimitReader(zeroReader{}, MaxKeyFileBytes+1)
	if _, err = ReadKey(huge, 0, 0); err == nil || !strings.Contains(err.Error(), "larger than the maximum") {
		t.Errorf("oversized key file: %v", err)
	}
	k, err = ReadKey(io.LimitReader(zeroReader{}, MaxKeyFileBytes), 0, 0)
	if err != nil || len(k) != MaxKeyFileBytes {
		t.Errorf("maximum-size key file: %d %v", len(k), err)
	}
	if _, err = ReadKey(bytes.NewReader(big), 0, MaxKeyFileBytes+1); err == nil {
		t.Error("size above the maximum accepted")
	}
	if _, err = ReadKey(iotest.ErrReader(io.ErrClosedPipe), 0, 0); !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("read error: %v", err)
	}
	fs := afero.NewMemMapFs()
	_ = afero.WriteFile(fs, "/k", data, 0o600)
	if k, err = ReadKeyFile(fs, "/k", 4, 0); err != nil || string(k) != "file line\n" {
		t.Errorf("ReadKeyFile: %q %v", k, err)
	}
	if _, err = ReadKeyFile(fs, "/missing", 0, 0); err == nil {
		t.Error("missing key file")
	}
	for in, want := range map[string]string{"pass\n": "pass", "pass\nrest": "pass", "pass": "pass", "pa ss\r\n": "pa ss\r", "\n": "", "": ""} {
		if got := TerminalPassphrase([]byte(in)); string(got) != want {
			t.Errorf("TerminalPassphrase(%q) = %q", in, got)
		}
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestErrors(t *testing.T) {
	e := &FormatError{Structure: "luks2_header_primary", Field: "csum", Off: 448, Msg: "checksum mismatch", Stored: "aa", Computed: "bb", Err: ErrBadChecksum}
	if e.Error() != "luks2_header_primary.csum at byte 448 (0x1c0): checksum mismatch (stored aa, computed bb)" || !errors.Is(e, ErrBadChecksum) {
		t.Error(e)
	}
	n := &NoSlotError{Tried: 2, Refused: []string{"key slot 1: x"}}
	if n.Error() != "no key slot opened (tried 2); key slot 1: x" {
		t.Error(n)
	}
}
