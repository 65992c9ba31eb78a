package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/export/job"
	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/scan"
)

// TestCommandForRuns runs the command line that job.CommandFor gives for
// an export (what the inspector's export form shows as "same as" and
// records in the provenance) through the real command: it must parse and
// export the same LV, with every option it names.
func TestCommandForRuns(t *testing.T) {
	for _, tc := range []struct {
		fixture, vg, lv string
		leaveOut        string // an image name not given
		opt             job.Options
		scan            scan.Options
		wantExit        int
	}{
		{"banana", "banana", "chocolate", "", job.Options{MD5: true}, scan.Options{NoPartitions: true}, 0},
		{"multipv", "multipv", "span", "pv1", job.Options{AllowPartial: true}, scan.Options{}, 3},
		{"gpt-disk", "gptvg", "", "", job.Options{}, scan.Options{Carve: true}, 0},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			f := fixture.Load(t, tc.fixture)
			dir := t.TempDir()
			var imgs []string
			for _, p := range writeImages(t, f, dir, false) {
				if filepath.Base(p) != tc.leaveOut+".img" {
					imgs = append(imgs, p)
				}
			}
			ins, closeAll, err := openInputs(imgs)
			if err != nil {
				t.Fatal(err)
			}
			defer closeAll()
			res := scan.Scan(ins, tc.scan)
			if len(res.VGs) == 0 {
				t.Fatal("no VG")
			}
			vg := res.VGs[0]
			lv := vg.Meta.LVs[0]
			if tc.lv != "" {
				lv = vg.Meta.LV(tc.lv)
			}
			out := filepath.Join(dir, "out dir", "it's.img") // a space and a quote: ShellJoin quotes them
			args := job.CommandFor(&job.Request{Result: res, VG: vg, LV: lv, Options: tc.opt, Output: out, Scan: tc.scan})
			if args[0] != "lvminspect" || args[1] != "export" {
				t.Fatalf("command %q", args)
			}
			_, stderr, err := run(t, "", args[1:]...)
			if exitCode(err) != tc.wantExit {
				t.Fatalf("%s: exit %d (%v), stderr %s", job.ShellJoin(args), exitCode(err), err, stderr)
			}
			if fileSHA(t, out) == "" {
				t.Fatal("no image")
			}
		})
	}
}

// TestCommandForDeviceRuns runs the command lines that
// job.CommandForDevice gives for device exports (a partition inside a
// thin LV, the thin LV itself, a container's virtual disk), and that
// job.CommandFor gives for a guest LV, through the real command: the LVs
// the graph opened as disks are not among the inputs named, and the
// image is the device's bytes.
func TestCommandForDeviceRuns(t *testing.T) {
	f := fixture.Load(t, "nested-thin")
	dir := t.TempDir()
	var m guestManifest
	if err := json.Unmarshal(f.ReadFile(t, "manifest.json"), &m); err != nil {
		t.Fatal(err)
	}
	nested := writeImages(t, f, dir, false)
	e01 := writeContainer(t, dir, "banana.E01")
	for _, tc := range []struct {
		paths  []string
		id     string
		opt    job.Options
		sha256 string // "" for any
	}{
		{nested, "lv:pve/vm-100-disk-0", job.Options{MD5: true}, m.GuestDisks[0].SHA256},
		{nested, "lv:pve/vm-100-disk-0.p2", job.Options{AllowPartial: true}, ""},
		{[]string{e01}, "in1.ewf", job.Options{}, bananaRaw},
	} {
		t.Run(tc.id, func(t *testing.T) {
			res, closeAll, err := scanInputs(tc.paths, scan.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer closeAll()
			n := res.DeviceByID(tc.id)
			if n == nil {
				t.Fatalf("no device %s", tc.id)
			}
			out := filepath.Join(dir, "out dir", safeFile(tc.id)+" it's.img")
			args := job.CommandForDevice(&job.DeviceRequest{Result: res, Device: n, Options: tc.opt, Output: out})
			if args[0] != "lvminspect" || args[1] != "export" || args[2] != "--device" || args[3] != tc.id {
				t.Fatalf("command %q", args)
			}
			for _, a := range args {
				if strings.HasPrefix(a, "pve/") {
					t.Fatalf("an LV the graph opened is named as an input: %q", args)
				}
			}
			if _, stderr, err := run(t, "", args[1:]...); err != nil {
				t.Fatalf("%s: %v, stderr %s", job.ShellJoin(args), err, stderr)
			}
			if got := fileSHA(t, out); tc.sha256 != "" && got != tc.sha256 {
				t.Errorf("%s: sha256 %s, want %s", tc.id, got, tc.sha256)
			}
		})
	}
	// A guest LV: VG/LV and the host's image only.
	res, closeAll, err := scanInputs(nested, scan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	for _, vg := range res.VGs {
		if vg.Meta.Name != "vg0" {
			continue
		}
		out := filepath.Join(dir, "vg0-root.img")
		args := job.CommandFor(&job.Request{Result: res, VG: vg, LV: vg.Meta.LV("root"), Output: out})
		if want := append([]string{"lvminspect", "export", "-o", out, "vg0/root"}, nested...); strings.Join(args, " ") != strings.Join(want, " ") {
			t.Fatalf("command %q, want %q", args, want)
		}
		if _, stderr, err := run(t, "", args[1:]...); err != nil {
			t.Fatalf("%s: %v, stderr %s", job.ShellJoin(args), err, stderr)
		}
		for _, lv := range m.GuestLVs {
			if lv.VG == "vg0" && lv.Name == "root" && fileSHA(t, out) != lv.SHA256 {
				t.Errorf("vg0/root: sha256 %s, manifest %s", fileSHA(t, out), lv.SHA256)
			}
		}
		return
	}
	t.Fatal("no VG vg0")
}

// safeFile makes a device id a file name.
func safeFile(id string) string { return strings.NewReplacer(":", "_", "/", "_").Replace(id) }

func TestShellJoin(t *testing.T) {
	got := job.ShellJoin([]string{"lvminspect", "export", "-o", "a b/it's.img", "vg/lv", "/dev/sdb", ""})
	want := `lvminspect export -o 'a b/it'\''s.img' vg/lv /dev/sdb ''`
	if got != want {
		t.Errorf("ShellJoin: %s, want %s", got, want)
	}
}
