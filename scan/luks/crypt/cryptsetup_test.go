package crypt

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/scan/device"
)

// TestCryptsetup encrypts files of known plaintext with cryptsetup's
// offline encryption (reencrypt --encrypt, done in user space, no
// device-mapper needed), reads the data segment from the LUKS2 JSON
// metadata, and decrypts it with a Device and the volume key given to
// cryptsetup. The data area must be the file's original bytes: cryptsetup
// moves them up by the header it makes room for.
func TestCryptsetup(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	cs, err := exec.LookPath("cryptsetup")
	if err != nil {
		t.Skip("cryptsetup is not installed")
	}
	for _, v := range []struct {
		spec    string
		keySize int // bytes
		ss      int // 0: cryptsetup's default
	}{
		{"aes-xts-plain64", 64, 0},
		{"aes-xts-plain64", 64, 4096},
		{"aes-xts-plain64", 32, 2048},
		{"aes-cbc-essiv:sha256", 32, 0},
		{"aes-cbc-essiv:sha256", 16, 4096},
		{"aes-xts-plain", 32, 4096},
		{"aes-cbc-plain64", 16, 0},
		{"aes-xts-plain64be", 64, 0},
		{"aes-ecb", 32, 0},
	} {
		name := fmt.Sprintf("%s/key%d/ss%d", v.spec, v.keySize*8, v.ss)
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			r := rand.New(rand.NewPCG(uint64(v.keySize), uint64(v.ss)))
			const fileSize, ptSize = 48 << 20, 8 << 20
			pt := randBytes(r, ptSize)
			file := filepath.Join(dir, "disk")
			keyFile := filepath.Join(dir, "key")
			key := randBytes(r, v.keySize)
			if err := os.WriteFile(file, pt, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(file, fileSize); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(keyFile, key, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "pass"), []byte("a passphrase"), 0o600); err != nil {
				t.Fatal(err)
			}
			args := []string{"reencrypt", "--encrypt", "--type", "luks2", "--reduce-device-size", "32M",
				"--batch-mode", "--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000",
				"--volume-key-file", keyFile, "--key-file", filepath.Join(dir, "pass"),
				"--cipher", v.spec, "--key-size", strconv.Itoa(v.keySize * 8)}
			if v.ss != 0 {
				args = append(args, "--sector-size", strconv.Itoa(v.ss))
			}
			if out, err := exec.Command(cs, append(args, file)...).CombinedOutput(); err != nil {
				t.Fatalf("cryptsetup %s: %v\n%s", strings.Join(args, " "), err, out)
			}
			out, err := exec.Command(cs, "luksDump", "--dump-json-metadata", file).Output()
			if err != nil {
				t.Fatalf("luksDump: %v", err)
			}
			var meta struct {
				Segments map[string]struct {
					Type       string `json:"type"`
					Offset     string `json:"offset"`
					Size       string `json:"size"`
					IVTweak    string `json:"iv_tweak"`
					Encryption string `json:"encryption"`
					SectorSize int    `json:"sector_size"`
				} `json:"segments"`
			}
			if err := json.Unmarshal(out, &meta); err != nil {
				t.Fatalf("luksDump JSON: %v\n%s", err, out)
			}
			seg, ok := meta.Segments["0"]
			if !ok || len(meta.Segments) != 1 || seg.Type != "crypt" {
				t.Fatalf("segments: %s", out)
			}
			want := max(v.ss, 512)
			if seg.Encryption != v.spec || seg.SectorSize != want {
				t.Fatalf("segment encryption %q sector_size %d", seg.Encryption, seg.SectorSize)
			}
			off, err1 := strconv.ParseInt(seg.Offset, 10, 64)
			tweak, err2 := strconv.ParseUint(seg.IVTweak, 10, 64)
			if err1 != nil || err2 != nil {
				t.Fatalf("segment offset %q iv_tweak %q", seg.Offset, seg.IVTweak)
			}
			f, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			fi, err := f.Stat()
			if err != nil {
				t.Fatal(err)
			}
			size := fi.Size() - off
			if seg.Size != "dynamic" {
				if size, err = strconv.ParseInt(seg.Size, 10, 64); err != nil {
					t.Fatalf("segment size %q", seg.Size)
				}
			}
			c, err := New(seg.Encryption, key, seg.SectorSize)
			if err != nil {
				t.Fatal(err)
			}
			d, err := NewDevice(device.NewFile(f, fi.Size(), true, nil), off, size, c, tweak, "luks")
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if d.Size() < ptSize {
				t.Fatalf("data area of %d bytes at %d", d.Size(), off)
			}
			// The known plaintext, then the zeros the file had after it.
			got := make([]byte, ptSize)
			if _, err := d.ReadAt(got, 0); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, pt) {
				i := 0
				for i < len(got) && got[i] == pt[i] {
					i++
				}
				t.Fatalf("decrypted data differs from the plaintext from byte %d (offset %d, iv_tweak %d)", i, off, tweak)
			}
			// cryptsetup encrypted the file's first fileSize - 32 MiB bytes
			// (the device less --reduce-device-size): the known plaintext,
			// then the zeros the file had after it.
			const encrypted = fileSize - 32<<20
			h := sha256.New()
			if _, err := io.Copy(h, io.NewSectionReader(d, ptSize, encrypted-ptSize)); err != nil {
				t.Fatal(err)
			}
			zh := sha256.New()
			if _, err := io.CopyN(zh, zeroReader{}, encrypted-ptSize); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(h.Sum(nil), zh.Sum(nil)) {
				t.Error("the data area after the known plaintext does not decrypt to zeros")
			}
			// The rest of the area holds what cryptsetup left there while
			// moving the data: data all the same.
			ext, err := d.Map(encrypted, d.Size()-encrypted)
			if err != nil || len(ext) != 1 || ext[0].Kind != device.Data || ext[0].Len != d.Size()-encrypted {
				t.Errorf("Map of the area never written: %v, %v", ext, err)
			}
			// Unaligned reads.
			for range 50 {
				o := r.Int64N(ptSize)
				n := r.IntN(3 * seg.SectorSize)
				checkRead(t, d, pt, o, n)
			}
			// A wrong key decrypts to something else.
			key[0] ^= 1
			c2, err := New(seg.Encryption, key, seg.SectorSize)
			if err != nil {
				t.Fatal(err)
			}
			d2, err := NewDevice(device.NewFile(f, fi.Size(), true, nil), off, size, c2, tweak, "luks")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := d2.ReadAt(got[:4096], 0); err != nil || bytes.Equal(got[:4096], pt[:4096]) {
				t.Errorf("a wrong key: %v", err)
			}
		})
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
