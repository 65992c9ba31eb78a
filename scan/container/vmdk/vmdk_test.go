package vmdk

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/internal/containertest"
	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan/device"
)

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

func TestFixtures(t *testing.T) {
	for _, tc := range fixtures {
		t.Run(tc.file, func(t *testing.T) {
			b := containertest.Fixture(t, tc.file)
			if !Probe(bytes.NewReader(b), int64(len(b))) {
				t.Fatal("Probe false")
			}
			im, err := Open(containertest.MemFs(t, map[string][]byte{"/img/x.vmdk": b}), "/img/x.vmdk")
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
			cr := &containertest.CountingReader{R: bytes.NewReader(b)}
			im2, err := New(cr, int64(len(b)), WithName("x.vmdk"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := im2.Map(0, im2.Size()); err != nil {
				t.Fatal(err)
			}
			meta := cr.N.Load()
			sum, data, holes := containertest.MapHash(t, im2)
			if sum != tc.sha || holes == 0 {
				t.Fatalf("map+read differs; holes %d", holes)
			}
			if got := cr.N.Load() - meta; !tc.compressed && got != data {
				t.Fatalf("read %d bytes from the file for %d bytes of data", got, data)
			} else if tc.compressed && got >= data {
				t.Fatalf("read %d bytes from the compressed file for %d bytes of data", got, data)
			}
			containertest.CheckConcurrent(t, im, nil, 40, 1<<20, 7)
		})
	}
}

func checkFields(t *testing.T, im *Image, fileSize int64) {
	t.Helper()
	sts := im.Fields()
	if len(sts) < 3 {
		t.Fatalf("structures %+v", sts)
	}
	// A structure named "file: ..." lies in another file of the disk.
	inOtherFile := func(st model.Structure) bool { return strings.Contains(st.Name, ": ") }
	if containertest.CheckFields(t, sts, fileSize, inOtherFile) == 0 {
		t.Error("no checked field")
	}
}

// checkMap checks that Map covers the disk exactly, with no unreadable
// range, that its holes read as zeros and, with want, that its data and
// holes say what want holds.
func checkMap(t *testing.T, d device.Device, want []byte) (holes int64) {
	t.Helper()
	for _, e := range containertest.CheckMap(t, d) {
		if e.Kind == device.Unreadable {
			t.Fatalf("unreadable %+v", e)
		}
	}
	return containertest.CheckMapReads(t, d, want)
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
		if !bytes.Equal(containertest.ReadAll(t, im), raw) {
			t.Fatalf("raw deflate %v: bytes differ", rawFlat)
		}
		in := im.Info()
		if in.Subformat != "streamOptimized" || in.Compression != "deflate" || len(in.Problems) != 0 || in.CID != "00001234" {
			t.Fatalf("info %+v", in)
		}
		checkMap(t, im, raw)
		containertest.CheckConcurrent(t, im, raw, 40, 1<<20, 7)
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
