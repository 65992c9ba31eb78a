package luks

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Volumes made by cryptsetup, when it is installed, on plain files: the
// decoded header is compared with its luksDump, every key slot opens
// with its secret and gives the volume key cryptsetup was handed.

type csKey struct {
	slot    int
	secret  []byte
	unbound bool
}

type csVolume struct {
	name    string
	format  []string // luksFormat options
	keys    []csKey  // keys[0] is luksFormat's
	addArgs [][]string
	after   [][]string // further commands (FILE is replaced by the image)
	keyLen  int
	check   func(t *testing.T, h *Header)
}

func TestCryptsetupVolumes(t *testing.T) {
	cs, err := exec.LookPath("cryptsetup")
	if err != nil {
		t.Skip("cryptsetup is not installed")
	}
	if testing.Short() {
		t.Skip("short")
	}
	argon := []string{"--pbkdf-memory", "32768", "--pbkdf-force-iterations", "4"}
	fast := []string{"--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000"}
	vols := []csVolume{
		{
			name:    "luks2-argon2i",
			format:  append([]string{"--type", "luks2", "--pbkdf", "argon2i", "--pbkdf-parallel", "2", "--key-size", "512", "--luks2-keyslots-size", "1m", "--label", "evidence", "--subsystem", "case7"}, argon...),
			keys:    []csKey{{0, []byte("key file line\n"), false}, {1, []byte("second\x00binary\xff"), false}},
			addArgs: [][]string{append([]string{"--hash", "sha512"}, fast...)},
			keyLen:  64,
			check: func(t *testing.T, h *Header) {
				if h.Label != "evidence" || h.Subsystem != "case7" || h.Keyslot(1).KDF.Hash != "sha512" || h.Keyslot(0).KDF.Type != "argon2i" {
					t.Errorf("label %q subsystem %q slots %+v", h.Label, h.Subsystem, h.Keyslots)
				}
			},
		},
		{
			name:   "luks2-cbc-4096-64k",
			format: append([]string{"--type", "luks2", "--cipher", "aes-cbc-essiv:sha256", "--key-size", "256", "--sector-size", "4096", "--pbkdf", "argon2id", "--luks2-metadata-size", "64k", "--luks2-keyslots-size", "2m"}, argon...),
			keys:   []csKey{{0, []byte("pw"), false}, {3, []byte("three"), false}, {4, []byte("unb"), true}},
			addArgs: [][]string{
				append([]string{"--key-slot", "3"}, fast...),
				append([]string{"--unbound", "--key-size", "128", "--key-slot", "4"}, fast...),
			},
			after: [][]string{
				{"config", "--priority", "prefer", "--key-slot", "3", "FILE"},
				{"token", "add", "--key-description", "lvminspect-test", "--key-slot", "0", "FILE"},
			},
			keyLen: 32,
			check: func(t *testing.T, h *Header) {
				if h.HdrSize != 65536 || h.Copies[1].Offset != 65536 || h.SectorSize != 4096 || h.IVSector(4096) != 8 {
					t.Errorf("hdr_size %d, sector %d", h.HdrSize, h.SectorSize)
				}
				if ks := h.Keyslot(4); ks.Bound || ks.KeyBytes != 16 || ks.SlotKeyLen != 32 || h.Keyslot(3).Priority != 2 {
					t.Errorf("slots %+v", h.Keyslots)
				}
				if len(h.Tokens) != 1 || h.Tokens[0].Type != "luks2-keyring" || !slices.Equal(h.Tokens[0].Keyslots, []int{0}) {
					t.Errorf("tokens %+v", h.Tokens)
				}
			},
		},
		{
			name:   "luks2-plain-pbkdf2-sha1",
			format: append([]string{"--type", "luks2", "--cipher", "aes-xts-plain", "--key-size", "256", "--hash", "sha1", "--sector-size", "512", "--luks2-keyslots-size", "1m"}, fast...),
			keys:   []csKey{{0, []byte("plain"), false}},
			keyLen: 32,
		},
		{
			name:    "luks1-sha1",
			format:  append([]string{"--type", "luks1", "--cipher", "aes-xts-plain64", "--key-size", "256", "--hash", "sha1"}, fast...),
			keys:    []csKey{{0, []byte("one"), false}, {3, []byte("three"), false}, {5, []byte("five"), false}},
			addArgs: [][]string{append([]string{"--key-slot", "3"}, fast...), append([]string{"--key-slot", "5"}, fast...)},
			after:   [][]string{{"luksKillSlot", "FILE", "5"}},
			keyLen:  32,
			check: func(t *testing.T, h *Header) {
				if h.Keyslot(5).State != "inactive" || h.Keyslot(3).State != "active" || h.HashSpec != "sha1" {
					t.Errorf("slots %+v", h.Keyslots)
				}
			},
		},
		{
			name:   "luks1-cbc-essiv-sha512",
			format: append([]string{"--type", "luks1", "--cipher", "aes-cbc-essiv:sha256", "--key-size", "128", "--hash", "sha512"}, fast...),
			keys:   []csKey{{0, []byte("cbc"), false}},
			keyLen: 16,
		},
		{
			name:   "luks1-converted",
			format: append([]string{"--type", "luks1", "--cipher", "aes-xts-plain64", "--key-size", "512", "--hash", "sha256"}, fast...),
			keys:   []csKey{{0, []byte("convert me"), false}},
			after:  [][]string{{"convert", "--type", "luks2", "--batch-mode", "FILE"}},
			keyLen: 64,
			check: func(t *testing.T, h *Header) {
				// A header converted from LUKS1 keeps the 20-byte digest.
				if h.Version != 2 || len(h.Digests[0].Digest) != 20 {
					t.Errorf("converted: version %d, digest %d bytes", h.Version, len(h.Digests[0].Digest))
				}
			},
		},
	}
	dir := t.TempDir()
	for _, v := range vols {
		t.Run(v.name, func(t *testing.T) {
			img := filepath.Join(dir, v.name+".img")
			if err := os.WriteFile(img, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(img, 8<<20); err != nil {
				t.Fatal(err)
			}
			vk := make([]byte, v.keyLen)
			_, _ = rand.Read(vk)
			write := func(name string, b []byte) string {
				p := filepath.Join(dir, v.name+"."+name)
				if err := os.WriteFile(p, b, 0o600); err != nil {
					t.Fatal(err)
				}
				return p
			}
			run := func(args ...string) string {
				t.Helper()
				out, err := exec.Command(cs, args...).CombinedOutput()
				if err != nil && strings.Contains(string(out), "device-mapper") {
					// cryptsetup checks some ciphers through the kernel.
					t.Skipf("cryptsetup %s: %s", strings.Join(args, " "), out)
				}
				if err != nil {
					t.Fatalf("cryptsetup %s: %v\n%s", strings.Join(args, " "), err, out)
				}
				return string(out)
			}
			k0 := write("key0", v.keys[0].secret)
			args := append([]string{"luksFormat", "--batch-mode", "--key-file", k0, "--volume-key-file", write("vk", vk)}, v.format...)
			run(append(args, img)...)
			for i, a := range v.addArgs {
				kn := write("key"+string(rune('1'+i)), v.keys[i+1].secret)
				run(append(append([]string{"luksAddKey", "--batch-mode", "--key-file", k0}, a...), img, kn)...)
			}
			for _, a := range v.after {
				a = slices.Clone(a)
				for i := range a {
					if a[i] == "FILE" {
						a[i] = img
					}
				}
				if a[0] == "luksKillSlot" {
					a = append(a, "--batch-mode", "--key-file", k0)
				}
				run(a...)
			}
			dump := run("luksDump", img)
			data, err := os.ReadFile(img)
			if err != nil {
				t.Fatal(err)
			}
			dev := &device{b: data, size: int64(len(data))}
			h := mustProbe(t, dev)
			if h.Refused != "" || len(h.Problems) != 0 {
				t.Fatalf("refused %q problems %q", h.Refused, h.Problems)
			}
			if n := checkAgainstDump(t, h, dump); n < 15 {
				t.Errorf("only %d values compared", n)
			}
			checkStructures(t, h)
			if v.check != nil {
				v.check(t, h)
			}
			for _, k := range v.keys {
				if v.name == "luks1-sha1" && k.slot == 5 {
					// Killed: no slot opens with its secret.
					if _, err := Unlock(h, dev, dev.size, k.secret, UnlockOptions{Slot: AllSlots}); err == nil {
						t.Error("the killed slot's secret opens a slot")
					}
					continue
				}
				if k.unbound {
					_, err := Unlock(h, dev, dev.size, k.secret, UnlockOptions{Slot: k.slot})
					if err == nil || !strings.Contains(err.Error(), "holds an unbound key") {
						t.Errorf("unbound slot %d: %v", k.slot, err)
					}
					continue
				}
				key, err := Unlock(h, dev, dev.size, k.secret, UnlockOptions{Slot: AllSlots})
				if err != nil {
					t.Fatalf("slot %d: %v", k.slot, err)
				}
				if key.Slot != k.slot || !bytes.Equal(key.VolumeKey, vk) {
					t.Errorf("secret of slot %d opened slot %d; volume key matches: %v", k.slot, key.Slot, bytes.Equal(key.VolumeKey, vk))
				}
				if key, err := Unlock(h, dev, dev.size, k.secret, UnlockOptions{Slot: k.slot}); err != nil || key.Slot != k.slot {
					t.Errorf("slot %d named: %v", k.slot, err)
				}
				key.Wipe()
			}
			// A key file's trailing newline is part of it (luks.md §5.1).
			if v.name == "luks2-argon2i" {
				_, err := Unlock(h, dev, dev.size, TerminalPassphrase(v.keys[0].secret), UnlockOptions{Slot: AllSlots})
				var nse *NoSlotError
				if !errors.As(err, &nse) || nse.Tried != 2 {
					t.Errorf("without the newline: %v", err)
				}
			}
			if key, err := UnlockVolumeKey(h, vk); err != nil || !bytes.Equal(key.VolumeKey, vk) {
				t.Errorf("UnlockVolumeKey: %v", err)
			}
			vk[0] ^= 1
			if _, err := UnlockVolumeKey(h, vk); !errors.Is(err, ErrKeyMismatch) {
				t.Errorf("changed volume key: %v", err)
			}
		})
	}
}
