package scan_test

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan"
)

// scanFixture scans the images of a fixture, leaving out withheld ones
// when withhold is set. Input paths are the image names.
func scanFixture(t *testing.T, f *fixture.Fixture, withhold bool) *scan.Result {
	t.Helper()
	var ins []*scan.Input
	for _, name := range f.ImageNames(withhold) {
		b := f.Image(t, name)
		ins = append(ins, scan.NewInput(name, bytes.NewReader(b), int64(len(b))))
	}
	return scan.Scan(ins, scan.Options{})
}

func findVG(res *scan.Result, name string) *scan.VG {
	for _, vg := range res.VGs {
		if vg.Meta.Name == name {
			return vg
		}
	}
	return nil
}

func atoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("bad number %q in report: %v", s, err)
	}
	return n
}

// TestFixturesAgreeWithLVMReports checks every fixture's scan against what
// the real LVM tools reported: PV placement, VGs, LVs and segments.
func TestFixturesAgreeWithLVMReports(t *testing.T) {
	for _, name := range fixture.Names() {
		if name == "corrupt" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			f := fixture.Load(t, name)
			res := scanFixture(t, f, false)
			checkPVPlacement(t, f, res)
			checkVGs(t, f, res)
			checkLVs(t, f, res)
			for _, vg := range res.VGs {
				for _, p := range vg.PVs {
					if p.Missing {
						t.Errorf("VG %s: PV %s missing with all images present", vg.Meta.Name, p.Meta.UUID)
					}
				}
			}
		})
	}
}

func checkPVPlacement(t *testing.T, f *fixture.Fixture, res *scan.Result) {
	t.Helper()
	for _, mp := range f.Manifest.PVs {
		found := false
		for _, pv := range res.PVs {
			if pv.Path == mp.Image && pv.Offset == mp.OffsetBytes {
				found = true
				if pv.UUID() != mp.PVUUID {
					t.Errorf("PV in %s at %d: uuid %s, want %s", mp.Image, mp.OffsetBytes, pv.UUID(), mp.PVUUID)
				}
				if int64(pv.Label.Header.DeviceSize) != mp.DeviceSizeBytes {
					t.Errorf("PV %s: device_size %d, want %d", mp.PVUUID, pv.Label.Header.DeviceSize, mp.DeviceSizeBytes)
				}
			}
		}
		if !found {
			t.Errorf("no PV found in %s at offset %d (want %s)", mp.Image, mp.OffsetBytes, mp.PVUUID)
		}
	}
}

func checkVGs(t *testing.T, f *fixture.Fixture, res *scan.Result) {
	t.Helper()
	for _, row := range f.VGsReport(t) {
		vg := findVG(res, row["vg_name"])
		if vg == nil {
			t.Errorf("VG %s not found", row["vg_name"])
			continue
		}
		if vg.Meta.UUID != row["vg_uuid"] {
			t.Errorf("VG %s: uuid %s, want %s", vg.Meta.Name, vg.Meta.UUID, row["vg_uuid"])
		}
		if int64(vg.Meta.Seqno) != atoi(t, row["vg_seqno"]) {
			t.Errorf("VG %s: seqno %d, want %s", vg.Meta.Name, vg.Meta.Seqno, row["vg_seqno"])
		}
		if vg.Meta.ExtentBytes() != atoi(t, row["vg_extent_size"]) {
			t.Errorf("VG %s: extent size %d, want %s", vg.Meta.Name, vg.Meta.ExtentBytes(), row["vg_extent_size"])
		}
		if vg.Fallback != "" {
			t.Errorf("VG %s: unexpected fallback: %s", vg.Meta.Name, vg.Fallback)
		}
	}
}

var devRE = regexp.MustCompile(`^(.*)\((\d+)\)$`)

func checkLVs(t *testing.T, f *fixture.Fixture, res *scan.Result) {
	t.Helper()
	segIdx := map[string]int{}
	for _, row := range f.LVsReport(t) {
		vg := findVG(res, row["vg_name"])
		if vg == nil {
			t.Errorf("VG %s of LV %s not found", row["vg_name"], row["lv_name"])
			continue
		}
		name := strings.Trim(row["lv_name"], "[]")
		lv := vg.Meta.LV(name)
		if lv == nil {
			t.Errorf("LV %s/%s not found", vg.Meta.Name, name)
			continue
		}
		key := vg.Meta.Name + "/" + name
		where := fmt.Sprintf("LV %s", key)
		if lv.UUID != row["lv_uuid"] {
			t.Errorf("%s: uuid %s, want %s", where, lv.UUID, row["lv_uuid"])
		}
		if hidden := strings.HasPrefix(row["lv_name"], "["); hidden == vg.Meta.Shown(lv) {
			t.Errorf("%s: shown=%v but lvs shows it as %q", where, vg.Meta.Shown(lv), row["lv_name"])
		}
		if got := vg.Meta.LVSize(lv); got != atoi(t, row["lv_size"]) {
			t.Errorf("%s: size %d, want %s", where, got, row["lv_size"])
		}
		i := segIdx[key]
		segIdx[key]++
		if i >= len(lv.Segments) {
			t.Errorf("%s: lvs lists segment %d, metadata has %d", where, i, len(lv.Segments))
			continue
		}
		s := lv.Segments[i]
		where = fmt.Sprintf("%s segment %d", where, i)
		eb := vg.Meta.ExtentBytes()
		if int64(s.StartExtent)*eb != atoi(t, row["seg_start"]) || int64(s.ExtentCount)*eb != atoi(t, row["seg_size"]) {
			t.Errorf("%s: extents %d+%d, lvs says bytes %s+%s", where, s.StartExtent, s.ExtentCount, row["seg_start"], row["seg_size"])
		}
		typ := s.BaseType
		if typ == "striped" && s.StripeCount == 1 {
			typ = "linear"
		}
		if typ != row["segtype"] {
			t.Errorf("%s: type %s, want %s", where, typ, row["segtype"])
		}
		switch s.Kind() {
		case model.KindStriped, model.KindRAID, model.KindMirror:
			if int64(s.StripeCount) != atoi(t, row["stripes"]) {
				t.Errorf("%s: stripe count %d, want %s", where, s.StripeCount, row["stripes"])
			}
			if int64(s.StripeSize)*model.SectorSize != atoi(t, row["stripe_size"]) {
				t.Errorf("%s: stripe size %d sectors, want %s bytes", where, s.StripeSize, row["stripe_size"])
			}
		}
		if row["devices"] == "" {
			continue
		}
		devs := strings.Split(row["devices"], ",")
		if len(devs) != len(s.Areas) {
			t.Errorf("%s: %d areas, lvs lists devices %s", where, len(s.Areas), row["devices"])
			continue
		}
		for k, d := range devs {
			m := devRE.FindStringSubmatch(d)
			if m == nil {
				t.Fatalf("%s: cannot read device %q", where, d)
			}
			a := s.Areas[k]
			if uint64(atoi(t, m[2])) != a.Start {
				t.Errorf("%s: area %d starts at %d, lvs says %s", where, k, a.Start, d)
			}
			if strings.HasPrefix(m[1], "/dev/") {
				pv := vg.Meta.PVByLabel(a.PV)
				if pv == nil || pv.Device != m[1] {
					t.Errorf("%s: area %d is %+v, lvs says %s", where, k, a, d)
				}
			} else if a.LV != m[1] {
				t.Errorf("%s: area %d is LV %q, lvs says %s", where, k, a.LV, d)
			}
		}
	}
}

// TestFixturesHeadersMatchPvck compares every decoded header field with
// what `pvck --dump headers` printed.
func TestFixturesHeadersMatchPvck(t *testing.T) {
	for _, name := range fixture.Names() {
		if name == "corrupt" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			f := fixture.Load(t, name)
			res := scanFixture(t, f, false)
			for _, mp := range f.Manifest.PVs {
				file := mp.Image + ".headers.txt"
				if mp.OffsetBytes != 0 { // a partition: pvck dumps are named disk0pN
					file = mp.Image + "p" + strings.TrimLeft(mp.GuestDevice, "/abcdefghijklmnopqrstuvwxyz") + ".headers.txt"
				}
				var pv *scan.PV
				for _, p := range res.PVs {
					if p.Path == mp.Image && p.Offset == mp.OffsetBytes {
						pv = p
					}
				}
				if pv == nil {
					t.Fatalf("PV %s not found", mp.PVUUID)
				}
				comparePvck(t, pv, string(f.ReadFile(t, "pvck/"+file)))
			}
		})
	}
}

// pvck prints offsets relative to the PV; ours are absolute in the input.
func comparePvck(t *testing.T, pv *scan.PV, dump string) {
	t.Helper()
	want := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(dump))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, " #"); i >= 0 {
			line = line[:i]
		}
		k, v, ok := strings.Cut(line, " ")
		if ok {
			want[k] = v
		}
	}
	h := pv.Label.Header
	got := map[string]string{
		"label_header.sector":         fmt.Sprint(pv.Label.SectorXL),
		"label_header.crc":            fmt.Sprintf("0x%x", strings.TrimPrefix(pv.Label.CRC.Stored, "0x")),
		"label_header.offset":         fmt.Sprint(pv.Label.OffsetXL),
		"label_header.type":           pv.Label.Type,
		"pv_header.pv_uuid":           h.UUID,
		"pv_header.device_size":       fmt.Sprint(h.DeviceSize),
		"pv_header_extension.version": fmt.Sprint(h.ExtVersion),
		"pv_header_extension.flags":   fmt.Sprint(h.ExtFlags),
	}
	got["label_header.crc"] = "0x" + strings.TrimLeft(strings.TrimPrefix(pv.Label.CRC.Stored, "0x"), "0")
	got["label_header"] = "at " + fmt.Sprint(pv.Label.Sector*512)
	locs := append(append(append([]scan.DiskLocn{}, h.DataAreas...), scan.DiskLocn{}), h.MetadataAreas...)
	locs = append(locs, scan.DiskLocn{})
	for i, l := range locs {
		got[fmt.Sprintf("pv_header.disk_locn[%d].offset", i)] = fmt.Sprint(l.Offset)
		got[fmt.Sprintf("pv_header.disk_locn[%d].size", i)] = fmt.Sprint(l.Size)
	}
	for _, m := range pv.MDAs {
		if m.Header == nil {
			t.Errorf("mda%d: no header", m.Index)
			continue
		}
		p := fmt.Sprintf("mda_header_%d.", m.Index)
		got[p+"checksum"] = "0x" + strings.TrimLeft(strings.TrimPrefix(m.Header.Checksum.Stored, "0x"), "0")
		got[p+"version"] = fmt.Sprint(m.Header.Version)
		got[p+"start"] = fmt.Sprint(m.Header.Start)
		got[p+"size"] = fmt.Sprint(m.Header.Size)
		for i, s := range m.Header.Slots {
			q := fmt.Sprintf("%sraw_locn[%d].", p, i)
			got[q+"offset"] = fmt.Sprint(s.Offset)
			got[q+"size"] = fmt.Sprint(s.Size)
			got[q+"checksum"] = fmt.Sprintf("%#x", s.Checksum)
			got[q+"flags"] = fmt.Sprintf("%#x", s.Flags)
		}
	}
	checked := 0
	for k, g := range got {
		w, ok := want[k]
		if !ok {
			continue
		}
		checked++
		if g != w {
			t.Errorf("%s: %s = %q, pvck printed %q", pv.Path, k, g, w)
		}
	}
	if checked < 15 {
		t.Errorf("%s: only %d header fields compared with pvck; dump format changed?", pv.Path, checked)
	}
}
