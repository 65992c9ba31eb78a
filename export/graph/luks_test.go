package graph

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/luks"
)

// luksManifest is the LUKS part of a fixture's manifest.json.
type luksManifest struct {
	LUKS []struct {
		Image        string `json:"image"`
		UUID         string `json:"uuid"`
		Version      int    `json:"version"`
		VolumeKeyHex string `json:"volume_key_hex"`
		MappingSHA   string `json:"mapping_sha256"`
		MappingSize  int64  `json:"mapping_size_bytes"`
		Keyslots     []struct {
			Slot       int    `json:"slot"`
			Passphrase string `json:"passphrase"`
		} `json:"keyslots"`
	} `json:"luks"`
	LVs []struct {
		VG     string `json:"vg"`
		Name   string `json:"name"`
		Hidden bool   `json:"hidden"`
		SHA256 string `json:"sha256"`
	} `json:"lvs"`
}

func scanLUKS(t *testing.T, f *fixture.Fixture, keys *luks.Keyring) *scan.Result {
	t.Helper()
	b := f.Image(t, "disk0")
	return Scan([]*scan.Input{scan.NewInput("disk0.img", bytes.NewReader(b), int64(len(b)))}, scan.Options{Keys: keys})
}

func luksNode(t *testing.T, res *scan.Result) *scan.Node {
	t.Helper()
	if len(res.LUKSNodes) != 1 {
		t.Fatalf("%d LUKS volumes; problems %v", len(res.LUKSNodes), res.AllProblems())
	}
	return res.LUKSNodes[0]
}

// checkLUKSOpen checks the decrypted mapping and every LV against the
// manifest.
func checkLUKSOpen(t *testing.T, res *scan.Result, m luksManifest, slot int) {
	t.Helper()
	n := luksNode(t, res)
	if n.Device() == nil || n.Unlock == nil {
		t.Fatalf("not unlocked: %v", res.AllProblems())
	}
	if n.Unlock.Slot != slot || n.LUKS.UUID != m.LUKS[0].UUID || n.LUKS.Version != m.LUKS[0].Version {
		t.Errorf("opened by slot %d (want %d), uuid %s version %d", n.Unlock.Slot, slot, n.LUKS.UUID, n.LUKS.Version)
	}
	if n.Size != m.LUKS[0].MappingSize {
		t.Errorf("mapping size %d, want %d", n.Size, m.LUKS[0].MappingSize)
	}
	if got := sha256hex(readDevice(t, n)); got != m.LUKS[0].MappingSHA {
		t.Errorf("mapping sha256 %s, want %s", got, m.LUKS[0].MappingSHA)
	}
	for _, lv := range m.LVs {
		if lv.Hidden {
			continue
		}
		var vg *scan.VG
		for _, v := range res.VGs {
			if v.Meta != nil && v.Meta.Name == lv.VG {
				vg = v
			}
		}
		if vg == nil {
			t.Errorf("no VG %s (problems %v)", lv.VG, res.AllProblems())
			continue
		}
		src, err := forScan(vg).OpenLV(vg.Meta.LV(lv.Name))
		if err != nil {
			t.Errorf("%s/%s: %v", lv.VG, lv.Name, err)
			continue
		}
		d := NewDevice(src, lv.Name)
		b := make([]byte, d.Size())
		if _, err := d.ReadAt(b, 0); err != nil {
			t.Errorf("%s/%s: %v", lv.VG, lv.Name, err)
			continue
		}
		if got := sha256hex(b); got != lv.SHA256 {
			t.Errorf("%s/%s sha256 %s, want %s", lv.VG, lv.Name, got, lv.SHA256)
		}
	}
}

// noSecret fails if a problem or the JSON of the scan's devices holds
// the secret.
func noSecret(t *testing.T, res *scan.Result, secret string) {
	t.Helper()
	for _, p := range res.AllProblems() {
		if strings.Contains(p.String(), secret) {
			t.Errorf("a problem holds the secret: %s", p)
		}
	}
	for _, d := range res.Devices() {
		b, _ := json.Marshal(d)
		s := fmt.Sprintf("%v %+v %#v %s", d, d, d, b)
		if strings.Contains(s, secret) {
			t.Errorf("device %s shows the secret", d.ID)
		}
		if d.Unlock != nil && strings.Contains(fmt.Sprintf("%v %+v %#v", *d.Unlock, d.Unlock, d.Unlock), secret) {
			t.Errorf("the key of %s shows the secret", d.ID)
		}
	}
}

// Both LUKS fixtures: with the passphrase, with the volume key, with a
// wrong passphrase, with nothing, and with the passphrase asked.
func TestLUKSFixtures(t *testing.T) {
	for _, name := range []string{"luks1-lvm", "luks2-lvm"} {
		t.Run(name, func(t *testing.T) {
			f := fixture.Load(t, name)
			var m luksManifest
			if err := json.Unmarshal(f.ReadFile(t, "manifest.json"), &m); err != nil || len(m.LUKS) != 1 {
				t.Fatalf("manifest: %v", err)
			}
			pass := m.LUKS[0].Keyslots[0].Passphrase

			k := luks.NewKeyring()
			k.AddSecret("", []byte(pass), "test")
			res := scanLUKS(t, f, k)
			checkLUKSOpen(t, res, m, m.LUKS[0].Keyslots[0].Slot)
			noSecret(t, res, pass)

			vk, _ := hex.DecodeString(m.LUKS[0].VolumeKeyHex)
			k = luks.NewKeyring()
			k.AddVolumeKey("", vk, "test")
			res = scanLUKS(t, f, k)
			checkLUKSOpen(t, res, m, -1)
			noSecret(t, res, m.LUKS[0].VolumeKeyHex)

			// A key for another device is not tried on this one.
			k = luks.NewKeyring()
			k.AddSecret("in9", []byte(pass), "test")
			res = scanLUKS(t, f, k)
			if n := luksNode(t, res); n.Device() != nil {
				t.Error("a secret for device in9 opened another device")
			}

			k = luks.NewKeyring()
			k.AddSecret("", []byte(pass+"x"), "test")
			res = scanLUKS(t, f, k)
			n := luksNode(t, res)
			if n.Device() != nil || len(res.VGs) != 0 {
				t.Fatal("a wrong passphrase opened the volume")
			}
			found := false
			for _, p := range n.Problems {
				found = found || (p.Severity == scan.SevError && strings.Contains(p.Msg, "no key slot opened (tried 1)"))
			}
			if !found {
				t.Errorf("wrong passphrase: problems %v", n.Problems)
			}
			noSecret(t, res, pass+"x")

			res = scanLUKS(t, f, nil)
			n = luksNode(t, res)
			if n.Device() != nil || n.Size != m.LUKS[0].MappingSize || len(n.Problems) != 1 || n.Problems[0].Severity != scan.SevInfo {
				t.Errorf("without a key: device %v size %d problems %v", n.Device(), n.Size, n.Problems)
			}

			asked := 0
			k = luks.NewKeyring()
			k.Ask = func(id, label string, tried int) ([]byte, error) {
				asked++
				if asked == 1 {
					return []byte("wrong"), nil
				}
				return []byte(pass), nil
			}
			res = scanLUKS(t, f, k)
			checkLUKSOpen(t, res, m, m.LUKS[0].Keyslots[0].Slot)
			if asked != 2 {
				t.Errorf("asked %d times, want 2", asked)
			}
		})
	}
}

// LUKS2 volumes made here by cryptsetup (reencrypt --encrypt of a copy of
// the banana fixture's PV, which needs no device-mapper) with the
// parameters installers and examiners meet: argon2i with 4096-byte
// sectors, PBKDF2 with aes-cbc-essiv:sha256. Every LV decrypts to the
// manifest's sha256. Skipped without cryptsetup.
func TestLUKSMadeByCryptsetup(t *testing.T) {
	if _, err := exec.LookPath("cryptsetup"); err != nil {
		t.Skip("no cryptsetup")
	}
	f := fixture.Load(t, "banana")
	pv := f.Image(t, "pv0")
	cases := []struct {
		name string
		args []string
	}{
		{"argon2i-4096", []string{"--pbkdf", "argon2i", "--pbkdf-memory", "32768", "--pbkdf-force-iterations", "4", "--sector-size", "4096"}},
		{"pbkdf2-cbc-essiv", []string{"--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000", "--cipher", "aes-cbc-essiv:sha256", "--key-size", "256"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			img, pass := filepath.Join(dir, "enc.img"), filepath.Join(dir, "pass")
			if err := os.WriteFile(pass, []byte("made by cryptsetup "+c.name), 0o400); err != nil {
				t.Fatal(err)
			}
			// Room for the header: the data moves 32 MiB along.
			b := append(append([]byte(nil), pv...), make([]byte, 32<<20)...)
			if err := os.WriteFile(img, b, 0o600); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"reencrypt", "--encrypt", "--type", "luks2", "--batch-mode", "--reduce-device-size", "32M",
				"--key-file", pass}, c.args...)
			if out, err := exec.Command("cryptsetup", append(args, img)...).CombinedOutput(); err != nil {
				t.Skipf("cryptsetup reencrypt: %v %s", err, out)
			}
			enc, err := os.ReadFile(img)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(enc, []byte("LABELONE")) {
				t.Fatal("the PV label is still in the clear")
			}
			secret, _ := os.ReadFile(pass)
			k := luks.NewKeyring()
			k.AddSecret("", secret, "test")
			res := Scan([]*scan.Input{scan.NewInput("enc.img", bytes.NewReader(enc), int64(len(enc)))}, scan.Options{Keys: k})
			n := luksNode(t, res)
			if n.Device() == nil {
				t.Fatalf("not unlocked: %v", res.AllProblems())
			}
			if n.LUKS.SectorSize != map[string]int{"argon2i-4096": 4096, "pbkdf2-cbc-essiv": 512}[c.name] {
				t.Errorf("sector size %d", n.LUKS.SectorSize)
			}
			if len(res.VGs) != 1 {
				t.Fatalf("%d VGs: %v", len(res.VGs), res.AllProblems())
			}
			vg := res.VGs[0]
			checked := 0
			for _, lv := range f.Manifest.LVs {
				l := vg.Meta.LV(lv.Name)
				if lv.Hidden || l == nil {
					continue
				}
				src, err := forScan(vg).OpenLV(l)
				if err != nil {
					continue // segment types not exported here are the CLI tests' business
				}
				d := NewDevice(src, lv.Name)
				buf := make([]byte, d.Size())
				if _, err := d.ReadAt(buf, 0); err != nil {
					t.Errorf("%s: %v", lv.Name, err)
					continue
				}
				if got := sha256hex(buf); got != lv.ExpectedSHA256() {
					t.Errorf("%s sha256 %s, want %s", lv.Name, got, lv.ExpectedSHA256())
				}
				checked++
			}
			if checked == 0 {
				t.Error("no LV checked")
			}
		})
	}
}
