package crypt

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
)

// Every supported specification with its key lengths.
var roundTripSpecs = []struct {
	spec string
	keys []int
}{
	{"aes-xts-plain64", []int{32, 48, 64}},
	{"aes-xts-plain", []int{32, 64}},
	{"aes-xts-plain64be", []int{64}},
	{"aes-xts-essiv:sha256", []int{64}},
	{"aes-xts-null", []int{32}},
	{"aes-cbc-essiv:sha256", []int{16, 24, 32}},
	{"aes-cbc-plain64", []int{16, 24, 32}},
	{"aes-cbc-plain", []int{16, 32}},
	{"aes-cbc-plain64be", []int{32}},
	{"aes-cbc-null", []int{32}},
	{"aes-ecb", []int{16, 32}},
	{"twofish-xts-plain64", []int{32, 48, 64}},
	{"twofish-xts-plain", []int{64}},
	{"twofish-xts-essiv:sha256", []int{64}},
	{"twofish-cbc-essiv:sha256", []int{16, 32}},
	{"twofish-cbc-plain64", []int{16, 24, 32}},
	{"twofish-cbc-plain", []int{32}},
	{"twofish-ecb", []int{32}},
	{"cipher_null-ecb", []int{0, 32}},
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, v := range roundTripSpecs {
		for _, kl := range v.keys {
			for _, ss := range []int{512, 1024, 2048, 4096} {
				for _, large := range []bool{false, true} {
					name := fmt.Sprintf("%s/key%d/ss%d/large=%v", v.spec, kl, ss, large)
					key := randBytes(r, kl)
					pt := randBytes(r, 4*ss)
					for _, first := range []uint64{0, 1, 8, 1<<32 - 9, 1<<64 - 3, r.Uint64()} {
						ct := refEncrypt(t, v.spec, key, ss, large, pt, first)
						if v.spec != "cipher_null-ecb" && bytes.Equal(ct, pt) {
							t.Fatalf("%s: reference did not encrypt", name)
						}
						var opts []Option
						if large {
							opts = append(opts, IVLargeSectors())
						}
						c, err := New(v.spec, key, ss, opts...)
						if err != nil {
							t.Fatalf("%s: %v", name, err)
						}
						b := bytes.Clone(ct)
						if err := c.Decrypt(b, first); err != nil {
							t.Fatalf("%s: %v", name, err)
						}
						if !bytes.Equal(b, pt) {
							t.Fatalf("%s, first %#x: decryption differs from the plaintext", name, first)
						}
						// Sector by sector gives the same result.
						step := uint64(ss / 512)
						if large {
							step = 1
						}
						b = bytes.Clone(ct)
						for k := 0; k < 4; k++ {
							if err := c.Decrypt(b[k*ss:(k+1)*ss], first+uint64(k)*step); err != nil {
								t.Fatal(err)
							}
						}
						if !bytes.Equal(b, pt) {
							t.Fatalf("%s, first %#x: sector by sector differs", name, first)
						}
					}
				}
			}
		}
	}
}

func TestNew2(t *testing.T) {
	key := seq(64)
	a, err := New2("aes", "xts-plain64", key, 512)
	if err != nil {
		t.Fatal(err)
	}
	if a.Spec() != "aes-xts-plain64" {
		t.Errorf("spec %q", a.Spec())
	}
	if _, err := New2("aes-xts", "plain64", key, 512); err == nil {
		t.Error("a cipher name with a dash accepted")
	}
	if _, err := New2("", "xts-plain64", key, 512); err == nil {
		t.Error("an empty cipher name accepted")
	}
}

func TestNewErrors(t *testing.T) {
	type kind int
	const (
		spec kind = iota
		unsupported
		keySize
		sectorSize
	)
	for _, v := range []struct {
		spec string
		key  int
		ss   int
		want kind
		text string
	}{
		{"", 64, 512, spec, "empty"},
		{"aes", 64, 512, spec, "no chain mode"},
		{"aes-xts", 64, 512, spec, "no IV generator"},
		{"aes-cbc", 32, 512, spec, "no IV generator"},
		{"aes-foo-plain64", 64, 512, spec, `unknown chain mode "foo"`},
		{"aes-xts-foo", 64, 512, spec, `unknown IV generator "foo"`},
		{"aes-xts-plain64:sha256", 64, 512, spec, "takes no option"},
		{"aes-cbc-essiv", 32, 512, spec, "needs a hash"},
		{"aes-cbc-essiv:md5", 32, 512, spec, `unknown ESSIV hash "md5"`},
		{"AES-xts-plain64", 64, 512, spec, `unknown cipher "AES"`},
		{"aes-xts-plain64 ", 64, 512, spec, "space"},
		{"aes-ecb-plain64", 32, 512, spec, "ecb takes no IV"},
		{"cipher_null-cbc-plain", 0, 512, spec, "only the ecb mode"},
		{"cipher_null", 0, 512, spec, "only the ecb mode"},
		{"serpent-xts-plain64", 64, 512, unsupported, "Serpent is not supported"},
		{"serpent-cbc-essiv:sha256", 32, 512, unsupported, "Serpent"},
		{"aes:64-cbc-lmk", 32, 512, unsupported, "key count"},
		{"capi:xts(aes)-plain64", 64, 512, unsupported, "capi"},
		{"aes-cbc-lmk", 32, 512, unsupported, "lmk"},
		{"aes-xts-random", 64, 512, unsupported, "random"},
		{"aes-cbc-tcw", 32, 512, unsupported, "tcw"},
		{"aes-cbc-eboiv", 32, 512, unsupported, "eboiv"},
		{"aes-cbc-elephant", 32, 512, unsupported, "elephant"},
		{"aes-cbc-benbi", 32, 512, unsupported, "benbi"},
		{"aes-gcm-random", 32, 512, unsupported, "GCM"},
		{"cast5-cbc-plain", 16, 512, unsupported, "CAST5"},
		{"aes-xts-plain64", 16, 512, keySize, "needs a key of 32, 48 or 64 bytes, got 16"},
		{"aes-xts-plain64", 0, 512, keySize, "got 0"},
		{"aes-xts-plain64", 65, 512, keySize, "got 65"},
		{"aes-cbc-essiv:sha256", 64, 512, keySize, "needs a key of 16, 24 or 32 bytes, got 64"},
		{"aes-cbc-essiv:sha1", 32, 512, keySize, "ESSIV salt sha1(key) has 20 bytes"},
		{"aes-cbc-essiv:sha512", 32, 512, keySize, "64 bytes"},
		{"twofish-xts-plain64", 40, 512, keySize, "got 40"},
		{"aes-xts-plain64", 64, 0, sectorSize, "sector size 0"},
		{"aes-xts-plain64", 64, 256, sectorSize, "256"},
		{"aes-xts-plain64", 64, 8192, sectorSize, "8192"},
		{"aes-xts-plain64", 64, 513, sectorSize, "513"},
	} {
		_, err := New(v.spec, make([]byte, v.key), v.ss)
		if err == nil {
			t.Errorf("New(%q, %d-byte key, %d) accepted", v.spec, v.key, v.ss)
			continue
		}
		var se *SpecError
		var ke *KeySizeError
		var sse *SectorSizeError
		ok := false
		switch v.want {
		case spec:
			ok = errors.As(err, &se) && !errors.Is(err, errors.ErrUnsupported)
		case unsupported:
			ok = errors.As(err, &se) && errors.Is(err, errors.ErrUnsupported)
		case keySize:
			ok = errors.As(err, &ke)
		case sectorSize:
			ok = errors.As(err, &sse)
		}
		if !ok || !bytes.Contains([]byte(err.Error()), []byte(v.text)) {
			t.Errorf("New(%q, %d-byte key, %d): %T %v; want kind %d containing %q", v.spec, v.key, v.ss, err, err, v.want, v.text)
		}
	}
	c, err := New("aes-xts-plain64", seq(64), 4096)
	if err != nil {
		t.Fatal(err)
	}
	var le *LengthError
	if err := c.Decrypt(make([]byte, 512), 0); !errors.As(err, &le) {
		t.Errorf("Decrypt of 512 bytes with 4096-byte sectors: %v", err)
	}
	if err := c.Decrypt(nil, 0); err != nil {
		t.Errorf("Decrypt of nothing: %v", err)
	}
}
