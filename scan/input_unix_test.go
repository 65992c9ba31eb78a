//go:build unix

package scan_test

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lvminspect/lvminspect/scan"
)

// A named pipe (what `lvminspect scan <(zcat disk.gz)` passes) is refused
// at once with what to do, instead of waiting for a writer or scanning
// zero bytes.
func TestOpenRefusesPipe(t *testing.T) {
	p := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skip(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := scan.Open(scan.ReadOnlyOSFs(), p)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "pipe") || !strings.Contains(err.Error(), "file first") {
			t.Errorf("opening a pipe: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("opening a pipe blocks")
	}
}
