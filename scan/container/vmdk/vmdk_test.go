package vmdk

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/lvminspect/lvminspect/internal/containertest"
	"github.com/lvminspect/lvminspect/scan/device"
	"github.com/spf13/afero"
)

const fixtureDir = "../../../testdata/fixtures/containers"

func gunzipFixture(t testing.TB, name string) []byte {
	t.Helper()
	return containertest.Gunzip(t, filepath.Join(fixtureDir, name))
}

// The fixtures, with the raw_sha256 and raw_size_bytes of the shared
// fixture's manifest.
var fixtures = []struct {
	file, sub, sha string
	size           int64
	compressed     bool
}{
	{"banana.vmdk.gz", "monolithicSparse", "f467b9dbed8986e08935e25730309c53c0ac00a1a999c8b5762a3e7efa308cf1", 14680064, false},
	{"banana-stream.vmdk.gz", "streamOptimized", "f467b9dbed8986e08935e25730309c53c0ac00a1a999c8b5762a3e7efa308cf1", 14680064, true},
	{"multipv-pv1.vmdk.gz", "monolithicSparse", "fe8c390ec39df14085f84f6c0a139ead5be3968f43bab2540d3829fa3f98e060", 16777216, false},
}

// countingReader counts the bytes read from a file.
type countingReader struct {
	r io.ReaderAt
	n atomic.Int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n.Add(int64(n))
	return n, err
}

func TestFixtures(t *testing.T) {
	for _, tc := range fixtures {
		t.Run(tc.file, func(t *testing.T) {
			b := gunzipFixture(t, tc.file)
			if !Probe(bytes.NewReader(b), int64(len(b))) {
				t.Fatal("Probe false")
			}
			fs := afero.NewMemMapFs()
			afero.WriteFile(fs, "/img/x.vmdk", b, 0o644)
			im, err := Open(afero.NewReadOnlyFs(fs), "/img/x.vmdk")
			if err != nil {
				t.Fatal(err)
			}
			defer im.Close()
			if im.Size() != tc.size {
				t.Fatalf("size %d", im.Size())
			}
			if got := containertest.HashDevice(t, im); got != tc.sha {
				t.Fatalf("sha256 %s", got)
			}
			in := im.Info()
			wantComp := "none"
			if tc.compressed {
				wantComp = "deflate"
			}
			if in.Format != "vmdk" || in.Subformat != tc.sub || in.GrainSize != 64<<10 || in.Compression != wantComp || len(in.Problems) != 0 ||
				len(in.Extents) != 1 || in.Extents[0].Type != "SPARSE" || in.Extents[0].Sectors != tc.size/512 || in.CID == "" || in.ParentCID != "ffffffff" ||
				len(in.Files) != 1 || in.Extents[0].GrainDirectory != "primary at sector 26" {
				t.Fatalf("info %+v", in)
			}
			if _, err := json.Marshal(in); err != nil {
				t.Fatal(err)
			}
			checkFields(t, im, int64(len(b)))
			checkMap(t, im, nil)

			// Reading only Map's data extents reads nothing more than
			// them from the file (uncompressed grains), and with the
			// holes as zeros gives the raw disk.
			cr := &countingReader{r: bytes.NewReader(b)}
			im2, err := New(cr, int64(len(b)), WithName("x.vmdk"))
			if err != nil {
				t.Fatal(err)
			}
			es, err := im2.Map(0, im2.Size())
			if err != nil {
				t.Fatal(err)
			}
			meta := cr.n.Load()
			h := sha256.New()
			var data, holes int64
			for _, e := range es {
				switch e.Kind {
				case device.Data:
					buf := make([]byte, e.Len)
					if _, err := im2.ReadAt(buf, e.Off); err != nil {
						t.Fatal(err)
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
			if hex.EncodeToString(h.Sum(nil)) != tc.sha || holes == 0 {
				t.Fatalf("map+read differs; holes %d", holes)
			}
			if got := cr.n.Load() - meta; !tc.compressed && got != data {
				t.Fatalf("read %d bytes from the file for %d bytes of data", got, data)
			} else if tc.compressed && got >= data {
				t.Fatalf("read %d bytes from the compressed file for %d bytes of data", got, data)
			}
			checkConcurrent(t, im, nil)
		})
	}
}

func checkFields(t *testing.T, im *Image, fileSize int64) {
	t.Helper()
	sts := im.Fields()
	if len(sts) < 3 {
		t.Fatalf("structures %+v", sts)
	}
	checks := 0
	for _, st := range sts {
		for _, f := range st.Fields {
			if f.Off < st.Off || f.Off+int64(f.Len) > st.Off+int64(st.Len) || (!strings.Contains(st.Name, ": ") && f.Off+int64(f.Len) > fileSize) {
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
	if checks == 0 {
		t.Error("no checked field")
	}
}

// checkMap checks that Map covers the disk exactly, that its holes read
// as zeros and, with want, that its data and holes say what want holds.
func checkMap(t *testing.T, d interface {
	device.Device
	device.Mapper
}, want []byte) (holes int64) {
	t.Helper()
	es, err := d.Map(0, d.Size())
	if err != nil {
		t.Fatal(err)
	}
	at := int64(0)
	for _, e := range es {
		if e.Off != at || e.Len <= 0 {
			t.Fatalf("extent %+v at %d", e, at)
		}
		at += e.Len
		switch e.Kind {
		case device.Hole:
			holes += e.Len
			buf := bytes.Repeat([]byte{1}, int(e.Len))
			if _, err := d.ReadAt(buf, e.Off); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf, make([]byte, len(buf))) {
				t.Fatalf("hole %+v not zeros", e)
			}
			if want != nil && !bytes.Equal(want[e.Off:e.Off+e.Len], make([]byte, e.Len)) {
				t.Fatalf("hole %+v over data", e)
			}
		case device.Unreadable:
			t.Fatalf("unreadable %+v", e)
		}
	}
	if at != d.Size() {
		t.Fatalf("map covers %d of %d", at, d.Size())
	}
	return holes
}

// checkConcurrent reads d at random places from several goroutines and
// compares with want (or with what d reads at once, when want is nil).
func checkConcurrent(t *testing.T, d device.Device, want []byte) {
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
			r := rand.New(rand.NewPCG(uint64(g), 7))
			for range 40 {
				off := r.Int64N(d.Size())
				n := r.Int64N(min(d.Size()-off, 1<<20) + 1)
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

// randomDisk is size bytes of zeros with random data in some places,
// some of them not aligned to grains.
func randomDisk(seed uint64, size int64) []byte {
	raw := make([]byte, size)
	r := rand.New(rand.NewPCG(seed, 1))
	for i := int64(0); i < size; i += 24 << 10 {
		if r.IntN(3) == 0 {
			n := r.Int64N(24<<10) + 1
			for j := i; j < min(i+n, size); j++ {
				raw[j] = byte(r.IntN(256))
			}
		}
	}
	// text compresses, random data does not
	copy(raw[size/2:], bytes.Repeat([]byte("compressible "), 10000))
	return raw
}

func readAll(t *testing.T, d device.Device) []byte {
	t.Helper()
	b := make([]byte, d.Size())
	if _, err := d.ReadAt(b, 0); err != nil {
		t.Fatal(err)
	}
	return b
}

func memFS(files map[string][]byte) afero.Fs {
	fs := afero.NewMemMapFs()
	for n, b := range files {
		afero.WriteFile(fs, n, b, 0o644)
	}
	return afero.NewReadOnlyFs(fs)
}

// TestStreamOptimizedFooter reads stream-optimized extents laid out as
// the specification says (grain directory at the end, named by the
// footer), with zlib and with raw deflate grains.
func TestStreamOptimizedFooter(t *testing.T) {
	raw := randomDisk(1, 3<<20+5*512)
	for _, rawFlat := range []bool{false, true} {
		desc := descriptorText("streamOptimized", 0x1234, cidNone, "", `RW 6149 SPARSE "s.vmdk"`)
		img := buildSparse(t, raw, sparseSpec{stream: true, rawFlat: rawFlat, descriptor: desc, gtes: 16})
		im, err := New(bytes.NewReader(img), int64(len(img)), WithName("s.vmdk"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(readAll(t, im), raw) {
			t.Fatalf("raw deflate %v: bytes differ", rawFlat)
		}
		in := im.Info()
		if in.Subformat != "streamOptimized" || in.Compression != "deflate" || len(in.Problems) != 0 || in.CID != "00001234" {
			t.Fatalf("info %+v", in)
		}
		checkMap(t, im, raw)
		checkConcurrent(t, im, raw)
		sts := im.Fields()
		if sts[len(sts)-1].Name != "VMDK footer" || sts[len(sts)-1].Off != int64(len(img)-1024) {
			t.Fatalf("structures %+v", sts[len(sts)-1])
		}
		checkFields(t, im, int64(len(img)))
	}
	// Without its footer it cannot be read, and says why.
	desc := descriptorText("streamOptimized", 0x1234, cidNone, "", `RW 6149 SPARSE "s.vmdk"`)
	img := buildSparse(t, raw, sparseSpec{stream: true, descriptor: desc})
	cut := img[:len(img)-4096]
	if _, err := New(bytes.NewReader(cut), int64(len(cut))); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "footer") {
		t.Fatalf("no footer: %v", err)
	}
	// A grain whose data is damaged is unreadable, with the reason.
	c := bytes.Clone(img)
	gte := binary.LittleEndian.Uint32(c[firstGTE(t, c):])
	c[int(gte)*512+40] ^= 0xff
	im, err := New(bytes.NewReader(c), int64(len(c)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = im.ReadAt(make([]byte, im.Size()), 0)
	var ue *device.UnreadableError
	if !errors.As(err, &ue) || !strings.Contains(ue.Why, "compressed grain") {
		t.Fatalf("damaged grain: %v", err)
	}
}

// firstGTE returns the byte offset of the first allocated entry of the
// first grain table of a sparse extent in use.
func firstGTE(t *testing.T, img []byte) int {
	t.Helper()
	le := binary.LittleEndian
	gd := le.Uint64(img[56:])
	if gd == GDAtEnd {
		gd = le.Uint64(img[len(img)-1024+56:])
	}
	for i := 0; ; i += 4 {
		gt := le.Uint32(img[int(gd)*512+i:])
		if gt == 0 {
			continue
		}
		for j := 0; ; j += 4 {
			if le.Uint32(img[int(gt)*512+j:]) > 1 {
				return int(gt)*512 + j
			}
		}
	}
}
