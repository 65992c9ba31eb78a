package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lvminspect/lvminspect/internal/fixture"
)

// The inspector on luks2-lvm without a key, in tmux: it starts on the
// locked volume; u opens the passphrase form; the passphrase typed as a
// terminal types it (one burst, spaces and all), then enter: VG cryptvg
// is in the tree. No capture of the pane, at any step, holds the
// passphrase or a word of it; q ends the program with status 0.
func TestLUKSUnlockInInspectorTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("no tmux")
	}
	f := fixture.Load(t, "luks2-lvm")
	var m luksFixture
	if err := json.Unmarshal(f.ReadFile(t, "manifest.json"), &m); err != nil || len(m.LUKS) != 1 {
		t.Fatalf("manifest: %v", err)
	}
	pass := m.LUKS[0].Keyslots[0].Passphrase
	dir := t.TempDir()
	imgs := writeImages(t, f, dir, false)
	rc, sock := filepath.Join(dir, "rc"), filepath.Join(dir, "tmux.sock")
	tmux := func(args ...string) string {
		b, err := exec.Command("tmux", append([]string{"-S", sock}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v %s", args, err, b)
		}
		return string(b)
	}
	script := "cd " + dir + " && LVMINSPECT_RUN_MAIN=1 TERM=xterm-256color " + os.Args[0] + " " + strings.Join(imgs, " ") +
		" 2>" + rc + ".err; echo $? > " + rc + "; sleep 1"
	tmux("new-session", "-d", "-x", "120", "-y", "34", "sh", "-c", script)
	t.Cleanup(func() { exec.Command("tmux", "-S", sock, "kill-server").Run() })
	var panes []string
	wait := func(what string, d time.Duration) string {
		t.Helper()
		pane := ""
		for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			pane = tmux("capture-pane", "-p")
			panes = append(panes, pane)
			if strings.Contains(pane, what) {
				return pane
			}
			if strings.Contains(pane, "✗ no key slot opened") {
				break // the form says the passphrase did not open it
			}
		}
		e, _ := os.ReadFile(rc + ".err")
		t.Fatalf("no %q: %s\n%s", what, e, pane)
		return ""
	}
	pane := wait("select it and press u", 30*time.Second)
	if !strings.Contains(pane, "› ▾ in1.p2.luks LUKS2 locked") {
		t.Fatalf("the locked volume is not selected at start:\n%s", pane)
	}
	tmux("send-keys", "u")
	wait("Unlock LUKS2 volume in1.p2.luks", 10*time.Second)
	tmux("send-keys", "-l", pass)
	wait(strings.Repeat("•", len([]rune(pass)))+"▏", 10*time.Second)
	tmux("send-keys", "Enter")
	wait("VG cryptvg", 60*time.Second)
	// The frame is drawn in parts: each is waited for.
	for _, want := range []string{"in1.p2.luks unlocked by key slot 0 (argon2id)", "1 PV · 1 VG · 3 LVs", "home 4.00 MiB ext2"} {
		wait(want, 10*time.Second)
	}
	tmux("send-keys", "q")
	var code []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if code, _ = os.ReadFile(rc); len(code) > 0 {
			break
		}
	}
	if strings.TrimSpace(string(code)) != "0" {
		e, _ := os.ReadFile(rc + ".err")
		t.Errorf("exit %q: %s", code, e)
	}
	e, _ := os.ReadFile(rc + ".err")
	panes = append(panes, string(e))
	for i, p := range panes {
		for _, s := range append([]string{pass}, strings.Fields(pass)...) {
			if strings.Contains(p, s) {
				t.Fatalf("capture %d of %d shows %q of the passphrase:\n%s", i+1, len(panes), s, p)
			}
		}
	}
}
