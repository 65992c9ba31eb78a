package history_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/metatext"
)

// scanImages scans the named images of a fixture (all when names is nil).
func scanImages(t *testing.T, f *fixture.Fixture, names ...string) *scan.Result {
	t.Helper()
	if names == nil {
		names = f.ImageNames(false)
	}
	var ins []*scan.Input
	for _, n := range names {
		b := f.Image(t, n)
		ins = append(ins, scan.NewInput(n, bytes.NewReader(b), int64(len(b))))
	}
	return scan.Scan(ins, scan.Options{})
}

// archiveGen is one generation from a fixture's lvm-archive folder.
type archiveGen struct {
	file    string
	vg      *model.VG
	command string // from "Created *before|after* executing '...'"
	before  bool
}

var createdRE = regexp.MustCompile(`^Created \*(before|after)\* executing '(.*)'$`)

// archive parses every file of a fixture's lvm-archive (archive/ and
// backup/), keyed by VG name and seqno.
func archive(t *testing.T, f *fixture.Fixture) map[string]map[uint64]*archiveGen {
	t.Helper()
	out := map[string]map[uint64]*archiveGen{}
	for _, sub := range []string{"archive", "backup"} {
		dir := filepath.Join(f.Dir, "lvm-archive", sub)
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			vg, err := metatext.Parse(b)
			if err != nil {
				t.Fatalf("%s/%s: %v", sub, e.Name(), err)
			}
			g := &archiveGen{file: sub + "/" + e.Name(), vg: vg}
			if m := createdRE.FindStringSubmatch(vg.Description); m != nil {
				g.before, g.command = m[1] == "before", m[2]
			}
			if out[vg.Name] == nil {
				out[vg.Name] = map[uint64]*archiveGen{}
			}
			if o := out[vg.Name][vg.Seqno]; o == nil || sub == "archive" {
				out[vg.Name][vg.Seqno] = g
			}
		}
	}
	return out
}

// comparable strips what differs between an on-disk copy and a backup
// file of the same generation: the document keys and comments.
func comparable(vg *model.VG) model.VG {
	c := *vg
	c.Description, c.CreationHost, c.CreationTime, c.CreationHostComment, c.GeneratedBy = "", "", 0, "", ""
	c.CreationHostSystemID = ""
	c.Anomalies = nil
	return c
}

// lvSHA256 hashes an LV of an assembled VG, reading linear and striped
// pieces from the PVs (missing bytes fail the test).
func lvSHA256(t *testing.T, vg *scan.VG, lv *model.LV) string {
	t.Helper()
	size := vg.Meta.LVSize(lv)
	pieces, err := vg.Meta.MapRange(lv, 0, size)
	if err != nil {
		t.Fatalf("LV %s: %v", lv.Name, err)
	}
	readers := vg.Readers()
	h := sha256.New()
	for _, p := range pieces {
		pv := readers[p.PVUUID]
		if pv == nil {
			t.Fatalf("LV %s: PV %s missing", lv.Name, p.PVUUID)
		}
		buf := make([]byte, p.Length)
		if _, err := pv.R.ReadAt(buf, p.PVOffset); err != nil {
			t.Fatalf("LV %s: reading PV %s at %d: %v", lv.Name, p.PVUUID, p.PVOffset, err)
		}
		h.Write(buf)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func lvNames(vg *model.VG) []string {
	var out []string
	for _, lv := range vg.LVs {
		out = append(out, lv.Name)
	}
	return out
}

func hasSuffix(list, suffix []string) bool {
	return len(suffix) <= len(list) && strings.Join(list[len(list)-len(suffix):], "\x00") == strings.Join(suffix, "\x00")
}
