//go:build linux

package export

import (
	"context"
	"github.com/lvminspect/lvminspect/scan/device"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/lvminspect/lvminspect/model"
	"golang.org/x/sys/unix"
)

// allocated returns the bytes a file has on disk.
func allocated(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Blocks * 512
}

func TestExportSparseOutput(t *testing.T) {
	const size = 128 << 20
	for _, zeroRuns := range []bool{false, true} {
		name := map[bool]string{false: "zero-data", true: "zero-runs"}[zeroRuns]
		t.Run(name, func(t *testing.T) {
			src := &patchSource{size: size, zeroRuns: zeroRuns, patches: []patch{
				{off: 4096, data: randomData(8192, 30)},
				{off: 100<<20 + 12345, data: randomData(100_000, 31)},
				{off: size - 5000, data: randomData(5000, 32)},
			}}
			dir, path := outPath(t)
			res, err := Export(context.Background(), src, Options{Output: path, Sparse: true})
			if err != nil {
				t.Fatal(err)
			}
			want := src.sum()
			if res.SHA256 != want || fileSHA(t, path) != want {
				t.Errorf("sha256 %s, want %s", res.SHA256, want)
			}
			if fi, _ := os.Stat(path); fi.Size() != size {
				t.Errorf("size %d", fi.Size())
			}
			if a := allocated(t, path); a > size/100 {
				t.Errorf("%d bytes allocated for a %d byte image that is mostly zeros", a, size)
			}
			if res.Holes < size-2<<20 {
				t.Errorf("holes %d", res.Holes)
			}
			assertNoTemp(t, dir)
		})
	}
	t.Run("not-sparse", func(t *testing.T) {
		src := &patchSource{size: 16 << 20, zeroRuns: true}
		_, path := outPath(t)
		res, err := Export(context.Background(), src, Options{Output: path})
		if err != nil {
			t.Fatal(err)
		}
		if res.Holes != 0 || allocated(t, path) < 16<<20 || fileSHA(t, path) != src.sum() {
			t.Errorf("non-sparse export: holes %d, allocated %d", res.Holes, allocated(t, path))
		}
	})
}

// fsHasHoles says whether the file system of dir reports holes.
func fsHasHoles(t *testing.T, dir string) bool {
	f, err := os.CreateTemp(dir, "probe")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(1 << 20); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{1}, 1<<20-1); err != nil {
		t.Fatal(err)
	}
	d, err := unix.Seek(int(f.Fd()), 0, unix.SEEK_DATA)
	return err == nil && d > 0
}

// A 1 GiB sparse input image with a little data: the holes are found with
// SEEK_DATA/SEEK_HOLE and not read.
func TestPieceSourceSparseInput(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "pv.img")
	f, err := os.Create(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const fileSize = 1 << 30
	const pvStart = 1 << 20 // the PV starts 1 MiB into the file
	const pvSize = fileSize - pvStart
	const half = pvSize / 2
	if err := f.Truncate(fileSize); err != nil {
		t.Fatal(err)
	}
	// Writes at PV offsets; the LV maps PV [half, 2*half) first, then
	// PV [0, half).
	writes := []patch{
		{off: 0, data: randomData(4096, 40)},
		{off: 300<<20 + 12345, data: randomData(10_000, 41)},
		{off: half + 4096, data: randomData(1<<20, 42)},
		{off: pvSize - 4096, data: randomData(4096, 43)},
	}
	lv := &patchSource{size: pvSize}
	for _, w := range writes {
		if _, err := f.WriteAt(w.data, pvStart+w.off); err != nil {
			t.Fatal(err)
		}
		lvOff := w.off + half
		if w.off >= half {
			lvOff = w.off - half
		}
		lv.patches = append(lv.patches, patch{off: lvOff, data: w.data})
	}
	want := lv.sum()
	pieces := []model.Piece{
		{LVOffset: 0, Length: half, PVUUID: "pv-uuid", PVOffset: half},
		{LVOffset: half, Length: half, PVUUID: "pv-uuid", PVOffset: 0},
	}
	src := NewPieceSource(pvSize, pieces, map[string]PVReader{
		"pv-uuid": {R: io.NewSectionReader(f, pvStart, pvSize), Size: pvSize, Name: in, Dev: pvDevice(t, f, pvStart, pvSize)},
	})
	out := filepath.Join(dir, "lv.img")
	t0 := time.Now()
	res, err := Export(context.Background(), src, Options{Output: out, Sparse: true})
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(t0)
	if res.SHA256 != want {
		t.Fatalf("sha256 %s, want %s", res.SHA256, want)
	}
	if got := fileSHA(t, out); got != want {
		t.Errorf("file sha256 %s", got)
	}
	if elapsed > 15*time.Second {
		t.Errorf("export of a sparse 1 GiB input took %v", elapsed)
	}
	if fsHasHoles(t, dir) {
		if r := res.BytesRead["pv-uuid"]; r > 8<<20 {
			t.Errorf("read %d bytes of a sparse input holding about 1 MiB", r)
		}
		if a := allocated(t, out); a > 8<<20 {
			t.Errorf("output has %d bytes allocated", a)
		}
	} else {
		t.Log("file system does not report holes: hole detection not checked")
	}
	t.Logf("sparse 1 GiB input exported in %v, %d bytes read, %d holes", elapsed, res.BytesRead["pv-uuid"], res.Holes)
}

// Readahead is asked only for data: a hint over a hole would have the
// kernel fill the page cache with zeros the export then skips anyway.
func TestDataEndStopsAtHoles(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "in.img"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const mib = 1 << 20
	if _, err := f.WriteAt(randomData(mib, 40), 2*mib); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(64 * mib); err != nil {
		t.Fatal(err)
	}
	if ext, err := device.NewFile(f, 64*mib, true, nil).Map(0, mib); err != nil || len(ext) != 1 || ext[0].Kind != device.Hole {
		t.Skip("this file system does not report holes")
	}
	// The PV starts 1 MiB into the file: its data is PV bytes [1, 2) MiB.
	pv := &PVReader{R: f, Size: 63 * mib, Dev: pvDevice(t, f, mib, 63*mib)}
	for _, c := range []struct{ from, to, want int64 }{
		{mib, 17 * mib, 2 * mib},             // clipped at the hole after the data
		{mib + 4096, mib + 8192, mib + 8192}, // inside the data
		{0, 16 * mib, 0},                     // starts in a hole: nothing
		{3 * mib, 19 * mib, 3 * mib},         // hole to the end
	} {
		if got := dataEnd(pv.Dev, c.from, c.to); got != c.want {
			t.Errorf("dataEnd(%d, %d) = %d, want %d", c.from, c.to, got, c.want)
		}
	}
	// Without a file to ask, the range stays as it is.
	if got := dataEnd(nil, 0, 16*mib); got != 16*mib {
		t.Errorf("no file: %d", got)
	}
}

// pvDevice is [off, off+size) of the file f as the device a PV on it is.
func pvDevice(t *testing.T, f *os.File, off, size int64) device.Device {
	t.Helper()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return device.NewSection(device.NewFile(f, st.Size(), true, nil), off, size)
}
