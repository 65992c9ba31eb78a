package main

import (
	"path/filepath"
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

func TestShellJoin(t *testing.T) {
	got := job.ShellJoin([]string{"lvminspect", "export", "-o", "a b/it's.img", "vg/lv", "/dev/sdb", ""})
	want := `lvminspect export -o 'a b/it'\''s.img' vg/lv /dev/sdb ''`
	if got != want {
		t.Errorf("ShellJoin: %s, want %s", got, want)
	}
}
