package qcow2

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/internal/containertest"
	"github.com/lvminspect/lvminspect/scan/device"
)

// wantKind is what Map should say of virtual cluster vc of t (without a
// backing file).
func (t tiny) wantKind(vc int64) device.Kind {
	if _, ok := t.data[vc]; ok {
		return device.Data
	}
	if _, ok := t.compressed[vc]; ok {
		return device.Data
	}
	return device.Hole
}

// kindAt is the kind es gives to byte off.
func kindAt(es []device.Extent, off int64) device.Kind {
	for _, e := range es {
		if off >= e.Off && off < e.Off+e.Len {
			return e.Kind
		}
	}
	return 255
}

func TestTiny(t *testing.T) {
	for _, v := range []uint32{2, 3, 4} {
		t.Run(fmt.Sprint("version", v), func(t *testing.T) {
			ti := tinyImage(min(v, 3))
			ti.zstd = v == 4 // version 3 with zstd
			v = ti.version
			b := ti.build(t)
			im, err := New(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			want := ti.disk()
			if !bytes.Equal(containertest.ReadAll(t, im), want) {
				t.Fatal("bytes differ")
			}
			// unaligned reads of every length across clusters
			for off := int64(0); off < im.Size(); off += 777 {
				n := min(int64(1500), im.Size()-off)
				buf := make([]byte, n)
				if k, err := im.ReadAt(buf, off); k != len(buf) || (err != nil && err != io.EOF) || !bytes.Equal(buf, want[off:off+n]) {
					t.Fatalf("ReadAt(%d, %d): %d, %v", off, n, k, err)
				}
			}
			// past the end
			if n, err := im.ReadAt(make([]byte, 10), im.Size()-4); n != 4 || err != io.EOF {
				t.Fatalf("read at the end: %d, %v", n, err)
			}
			es := containertest.CheckMap(t, im)
			for vc := int64(0); vc*512 < im.Size(); vc++ {
				if got := kindAt(es, vc*512); got != ti.wantKind(vc) {
					t.Fatalf("cluster %d: %v, want %v (%v)", vc, got, ti.wantKind(vc), es)
				}
			}
			// a Map of a part is clipped to it
			part, err := im.Map(700, 300)
			if err != nil || len(part) == 0 || part[0].Off != 700 || part[len(part)-1].Off+part[len(part)-1].Len != 1000 {
				t.Fatalf("Map(700, 300): %v, %v", part, err)
			}
			if es, _ := im.Map(im.Size(), 10); len(es) != 0 {
				t.Fatal("map past the end")
			}
			checkFields(t, im, int64(len(b)))
			in := im.Info()
			if in.Version != v || in.ClusterSize != 512 || in.L1Size != 4 || len(in.Problems) != 0 || (in.Compression == "zstd") != ti.zstd {
				t.Fatalf("info %+v", in)
			}
		})
	}
}

func TestTinyBacking(t *testing.T) {
	top := tinyImage(3)
	top.backing = "base.raw"
	top.backingFmt = "raw"
	tb := top.build(t)
	base := pattern(64<<10, 0x99)
	fs := containertest.MemFs(t, map[string][]byte{"/d/top.qcow2": tb, "/d/base.raw": base})
	im, err := Open(fs, "/d/top.qcow2")
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	// the disk: the top's clusters, the base's elsewhere, zeros past it
	want := make([]byte, top.size)
	copy(want, base)
	cs := int64(512)
	for vc := int64(0); vc*cs < top.size; vc++ {
		if top.wantKind(vc) == device.Data {
			copy(want[vc*cs:], top.disk()[vc*cs:min((vc+1)*cs, top.size)])
		}
	}
	for _, vc := range top.zero {
		clear(want[vc*cs : (vc+1)*cs])
	}
	if !bytes.Equal(containertest.ReadAll(t, im), want) {
		t.Fatal("bytes differ")
	}
	es := containertest.CheckMap(t, im)
	for vc := int64(0); vc*cs < top.size; vc++ {
		k := top.wantKind(vc)
		isZero := false
		for _, z := range top.zero {
			isZero = isZero || z == vc
		}
		if k == device.Hole && !isZero && vc*cs < int64(len(base)) {
			k = device.Data // from the raw base
		}
		if got := kindAt(es, vc*cs); got != k {
			t.Fatalf("cluster %d: %v, want %v", vc, got, k)
		}
	}
	in := im.Info()
	if in.BackingFile != "base.raw" || in.BackingFormat != "raw" || in.BackingPath != "/d/base.raw" || in.Backing == nil ||
		in.Backing.Format != "raw" || len(in.Files) != 2 || in.Files[1] != "/d/base.raw" || len(in.Problems) != 0 {
		t.Fatalf("info %+v", in)
	}

	// New needs the backing device
	if _, err := New(bytes.NewReader(tb), int64(len(tb))); err == nil {
		t.Fatal("New without WithBacking")
	}
	im2, err := New(bytes.NewReader(tb), int64(len(tb)), WithBacking(&rawFile{name: "b", r: bytes.NewReader(base), size: int64(len(base))}))
	if err != nil || !bytes.Equal(containertest.ReadAll(t, im2), want) {
		t.Fatal("WithBacking", err)
	}

	// missing: the error names the backing file
	_, err = Open(containertest.MemFs(t, map[string][]byte{"/d/top.qcow2": tb}), "/d/top.qcow2")
	var be *BackingError
	if !errors.As(err, &be) || be.Name != "base.raw" || !strings.Contains(err.Error(), "base.raw") || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("missing backing: %v", err)
	}

	// no format recorded: probed (raw here)
	top.backingFmt = ""
	im3, err := Open(containertest.MemFs(t, map[string][]byte{"/d/top.qcow2": top.build(t), "/d/base.raw": base}), "/d/top.qcow2")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(containertest.ReadAll(t, im3), want) || !im3.Info().BackingFormatProbed || im3.Info().BackingFormat != "raw" || len(im3.Problems()) != 1 {
		t.Fatalf("probed: %+v", im3.Info())
	}
	// a format not read
	top.backingFmt = "vmdk"
	if _, err := Open(containertest.MemFs(t, map[string][]byte{"/d/top.qcow2": top.build(t), "/d/base.raw": base}), "/d/top.qcow2"); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "vmdk") {
		t.Fatalf("vmdk backing: %v", err)
	}
	// no format recorded, and the file is an image of another format
	top.backingFmt = ""
	vdi := make([]byte, 1024)
	binary.LittleEndian.PutUint32(vdi[64:], 0xBEDA107F)
	if _, err := Open(containertest.MemFs(t, map[string][]byte{"/d/top.qcow2": top.build(t), "/d/base.raw": vdi}), "/d/top.qcow2"); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "vdi") {
		t.Fatalf("vdi backing: %v", err)
	}
	// a protocol
	top.backing = "nbd:localhost:10809"
	if _, err := Open(containertest.MemFs(t, map[string][]byte{"/d/top.qcow2": top.build(t)}), "/d/top.qcow2"); !errors.As(err, &be) || !strings.Contains(err.Error(), "protocol") {
		t.Fatalf("nbd backing: %v", err)
	}
	// an absolute name not there: the base name in the image's directory
	top.backing = "/elsewhere/base.raw"
	top.backingFmt = "raw"
	im4, err := Open(containertest.MemFs(t, map[string][]byte{"/d/top.qcow2": top.build(t), "/d/base.raw": base}), "/d/top.qcow2")
	if err != nil || !bytes.Equal(containertest.ReadAll(t, im4), want) || len(im4.Problems()) != 1 || im4.Info().BackingPath != "/d/base.raw" {
		t.Fatalf("absolute name: %v", err)
	}
}

func TestTinyChain(t *testing.T) {
	// a chain of qcow2 images named b00 … b19, each backed by the next
	mk := func(i, last int) []byte {
		ti := tiny{version: 3, clusterBits: 9, size: 4096, data: map[int64][]byte{int64(i % 8): pattern(512, byte(i))}}
		if i < last {
			ti.backing = fmt.Sprintf("b%02d.qcow2", i+1)
			ti.backingFmt = "qcow2"
		}
		return ti.build(t)
	}
	chain := func(n int) map[string][]byte {
		files := map[string][]byte{}
		for i := range n {
			files[fmt.Sprintf("/c/b%02d.qcow2", i)] = mk(i, n-1)
		}
		return files
	}
	im, err := Open(containertest.MemFs(t, chain(8)), "/c/b00.qcow2")
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 4096)
	for i := 7; i >= 0; i-- {
		copy(want[(i%8)*512:], pattern(512, byte(i)))
	}
	if !bytes.Equal(containertest.ReadAll(t, im), want) || len(im.Info().Files) != 8 {
		t.Fatal("chain of 8")
	}
	if es := containertest.CheckMap(t, im); len(es) != 1 || es[0].Kind != device.Data {
		t.Fatalf("map %v", es)
	}
	im.Close()
	if _, err := Open(containertest.MemFs(t, chain(16)), "/c/b00.qcow2"); err != nil {
		t.Fatalf("chain of 16: %v", err)
	}
	if _, err := Open(containertest.MemFs(t, chain(17)), "/c/b00.qcow2"); err == nil || !strings.Contains(err.Error(), "deeper than 16") {
		t.Fatalf("chain of 17: %v", err)
	}
	// a loop: b01 is backed by b00
	files := chain(2)
	ti := tiny{version: 3, clusterBits: 9, size: 4096, backing: "b00.qcow2", backingFmt: "qcow2"}
	files["/c/b01.qcow2"] = ti.build(t)
	if _, err := Open(containertest.MemFs(t, files), "/c/b00.qcow2"); err == nil || !strings.Contains(err.Error(), "loops") {
		t.Fatalf("loop: %v", err)
	}
}

func TestDamage(t *testing.T) {
	ti := tinyImage(3)
	b := ti.build(t)
	be := binary.BigEndian
	want := ti.disk()
	cs := int64(512)
	l2off := func(i int) int64 { return int64(be.Uint64(b[cs+8*int64(i):]) & l2OffsetMask) }
	l2entry := func(vc int64) int64 { return l2off(int(vc/64)) + 8*(vc%64) }

	expectBad := func(t *testing.T, c []byte, vc int64, what string) {
		t.Helper()
		im, err := New(bytes.NewReader(c), int64(len(c)))
		if err != nil {
			t.Fatal(err)
		}
		// the whole disk fails, at that cluster, with the range
		_, err = im.ReadAt(make([]byte, im.Size()), 0)
		var ue *device.UnreadableError
		if !errors.As(err, &ue) || ue.Off != vc*cs || ue.Len != cs || !strings.Contains(ue.Why, what) {
			t.Fatalf("ReadAt: %v", err)
		}
		// the other clusters read
		for v := int64(0); v*cs < im.Size(); v++ {
			if v == vc {
				continue
			}
			buf := make([]byte, min(cs, im.Size()-v*cs))
			if _, err := im.ReadAt(buf, v*cs); (err != nil && err != io.EOF) || !bytes.Equal(buf, want[v*cs:v*cs+int64(len(buf))]) {
				t.Fatalf("cluster %d: %v", v, err)
			}
		}
	}
	t.Run("L2 entry beyond the file", func(t *testing.T) {
		c := bytes.Clone(b)
		be.PutUint64(c[l2entry(5):], 1<<63|1<<40)
		expectBad(t, c, 5, "EOF")
	})
	t.Run("compressed cluster damaged", func(t *testing.T) {
		c := bytes.Clone(b)
		e := be.Uint64(c[l2entry(6):])
		off := e & (1<<(62-(9-8)) - 1)
		copy(c[off:], bytes.Repeat([]byte{0xff}, 16))
		expectBad(t, c, 6, "compressed")
	})
	t.Run("truncated", func(t *testing.T) {
		// the file ends inside the data cluster of virtual cluster 192,
		// the last one written
		off := int64(be.Uint64(b[l2entry(192):]) & l2OffsetMask)
		c := b[:off+50] // the disk holds 100 bytes of it
		im, err := New(bytes.NewReader(c), int64(len(c)))
		if err != nil {
			t.Fatal(err)
		}
		_, err = im.ReadAt(make([]byte, im.Size()), 0)
		var ue *device.UnreadableError
		if !errors.As(err, &ue) || ue.Off != 192*cs+50 || ue.Off+ue.Len != im.Size() {
			t.Fatalf("ReadAt: %v", err)
		}
		if !errors.Is(err, device.ErrUnreadable) {
			t.Fatal("not ErrUnreadable")
		}
	})
	t.Run("L2 table beyond the file", func(t *testing.T) {
		c := bytes.Clone(b)
		be.PutUint64(c[cs+8:], 1<<63|1<<40) // L1 entry 1: clusters 64 to 127
		im, err := New(bytes.NewReader(c), int64(len(c)))
		if err != nil {
			t.Fatal(err)
		}
		es := containertest.CheckMap(t, im)
		for vc := int64(0); vc*cs < im.Size(); vc++ {
			k := ti.wantKind(vc)
			if vc >= 64 && vc < 128 {
				k = device.Unreadable
			}
			if got := kindAt(es, vc*cs); got != k {
				t.Fatalf("cluster %d: %v, want %v", vc, got, k)
			}
		}
		_, err = im.ReadAt(make([]byte, 4096), 63*cs)
		var ue *device.UnreadableError
		if !errors.As(err, &ue) || ue.Off != 64*cs || !strings.Contains(ue.Why, "L2 table") {
			t.Fatalf("ReadAt: %v", err)
		}
	})
}

func TestHostileHeaders(t *testing.T) {
	b := tinyImage(3).build(t)
	be := binary.BigEndian
	for _, tc := range []struct {
		name  string
		patch func(c []byte)
		want  error
		text  string
	}{
		{"cluster_bits 8", func(c []byte) { be.PutUint32(c[20:], 8) }, ErrFormat, "cluster_bits"},
		{"cluster_bits 22", func(c []byte) { be.PutUint32(c[20:], 22) }, ErrFormat, "cluster_bits"},
		{"cluster_bits 63", func(c []byte) { be.PutUint32(c[20:], 63) }, ErrFormat, "cluster_bits"},
		{"l1_size 2^32-1", func(c []byte) { be.PutUint32(c[36:], 0xffffffff) }, ErrFormat, "L1 table"},
		{"l1_size 1<<22 beyond the file", func(c []byte) { be.PutUint32(c[36:], 1<<22) }, ErrFormat, "beyond the end"},
		{"l1_size too small", func(c []byte) { be.PutUint32(c[36:], 3) }, ErrFormat, "less than the virtual size"},
		{"l1 at 0", func(c []byte) { be.PutUint64(c[40:], 0) }, ErrFormat, "L1 table at byte 0"},
		{"l1 beyond", func(c []byte) { be.PutUint64(c[40:], 1<<62) }, ErrFormat, "beyond the end"},
		{"size 2^63", func(c []byte) { be.PutUint64(c[24:], 1<<63) }, ErrFormat, "too large"},
		{"size 2^60", func(c []byte) { be.PutUint64(c[24:], 1<<60) }, ErrFormat, "L1 table"},
		{"header_length 0", func(c []byte) { be.PutUint32(c[100:], 0) }, ErrFormat, "header_length"},
		{"header_length 108", func(c []byte) { be.PutUint32(c[100:], 108) }, ErrFormat, "header_length"},
		{"header_length 2^31", func(c []byte) { be.PutUint32(c[100:], 1<<31) }, ErrFormat, "header_length"},
		{"version 1", func(c []byte) { be.PutUint32(c[4:], 1) }, ErrUnsupported, "version 1"},
		{"version 4", func(c []byte) { be.PutUint32(c[4:], 4) }, ErrUnsupported, "version 4"},
		{"AES", func(c []byte) { be.PutUint32(c[32:], 1) }, ErrEncrypted, "AES"},
		{"LUKS", func(c []byte) { be.PutUint32(c[32:], 2) }, ErrEncrypted, "LUKS"},
		{"crypt 7", func(c []byte) { be.PutUint32(c[32:], 7) }, ErrEncrypted, "crypt_method 7"},
		{"data file", func(c []byte) { c[79] |= 1 << IncompatDataFile }, ErrUnsupported, "external data file"},
		{"unknown incompatible bit", func(c []byte) { c[78] |= 2 }, ErrUnsupported, "bit 9"},
		{"compression type 2", func(c []byte) { c[79] |= 1 << IncompatCompress; c[104] = 2 }, ErrUnsupported, "compression type 2"},
		{"compression type without the bit", func(c []byte) { c[104] = 1 }, ErrFormat, "compression type 1"},
		{"extended L2 with 512-byte clusters", func(c []byte) { c[79] |= 1 << IncompatExtendedL2 }, ErrFormat, "extended L2"},
		{"backing name 2000 bytes", func(c []byte) { be.PutUint64(c[8:], 200); be.PutUint32(c[16:], 2000) }, ErrFormat, "backing file name"},
		{"backing name beyond", func(c []byte) { be.PutUint64(c[8:], 1<<40); be.PutUint32(c[16:], 10) }, ErrFormat, "beyond the end"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := bytes.Clone(b)
			tc.patch(c)
			_, err := New(bytes.NewReader(c), int64(len(c)))
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("got %v, want %v with %q", err, tc.want, tc.text)
			}
		})
	}
	// reported, not refused
	for _, tc := range []struct {
		name  string
		patch func(c []byte)
		text  string
	}{
		{"dirty", func(c []byte) { c[79] |= 1 << IncompatDirty }, "dirty"},
		{"corrupt", func(c []byte) { c[79] |= 1 << IncompatCorrupt }, "corrupt"},
		{"refcount_order 9", func(c []byte) { be.PutUint32(c[96:], 9) }, "refcount_order"},
		{"snapshot table beyond", func(c []byte) { be.PutUint32(c[60:], 3); be.PutUint64(c[64:], 1<<40) }, "snapshot table"},
		{"extension too long", func(c []byte) { be.PutUint32(c[112:], 0x12345678); be.PutUint32(c[116:], 1<<20) }, "header extension"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := bytes.Clone(b)
			tc.patch(c)
			im, err := New(bytes.NewReader(c), int64(len(c)))
			if err != nil {
				t.Fatal(err)
			}
			ps := im.Problems()
			if len(ps) != 1 || !strings.Contains(ps[0].Error(), tc.text) || len(im.Info().Problems) != 1 {
				t.Fatalf("problems %v", ps)
			}
			checkFields(t, im, int64(len(c)))
		})
	}
	// an empty disk
	c := bytes.Clone(b)
	be.PutUint64(c[24:], 0)
	im, err := New(bytes.NewReader(c), int64(len(c)))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := im.ReadAt(make([]byte, 10), 0); n != 0 || err != io.EOF {
		t.Fatalf("empty: %d, %v", n, err)
	}
	if es, err := im.Map(0, 100); len(es) != 0 || err != nil {
		t.Fatalf("empty map: %v %v", es, err)
	}
}

func TestTruncatedFixture(t *testing.T) {
	b := containertest.Fixture(t, "banana.qcow2.gz")
	full, err := New(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	want := containertest.ReadAll(t, full)
	c := b[:len(b)/2]
	im, err := New(bytes.NewReader(c), int64(len(c)))
	if err != nil {
		t.Fatal(err)
	}
	// every 64 KiB cluster either reads as in the whole image or fails
	// with an unreadable range inside it; some fail, some read
	bad, good := 0, 0
	for off := int64(0); off < im.Size(); off += 65536 {
		buf := make([]byte, 65536)
		_, err := im.ReadAt(buf, off)
		var ue *device.UnreadableError
		switch {
		case err == nil:
			if !bytes.Equal(buf, want[off:off+65536]) {
				t.Fatalf("cluster at %d differs", off)
			}
			good++
		case errors.As(err, &ue) && ue.Off >= off && ue.Off+ue.Len <= off+65536 && ue.Device == "qcow2":
			bad++
		default:
			t.Fatalf("ReadAt(%d): %v", off, err)
		}
	}
	if bad == 0 || good == 0 {
		t.Fatalf("%d clusters unreadable, %d read", bad, good)
	}
}
