//go:build unix

package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvminspect/lvminspect/internal/synth"
)

// bigSparsePV writes a PV with one 8 GiB LV whose every MiB starts with 4
// KiB of data: a file of 32 MiB on disk that takes an export seconds.
func bigSparsePV(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "big.img")
	vg := &synth.VG{Name: "big", PVs: []synth.PV{{UUID: synth.UUIDFor("pv big", 0), PECount: 2048}}, LVs: []synth.LV{synth.LinearLV("data", 0, 0, 2048)}}
	block := bytes.Repeat([]byte("lvminspect"), 410)[:4096]
	err := synth.WriteImages(vg, []string{p}, func(_ int, f *os.File, off int64) error {
		for o := int64(0); o < 8<<30; o += 1 << 20 {
			if _, err := f.WriteAt(block, off+o); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// startExport runs "lvminspect export -o OUT big/data IMG" as a process.
func startExport(t *testing.T, out, img string, stderr *bytes.Buffer) *exec.Cmd {
	t.Helper()
	c := exec.Command(os.Args[0], "export", "-o", out, "big/data", img)
	c.Env = append(os.Environ(), "LVMINSPECT_RUN_MAIN=1")
	c.Stderr = stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	return c
}

// waitTemp waits until a temporary file appears in dir.
func waitTemp(t *testing.T, dir string) string {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if strings.Contains(e.Name(), ".tmp-") {
				return filepath.Join(dir, e.Name())
			}
		}
	}
	t.Fatal("no temporary file appeared")
	return ""
}

func temps(dir string) []string {
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestExportSignals: SIGTERM and SIGHUP in the middle of an export end it
// as ^C does: the temporary file is removed, nothing is left under the
// target name, the exit status is 128 + the signal. They used to kill the
// process and leave the temporary. After kill -9 the temporary stays, and
// the next export to that directory names it.
func TestExportSignals(t *testing.T) {
	if testing.Short() {
		t.Skip("exports 8 GiB")
	}
	dir := t.TempDir()
	img := bigSparsePV(t, dir)
	outDir := filepath.Join(dir, "out")
	if err := os.Mkdir(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT} {
		var stderr bytes.Buffer
		c := startExport(t, filepath.Join(outDir, "data.img"), img, &stderr)
		waitTemp(t, outDir)
		if err := c.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		err := c.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 128+int(sig) {
			t.Errorf("%v: %v (status %d), want exit status %d\n%s", sig, err, ee.ExitCode(), 128+int(sig), stderr.String())
		}
		if left := temps(outDir); len(left) > 0 {
			t.Errorf("%v left %v", sig, left)
		}
		if _, err := os.Stat(filepath.Join(outDir, "data.img")); err == nil {
			t.Errorf("%v: an image was left under the target name", sig)
		}
		if !strings.Contains(stderr.String(), "interrupted") {
			t.Errorf("%v: stderr %q", sig, stderr.String())
		}
	}

	var stderr bytes.Buffer
	c := startExport(t, filepath.Join(outDir, "data.img"), img, &stderr)
	tmp := waitTemp(t, outDir)
	_ = c.Process.Kill()
	_ = c.Wait()
	if _, err := os.Stat(tmp); err != nil {
		t.Fatalf("kill -9 left no temporary: %v", err)
	}
	// The next export names it, before its own temporary exists; one
	// started while that export runs does not name the running one's.
	waitTemps := func(n int) {
		for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if len(temps(outDir)) >= n {
				return
			}
		}
		t.Fatalf("no %d temporaries", n)
	}
	var errB, errC bytes.Buffer
	b := startExport(t, filepath.Join(outDir, "again.img"), img, &errB)
	waitTemps(2)
	c = startExport(t, filepath.Join(outDir, "third.img"), img, &errC)
	waitTemps(3)
	for _, p := range []*exec.Cmd{b, c} {
		_ = p.Process.Signal(syscall.SIGTERM)
		_ = p.Wait()
	}
	want := "stale temporary " + tmp + " from an interrupted export; remove it"
	for _, e := range []string{errB.String(), errC.String()} {
		if !strings.Contains(e, want) {
			t.Errorf("the next export does not name the stale temporary:\n%s", e)
		}
		if n := strings.Count(e, "stale temporary"); n != 1 {
			t.Errorf("%d stale temporaries named (a running export's is not stale):\n%s", n, e)
		}
	}
	if left := temps(outDir); len(left) != 1 {
		t.Errorf("temporaries left: %v", left)
	}
}
