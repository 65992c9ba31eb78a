package luks

import (
	"errors"
	"strings"

	"github.com/lvminspect/lvminspect/scan/luks/crypt"
)

// newCipher builds the cipher of a key slot's key material or of the
// payload: LUKS1's name and mode joined by crypt.New2, LUKS2's
// specification by crypt.New.
func (h *Header) newCipher(spec string, key []byte, sectorSize int) (*crypt.Cipher, error) {
	if h.Version == 1 {
		return crypt.New2(h.CipherName, h.CipherMode, key, sectorSize)
	}
	return crypt.New(spec, key, sectorSize)
}

// checkCipher says whether a cipher specification can be used with keys
// of keyBytes bytes (any usable length when keyBytes is 0), without a
// key: a cipher is built with a zero key and wiped.
func checkCipher(spec string, keyBytes int) error {
	if spec == "" {
		return errors.New("no cipher specification")
	}
	return tryCipher(keyBytes, func(k []byte) (*crypt.Cipher, error) { return crypt.New(spec, k, SectorBytes) })
}

func checkCipher1(name, mode string, keyBytes int) error {
	return tryCipher(keyBytes, func(k []byte) (*crypt.Cipher, error) { return crypt.New2(name, mode, k, SectorBytes) })
}

func tryCipher(keyBytes int, build func([]byte) (*crypt.Cipher, error)) error {
	sizes := []int{keyBytes}
	if keyBytes <= 0 || keyBytes > maxKeyBytes {
		sizes = []int{16, 24, 32, 48, 64}
	}
	var first error
	for _, n := range sizes {
		c, err := build(make([]byte, n))
		if err == nil {
			c.Wipe()
			return nil
		}
		var se *crypt.SpecError
		if errors.As(err, &se) {
			return errors.New(se.Why)
		}
		if first == nil {
			first = err
		}
	}
	return errors.New(strings.TrimPrefix(first.Error(), "crypt: "))
}
