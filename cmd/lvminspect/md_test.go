package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/internal/fixture"
)

// md-raid5 with the member its manifest withholds left out: scan says
// the array is degraded and which role is missing, every LV and the
// array itself export to the manifest's sha256 with the rebuilt ranges
// in the provenance record; with two members missing the array cannot
// be exported without --allow-partial (exit 1), and with it exit 3.
func TestMDRaid5Degraded(t *testing.T) {
	f := fixture.Load(t, "md-raid5")
	var m struct {
		MDArrays []struct {
			UUID   string `json:"uuid"`
			SHA256 string `json:"sha256"`
		} `json:"md_arrays"`
	}
	if err := json.Unmarshal(f.ReadFile(t, "manifest.json"), &m); err != nil || len(m.MDArrays) != 1 {
		t.Fatalf("manifest: %v", err)
	}
	dir := t.TempDir()
	imgs := writeImages(t, f, dir, true)
	if len(imgs) != 2 {
		t.Fatalf("images %v, want m0 and m2", imgs)
	}
	stdout, _, err := run(t, "", append([]string{"scan", "--json"}, imgs...)...)
	if err != nil {
		t.Fatal(err)
	}
	var sc struct {
		Devices []struct {
			ID           string   `json:"id"`
			Kind         string   `json:"kind"`
			Parents      []string `json:"parents"`
			UUID         string   `json:"uuid"`
			Level        string   `json:"level"`
			Layout       string   `json:"layout"`
			ChunkSize    int64    `json:"chunk_size"`
			RaidDisks    int      `json:"raid_disks"`
			Metadata     string   `json:"metadata"`
			Degraded     bool     `json:"degraded"`
			MissingRoles []int    `json:"missing_roles"`
			Members      []struct {
				Device string `json:"device"`
				Role   int    `json:"role"`
				State  string `json:"state"`
				Events uint64 `json:"events"`
			} `json:"members"`
		} `json:"devices"`
		PVs []struct {
			Device string `json:"device"`
		} `json:"pvs"`
	}
	if err := json.Unmarshal([]byte(stdout), &sc); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, d := range sc.Devices {
		if d.Kind != "md" {
			continue
		}
		found = true
		if d.ID != "md:md0" || d.UUID != m.MDArrays[0].UUID || d.Level != "raid5" || d.Layout != "left-symmetric" ||
			d.ChunkSize != 65536 || d.RaidDisks != 3 || d.Metadata != "1.2" || !d.Degraded ||
			len(d.MissingRoles) != 1 || d.MissingRoles[0] != 1 || len(d.Members) != 2 || len(d.Parents) != 2 {
			t.Errorf("md device %+v", d)
		}
		for _, mem := range d.Members {
			if mem.State != "in_sync" || mem.Events != 18 || (mem.Device == "in1") != (mem.Role == 0) {
				t.Errorf("member %+v", mem)
			}
		}
	}
	if !found || len(sc.PVs) != 1 || sc.PVs[0].Device != "md:md0" {
		t.Errorf("md device found %v, pvs %+v", found, sc.PVs)
	}

	out := filepath.Join(dir, "md0.img")
	stdout, stderr, err := run(t, "", append([]string{"export", "--device", "md:md0", "-o", out}, imgs...)...)
	if err != nil {
		t.Fatalf("export --device md:md0: %v %s", err, stderr)
	}
	if got := fileSHA(t, out); got != m.MDArrays[0].SHA256 || !strings.HasPrefix(stdout, got) {
		t.Errorf("array sha256 %s, want %s", got, m.MDArrays[0].SHA256)
	}
	var prov struct {
		Rebuilt []struct{ Start, Length int64 } `json:"rebuilt_ranges"`
		Device  []struct {
			ID   string `json:"id"`
			Kind string `json:"kind"`
		} `json:"device"`
	}
	b, _ := os.ReadFile(out + ".json")
	if err := json.Unmarshal(b, &prov); err != nil || len(prov.Rebuilt) == 0 || len(prov.Device) != 3 || prov.Device[2].Kind != "md" {
		t.Errorf("provenance of the array: %v %s", err, b)
	}
	rebuiltSomewhere := false
	for _, lv := range f.Manifest.LVs {
		if lv.Hidden {
			continue
		}
		out := filepath.Join(dir, lv.Name+".img")
		if _, stderr, err := run(t, "", append([]string{"export", "-o", out, lv.VG + "/" + lv.Name}, imgs...)...); err != nil {
			t.Errorf("%s: %v %s", lv.Name, err, stderr)
			continue
		}
		if got := fileSHA(t, out); got != lv.ExpectedSHA256() {
			t.Errorf("%s sha256 %s, want %s", lv.Name, got, lv.ExpectedSHA256())
		}
		prov.Rebuilt = nil
		b, _ := os.ReadFile(out + ".json")
		if json.Unmarshal(b, &prov) == nil && len(prov.Rebuilt) > 0 {
			rebuiltSomewhere = true
		}
	}
	if !rebuiltSomewhere {
		t.Error("no LV's provenance lists ranges rebuilt from parity")
	}

	one := imgs[:1]
	_, _, err = run(t, "", append([]string{"export", "--device", "md:md0", "-o", filepath.Join(dir, "one.img")}, one...)...)
	if exitCode(err) != 1 {
		t.Errorf("array with two roles missing: exit %d (%v), want 1", exitCode(err), err)
	}
	_, _, err = run(t, "", append([]string{"export", "--allow-partial", "--device", "md:md0", "-o", filepath.Join(dir, "one.img")}, one...)...)
	if exitCode(err) != 3 {
		t.Errorf("array with two roles missing, --allow-partial: exit %d (%v), want 3", exitCode(err), err)
	}
}
