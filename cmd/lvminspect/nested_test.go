package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/internal/synth"
	"github.com/lvminspect/lvminspect/model"
)

// guestManifest is the part of nested-thin's manifest about the guests.
type guestManifest struct {
	GuestLVs []struct {
		VG, Name, SHA256 string
	} `json:"guest_lvs"`
	GuestDisks []struct {
		HostVG string `json:"host_vg"`
		HostLV string `json:"host_lv"`
		SHA256 string `json:"sha256"`
	} `json:"guest_disks"`
}

// The virtualisation host: every guest LV exports through the host's
// thin LVs (a GPT inside one, a bare PV in the other) to the manifest's
// sha256, and scan --json's devices lead from the host's image to the
// thin LV, its partition, the guest PV and the guest VG's LVs.
func TestNestedThinGuests(t *testing.T) {
	f := fixture.Load(t, "nested-thin")
	dir := t.TempDir()
	paths := writeImages(t, f, dir, false)
	var m guestManifest
	if err := json.Unmarshal(f.ReadFile(t, "manifest.json"), &m); err != nil {
		t.Fatal(err)
	}
	if len(m.GuestLVs) < 4 {
		t.Fatalf("%d guest LVs in the manifest", len(m.GuestLVs))
	}
	for _, lv := range m.GuestLVs {
		out := filepath.Join(dir, lv.VG+"-"+lv.Name+".img")
		if _, stderr, err := run(t, "", append([]string{"export", "-o", out, lv.VG + "/" + lv.Name}, paths...)...); err != nil {
			t.Fatalf("export %s/%s: %v\n%s", lv.VG, lv.Name, err, stderr)
		}
		if got := fileSHA(t, out); got != lv.SHA256 {
			t.Errorf("%s/%s: sha256 %s, manifest %s", lv.VG, lv.Name, got, lv.SHA256)
		}
		var prov struct {
			Inputs []struct{ Path string } `json:"inputs"`
		}
		if err := json.Unmarshal(mustRead(t, out+".json"), &prov); err != nil || len(prov.Inputs) == 0 {
			t.Errorf("%s/%s: provenance inputs %+v, %v", lv.VG, lv.Name, prov.Inputs, err)
		}
	}
	// The guest disks themselves, as devices of the graph.
	for _, d := range m.GuestDisks {
		out := filepath.Join(dir, d.HostLV+".img")
		id := "lv:" + d.HostVG + "/" + d.HostLV
		if _, stderr, err := run(t, "", append([]string{"export", "--device", id, "-o", out}, paths...)...); err != nil {
			t.Fatalf("export --device %s: %v\n%s", id, err, stderr)
		}
		if got := fileSHA(t, out); got != d.SHA256 {
			t.Errorf("%s: sha256 %s, manifest %s", id, got, d.SHA256)
		}
	}

	stdout, _, err := run(t, "", append([]string{"scan", "--json"}, paths...)...)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Devices []struct {
			ID, Kind, VG, LV string
			Parents          []string
			Offset           int64
			Content          *struct{ Format string }
		}
		PVs []struct {
			Device, UUID string
			Offset       int64
			VGName       string `json:"vg_name"`
		}
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	byID := map[string]int{}
	for i, d := range doc.Devices {
		byID[d.ID] = i
	}
	chain := []struct{ id, kind, parent, holds string }{
		{"in1", "file", "", "lvm2"},
		{"lv:pve/vm-100-disk-0", "lv", "in1", "gpt"},
		{"lv:pve/vm-100-disk-0.p2", "partition", "lv:pve/vm-100-disk-0", "lvm2"},
		{"lv:pve/vm-101-disk-0", "lv", "in1", "lvm2"},
		{"lv:vg0/root", "lv", "lv:pve/vm-100-disk-0.p2", "ext"},
		{"lv:guest101/srv", "lv", "lv:pve/vm-101-disk-0", ""},
	}
	for _, c := range chain {
		i, ok := byID[c.id]
		if !ok {
			t.Errorf("no device %s in %v", c.id, byID)
			continue
		}
		d := doc.Devices[i]
		if d.Kind != c.kind || (c.parent != "" && (len(d.Parents) != 1 || d.Parents[0] != c.parent)) {
			t.Errorf("%s: kind %s parents %v, want %s under %s", c.id, d.Kind, d.Parents, c.kind, c.parent)
		}
		if c.holds != "" && (d.Content == nil || d.Content.Format != c.holds) {
			t.Errorf("%s: content %+v, want %s", c.id, d.Content, c.holds)
		}
	}
	found := false
	for _, pv := range doc.PVs {
		if pv.VGName == "vg0" {
			found = true
			if pv.Device != "lv:pve/vm-100-disk-0.p2" || pv.Offset != 5242880 {
				t.Errorf("vg0's PV on %s at %d, want partition 2 of vm-100-disk-0 at 5242880", pv.Device, pv.Offset)
			}
		}
	}
	if !found {
		t.Error("no PV of vg0")
	}

	text, _, err := run(t, "", append([]string{"scan"}, paths...)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"pve/vm-100-disk-0  (LV of VG pve, 32.00 MiB)  device lv:pve/vm-100-disk-0",
		"device lv:pve/root, holds: ext2 file system", "VG vg0 ", "VG guest101 "} {
		if !strings.Contains(text, want) {
			t.Errorf("scan text lacks %q", want)
		}
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A host VG named like the guest VG inside one of its LVs (banana inside
// banana): the name alone is refused with both UUIDs, each VG is reached
// by its UUID, and the guest's LV exports to its manifest sha256.
func TestGuestVGNamedLikeHost(t *testing.T) {
	guest := fixture.Load(t, "banana")
	img := guest.Image(t, "pv0")
	dir := t.TempDir()
	host := filepath.Join(dir, "host.img")
	vg := &synth.VG{Name: "banana", UUID: synth.UUIDFor("vg", 7), ExtentSize: 8192,
		PVs: []synth.PV{{UUID: synth.UUIDFor("pv", 7), PECount: 5}},
		LVs: []synth.LV{synth.LinearLV("vmdisk", 0, 1, 4)}}
	err := synth.WriteImages(vg, []string{host}, func(_ int, f *os.File, dataOff int64) error {
		_, err := f.WriteAt(img, dataOff+4<<20)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	_, stderr, err := run(t, "", "export", "-o", filepath.Join(dir, "x.img"), "banana/chocolate", host)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitUsage || !strings.Contains(err.Error(), "2 VGs are named banana") ||
		!strings.Contains(err.Error(), "hMPlTD-V0b2-ML5Z-mLn1-MQPO-hWFY-pBBYbC") {
		t.Fatalf("ambiguous name: %v\n%s", err, stderr)
	}
	var want string
	for _, lv := range guest.Manifest.LVs {
		if lv.Name == "chocolate" {
			want = lv.ExpectedSHA256()
		}
	}
	out := filepath.Join(dir, "choc.img")
	if _, stderr, err := run(t, "", "export", "-o", out, "hMPlTD-V0b2-ML5Z-mLn1-MQPO-hWFY-pBBYbC/chocolate", host); err != nil {
		t.Fatalf("by UUID: %v\n%s", err, stderr)
	}
	if got := fileSHA(t, out); got != want {
		t.Errorf("chocolate by UUID: %s, want %s", got, want)
	}
	hostUUID := vg.UUID
	if _, stderr, err := run(t, "", "export", "-o", filepath.Join(dir, "vm.img"), hostUUID+"/vmdisk", host); err != nil {
		t.Fatalf("host by UUID: %v\n%s", err, stderr)
	}
	stdout, _, _ := run(t, "", "scan", "--json", host)
	// Two VGs share the name: the LV devices are named by VG UUID.
	if want := `"id": "lv:` + model.DashedUUID(hostUUID) + `/vmdisk"`; !strings.Contains(stdout, want) {
		t.Errorf("no %s in scan --json", want)
	}
}

// One LV whose metadata LVM would refuse (stripe_count 0) no longer
// hides its VG: the VG is shown with the problem (exit status 3), its
// other LVs export, and that one is refused with the reason.
func TestInvalidLVKeepsItsVG(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "pv.img")
	bad := synth.LinearLV("bad", 0, 2, 1)
	bad.Segments[0].StripeCount = "0"
	vg := &synth.VG{Name: "odd", PVs: []synth.PV{{UUID: synth.UUIDFor("pv", 9), PECount: 4}},
		LVs: []synth.LV{synth.LinearLV("good", 0, 0, 2), bad}}
	if err := synth.WriteImages(vg, []string{img}, nil); err != nil {
		t.Fatal(err)
	}
	stdout, _, err := run(t, "", "scan", img)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitIncomplete || !strings.Contains(stdout, "VG odd ") ||
		!strings.Contains(stdout, "the metadata of LV bad is invalid") || !strings.Contains(stdout, "stripe_count is 0") {
		t.Fatalf("scan: %v\n%s", err, stdout)
	}
	if _, stderr, err := run(t, "", "export", "-o", filepath.Join(dir, "good.img"), "odd/good", img); err != nil {
		t.Fatalf("export good: %v\n%s", err, stderr)
	}
	_, _, err = run(t, "", "export", "-o", filepath.Join(dir, "bad.img"), "odd/bad", img)
	if !errors.As(err, &ee) || ee.code != exitFailed || !strings.Contains(err.Error(), "invalid") {
		t.Fatalf("export bad: %v", err)
	}
}
