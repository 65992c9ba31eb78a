package scan_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/scan"
)

// TestCarveFindsPVAtAnyOffset hides the banana PV at an odd offset of a
// larger image with no partition table.
func TestCarveFindsPVAtAnyOffset(t *testing.T) {
	pv := fixture.Load(t, "banana").Image(t, "pv0")
	const at = 3<<20 + 1536
	img := make([]byte, at+len(pv)+4096)
	copy(img[at:], pv)
	in := scan.NewInput("disk", bytes.NewReader(img), int64(len(img)))
	if res := scan.Scan([]*scan.Input{in}, scan.Options{}); len(res.PVs) != 0 {
		t.Fatalf("found %d PVs without carving", len(res.PVs))
	}
	res := scan.Scan([]*scan.Input{in}, scan.Options{Carve: true})
	if len(res.PVs) != 1 || res.PVs[0].Offset != at || !res.PVs[0].Carved {
		t.Fatalf("PVs: %+v", res.PVs)
	}
	if vg := findVG(res, "banana"); vg == nil || len(vg.Meta.LVs) != 3 || vg.PVs[0].Missing {
		t.Fatalf("VG banana not assembled from the carved PV")
	}
}

// TestCarveSparseFileSkipsHoles carves a 64 GiB sparse file holding the PV
// near its end: only the data is read, so it finishes at once.
func TestCarveSparseFileSkipsHoles(t *testing.T) {
	pv := fixture.Load(t, "banana").Image(t, "pv0")
	path := filepath.Join(t.TempDir(), "sparse.img")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	const at = 60 << 30
	if err := f.Truncate(64 << 30); err != nil {
		t.Skipf("no sparse files here: %v", err)
	}
	if _, err := f.WriteAt(pv, at); err != nil {
		t.Fatal(err)
	}
	f.Close()
	res := scanFile(t, path)
	if len(res.PVs) != 0 {
		t.Fatalf("PV found without carving")
	}
	in, err := scan.Open(scan.ReadOnlyOSFs(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	res = scan.Scan([]*scan.Input{in}, scan.Options{Carve: true})
	if len(res.PVs) != 1 || res.PVs[0].Offset != at {
		t.Fatalf("PVs %+v", res.PVs)
	}
}

// TestCarveCapsLabels carves 256 MiB holding a label every 2 KiB (131,072
// PVs): only MaxCarvedLabels are probed, and a problem says so.
func TestCarveCapsLabels(t *testing.T) {
	if testing.Short() {
		t.Skip("256 MiB")
	}
	img := make([]byte, 256<<20)
	for off := 0; off < len(img); off += 2048 {
		lb := img[off+512 : off+1024]
		copy(lb, "LABELONE")
		binary.LittleEndian.PutUint64(lb[8:], 1)
		binary.LittleEndian.PutUint32(lb[20:], 32)
		copy(lb[24:], "LVM2 001")
		copy(lb[32:], "zOyPRbqflr3FM5kMw3Cx05k5g2UUeFM5")
		binary.LittleEndian.PutUint64(lb[64:], 2048)
		binary.LittleEndian.PutUint32(lb[16:], scan.CRC(scan.InitialCRC, lb[20:]))
	}
	in := scan.NewInput("labels", bytes.NewReader(img), int64(len(img)))
	res := scan.Scan([]*scan.Input{in}, scan.Options{Carve: true})
	if n := len(res.PVs); n != scan.MaxCarvedLabels {
		t.Errorf("%d PVs, want %d", n, scan.MaxCarvedLabels)
	}
	var msgs []string
	for _, p := range res.Inputs[0].Problems {
		msgs = append(msgs, p.String())
	}
	want := fmt.Sprintf("more than %d PV labels found by carving", scan.MaxCarvedLabels)
	if got := strings.Join(msgs, "\n"); !strings.Contains(got, want) || !strings.Contains(got, "narrow the range") ||
		!strings.Contains(got, fmt.Sprint(scan.MaxCarvedLabels*2048)) {
		t.Errorf("problems:\n%.2000s", got)
	}
}

// TestCarveReadsOnlyData carves a 64 GiB sparse file with 4 KiB of data
// every 64 MiB: only the data extents are read (it read 4 MiB after each
// one, 4 GiB in all, and a whole 1 TiB file of such data).
func TestCarveReadsOnlyData(t *testing.T) {
	pv := fixture.Load(t, "banana").Image(t, "pv0")
	path := filepath.Join(t.TempDir(), "sparse.img")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	const size = 64 << 30
	if err := f.Truncate(size); err != nil {
		t.Skipf("no sparse files here: %v", err)
	}
	data := bytes.Repeat([]byte("data"), 1024)
	for off := int64(1 << 20); off < size-128<<20; off += 64 << 20 {
		if _, err := f.WriteAt(data, off); err != nil {
			t.Fatal(err)
		}
	}
	const at = size - 64<<20
	if _, err := f.WriteAt(pv, at); err != nil {
		t.Fatal(err)
	}
	f.Close()
	in, err := scan.Open(scan.ReadOnlyOSFs(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	before, ok := readChars(t)
	res := scan.Scan([]*scan.Input{in}, scan.Options{Carve: true})
	after, _ := readChars(t)
	if len(res.PVs) != 1 || res.PVs[0].Offset != at {
		t.Fatalf("PVs %+v", res.PVs)
	}
	if ok && after-before > 64<<20 {
		t.Errorf("read %d MiB of a file holding %d MiB of data", (after-before)>>20, (1024*4096+len(pv))>>20)
	}
}

// readChars returns the bytes this process has read so far (rchar of
// /proc/self/io); ok is false where that is not known.
func readChars(t *testing.T) (int64, bool) {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0, false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "rchar: "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
