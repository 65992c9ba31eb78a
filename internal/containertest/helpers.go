package containertest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan/device"
	"github.com/spf13/afero"
)

// FixtureDir is the folder of the container fixtures: gzipped images
// made by the real tools (qemu-img, ewfacquire).
func FixtureDir() string { return filepath.Join(fixture.Root(), "containers") }

// Fixture returns the gunzipped content of the container fixture name
// (in FixtureDir); it fails t if it cannot be read.
func Fixture(t testing.TB, name string) []byte {
	t.Helper()
	return Gunzip(t, filepath.Join(FixtureDir(), name))
}

// SHA is the hex sha256 of b.
func SHA(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// MemFs returns a read-only in-memory file system holding files (path
// to content); it fails t if one cannot be written.
func MemFs(t testing.TB, files map[string][]byte) afero.Fs {
	t.Helper()
	fs := afero.NewMemMapFs()
	for name, b := range files {
		if err := afero.WriteFile(fs, name, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return afero.NewReadOnlyFs(fs)
}

// OsFs is the machine's file system, read-only.
func OsFs() afero.Fs { return afero.NewReadOnlyFs(afero.NewOsFs()) }

// CountingReader counts the bytes read from R.
type CountingReader struct {
	R io.ReaderAt
	N atomic.Int64
}

// ReadAt reads from R and counts what it read.
func (c *CountingReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.R.ReadAt(p, off)
	c.N.Add(int64(n))
	return n, err
}

// ZeroDev is a device of int64(z) zero bytes (a parent of zeros).
type ZeroDev int64

// Size is the device's size.
func (z ZeroDev) Size() int64 { return int64(z) }

// ReadAt fills p with zeros, up to the end of the device.
func (z ZeroDev) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(z) {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), int64(z)-off))
	clear(p[:n])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// ReadAll reads all of d at once; it fails t unless every byte was read
// (an io.EOF with the last byte is no error).
func ReadAll(t testing.TB, d device.Device) []byte {
	t.Helper()
	b := make([]byte, d.Size())
	if n, err := d.ReadAt(b, 0); n != len(b) || (err != nil && err != io.EOF) {
		t.Fatalf("ReadAt(0, %d): %d, %v", len(b), n, err)
	}
	return b
}

// CheckMapRange fails t unless es, what Map(off, n) returned for a
// device of size bytes, covers [off, min(size, off+n)) in order with no
// empty extent.
func CheckMapRange(t testing.TB, es []device.Extent, off, n, size int64) {
	t.Helper()
	at := off
	for _, e := range es {
		if e.Off != at || e.Len <= 0 {
			t.Fatalf("Map(%d): extent %+v at %d", off, e, at)
		}
		at += e.Len
	}
	if at != min(size, off+n) {
		t.Fatalf("Map(%d) ends at %d", off, at)
	}
}

// CheckMap checks that Map(0, Size) of d covers it exactly, in order,
// and returns its extents.
func CheckMap(t testing.TB, d device.Device) []device.Extent {
	t.Helper()
	es, err := device.MapAll(d, 0, d.Size())
	if err != nil {
		t.Fatal(err)
	}
	CheckMapRange(t, es, 0, d.Size(), d.Size())
	return es
}

// CheckMapReads checks that d's Map covers it exactly and that reads
// agree with it: every extent is read whole, holes read as zeros (into
// a buffer that was not), data reads without error and unreadable
// extents fail with device.ErrUnreadable. With want, holes must also be
// zeros in want. It returns the number of bytes in holes.
func CheckMapReads(t testing.TB, d device.Device, want []byte) (holes int64) {
	t.Helper()
	for _, e := range CheckMap(t, d) {
		buf := bytes.Repeat([]byte{1}, int(e.Len))
		_, err := d.ReadAt(buf, e.Off)
		switch e.Kind {
		case device.Hole:
			holes += e.Len
			if err != nil || !bytes.Equal(buf, make([]byte, len(buf))) {
				t.Fatalf("hole %+v not zeros: %v", e, err)
			}
			if want != nil && !bytes.Equal(want[e.Off:e.Off+e.Len], make([]byte, e.Len)) {
				t.Fatalf("hole %+v over data", e)
			}
		case device.Data:
			if err != nil {
				t.Fatalf("data %+v: %v", e, err)
			}
		case device.Unreadable:
			if !errors.Is(err, device.ErrUnreadable) {
				t.Fatalf("unreadable %+v read: %v", e, err)
			}
		}
	}
	return holes
}

// MapHash reads only the data extents of d (the holes are zeros; any
// other extent fails t) and returns the sha256 of the disk and the data
// and hole byte counts.
func MapHash(t testing.TB, d device.Device) (sum string, data, holes int64) {
	t.Helper()
	h := sha256.New()
	for _, e := range CheckMap(t, d) {
		switch e.Kind {
		case device.Data:
			buf := make([]byte, e.Len)
			if n, err := d.ReadAt(buf, e.Off); n != len(buf) || (err != nil && err != io.EOF) {
				t.Fatalf("ReadAt(%d, %d): %d, %v", e.Off, e.Len, n, err)
			}
			h.Write(buf)
			data += e.Len
		case device.Hole:
			h.Write(make([]byte, e.Len))
			holes += e.Len
		default:
			t.Fatalf("extent %+v", e)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), data, holes
}

// CheckConcurrent reads d from 4 goroutines, reads times each, at random
// places (seeded with the goroutine's number and seed) and of random
// lengths up to maxLen, and compares with want (or with what d reads at
// once, when want is nil).
func CheckConcurrent(t testing.TB, d device.Device, want []byte, reads int, maxLen int64, seed uint64) {
	t.Helper()
	if want == nil {
		want = make([]byte, d.Size())
		if _, err := d.ReadAt(want, 0); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), seed))
			for range reads {
				off := r.Int64N(d.Size())
				n := r.Int64N(min(d.Size()-off, maxLen) + 1)
				buf := make([]byte, n)
				if _, err := d.ReadAt(buf, off); err != nil || !bytes.Equal(buf, want[off:off+n]) {
					t.Errorf("ReadAt(%d, %d): %v", off, n, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// CheckFields checks the structures a reader's Fields returns: every
// field lies within its structure and, unless inOtherFile says its
// structure lies in another file (nil: none does), within the first
// fileSize bytes; every checked field's check is OK. It returns the
// number of checked fields.
func CheckFields(t testing.TB, sts []model.Structure, fileSize int64, inOtherFile func(model.Structure) bool) (checks int) {
	t.Helper()
	for _, st := range sts {
		other := inOtherFile != nil && inOtherFile(st)
		for _, f := range st.Fields {
			if f.Off < st.Off || f.Off+int64(f.Len) > st.Off+int64(st.Len) || (!other && f.Off+int64(f.Len) > fileSize) {
				t.Errorf("%s: field %s [%d,+%d) outside", st.Name, f.Name, f.Off, f.Len)
			}
			if f.Check != nil {
				checks++
				if !f.Check.OK {
					t.Errorf("%s: %s: %+v", st.Name, f.Name, f.Check)
				}
			}
		}
	}
	return checks
}

// QemuImg returns the path of qemu-img; it skips t when qemu-img is not
// installed.
func QemuImg(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("qemu-img")
	if err != nil {
		t.Skip("qemu-img not installed")
	}
	return p
}

// Run runs the command name with args and fails t, with its output, if
// it fails.
func Run(t testing.TB, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %q: %v\n%s", name, args, err, out)
	}
}

// QemuRaw converts img (of format fmtName, "" to let qemu-img probe it)
// to raw with qemu-img q, in a temporary folder, and returns the bytes:
// the oracle of what img holds.
func QemuRaw(t testing.TB, q, img, fmtName string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "qemu.raw")
	args := []string{"convert"}
	if fmtName != "" {
		args = append(args, "-f", fmtName)
	}
	Run(t, q, append(args, "-O", "raw", img, out)...)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
