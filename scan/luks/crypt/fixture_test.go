package crypt

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/scan/device"
)

// luksFixtureDir finds a LUKS fixture: in the repository's fixtures, or
// in the shared fixtures kept beside the repository.
func luksFixtureDir(name string) string {
	for _, dir := range []string{
		filepath.Join(fixture.Root(), name),
		filepath.Join(fixture.Root(), "..", "..", "..", "shared", "fixtures", name),
	} {
		if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err == nil {
			return dir
		}
	}
	return ""
}

// The fixtures' mappings, as the kernel's dm-crypt read them
// (mapping_sha256), decrypted with the volume key of the manifest.
func TestLUKSFixtures(t *testing.T) {
	for _, name := range []string{"luks2-lvm", "luks1-lvm"} {
		t.Run(name, func(t *testing.T) {
			dir := luksFixtureDir(name)
			if dir == "" {
				t.Skipf("fixture %s not present", name)
			}
			b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
			if err != nil {
				t.Fatal(err)
			}
			var m struct {
				Images []struct {
					File string `json:"file"`
					Name string `json:"name"`
				} `json:"images"`
				LUKS []struct {
					Name               string `json:"name"`
					Image              string `json:"image"`
					Version            int    `json:"version"`
					OffsetBytes        int64  `json:"offset_bytes"`
					PayloadOffsetBytes int64  `json:"payload_offset_bytes"`
					VolumeKeyHex       string `json:"volume_key_hex"`
					Cipher             string `json:"cipher"`
					SectorSize         int    `json:"sector_size"`
					MappingSHA256      string `json:"mapping_sha256"`
					MappingSizeBytes   int64  `json:"mapping_size_bytes"`
				} `json:"luks"`
			}
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			if len(m.LUKS) == 0 {
				t.Fatal("manifest has no luks[]")
			}
			for _, l := range m.LUKS {
				file := ""
				for _, im := range m.Images {
					if im.Name == l.Image {
						file = im.File
					}
				}
				img, err := fixture.Gunzip(filepath.Join(dir, file))
				if err != nil {
					t.Fatal(err)
				}
				key, err := hex.DecodeString(l.VolumeKeyHex)
				if err != nil {
					t.Fatal(err)
				}
				var c *Cipher
				if l.Version == 1 {
					// LUKS1 gives the cipher name and mode separately.
					name, mode, _ := strings.Cut(l.Cipher, "-")
					c, err = New2(name, mode, key, l.SectorSize)
				} else {
					c, err = New(l.Cipher, key, l.SectorSize)
				}
				if err != nil {
					t.Fatal(err)
				}
				under := device.Reader{R: bytes.NewReader(img), N: int64(len(img))}
				d, err := NewDevice(under, l.OffsetBytes+l.PayloadOffsetBytes, l.MappingSizeBytes, c, 0, l.Name)
				if err != nil {
					t.Fatal(err)
				}
				h := sha256.New()
				if _, err := io.Copy(h, io.NewSectionReader(d, 0, d.Size())); err != nil {
					t.Fatal(err)
				}
				if got := hex.EncodeToString(h.Sum(nil)); got != l.MappingSHA256 || d.Size() != l.MappingSizeBytes {
					t.Errorf("%s: mapping of %d bytes sha256 %s, want %d bytes %s", l.Name, d.Size(), got, l.MappingSizeBytes, l.MappingSHA256)
				}
				// The LVM label in decrypted sector 1 (luks.md §2.2).
				sec := make([]byte, 512)
				if _, err := d.ReadAt(sec, 512); err != nil || !bytes.HasPrefix(sec, []byte("LABELONE")) {
					t.Errorf("%s: sector 1 is not the LVM label: %q %v", l.Name, sec[:16], err)
				}
			}
		})
	}
}

// Key material decrypts as a device of 512-byte sectors from IV 0
// (luks.md §5.3), with the slot keys of luks.md §9.2 and §9.3.
func TestLUKSFixtureKeyMaterial(t *testing.T) {
	for _, v := range []struct {
		fixture        string
		at             int64 // the LUKS device's offset in the image
		material       int64 // the key material's offset in the LUKS device
		slotKey        string
		cipherSHA, out string
	}{
		{"luks1-lvm", 0, 4096,
			"f2e4732bbd7afe705de6659652350b07e8e049b5242fcbf7518591146d5e44d638214d7776a780ddd7a9c34d013fbe2507863999e9c934a33dd7dcc5421a5b94",
			"92cd16f2bd5a67effc4ea1a6eb1b671dbb6fe789af57487fdbf54b7133a95b5e", "1d659f8df03567bfa562c9c8b37c70b9"},
		{"luks2-lvm", 5242880, 32768,
			"f140f06492afc96e5bc0a8306b7e3269e661edd9809e7ef8e0412ba005a9378761b9b149f23a35c076fd5a5a3f40858e5c8707415c56acfd75adc1fac71879eb",
			"bebc89520680882c490807080b2824dc7eded30fccbbdf6e62c854f912e9dc95", "c87fc0561f6f863481e7ee8bf7df5237"},
	} {
		dir := luksFixtureDir(v.fixture)
		if dir == "" {
			t.Logf("fixture %s not present", v.fixture)
			continue
		}
		img, err := fixture.Gunzip(filepath.Join(dir, "disk0.img.gz"))
		if err != nil {
			t.Fatal(err)
		}
		// 4000 stripes of a 64-byte key: 256000 bytes, 500 sectors.
		mat := bytes.Clone(img[v.at+v.material : v.at+v.material+256000])
		if sha(mat) != v.cipherSHA {
			t.Fatalf("%s: key material sha256 %s", v.fixture, sha(mat))
		}
		c, err := New("aes-xts-plain64", unhex(t, v.slotKey), 512)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Decrypt(mat, 0); err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(mat[:16]); got != v.out {
			t.Errorf("%s: split material starts %s, want %s", v.fixture, got, v.out)
		}
		c.Wipe()
	}
}
