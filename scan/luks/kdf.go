package luks

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"encoding/binary"
	"hash"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/blake2b"
	"golang.org/x/crypto/blake2s"
	"golang.org/x/crypto/ripemd160" //lint:ignore SA1019 LUKS1 volumes made with --hash ripemd160 exist
)

// hashes are the hash names of LUKS headers this package implements
// (luks.md §1), in the spelling cryptsetup writes.
var hashes = map[string]func() hash.Hash{
	"sha1":      sha1.New,
	"sha224":    sha256.New224,
	"sha256":    sha256.New,
	"sha384":    sha512.New384,
	"sha512":    sha512.New,
	"ripemd160": ripemd160.New,
	"sha3-224":  func() hash.Hash { return sha3.New224() },
	"sha3-256":  func() hash.Hash { return sha3.New256() },
	"sha3-384":  func() hash.Hash { return sha3.New384() },
	"sha3-512":  func() hash.Hash { return sha3.New512() },
	"blake2b-160": func() hash.Hash {
		h, _ := blake2b.New(20, nil)
		return h
	},
	"blake2b-256": func() hash.Hash { h, _ := blake2b.New256(nil); return h },
	"blake2b-384": func() hash.Hash { h, _ := blake2b.New384(nil); return h },
	"blake2b-512": func() hash.Hash { h, _ := blake2b.New512(nil); return h },
	"blake2s-256": func() hash.Hash { h, _ := blake2s.New256(nil); return h },
}

// hashFunc returns the hash named in a header, nil when unknown.
func hashFunc(name string) func() hash.Hash {
	return hashes[strings.ToLower(name)]
}

func knownHash(name string) bool { return hashFunc(name) != nil }

// ctxCheckEvery is how many PBKDF2 iterations run between checks of the
// context.
const ctxCheckEvery = 1 << 12

// pbkdf2Key is PBKDF2 of RFC 8018 §5.2 with HMAC over h, stopping with
// the context's error when it is cancelled. The intermediate blocks are
// cleared before it returns; the caller wipes the key.
func pbkdf2Key(ctx context.Context, h func() hash.Hash, password, salt []byte, iter uint32, keyLen int) ([]byte, error) {
	prf := hmac.New(h, password)
	hLen := prf.Size()
	blocks := (keyLen + hLen - 1) / hLen
	out := make([]byte, 0, blocks*hLen)
	var ctr [4]byte
	u := make([]byte, 0, hLen)
	t := make([]byte, hLen)
	defer wipe(t)
	defer func() { wipe(u[:cap(u)]) }()
	for block := 1; block <= blocks; block++ {
		prf.Reset()
		prf.Write(salt)
		binary.BigEndian.PutUint32(ctr[:], uint32(block))
		prf.Write(ctr[:])
		u = prf.Sum(u[:0])
		copy(t, u)
		for n := uint32(2); n <= iter; n++ {
			if n%ctxCheckEvery == 0 {
				if err := ctx.Err(); err != nil {
					wipe(out[:cap(out)])
					return nil, err
				}
			}
			prf.Reset()
			prf.Write(u)
			u = prf.Sum(u[:0])
			for i := range t {
				t[i] ^= u[i]
			}
		}
		out = append(out, t...)
	}
	wipe(out[keyLen:cap(out)])
	return out[:keyLen:keyLen], nil
}

// argon2Key is Argon2i or Argon2id (RFC 9106, version 0x13) as LUKS2 key
// slots use it (luks.md §5.2): no secret, no associated data.
func argon2Key(typ string, password, salt []byte, time, memKiB, lanes uint32, keyLen int) []byte {
	if typ == "argon2i" {
		return argon2.Key(password, salt, time, memKiB, uint8(lanes), uint32(keyLen))
	}
	return argon2.IDKey(password, salt, time, memKiB, uint8(lanes), uint32(keyLen))
}

// wipe clears b: used on every buffer that held a secret.
func wipe(b []byte) {
	clear(b)
}
