package crypt

import (
	"bytes"
	"crypto/aes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex in test: %v", err)
	}
	return b
}

// seq returns the bytes 0, 1, ..., n-1 (luks.md's "00..3f" notation).
func seq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// IEEE 1619-2007 Annex B, XTS-AES vectors 1-5 and 10 (AES-128 and AES-256).
var ieee1619 = []struct {
	no         int
	key        string
	unit       uint64
	ptx, ctx   string
	sectorSize int // 0: a 32-byte data unit, tested through the XTS core
}{
	{1, "00000000000000000000000000000000" + "00000000000000000000000000000000", 0,
		"0000000000000000000000000000000000000000000000000000000000000000",
		"917cf69ebd68b2ec9b9fe9a3eadda692cd43d2f59598ed858c02c2652fbf922e", 0},
	{2, "11111111111111111111111111111111" + "22222222222222222222222222222222", 0x3333333333,
		"4444444444444444444444444444444444444444444444444444444444444444",
		"c454185e6a16936e39334038acef838bfb186fff7480adc4289382ecd6d394f0", 0},
	{3, "fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0" + "22222222222222222222222222222222", 0x3333333333,
		"4444444444444444444444444444444444444444444444444444444444444444",
		"af85336b597afc1a900b2eb21ec949d292df4c047e0b21532186a5971a227a89", 0},
	{4, "27182818284590452353602874713526" + "31415926535897932384626433832795", 0,
		"", // 00..ff twice
		"27a7479befa1d476489f308cd4cfa6e2a96e4bbe3208ff25287dd3819616e89cc78cf7f5e543445f8333d8fa7f56000005279fa5d8b5e4ad40e736ddb4d35412328063fd2aab53e5ea1e0a9f332500a5df9487d07a5c92cc512c8866c7e860ce93fdf166a24912b422976146ae20ce846bb7dc9ba94a767aaef20c0d61ad02655ea92dc4c4e41a8952c651d33174be51a10c421110e6d81588ede82103a252d8a750e8768defffed9122810aaeb99f9172af82b604dc4b8e51bcb08235a6f4341332e4ca60482a4ba1a03b3e65008fc5da76b70bf1690db4eae29c5f1badd03c5ccf2a55d705ddcd86d449511ceb7ec30bf12b1fa35b913f9f747a8afd1b130e94bff94effd01a91735ca1726acd0b197c4e5b03393697e126826fb6bbde8ecc1e08298516e2c9ed03ff3c1b7860f6de76d4cecd94c8119855ef5297ca67e9f3e7ff72b1e99785ca0a7e7720c5b36dc6d72cac9574c8cbbc2f801e23e56fd344b07f22154beba0f08ce8891e643ed995c94d9a69c9f1b5f499027a78572aeebd74d20cc39881c213ee770b1010e4bea718846977ae119f7a023ab58cca0ad752afe656bb3c17256a9f6e9bf19fdd5a38fc82bbe872c5539edb609ef4f79c203ebb140f2e583cb2ad15b4aa5b655016a8449277dbd477ef2c8d6c017db738b18deb4a427d1923ce3ff262735779a418f20a282df920147beabe421ee5319d0568", 512},
	{5, "27182818284590452353602874713526" + "31415926535897932384626433832795", 1,
		"27a7479befa1d476489f308cd4cfa6e2a96e4bbe3208ff25287dd3819616e89cc78cf7f5e543445f8333d8fa7f56000005279fa5d8b5e4ad40e736ddb4d35412328063fd2aab53e5ea1e0a9f332500a5df9487d07a5c92cc512c8866c7e860ce93fdf166a24912b422976146ae20ce846bb7dc9ba94a767aaef20c0d61ad02655ea92dc4c4e41a8952c651d33174be51a10c421110e6d81588ede82103a252d8a750e8768defffed9122810aaeb99f9172af82b604dc4b8e51bcb08235a6f4341332e4ca60482a4ba1a03b3e65008fc5da76b70bf1690db4eae29c5f1badd03c5ccf2a55d705ddcd86d449511ceb7ec30bf12b1fa35b913f9f747a8afd1b130e94bff94effd01a91735ca1726acd0b197c4e5b03393697e126826fb6bbde8ecc1e08298516e2c9ed03ff3c1b7860f6de76d4cecd94c8119855ef5297ca67e9f3e7ff72b1e99785ca0a7e7720c5b36dc6d72cac9574c8cbbc2f801e23e56fd344b07f22154beba0f08ce8891e643ed995c94d9a69c9f1b5f499027a78572aeebd74d20cc39881c213ee770b1010e4bea718846977ae119f7a023ab58cca0ad752afe656bb3c17256a9f6e9bf19fdd5a38fc82bbe872c5539edb609ef4f79c203ebb140f2e583cb2ad15b4aa5b655016a8449277dbd477ef2c8d6c017db738b18deb4a427d1923ce3ff262735779a418f20a282df920147beabe421ee5319d0568",
		"264d3ca8512194fec312c8c9891f279fefdd608d0c027b60483a3fa811d65ee59d52d9e40ec5672d81532b38b6b089ce951f0f9c35590b8b978d175213f329bb1c2fd30f2f7f30492a61a532a79f51d36f5e31a7c9a12c286082ff7d2394d18f783e1a8e72c722caaaa52d8f065657d2631fd25bfd8e5baad6e527d763517501c68c5edc3cdd55435c532d7125c8614deed9adaa3acade5888b87bef641c4c994c8091b5bcd387f3963fb5bc37aa922fbfe3df4e5b915e6eb514717bdd2a74079a5073f5c4bfd46adf7d282e7a393a52579d11a028da4d9cd9c77124f9648ee383b1ac763930e7162a8d37f350b2f74b8472cf09902063c6b32e8c2d9290cefbd7346d1c779a0df50edcde4531da07b099c638e83a755944df2aef1aa31752fd323dcb710fb4bfbb9d22b925bc3577e1b8949e729a90bbafeacf7f7879e7b1147e28ba0bae940db795a61b15ecf4df8db07b824bb062802cc98a9545bb2aaeed77cb3fc6db15dcd7d80d7d5bc406c4970a3478ada8899b329198eb61c193fb6275aa8ca340344a75a862aebe92eee1ce032fd950b47d7704a3876923b4ad62844bf4a09c4dbe8b4397184b7471360c9564880aedddb9baa4af2e75394b08cd32ff479c57a07d3eab5d54de5f9738b8d27f27a9f0ab11799d7b7ffefb2704c95c6ad12c39f1e867a4b7b1d7818a4b753dfd2a89ccb45e001a03a867b187f225dd", 512},
	{10, "2718281828459045235360287471352662497757247093699959574966967627" + "3141592653589793238462643383279502884197169399375105820974944592", 0xff,
		"",
		"1c3b3a102f770386e4836c99e370cf9bea00803f5e482357a4ae12d414a3e63b5d31e276f8fe4a8d66b317f9ac683f44680a86ac35adfc3345befecb4bb188fd5776926c49a3095eb108fd1098baec70aaa66999a72a82f27d848b21d4a741b0c5cd4d5fff9dac89aeba122961d03a757123e9870f8acf1000020887891429ca2a3e7a7d7df7b10355165c8b9a6d0a7de8b062c4500dc4cd120c0f7418dae3d0b5781c34803fa75421c790dfe1de1834f280d7667b327f6c8cd7557e12ac3a0f93ec05c52e0493ef31a12d3d9260f79a289d6a379bc70c50841473d1a8cc81ec583e9645e07b8d9670655ba5bbcfecc6dc3966380ad8fecb17b6ba02469a020a84e18e8f84252070c13e9f1f289be54fbc481457778f616015e1327a02b140f1505eb309326d68378f8374595c849d84f4c333ec4423885143cb47bd71c5edae9be69a2ffeceb1bec9de244fbe15992b11b77c040f12bd8f6a975a44a0f90c29a9abc3d4d893927284c58754cce294529f8614dcd2aba991925fedc4ae74ffac6e333b93eb4aff0479da9a410e4450e0dd7ae4c6e2910900575da401fc07059f645e8b7e9bfdef33943054ff84011493c27b3429eaedb4ed5376441a77ed43851ad77f16f541dfd269d50d6a5f14fb0aab1cbb4c1550be97f7ab4066193c4caa773dad38014bd2092fa755c824bb5e54c4f36ffda9fcea70b9c6e693e148c151", 512},
}

func TestIEEE1619(t *testing.T) {
	for _, v := range ieee1619 {
		key := unhex(t, v.key)
		var ptx []byte
		if v.ptx == "" {
			ptx = append(seq(256), seq(256)...)
		} else {
			ptx = unhex(t, v.ptx)
		}
		ctx := unhex(t, v.ctx)
		if v.sectorSize == 0 {
			// A 32-byte data unit: below every dm-crypt sector size, so
			// through the XTS core with the tweak of plain64.
			k1, _ := aes.NewCipher(key[:len(key)/2])
			k2, _ := aes.NewCipher(key[len(key)/2:])
			var tw [16]byte
			binary.LittleEndian.PutUint64(tw[:], v.unit)
			k2.Encrypt(tw[:], tw[:])
			b := bytes.Clone(ctx)
			xtsDecrypt(k1, b, &tw)
			if !bytes.Equal(b, ptx) {
				t.Errorf("vector %d: got %x, want %x", v.no, b, ptx)
			}
			continue
		}
		c, err := New("aes-xts-plain64", key, v.sectorSize)
		if err != nil {
			t.Fatalf("vector %d: %v", v.no, err)
		}
		b := bytes.Clone(ctx)
		if err := c.Decrypt(b, v.unit); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, ptx) {
			t.Errorf("vector %d: got %x..., want %x...", v.no, b[:32], ptx[:32])
		}
	}
}

// luks.md §9.1.
func TestLUKSBuildingBlocks(t *testing.T) {
	t.Run("essiv salt and IVs", func(t *testing.T) {
		c, err := New("aes-cbc-essiv:sha256", seq(32), 512)
		if err != nil {
			t.Fatal(err)
		}
		salt := sha256.Sum256(seq(32))
		if got := hex.EncodeToString(salt[:]); got != "630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd" {
			t.Errorf("salt %s", got)
		}
		for s, want := range map[uint64]string{
			0: "a73d5fb0e4041090ca6dc1b820cdaf51",
			1: "59a0803f448bdf6d3d3de63feaccd58a",
			8: "34d7e09b76f1336e9ff7d7c4e0332ba5",
		} {
			var iv [16]byte
			c.iv(&iv, s)
			if got := hex.EncodeToString(iv[:]); got != want {
				t.Errorf("ESSIV IV of sector %d: %s, want %s", s, got, want)
			}
		}
	})
	t.Run("xts 512", func(t *testing.T) {
		c, err := New("aes-xts-plain64", seq(64), 512)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []struct {
			s           uint64
			first, hash string
		}{
			{0, "885d472839319c326354bae2a9289c62", "8bfa8bc34a69dff212fc6553071d0936943ecf0e92411204f02d39366068e397"},
			{1, "d9a6959f1b1d8e9e37b1479d9f9676dd", "23be24b8549b54f6c9dd7896a86c9f860c73ba0c52ff2e61f42a4935787d928d"},
			{8, "e6f62ed1062af7f92beff1868d442190", "ceb5cd071050cc377d3082141dcfebe0dcdd8c6ad3aab045085e401478528a19"},
		} {
			b := make([]byte, 512)
			if err := c.Decrypt(b, v.s); err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(b[:16]) != v.first || sha(b) != v.hash {
				t.Errorf("IV %d: first 16 %x sha256 %s", v.s, b[:16], sha(b))
			}
		}
	})
	t.Run("4096-byte sectors count IVs in 512-byte units", func(t *testing.T) {
		// Two 4096-byte sectors of zeros from the start of a segment: the
		// second is at byte 4096, IV 8; counting in 4096-byte units
		// (IVLargeSectors) gives IV 1, the wrong value of §9.1.
		for _, v := range []struct {
			spec string
			key  []byte
			opt  Option
			want string
		}{
			{"aes-xts-plain64", seq(64), nil, "12879860434a55e2f8ec3d4311251a750b751a7dd5964697c428e1be41649103"},
			{"aes-xts-plain64", seq(64), IVLargeSectors(), "0425054cf78f9ba5306dfbbb4397e912b4ba6e356fbfdfd78414d5dd9ecda33b"},
			{"aes-cbc-essiv:sha256", seq(32), nil, "b87e90484836bf64170d970b1a20d75f2fd6d6914b72689e0b9f31630771c91a"},
		} {
			c, err := New(v.spec, v.key, 4096, v.opt)
			if err != nil {
				t.Fatal(err)
			}
			b := make([]byte, 8192)
			if err := c.Decrypt(b, 0); err != nil {
				t.Fatal(err)
			}
			if got := sha(b[4096:]); got != v.want {
				t.Errorf("%s (large IV %v): second sector sha256 %s, want %s", v.spec, c.IVStep() == 1, got, v.want)
			}
		}
	})
	t.Run("cbc-plain64", func(t *testing.T) {
		c, err := New("aes-cbc-plain64", seq(32), 512)
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 512)
		if err := c.Decrypt(b, 8); err != nil {
			t.Fatal(err)
		}
		if got := sha(b); got != "32ea87c21f6f24967ffb1a6a0f5556717e8553078b396f70daaf2a7dbd26d62f" {
			t.Errorf("sha256 %s", got)
		}
	})
}

// plain keeps the low 32 bits of the sector number, plain64 all 64: they
// agree below 2³² and differ from there on.
func TestPlainWrapsAt2To32(t *testing.T) {
	for _, mode := range []string{"xts", "cbc"} {
		key := seq(32)
		p, err1 := New("aes-"+mode+"-plain", key, 512)
		p64, err2 := New("aes-"+mode+"-plain64", key, 512)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		dec := func(c *Cipher, s uint64) []byte {
			b := bytes.Repeat([]byte{0x5a}, 512)
			if err := c.Decrypt(b, s); err != nil {
				t.Fatal(err)
			}
			return b
		}
		for _, s := range []uint64{0, 7, 1<<32 - 1} {
			if !bytes.Equal(dec(p, s), dec(p64, s)) {
				t.Errorf("%s: plain and plain64 differ at sector %d", mode, s)
			}
		}
		for _, s := range []uint64{1 << 32, 1<<32 + 7, 1<<63 + 3} {
			if bytes.Equal(dec(p, s), dec(p64, s)) {
				t.Errorf("%s: plain and plain64 agree at sector %#x", mode, s)
			}
			if !bytes.Equal(dec(p, s), dec(p64, s&0xffffffff)) {
				t.Errorf("%s: plain at %#x is not plain64 at %#x", mode, s, s&0xffffffff)
			}
		}
	}
}

func TestWipe(t *testing.T) {
	for _, spec := range []string{"aes-xts-plain64", "aes-cbc-essiv:sha256", "twofish-xts-plain64"} {
		key := seq(64)
		if spec == "aes-cbc-essiv:sha256" {
			key = seq(32)
		}
		c, err := New(spec, key, 512)
		if err != nil {
			t.Fatal(err)
		}
		if &c.key[0] == &key[0] {
			t.Fatal("key not copied")
		}
		keyCopy := c.key
		blocks := []any{c.data, c.tweak, c.essiv}
		c.Wipe()
		for _, b := range keyCopy {
			if b != 0 {
				t.Fatalf("%s: key copy not cleared: %x", spec, keyCopy)
			}
		}
		if !c.SchedulesCleared() {
			t.Errorf("%s: key schedules not cleared", spec)
		}
		for _, b := range blocks {
			if b == nil {
				continue
			}
			if !allZero(scheduleBytes(b)) {
				t.Errorf("%s: %T not zeroed", spec, b)
			}
		}
		if err := c.Decrypt(make([]byte, 512), 0); !errors.Is(err, ErrWiped) {
			t.Errorf("%s: Decrypt after Wipe: %v", spec, err)
		}
		if !bytes.Equal(key, seq(len(key))) {
			t.Error("caller's key changed")
		}
		c.Wipe() // twice is fine
	}
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return len(b) > 0
}
