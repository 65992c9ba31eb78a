package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lvminspect/lvminspect/internal/fixture"
)

type luksFixture struct {
	LUKS []struct {
		UUID         string `json:"uuid"`
		VolumeKeyHex string `json:"volume_key_hex"`
		MappingSHA   string `json:"mapping_sha256"`
		Keyslots     []struct {
			Passphrase string `json:"passphrase"`
		} `json:"keyslots"`
	} `json:"luks"`
}

// noLeak fails when any of the outputs holds one of the secrets (as
// text, or a volume key's bytes).
func noLeak(t *testing.T, secrets [][]byte, outputs map[string][]byte) {
	t.Helper()
	for name, out := range outputs {
		for _, s := range secrets {
			if len(s) > 0 && bytes.Contains(out, s) {
				t.Errorf("%s holds a secret", name)
			}
		}
	}
}

// luks2-lvm through the commands: the passphrase from a key file and the
// volume key from a file open it (every LV and the mapping to their
// sha256, the provenance naming the LUKS volume and the slot); a wrong
// passphrase fails quickly with exit 1 and "no key slot opened (tried
// 1)"; no output, record or message holds a secret.
func TestLUKSCommands(t *testing.T) {
	f := fixture.Load(t, "luks2-lvm")
	var m luksFixture
	if err := json.Unmarshal(f.ReadFile(t, "manifest.json"), &m); err != nil || len(m.LUKS) != 1 {
		t.Fatalf("manifest: %v", err)
	}
	dir := t.TempDir()
	imgs := writeImages(t, f, dir, false)
	pass := []byte(m.LUKS[0].Keyslots[0].Passphrase)
	vk, _ := hex.DecodeString(m.LUKS[0].VolumeKeyHex)
	passFile, vkFile, wrong := filepath.Join(dir, "pass"), filepath.Join(dir, "vk"), filepath.Join(dir, "wrong")
	for p, b := range map[string][]byte{passFile: pass, vkFile: vk, wrong: append(append([]byte{}, pass...), '!')} {
		if err := os.WriteFile(p, b, 0o400); err != nil {
			t.Fatal(err)
		}
	}
	secrets := [][]byte{pass, vk, []byte(m.LUKS[0].VolumeKeyHex)}
	outputs := map[string][]byte{}

	stdout, stderr, err := run(t, "", append([]string{"scan", "--json", "--no-prompt", "--key-file", passFile}, imgs...)...)
	if err != nil {
		t.Fatalf("scan: %v %s", err, stderr)
	}
	outputs["scan --json"], outputs["scan stderr"] = []byte(stdout), []byte(stderr)
	var sc struct {
		Devices []struct {
			ID           string `json:"id"`
			Kind         string `json:"kind"`
			UUID         string `json:"uuid"`
			Version      int    `json:"version"`
			Cipher       string `json:"cipher"`
			KeySize      int    `json:"key_size"`
			SectorSize   int    `json:"sector_size"`
			Payload      int64  `json:"payload_offset"`
			Unlocked     bool   `json:"unlocked"`
			OpenedBySlot *int   `json:"opened_by_slot"`
			Keyslots     []struct {
				Index int    `json:"index"`
				State string `json:"state"`
				KDF   struct {
					Type   string `json:"type"`
					Memory uint32 `json:"memory"`
				} `json:"kdf"`
			} `json:"keyslots"`
		} `json:"devices"`
	}
	if err := json.Unmarshal([]byte(stdout), &sc); err != nil {
		t.Fatal(err)
	}
	var id string
	for _, d := range sc.Devices {
		if d.Kind == "luks" {
			id = d.ID
			if d.UUID != m.LUKS[0].UUID || d.Version != 2 || d.Cipher != "aes-xts-plain64" || d.KeySize != 512 || d.SectorSize != 512 ||
				d.Payload != 16<<20 || !d.Unlocked || d.OpenedBySlot == nil || *d.OpenedBySlot != 0 ||
				len(d.Keyslots) != 1 || d.Keyslots[0].State != "active" || d.Keyslots[0].KDF.Type != "argon2id" {
				t.Errorf("luks device %+v", d)
			}
		}
	}
	if id != "in1.p2.luks" {
		t.Fatalf("luks device id %q", id)
	}

	for _, key := range [][]string{{"--key-file", passFile}, {"--volume-key-file", vkFile}} {
		out := filepath.Join(dir, "map"+key[0]+".img")
		stdout, stderr, err := run(t, "", append(append([]string{"export", "--no-prompt", "--device", id, "-o", out}, key...), imgs...)...)
		if err != nil {
			t.Fatalf("export --device %s %s: %v %s", id, key[0], err, stderr)
		}
		if got := fileSHA(t, out); got != m.LUKS[0].MappingSHA {
			t.Errorf("%s: mapping sha256 %s, want %s", key[0], got, m.LUKS[0].MappingSHA)
		}
		prov, _ := os.ReadFile(out + ".json")
		outputs["export "+key[0]] = []byte(stdout + stderr)
		outputs["record "+key[0]] = prov
		var rec struct {
			Device []struct {
				Kind string `json:"kind"`
				LUKS *struct {
					UUID         string `json:"uuid"`
					Cipher       string `json:"cipher"`
					OpenedBySlot int    `json:"opened_by_slot"`
					KDF          string `json:"kdf"`
				} `json:"luks"`
			} `json:"device"`
		}
		if err := json.Unmarshal(prov, &rec); err != nil || len(rec.Device) == 0 {
			t.Fatalf("record: %v", err)
		}
		l := rec.Device[len(rec.Device)-1].LUKS
		wantSlot, wantKDF := 0, "argon2id"
		if key[0] == "--volume-key-file" {
			wantSlot, wantKDF = -1, ""
		}
		if l == nil || l.UUID != m.LUKS[0].UUID || l.Cipher != "aes-xts-plain64" || l.OpenedBySlot != wantSlot || l.KDF != wantKDF {
			t.Errorf("record's LUKS volume %+v", l)
		}
	}
	for _, lv := range f.Manifest.LVs {
		out := filepath.Join(dir, lv.Name+".img")
		stdout, stderr, err := run(t, "", append([]string{"export", "--no-prompt", "--key-file", passFile, "-o", out, lv.VG + "/" + lv.Name}, imgs...)...)
		if err != nil {
			t.Errorf("%s: %v", lv.Name, err)
			continue
		}
		if got := fileSHA(t, out); got != lv.ExpectedSHA256() {
			t.Errorf("%s sha256 %s, want %s", lv.Name, got, lv.ExpectedSHA256())
		}
		prov, _ := os.ReadFile(out + ".json")
		outputs["export "+lv.Name] = []byte(stdout + stderr)
		outputs["record "+lv.Name] = prov
	}

	// A key file is evidence too: never the output, even with --force.
	if _, _, err := run(t, "", append([]string{"export", "--no-prompt", "--force", "--key-file", passFile, "-o", passFile, "cryptvg/root"}, imgs...)...); err == nil {
		t.Error("an export replaced its key file")
	}
	if b, _ := os.ReadFile(passFile); !bytes.Equal(b, pass) {
		t.Error("the key file was changed")
	}

	start := time.Now()
	stdout, stderr, err = run(t, "", append([]string{"export", "--no-prompt", "--key-file", wrong, "-o", filepath.Join(dir, "w.img"), "cryptvg/root"}, imgs...)...)
	if exitCode(err) != 1 || !strings.Contains(stdout+stderr+err.Error(), "no key slot opened (tried 1)") {
		t.Errorf("wrong passphrase: exit %d, %v, %s", exitCode(err), err, stderr)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("a wrong passphrase took %v", d)
	}
	outputs["wrong"] = []byte(stdout + stderr + err.Error())
	noLeak(t, secrets, outputs)
}

// The passphrase typed at the terminal: lvminspect export run in tmux
// asks for it without echo, and the LV exports to its sha256.
func TestLUKSPromptInTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("no tmux")
	}
	f := fixture.Load(t, "luks2-lvm")
	var m luksFixture
	if err := json.Unmarshal(f.ReadFile(t, "manifest.json"), &m); err != nil || len(m.LUKS) != 1 {
		t.Fatalf("manifest: %v", err)
	}
	dir := t.TempDir()
	imgs := writeImages(t, f, dir, false)
	out, rc := filepath.Join(dir, "root.img"), filepath.Join(dir, "rc")
	sock := filepath.Join(dir, "tmux.sock")
	tmux := func(args ...string) string {
		b, err := exec.Command("tmux", append([]string{"-S", sock}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v %s", args, err, b)
		}
		return string(b)
	}
	script := "LVMINSPECT_RUN_MAIN=1 TERM=xterm-256color " + os.Args[0] + " export -o " + out + " cryptvg/root " + strings.Join(imgs, " ") + " 2>" + rc + ".err; echo $? > " + rc + "; sleep 1"
	tmux("new-session", "-d", "-x", "120", "-y", "30", "sh", "-c", script)
	t.Cleanup(func() { exec.Command("tmux", "-S", sock, "kill-server").Run() })
	pane := ""
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if pane = tmux("capture-pane", "-p"); strings.Contains(pane, "Passphrase for LUKS volume in1.p2") {
			break
		}
	}
	if !strings.Contains(pane, "Passphrase for LUKS volume in1.p2") {
		e, _ := os.ReadFile(rc + ".err")
		t.Fatalf("no prompt: %s\n%s", e, pane)
	}
	tmux("send-keys", "-l", m.LUKS[0].Keyslots[0].Passphrase)
	tmux("send-keys", "Enter")
	var code []byte
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if code, _ = os.ReadFile(rc); len(code) > 0 {
			break
		}
	}
	pane = tmux("capture-pane", "-p")
	if strings.TrimSpace(string(code)) != "0" {
		e, _ := os.ReadFile(rc + ".err")
		t.Fatalf("exit %q: %s\n%s", code, e, pane)
	}
	if strings.Contains(pane, m.LUKS[0].Keyslots[0].Passphrase) {
		t.Errorf("the passphrase was echoed:\n%s", pane)
	}
	for _, lv := range f.Manifest.LVs {
		if lv.Name == "root" {
			if got := fileSHA(t, out); got != lv.ExpectedSHA256() {
				t.Errorf("root sha256 %s, want %s", got, lv.ExpectedSHA256())
			}
		}
	}
}
