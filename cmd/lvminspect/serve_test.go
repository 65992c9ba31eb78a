package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lvminspect/lvminspect/internal/fixture"
)

// serve on a Unix socket: every LV of banana and of md-raid5 without its
// withheld member (rebuilt from parity) reads through nbdcopy to its
// manifest sha256; nbdinfo sees the read-only flag. Skipped without
// libnbd's tools.
func TestServeNBD(t *testing.T) {
	if _, err := exec.LookPath("nbdcopy"); err != nil {
		t.Skip("no nbdcopy (Debian libnbd-bin)")
	}
	for _, name := range []string{"banana", "md-raid5"} {
		t.Run(name, func(t *testing.T) {
			f := fixture.Load(t, name)
			dir := t.TempDir()
			imgs := writeImages(t, f, dir, true)
			sock := filepath.Join(dir, "nbd.sock")
			ctx, cancel := context.WithCancel(context.Background())
			cmd := newRootCmd()
			var out, errb bytes.Buffer
			cmd.SetOut(&out)
			cmd.SetErr(&errb)
			cmd.SetArgs(append([]string{"serve", "--no-prompt", "--socket", sock}, imgs...))
			done := make(chan error, 1)
			go func() { done <- cmd.ExecuteContext(ctx) }()
			defer func() {
				cancel()
				select {
				case err := <-done:
					if err != nil {
						t.Errorf("serve: %v %s", err, errb.String())
					}
				case <-time.After(10 * time.Second):
					t.Error("serve did not end when cancelled")
				}
			}()
			for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				if _, err := os.Stat(sock); err == nil {
					break
				}
			}
			uri := func(export string) string { return "nbd+unix:///" + export + "?socket=" + sock }
			checked := 0
			for _, lv := range f.Manifest.LVs {
				if lv.Hidden {
					continue
				}
				o := filepath.Join(dir, lv.Name+".img")
				b, err := exec.Command("nbdcopy", uri(lv.VG+"/"+lv.Name), o).CombinedOutput()
				if err != nil {
					t.Logf("%s/%s (%v) not served: %v %s", lv.VG, lv.Name, lv.Segtypes, err, b)
					if isLinearOrStriped(lv.Segtypes) {
						t.Errorf("%s/%s: %v %s", lv.VG, lv.Name, err, b)
					}
					continue
				}
				if got := fileSHA(t, o); got != lv.ExpectedSHA256() {
					t.Errorf("%s/%s through NBD: sha256 %s, want %s", lv.VG, lv.Name, got, lv.ExpectedSHA256())
				}
				checked++
			}
			if checked == 0 {
				t.Error("no LV read through NBD")
			}
			if _, err := exec.LookPath("nbdinfo"); err == nil {
				lv := f.Manifest.LVs[0]
				b, err := exec.Command("nbdinfo", "--json", uri(lv.VG+"/"+lv.Name)).CombinedOutput()
				if err != nil || !strings.Contains(strings.ReplaceAll(string(b), " ", ""), `"is_read_only":true`) {
					t.Errorf("nbdinfo: %v %s", err, b)
				}
			}
		})
	}
}
