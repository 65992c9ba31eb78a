package crypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"strings"
	"testing"

	//lint:ignore SA1019 the reference encryptor for Twofish volumes
	"golang.org/x/crypto/twofish"
	"golang.org/x/crypto/xts"
)

// refEncrypt encrypts whole sectors of plaintext as dm-crypt would, written
// from luks.md §6 and the standards independently of crypt.go (XTS from
// golang.org/x/crypto/xts where its little-endian tweak fits, CBC from
// crypto/cipher). first is the IV sector number of the first sector;
// large counts IVs in sector units instead of 512-byte units.
func refEncrypt(t testing.TB, spec string, key []byte, ss int, large bool, pt []byte, first uint64) []byte {
	t.Helper()
	f := strings.Split(spec, "-")
	if f[0] == "cipher_null" {
		return append([]byte(nil), pt...)
	}
	newBlock := func(k []byte) cipher.Block {
		var b cipher.Block
		var err error
		if f[0] == "twofish" {
			b, err = twofish.NewCipher(k)
		} else {
			b, err = aes.NewCipher(k)
		}
		if err != nil {
			t.Fatalf("reference %s: %v", spec, err)
		}
		return b
	}
	ivgen := ""
	if len(f) > 2 {
		ivgen = f[2]
	}
	ivOf := func(s uint64) []byte {
		iv := make([]byte, 16)
		switch ivgen {
		case "plain64":
			binary.LittleEndian.PutUint64(iv, s)
		case "plain":
			binary.LittleEndian.PutUint32(iv, uint32(s))
		case "plain64be":
			binary.BigEndian.PutUint64(iv[8:], s)
		case "essiv:sha256":
			salt := sha256.Sum256(key)
			binary.LittleEndian.PutUint64(iv, s)
			newBlock(salt[:]).Encrypt(iv, iv)
		case "null":
		default:
			t.Fatalf("reference: IV generator %q", ivgen)
		}
		return iv
	}
	ct := make([]byte, len(pt))
	step := uint64(ss / 512)
	if large {
		step = 1
	}
	for k := 0; k*ss < len(pt); k++ {
		s := first + uint64(k)*step
		src, dst := pt[k*ss:(k+1)*ss], ct[k*ss:(k+1)*ss]
		switch f[1] {
		case "xts":
			switch ivgen {
			case "plain64", "plain", "null":
				n := s
				if ivgen == "plain" {
					n &= 0xffffffff
				} else if ivgen == "null" {
					n = 0
				}
				ctor := aes.NewCipher
				if f[0] == "twofish" {
					ctor = func(k []byte) (cipher.Block, error) { return twofish.NewCipher(k) }
				}
				x, err := xts.NewCipher(ctor, key)
				if err != nil {
					t.Fatal(err)
				}
				x.Encrypt(dst, src, n)
			default:
				refXTSEncrypt(newBlock(key[:len(key)/2]), newBlock(key[len(key)/2:]), ivOf(s), dst, src)
			}
		case "cbc":
			cipher.NewCBCEncrypter(newBlock(key), ivOf(s)).CryptBlocks(dst, src)
		case "ecb":
			b := newBlock(key)
			for i := 0; i < len(src); i += 16 {
				b.Encrypt(dst[i:i+16], src[i:i+16])
			}
		default:
			t.Fatalf("reference: mode %q", f[1])
		}
	}
	return ct
}

// refXTSEncrypt is IEEE 1619 XTS encryption of one data unit with an
// arbitrary 16-byte tweak, byte by byte: T = E_K2(tweak); C_j =
// E_K1(P_j ⊕ T) ⊕ T; T = T·α (a left shift of the 128-bit little-endian
// value, 0x87 folded into byte 0 on carry).
func refXTSEncrypt(k1, k2 cipher.Block, tweak, dst, src []byte) {
	var T [16]byte
	k2.Encrypt(T[:], tweak)
	var x [16]byte
	for j := 0; j < len(src); j += 16 {
		for i := range x {
			x[i] = src[j+i] ^ T[i]
		}
		k1.Encrypt(x[:], x[:])
		for i := range x {
			dst[j+i] = x[i] ^ T[i]
		}
		var carry byte
		for i := range T {
			next := T[i] >> 7
			T[i] = T[i]<<1 | carry
			carry = next
		}
		if carry != 0 {
			T[0] ^= 0x87
		}
	}
}
