//go:build linux

package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/lvminspect/lvminspect/internal/fixture"
)

// openPTY opens a pseudo-terminal pair: what a person's shell would be.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skip(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skip(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

// export -o - refuses to pour an image into a terminal.
func TestExportToTerminalRefused(t *testing.T) {
	master, tty := openPTY(t)
	go io.Copy(io.Discard, master) // were the image written, it would not block
	f := fixture.Load(t, "banana")
	imgs := writeImages(t, f, t.TempDir(), false)
	cmd := newRootCmd()
	cmd.SetOut(tty)
	cmd.SetErr(tty)
	cmd.SetArgs(append([]string{"export", "-o", "-", "banana/split"}, imgs...))
	err := cmd.Execute()
	if err == nil || !strings.Contains(err.Error(), "terminal") {
		t.Fatalf("export to a terminal: %v", err)
	}
	if _, err := os.Stat(filepath.Join(".", "banana")); err == nil {
		t.Error("a refused export left a directory")
	}
}
