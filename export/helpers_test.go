package export

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// memSource is an in-memory LV. kinds optionally marks ranges as zero or
// missing; the rest is data.
type memSource struct {
	data  []byte
	kinds []Run // sorted, non-overlapping; Kind RunZero or RunMissing
	reads atomic.Int64
	delay time.Duration // per ReadAt call
}

func (m *memSource) Size() int64 { return int64(len(m.data)) }

func (m *memSource) Runs(off, n int64) ([]Run, error) {
	var out []Run
	pos, end := off, off+n
	for _, k := range m.kinds {
		if k.End() <= pos || k.Off >= end {
			continue
		}
		if k.Off > pos {
			out = AppendRun(out, Run{Off: pos, Len: k.Off - pos, Kind: RunData, Source: "mem"})
			pos = k.Off
		}
		e := min(end, k.End())
		out = AppendRun(out, Run{Off: pos, Len: e - pos, Kind: k.Kind, Source: k.Source, Reason: k.Reason})
		pos = e
	}
	if pos < end {
		out = AppendRun(out, Run{Off: pos, Len: end - pos, Kind: RunData, Source: "mem"})
	}
	return out, nil
}

func (m *memSource) ReadAt(p []byte, off int64) (int, error) {
	m.reads.Add(int64(len(p)))
	if m.delay > 0 {
		time.Sleep(m.delay)
	}
	if off >= int64(len(m.data)) {
		return 0, io.EOF
	}
	n := copy(p, m.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// failSource fails reads that touch [badOff, badOff+badLen) with EIO.
type failSource struct {
	*memSource
	badOff, badLen int64
}

func (f *failSource) ReadAt(p []byte, off int64) (int, error) {
	end := off + int64(len(p))
	if off < f.badOff+f.badLen && end > f.badOff {
		n := 0
		if f.badOff > off {
			n = copy(p[:f.badOff-off], f.data[off:])
		}
		return n, fmt.Errorf("test disk: %w", syscall.EIO)
	}
	return f.memSource.ReadAt(p, off)
}

// randomData returns n pseudo-random bytes from seed.
func randomData(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// faultFS is the OS file system whose files fail with ENOSPC once more
// than limit bytes have been written to them.
type faultFS struct {
	OSFS
	limit int64
}

func (f faultFS) CreateExcl(name string, perm fs.FileMode) (File, error) {
	file, err := f.OSFS.CreateExcl(name, perm)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, left: f.limit}, nil
}

type faultFile struct {
	File
	left int64
}

func (f *faultFile) Write(p []byte) (int, error) {
	if int64(len(p)) > f.left {
		n, _ := f.File.Write(p[:f.left])
		f.left = 0
		return n, &fs.PathError{Op: "write", Path: "faultfile", Err: syscall.ENOSPC}
	}
	f.left -= int64(len(p))
	return f.File.Write(p)
}

// assertNoOutput checks that dir has nothing named final and no
// temporary file.
func assertNoOutput(t *testing.T, dir, final string) {
	t.Helper()
	if _, err := os.Lstat(final); !os.IsNotExist(err) {
		t.Errorf("%s exists after a failed export (err %v)", final, err)
	}
	assertNoTemp(t, dir)
}

// assertNoTemp checks that dir holds no temporary file.
func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left in %s", e.Name(), dir)
		}
	}
}

// checkGoroutines fails if more goroutines run than before (after
// giving them a moment to exit).
func checkGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			n := runtime.Stack(buf, true)
			t.Fatalf("goroutine leak: %d running, %d before\n%s", runtime.NumGoroutine(), before, buf[:n])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// fileSHA hashes a file.
func fileSHA(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// outPath returns a fresh directory and an image path inside it.
func outPath(t *testing.T) (dir, path string) {
	dir = t.TempDir()
	return dir, filepath.Join(dir, "lv.img")
}
