package graph

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/spf13/afero"

	"github.com/lvminspect/lvminspect/export/job"
	_ "github.com/lvminspect/lvminspect/export/segtypes"
	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/internal/synth"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/device"
)

func scanImages(t *testing.T, fs afero.Fs, paths ...string) *scan.Result {
	t.Helper()
	var ins []*scan.Input
	for _, p := range paths {
		in, err := scan.Open(fs, p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { in.Close() })
		ins = append(ins, in)
	}
	return Scan(ins, scan.Options{})
}

// The host of nested-thin: the LVs holding a disk are inputs with their
// partitions, one layer deep, their ids named after the LVs; the guest
// LVs two layers deep.
func TestNestedThinGraph(t *testing.T) {
	f := fixture.Load(t, "nested-thin")
	fs := afero.NewMemMapFs()
	if err := afero.WriteFile(fs, "/pv0.img", f.Image(t, "pv0"), 0o444); err != nil {
		t.Fatal(err)
	}
	res := scanImages(t, fs, "/pv0.img")
	want := map[string]struct {
		kind   string
		depth  int
		parent string
	}{
		"in1":                     {scan.KindFile, 0, ""},
		"lv:pve/vm-100-disk-0":    {scan.KindLV, 1, "in1"},
		"lv:pve/vm-100-disk-0.p2": {scan.KindPartition, 1, "lv:pve/vm-100-disk-0"},
		"lv:pve/vm-101-disk-0":    {scan.KindLV, 1, "in1"},
		"lv:vg0/data":             {scan.KindLV, 2, "lv:pve/vm-100-disk-0.p2"},
		"lv:guest101/srv":         {scan.KindLV, 2, "lv:pve/vm-101-disk-0"},
	}
	seen := map[string]bool{}
	for _, d := range res.Devices() {
		if seen[d.ID] {
			t.Errorf("device %s listed twice", d.ID)
		}
		seen[d.ID] = true
		w, ok := want[d.ID]
		if !ok {
			continue
		}
		delete(want, d.ID)
		if d.Kind != w.kind || d.Depth != w.depth || (w.parent != "" && (len(d.Parents) != 1 || d.Parents[0] != w.parent)) {
			t.Errorf("%s: kind %s depth %d parents %v; want %s %d %s", d.ID, d.Kind, d.Depth, d.Parents, w.kind, w.depth, w.parent)
		}
	}
	for id := range want {
		t.Errorf("no device %s", id)
	}
	// Pools, sub-LVs and the pool's spare are not looked into.
	for _, id := range []string{"lv:pve/data", "lv:pve/data_tdata", "lv:pve/lvol0_pmspare"} {
		if seen[id] {
			t.Errorf("%s was tasted", id)
		}
	}
	if len(res.VGs) != 3 {
		t.Errorf("%d VGs, want pve, vg0, guest101", len(res.VGs))
	}
}

// An LV's device reads an LV with a missing PV as unreadable there, not
// as zeros, and says so in its map.
func TestLVDeviceMissingPV(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.img"), filepath.Join(dir, "b.img")
	vg := &synth.VG{Name: "two", PVs: []synth.PV{{UUID: synth.UUIDFor("pv", 1), PECount: 2}, {UUID: synth.UUIDFor("pv", 2), PECount: 2}},
		LVs: []synth.LV{{Name: "span", Segments: []synth.Segment{
			{Start: 0, Count: 1, Stripes: []synth.Stripe{{PV: 0}}}, {Start: 1, Count: 1, Stripes: []synth.Stripe{{PV: 1}}}}}}}
	if err := synth.WriteImages(vg, []string{a, b}, nil); err != nil {
		t.Fatal(err)
	}
	res := scanImages(t, scan.ReadOnlyOSFs(), a) // b withheld
	for _, in := range res.Inputs {
		if in.Node.Kind == scan.KindLV {
			t.Fatalf("an LV that holds nothing known became an input: %s", in.Node.ID)
		}
	}
	r := volumeDevice(t, res, "two", "span")
	ext, err := r.Map(0, r.Size())
	if err != nil || len(ext) != 2 || ext[0].Kind == device.Unreadable || ext[1].Kind != device.Unreadable {
		t.Fatalf("map %+v, %v", ext, err)
	}
	buf := make([]byte, 4096)
	_, err = r.ReadAt(buf, 4<<20)
	var ue *device.UnreadableError
	if !errors.As(err, &ue) || ue.Off != 4<<20 {
		t.Fatalf("read of the missing half: %v", err)
	}
}

// volumeDevice opens VG/LV of res as a device.
func volumeDevice(t *testing.T, res *scan.Result, vgName, lvName string) *Device {
	t.Helper()
	for _, vg := range res.VGs {
		if vg.Meta.Name == vgName {
			src, err := forScan(vg).OpenLV(vg.Meta.LV(lvName))
			if err != nil {
				t.Fatal(err)
			}
			return NewDevice(src, vgName+"/"+lvName)
		}
	}
	t.Fatalf("no VG %s", vgName)
	return nil
}

// countingFs counts the bytes read from the files it opens.
type countingFs struct {
	afero.Fs
	n *atomic.Int64
}

func (c countingFs) Open(name string) (afero.File, error) {
	f, err := c.Fs.Open(name)
	if err != nil {
		return nil, err
	}
	return countingFile{File: f, n: c.n}, nil
}

type countingFile struct {
	afero.File
	n *atomic.Int64
}

func (f countingFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := f.File.ReadAt(p, off)
	f.n.Add(int64(n))
	return n, err
}

func (f countingFile) Read(p []byte) (int, error) {
	n, err := f.File.Read(p)
	f.n.Add(int64(n))
	return n, err
}

// Holes through the layers: exporting a 1 %-written LV from a qcow2
// reads the clusters that hold data, not the LV's size.
func TestSparseLVFromQcow2ReadsOnlyItsData(t *testing.T) {
	if _, err := exec.LookPath("qemu-img"); err != nil {
		t.Skip("qemu-img is not installed")
	}
	dir := t.TempDir()
	raw := filepath.Join(dir, "pv.img")
	vg := &synth.VG{Name: "sparse", PVs: []synth.PV{{UUID: synth.UUIDFor("pv", 3), PECount: 64}},
		LVs: []synth.LV{synth.LinearLV("data", 0, 0, 64)}} // 256 MiB
	err := synth.WriteImages(vg, []string{raw}, func(_ int, f *os.File, dataOff int64) error {
		// 1 % of the LV: a 64 KiB piece every 6.4 MiB.
		buf := make([]byte, 64<<10)
		for i := range buf {
			buf[i] = byte(i*7 + 1)
		}
		for off := int64(0); off < 256<<20; off += 6400 << 10 {
			if _, err := f.WriteAt(buf, dataOff+off); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	q := filepath.Join(dir, "pv.qcow2")
	if out, err := exec.Command("qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, q).CombinedOutput(); err != nil {
		t.Fatalf("qemu-img: %v\n%s", err, out)
	}
	var n atomic.Int64
	fs := countingFs{Fs: afero.NewReadOnlyFs(afero.NewOsFs()), n: &n}
	res := scanImages(t, fs, q)
	if len(res.VGs) != 1 {
		t.Fatalf("%d VGs", len(res.VGs))
	}
	before := n.Load()
	out := filepath.Join(dir, "data.img")
	oc, err := job.Run(context.Background(), &job.Request{Result: res, VG: res.VGs[0], LV: res.VGs[0].Meta.LV("data"), Output: out,
		Options: job.Options{NoProvenance: true}})
	if err != nil {
		t.Fatal(err)
	}
	read := n.Load() - before
	st, _ := os.Stat(q)
	t.Logf("LV of 256 MiB, qcow2 file of %d bytes: %d bytes read for the export", st.Size(), read)
	// 41 pieces of 64 KiB (one 64 KiB cluster each, or two where a piece
	// straddles), plus L2 tables: far below the LV's 256 MiB.
	if read > 8<<20 {
		t.Errorf("the export read %d bytes of the qcow2 for 2.6 MiB of data", read)
	}
	raw2, _ := os.ReadFile(raw)
	want := sha256hex(raw2[1<<20 : 1<<20+256<<20])
	if oc.Result.SHA256 != want {
		t.Errorf("sha256 %s, want %s", oc.Result.SHA256, want)
	}
}

// A crafted disk whose LV holds a PV of its own VG (same VG UUID, a
// newer generation, an LV of the same UUID): the scan ends, the LV is not
// opened inside itself, nothing recurses without end.
func TestLVInsideItsOwnVG(t *testing.T) {
	dir := t.TempDir()
	guestImg := filepath.Join(dir, "guest.img")
	vgUUID := synth.UUIDFor("vg", 42)
	guest := &synth.VG{Name: "pve", UUID: vgUUID, Seqno: 2, PVs: []synth.PV{{UUID: synth.UUIDFor("pv", 43), PECount: 4}},
		LVs: []synth.LV{synth.LinearLV("disk", 0, 0, 4)}}
	if err := synth.WriteImages(guest, []string{guestImg}, nil); err != nil {
		t.Fatal(err)
	}
	gb, err := os.ReadFile(guestImg)
	if err != nil {
		t.Fatal(err)
	}
	host := filepath.Join(dir, "host.img")
	hv := &synth.VG{Name: "pve", UUID: vgUUID, Seqno: 1, PVs: []synth.PV{{UUID: synth.UUIDFor("pv", 44), PECount: 8}},
		LVs: []synth.LV{synth.LinearLV("disk", 0, 0, 8)}}
	err = synth.WriteImages(hv, []string{host}, func(_ int, f *os.File, dataOff int64) error {
		_, err := f.WriteAt(gb, dataOff)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	res := scanImages(t, scan.ReadOnlyOSFs(), host)
	if len(res.Inputs) > 1+MaxDepth {
		t.Errorf("%d inputs", len(res.Inputs))
	}
	for _, vg := range res.VGs {
		for _, lv := range vg.Meta.LVs {
			src, err := forScan(vg).OpenLV(lv)
			if err != nil {
				continue
			}
			d := NewDevice(src, lv.Name)
			buf := make([]byte, 1<<20)
			for off := int64(0); off < d.Size(); off += int64(len(buf)) {
				d.ReadAt(buf, off) // must return, whatever it says
			}
		}
	}
	if len(res.Inputs) != 1 || len(res.VGs) != 1 || res.VGs[0].Meta.Seqno != 1 {
		t.Errorf("%d inputs, %d VGs (seqno %d): the host's VG should stand alone", len(res.Inputs), len(res.VGs), res.VGs[0].Meta.Seqno)
	}
	found := false
	for _, p := range res.AllProblems() {
		found = found || strings.Contains(p.Msg, "holds a PV of VG") && strings.Contains(p.Msg, "inside itself")
	}
	if !found {
		t.Errorf("no problem says the VG is inside itself: %v", res.AllProblems())
	}
}

// Device ids are unique even when a crafted LV name makes the id of
// another device (an LV "disk.p1" beside partition 1 of LV "disk").
func TestDeviceIDsUnique(t *testing.T) {
	dir := t.TempDir()
	// A small disk with an MBR partition holding nothing: the LV holding
	// it gets partition devices.
	disk := make([]byte, 2<<20)
	disk[510], disk[511] = 0x55, 0xaa
	e := disk[446:]
	e[4] = 0x83
	binary.LittleEndian.PutUint32(e[8:], 2048)
	binary.LittleEndian.PutUint32(e[12:], 1)
	disk[2048*512] = 1 // not all zero, so that the partition's LV is looked at
	img := filepath.Join(dir, "host.img")
	vg := &synth.VG{Name: "v", PVs: []synth.PV{{UUID: synth.UUIDFor("pv", 50), PECount: 4}},
		LVs: []synth.LV{synth.LinearLV("disk", 0, 0, 2), synth.LinearLV("disk.p1", 0, 2, 1)}}
	err := synth.WriteImages(vg, []string{img}, func(_ int, f *os.File, dataOff int64) error {
		if _, err := f.WriteAt(disk, dataOff); err != nil {
			return err
		}
		_, err := f.WriteAt([]byte("not zero"), dataOff+8<<20)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	res := scanImages(t, scan.ReadOnlyOSFs(), img)
	ids := map[string]bool{}
	for _, d := range res.Devices() {
		if ids[d.ID] {
			t.Errorf("id %s twice", d.ID)
		}
		ids[d.ID] = true
	}
	if !ids["lv:v/disk.p1"] || !ids["lv:v/disk.p1#2"] {
		t.Errorf("ids %v", ids)
	}
}
