package history_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/history"
)

// pvckCopy is one line of `pvck --dump metadata_all`.
type pvckCopy struct {
	off, length uint64 // offset relative to the PV start
	crc         uint32
	vg, uuid    string
	seqno       uint64
}

var pvckLine = regexp.MustCompile(`^\s*metadata at (\d+) length (\d+) crc ([0-9a-f]+) vg (\S+) seqno (\d+) id (\S+)`)

func readPvck(t *testing.T, path string) ([]pvckCopy, bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []pvckCopy
	for _, l := range regexp.MustCompile(`\r?\n`).Split(string(b), -1) {
		m := pvckLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		off, _ := strconv.ParseUint(m[1], 10, 64)
		n, _ := strconv.ParseUint(m[2], 10, 64)
		crc, _ := strconv.ParseUint(m[3], 16, 32)
		seq, _ := strconv.ParseUint(m[5], 10, 64)
		out = append(out, pvckCopy{off, n, uint32(crc), m[4], m[6], seq})
	}
	return out, true
}

// TestFixturesMatchPvck checks, for every fixture, that the history lists
// exactly the copies `pvck --dump metadata_all` found in each metadata
// area (same absolute offset, length, checksum, VG and seqno), and that
// each copy's text equals the generation with its seqno in lvm-archive/.
func TestFixturesMatchPvck(t *testing.T) {
	for _, name := range fixture.Names() {
		if name == "corrupt" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			f := fixture.Load(t, name)
			res := scanImages(t, f)
			start := time.Now()
			h := history.Scan(res, history.Options{})
			t.Logf("history of %d PVs: %v", len(res.PVs), time.Since(start))
			for _, p := range h.Problems {
				if p.Severity == scan.SevError {
					t.Errorf("problem: %s", p)
				}
			}
			checked := 0
			for _, mp := range f.Manifest.PVs {
				var pv *scan.PV
				for _, p := range res.PVs {
					if p.Path == mp.Image && p.Offset == mp.OffsetBytes {
						pv = p
					}
				}
				if pv == nil {
					t.Fatalf("PV of %s at %d not found", mp.Image, mp.OffsetBytes)
				}
				dev := mp.Image
				if pv.Partition > 0 {
					dev += fmt.Sprintf("p%d", pv.Partition)
				}
				for idx, suffix := range map[int]string{1: ".metadata_all.txt", 2: ".mda2.metadata_all.txt"} {
					want, ok := readPvck(t, filepath.Join(f.Dir, "pvck", dev+suffix))
					if !ok {
						continue
					}
					checked += comparePvck(t, h, pv, idx, want)
				}
			}
			if checked == 0 {
				t.Fatal("no pvck dump compared")
			}
			compareArchive(t, f, h)
		})
	}
}

// comparePvck compares the copies of one area with pvck's list and
// returns how many were compared.
func comparePvck(t *testing.T, h *history.History, pv *scan.PV, idx int, want []pvckCopy) int {
	t.Helper()
	var area *history.Area
	for _, a := range h.Areas {
		if a.PV == pv && a.Index == idx {
			area = a
		}
	}
	if area == nil {
		t.Errorf("%s: mda%d not walked", pv.Path, idx)
		return 0
	}
	got := map[int64]*history.Copy{}
	for _, c := range area.Copies {
		if c.Fragment == nil {
			got[c.Offset] = c
		}
	}
	if len(want) == 0 {
		// pvck lists nothing for an ignored area; the history does.
		if !area.Ignored || len(got) == 0 {
			t.Errorf("%s mda%d: pvck found nothing; ignored=%v, history found %d copies", pv.Path, idx, area.Ignored, len(got))
		}
		return 1
	}
	for _, w := range want {
		abs := pv.Offset + int64(w.off)
		c := got[abs]
		if c == nil {
			t.Errorf("%s mda%d: pvck's copy at PV byte %d (absolute %d, seqno %d) not found", pv.Path, idx, w.off, abs, w.seqno)
			continue
		}
		delete(got, abs)
		if c.Size != w.length || c.ComputedCRC != w.crc || c.Seqno != w.seqno || c.VGName != w.vg || c.VGUUID != w.uuid {
			t.Errorf("%s byte %d: got size %d crc %08x vg %s %s seqno %d; pvck: %d %08x %s %s %d", pv.Path, abs,
				c.Size, c.ComputedCRC, c.VGName, c.VGUUID, c.Seqno, w.length, w.crc, w.vg, w.uuid, w.seqno)
		}
		if !c.Parsed || !c.CRCOK {
			t.Errorf("%s byte %d: parsed %v crc_ok %v (%v)", pv.Path, abs, c.Parsed, c.CRCOK, c.ParseErr)
		}
	}
	for off, c := range got {
		t.Errorf("%s mda%d: copy at %d (seqno %d) that pvck does not list", pv.Path, idx, off, c.Seqno)
	}
	// Exactly one copy is the committed one, and the slot says which.
	committed := 0
	for _, c := range area.Copies {
		if c.Committed {
			committed++
			sl := area.Header.Slots[0]
			if c.RelOff != sl.Offset || c.Size != sl.Size || c.StoredCRC != sl.Checksum {
				t.Errorf("%s: committed copy %d+%d does not match slot 0 %d+%d", pv.Path, c.RelOff, c.Size, sl.Offset, sl.Size)
			}
		}
	}
	if committed != 1 {
		t.Errorf("%s mda%d: %d committed copies", pv.Path, idx, committed)
	}
	return len(want)
}

// compareArchive checks every parsed generation against lvm-archive/.
func compareArchive(t *testing.T, f *fixture.Fixture, h *history.History) {
	t.Helper()
	arch := archive(t, f)
	for _, g := range h.Generations {
		if g.VG == nil || g.ParseErr != nil {
			t.Errorf("VG %s seqno %d does not parse: %v", g.VGName, g.Seqno, g.ParseErr)
			continue
		}
		a := arch[g.VGName][g.Seqno]
		if a == nil {
			t.Errorf("VG %s seqno %d: not in lvm-archive", g.VGName, g.Seqno)
			continue
		}
		got, want := comparable(g.VG), comparable(a.vg)
		if !reflect.DeepEqual(got, want) {
			gj, _ := json.MarshalIndent(got, "", " ")
			wj, _ := json.MarshalIndent(want, "", " ")
			t.Errorf("VG %s seqno %d differs from %s:\n%s\nwant\n%s", g.VGName, g.Seqno, a.file, gj, wj)
		}
	}
}
