package vmdk

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/internal/containertest"
	"github.com/lvminspect/lvminspect/scan/device"
)

// TestQemuTwoGbExtents reads twoGbMaxExtentSparse and twoGbMaxExtentFlat
// disks of three extents, with data across the edges of the extents,
// comparing the places written and Map with what was written.
func TestQemuTwoGbExtents(t *testing.T) {
	q := containertest.QemuImg(t)
	dir := t.TempDir()
	const size = 4<<30 + 3<<20
	type region struct {
		off int64
		b   []byte
	}
	regions := []region{
		{0, randomDisk(3, 100<<10)},
		{2<<30 - 70<<10, bytes.Repeat([]byte("edge of extent one "), 10000)},
		{4<<30 - 1000, randomDisk(4, 300<<10)},
		{size - 512, bytes.Repeat([]byte{0xee}, 512)},
	}
	for i := range regions {
		// randomDisk leaves zeros; make every byte written count
		for j := range regions[i].b {
			regions[i].b[j] |= 1
		}
	}
	rawPath := filepath.Join(dir, "big.raw")
	f, err := os.Create(rawPath)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(size)
	for _, r := range regions {
		f.WriteAt(r.b, r.off)
	}
	f.Close()
	want := func(off, n int64) []byte {
		b := make([]byte, n)
		for _, r := range regions {
			s, e := max(off, r.off), min(off+n, r.off+int64(len(r.b)))
			if s < e {
				copy(b[s-off:e-off], r.b[s-r.off:e-r.off])
			}
		}
		return b
	}
	for _, sub := range []string{"twoGbMaxExtentSparse", "twoGbMaxExtentFlat"} {
		t.Run(sub, func(t *testing.T) {
			img := filepath.Join(dir, sub+".vmdk")
			containertest.Run(t, q, "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat="+sub, rawPath, img)
			im, err := Open(containertest.OsFs(), img)
			if err != nil {
				t.Fatal(err)
			}
			defer im.Close()
			in := im.Info()
			if im.Size() != size || len(in.Extents) != 3 || len(in.Files) != 4 || len(in.Problems) != 0 || in.Extents[1].Start != 2<<30 {
				t.Fatalf("info %+v", in)
			}
			for _, r := range regions {
				off := max(r.off-65536, 0)
				n := min(int64(len(r.b))+2*65536, size-off)
				got := make([]byte, n)
				if _, err := im.ReadAt(got, off); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want(off, n)) {
					t.Fatalf("region at %d differs", r.off)
				}
			}
			es, err := im.Map(0, size)
			if err != nil {
				t.Fatal(err)
			}
			at, data := int64(0), int64(0)
			for _, e := range es {
				if e.Off != at || e.Kind == device.Unreadable {
					t.Fatalf("extent %+v at %d", e, at)
				}
				at += e.Len
				if e.Kind == device.Data {
					data += e.Len
					if sub == "twoGbMaxExtentSparse" {
						got := make([]byte, e.Len)
						if _, err := im.ReadAt(got, e.Off); err != nil || !bytes.Equal(got, want(e.Off, e.Len)) {
							t.Fatalf("data %+v: %v", e, err)
						}
					}
				} else {
					for _, r := range regions {
						if r.off < e.Off+e.Len && e.Off < r.off+int64(len(r.b)) {
							t.Fatalf("hole %+v over data at %d", e, r.off)
						}
					}
				}
			}
			if at != size {
				t.Fatalf("map ends at %d", at)
			}
			if sub == "twoGbMaxExtentSparse" && data > 2<<20 {
				t.Fatalf("%d bytes of data mapped", data)
			}
			if sub == "twoGbMaxExtentFlat" && data != size {
				t.Fatalf("%d bytes of data mapped", data)
			}
		})
	}
}

// TestQemuSnapshotChain reads a child of a child of a disk, written
// into with qemu-io, against qemu-img's reading of it.
func TestQemuSnapshotChain(t *testing.T) {
	q := containertest.QemuImg(t)
	dir := t.TempDir()
	raw := randomDisk(5, 4<<20)
	rawPath := filepath.Join(dir, "d.raw")
	os.WriteFile(rawPath, raw, 0o644)
	base := filepath.Join(dir, "base.vmdk")
	containertest.Run(t, q, "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized", rawPath, base)
	child := filepath.Join(dir, "child.vmdk")
	containertest.Run(t, q, "create", "-f", "vmdk", "-b", "base.vmdk", "-F", "vmdk", child)
	// A child is made after its parent was last written: a write
	// changes the parent's CID, and qemu then refuses to write into a
	// child that recorded the old one.
	qio, err := exec.LookPath("qemu-io")
	wrote := err == nil
	if wrote {
		containertest.Run(t, qio, "-c", "write -P 0xab 65536 4096", "-c", "write -z 1M 64k", "-c", "write -P 0x11 3000000 200000", child)
	} else {
		t.Log("qemu-io not installed: the chain is read without writes")
	}
	top := filepath.Join(dir, "top.vmdk")
	containertest.Run(t, q, "create", "-f", "vmdk", "-o", "subformat=twoGbMaxExtentSparse,zeroed_grain=on", "-b", "child.vmdk", "-F", "vmdk", top)
	if wrote {
		containertest.Run(t, qio, "-c", "write -P 0xcd 100k 8k", "-c", "write -z 2M 128k", "-c", "write -P 0x22 3100000 1000", top)
	}
	want := containertest.QemuRaw(t, q, top, "vmdk")
	im, err := Open(containertest.OsFs(), top)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	if len(im.Problems()) != 0 {
		t.Fatal(im.Problems())
	}
	if got := containertest.ReadAll(t, im); !bytes.Equal(got, want) {
		t.Fatal("bytes differ from qemu-img's")
	}
	containertest.CheckConcurrent(t, im, want, 40, 1<<20, 7)
	holes := checkMap(t, im, want)
	in := im.Info()
	if in.Subformat != "twoGbMaxExtentSparse" || in.ParentPath != child || in.Parent == nil || in.Parent.Parent == nil ||
		in.Parent.Parent.Subformat != "streamOptimized" || in.ParentCID != in.Parent.CID || in.Parent.ParentCID != in.Parent.Parent.CID {
		t.Fatalf("info %+v", in)
	}
	if wrote {
		// The grains zeroed in top over the base's data are holes.
		es, _ := im.Map(2<<20, 128<<10)
		if len(es) != 1 || es[0].Kind != device.Hole || holes == 0 {
			t.Fatalf("zeroed grains mapped %+v", es)
		}
	}

	// The same files in memory: a parent whose CID changed is reported;
	// a missing parent is an error that names it.
	files := map[string][]byte{}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".vmdk") {
			b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
			files["/case/"+e.Name()] = b
		}
	}
	b := files["/case/base.vmdk"]
	i := bytes.Index(b, []byte("CID="))
	if b[i+4] == '0' { // a hex digit to another
		b[i+4] = '1'
	} else {
		b[i+4] = '0'
	}
	im2, err := Open(containertest.MemFs(t, files), "/case/top.vmdk")
	if err != nil {
		t.Fatal(err)
	}
	mid, _ := im2.Parent().(*Image)
	var fe *FieldError
	if ps := mid.Problems(); len(im2.Problems()) != 0 || len(ps) != 1 || !errors.As(ps[0], &fe) || fe.Field != "parentCID" || fe.File != "/case/child.vmdk" {
		t.Fatalf("problems %v", ps)
	}
	if pi := im2.Info().Parent; len(pi.Problems) != 1 {
		t.Fatalf("info %+v", pi)
	}
	if got := containertest.ReadAll(t, im2); !bytes.Equal(got, want) {
		t.Fatal("bytes differ")
	}
	im2.Close()
	delete(files, "/case/base.vmdk")
	var pe *ParentError
	if _, err := Open(containertest.MemFs(t, files), "/case/top.vmdk"); !errors.As(err, &pe) || pe.Name != "base.vmdk" {
		t.Fatalf("missing parent: %v", err)
	}
}
