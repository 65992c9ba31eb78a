//go:build linux

package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/internal/synth"
)

// TestInspectorSignals: the inspector, on a terminal, ends on SIGHUP (the
// terminal went away) and SIGTERM with 128 + the signal, as the export
// command does (SIGHUP used to kill it, leaving an export's temporary
// file), through the path that removes what its exports left.
func TestInspectorSignals(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "small.img")
	if err := synth.WriteImages(synth.ManyLinear("small", 3), []string{img}, nil); err != nil {
		t.Fatal(err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGTERM} {
		master, tty := openPTY(t)
		if err := unix.IoctlSetWinsize(int(tty.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: 120}); err != nil {
			t.Skip(err)
		}
		var mu sync.Mutex
		var screen bytes.Buffer
		go func() {
			buf := make([]byte, 4096)
			for {
				n, err := master.Read(buf)
				mu.Lock()
				screen.Write(buf[:n])
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
		c := exec.Command(os.Args[0], img)
		c.Env = append(os.Environ(), "LVMINSPECT_RUN_MAIN=1", "TERM=xterm-256color")
		c.Stdin, c.Stdout, c.Stderr = tty, tty, tty
		c.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		// Wait for the first frame.
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			mu.Lock()
			n := bytes.Count(screen.Bytes(), []byte("small"))
			mu.Unlock()
			if n > 0 {
				break
			}
			if time.Now().After(deadline) {
				_ = c.Process.Kill()
				t.Fatalf("%v: the inspector drew nothing: %q", sig, screen.String())
			}
		}
		t0 := time.Now()
		if err := c.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- c.Wait() }()
		select {
		case err := <-done:
			t.Logf("%v: ended %v after the signal", sig, time.Since(t0))
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 128+int(sig) {
				t.Errorf("%v: %v, want exit status %d", sig, err, 128+int(sig))
			}
		case <-time.After(20 * time.Second):
			_ = c.Process.Kill()
			t.Errorf("%v: the inspector did not end", sig)
		}
		tty.Close()
		master.Close()
	}
}

// TestTempTracker: whatever ends the inspector removes the files its
// exports still had open, and no export starts a new one after that.
func TestTempTracker(t *testing.T) {
	dir := t.TempDir()
	tr := &tempTracker{FS: export.OSFS{}}
	kept := filepath.Join(dir, "kept")
	f, err := tr.CreateExcl(kept+".tmp", 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := tr.Rename(kept+".tmp", kept, false); err != nil {
		t.Fatal(err)
	}
	left := filepath.Join(dir, ".x.tmp-000000000000")
	g, err := tr.CreateExcl(left, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(g.(io.Writer), "partial")
	tr.removeAll()
	if _, err := os.Stat(left); err == nil {
		t.Error("the open temporary was left")
	}
	if _, err := os.Stat(kept); err != nil {
		t.Error("a file renamed into place was removed")
	}
	if _, err := tr.CreateExcl(filepath.Join(dir, "late"), 0o644); err == nil {
		t.Error("a file was created after the end")
	}
}
