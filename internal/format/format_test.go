package format

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/model"
)

func TestSize(t *testing.T) {
	for _, c := range []struct {
		n          int64
		size, full string
	}{
		{0, "0 B", "0 B"},
		{512, "512 B", "512 B"},
		{1023, "1023 B", "1023 B"},
		{1024, "1.00 KiB", "1.00 KiB"},
		{1044480, "1020.00 KiB", "1020.00 KiB"},
		{519680, "507.50 KiB", "507.50 KiB"},
		{14 << 20, "14.00 MiB", "14.00 MiB"},
		{36678656, "<34.98 MiB", "<34.98 MiB (36678656 bytes)"},
		{36683264, "34.98 MiB", "34.98 MiB (36683264 bytes)"}, // rounded down: no mark
		{12713984, "12.12 MiB", "12.12 MiB (12713984 bytes)"}, // 12.125: tie to even
		{35520512, "<33.88 MiB", "<33.88 MiB (35520512 bytes)"},
		{1 << 30, "1.00 GiB", "1.00 GiB"},
		{1<<40 - 1, "<1024.00 GiB", "<1024.00 GiB (1099511627775 bytes)"},
		{1 << 60, "1.00 EiB", "1.00 EiB"},
		{1<<63 - 1, "<8.00 EiB", "<8.00 EiB (9223372036854775807 bytes)"},
		{-2048, "-2.00 KiB", "-2.00 KiB"},
	} {
		if got := Size(c.n); got != c.size {
			t.Errorf("Size(%d) = %q, want %q", c.n, got, c.size)
		}
		if got := SizeExact(c.n); got != c.full {
			t.Errorf("SizeExact(%d) = %q, want %q", c.n, got, c.full)
		}
	}
}

func TestUnits(t *testing.T) {
	for _, c := range []struct {
		n      int64
		unit   byte
		suffix bool
		want   string
	}{
		{14 << 20, 'b', true, "14680064B"},
		{14 << 20, 'B', false, "14680064"},
		{14 << 20, 's', true, "28672S"},
		{14 << 20, 'S', false, "28672"},
		{14 << 20, 'k', true, "14336.00k"},
		{14 << 20, 'm', true, "14.00m"},
		{14 << 20, 'M', true, "14.68M"},
		{14 << 20, 'g', true, "0.01g"},
		{14 << 20, 'h', true, "14.00m"},
		{14 << 20, 'H', true, "14.68M"},
		{14 << 20, 'r', true, "14.00m"},
		{14 << 20, 'r', false, "14.00"},
		{35520512, 'h', true, "33.88m"},
		{35520512, 'r', true, "<33.88m"},
		{35520512, 'r', false, "<33.88"},
		{35520512, 'R', true, "35.52M"},
		{35520512, 'm', true, "33.88m"},
		{1044480, 'r', true, "1020.00k"},
		{519680, 'r', true, "507.50k"},
		{0, 'r', true, "0"},
		{0, 'b', true, "0"},
		{512, 'r', true, "512B"},
		{3 << 40, 't', true, "3.00t"},
		{1 << 50, 'p', true, "1.00p"},
		{1 << 60, 'e', true, "1.00e"},
		{2e12, 'T', true, "2.00T"},
	} {
		got, err := Units(c.n, c.unit, c.suffix)
		if err != nil || got != c.want {
			t.Errorf("Units(%d, %c, %v) = %q, %v; want %q", c.n, c.unit, c.suffix, got, err, c.want)
		}
	}
	for _, u := range []byte{'x', 'Z', 0, '1'} {
		if _, err := Units(1, u, true); !errors.Is(err, ErrUnit) {
			t.Errorf("Units(1, %q): err %v, want ErrUnit", u, err)
		}
	}
	if _, err := ParseUnit("mm"); !errors.Is(err, ErrUnit) {
		t.Errorf("ParseUnit(mm): %v", err)
	}
	if u, err := ParseUnit("g"); err != nil || u != 'g' {
		t.Errorf("ParseUnit(g) = %c, %v", u, err)
	}
}

func TestSmall(t *testing.T) {
	if got := Offset(0x601c00); got != "6298624 (0x601c00)" {
		t.Error(got)
	}
	if got := Offset(1<<64 - 1); got != "18446744073709551615 (0xffffffffffffffff)" {
		t.Error(got)
	}
	if got := Segment(0); got != "segment 1" {
		t.Error(got)
	}
	if got := Count(1, "LV", "LVs"); got != "1 LV" {
		t.Error(got)
	}
	if got := Count(0, "LV", "LVs"); got != "0 LVs" {
		t.Error(got)
	}
	for d, want := range map[time.Duration]string{
		12 * time.Second:                    "12s",
		3*time.Minute + 4*time.Second:       "3m04s",
		time.Hour + 2*time.Minute + 9999999: "1h02m",
		-time.Second:                        "0s",
		499 * time.Millisecond:              "0s",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
	if got := Time(0); got != "-" {
		t.Error(got)
	}
	if got := Time(1700000000); got != "2023-11-14 22:13:20Z" {
		t.Error(got)
	}
	for p, want := range map[float64]string{12.5: "12.50", 0: "0.00", 100: "100.00", 0.001: "0.01", 99.999: "99.99", 65.625: "65.62"} {
		if got := Percent(p); got != want {
			t.Errorf("Percent(%v) = %q, want %q", p, got, want)
		}
	}
	seg := func(typ string, stripes uint64) *model.Segment {
		base, _ := model.SplitType(typ)
		return &model.Segment{Type: typ, BaseType: base, StripeCount: stripes}
	}
	for _, c := range []struct {
		s    *model.Segment
		want string
	}{
		{seg("striped", 1), "linear"},
		{seg("striped", 3), "striped"},
		{seg("raid1", 2), "raid1"},
		{seg("cache+CACHE_USES_CACHEVOL", 1), "cache"},
		{seg("cache-pool+METADATA_FORMAT", 1), "cache-pool"},
		{&model.Segment{Type: "striped", StripeCount: 1}, "linear"},
		{nil, ""},
	} {
		if got := SegType(c.s); got != c.want {
			t.Errorf("SegType(%+v) = %q, want %q", c.s, got, c.want)
		}
	}
}

// TestFixtureReports checks Units(n, 'r', true), what lvs prints by
// default, against every size column of the pvs.txt, vgs.txt and lvs.txt
// real LVM printed, with the byte counts of the matching .json reports.
func TestFixtureReports(t *testing.T) {
	roots := []string{fixture.Root(), filepath.Join(fixture.Root(), "..", "..", "..", "shared", "fixtures")}
	cols := map[string]map[string]string{
		"pvs": {"DevSize": "dev_size", "PSize": "pv_size", "PFree": "pv_free", "Used": "pv_used", "1st PE": "pe_start",
			"PMdaSize": "pv_mda_size", "PMdaFree": "pv_mda_free", "BA Start": "pv_ba_start", "BA Size": "pv_ba_size"},
		"vgs": {"Ext": "vg_extent_size", "VSize": "vg_size", "VFree": "vg_free", "VMdaSize": "vg_mda_size", "VMdaFree": "vg_mda_free"},
		"lvs": {"LSize": "lv_size"},
	}
	checked := 0
	for _, root := range roots {
		dirs, _ := filepath.Glob(filepath.Join(root, "*"))
		for _, dir := range dirs {
			for _, kind := range []string{"pvs", "vgs", "lvs"} {
				for _, prefix := range []string{"", "guest-"} {
					txt, err1 := os.ReadFile(filepath.Join(dir, prefix+kind+".txt"))
					js, err2 := os.ReadFile(filepath.Join(dir, prefix+kind+".json"))
					if err1 != nil || err2 != nil {
						continue
					}
					checked += compareReport(t, dir+"/"+prefix+kind, string(txt), js, kind, cols[kind])
				}
			}
		}
	}
	if checked < 100 {
		t.Errorf("only %d sizes compared", checked)
	}
	t.Logf("%d sizes compared", checked)
}

// twoWord are the headers of LVM's tables that hold a space.
var twoWord = []string{"VG UUID", "PV UUID", "1st PE", "BA Start", "BA Size", "VG Tags", "PV Tags", "LV UUID", "LV Tags", "PE Ranges"}

func compareReport(t *testing.T, name, txt string, js []byte, kind string, cols map[string]string) int {
	var rep struct {
		Report []map[string][]map[string]string `json:"report"`
	}
	if err := json.Unmarshal(js, &rep); err != nil || len(rep.Report) == 0 {
		t.Errorf("%s: %v", name, err)
		return 0
	}
	var rows []map[string]string
	for _, r := range rep.Report[0] { // "pv", "vg", or "seg" (lvs --segments)
		rows = r
	}
	lines := strings.Split(strings.TrimRight(txt, "\n"), "\n")
	if len(lines) != len(rows)+1 {
		t.Errorf("%s: %d text rows, %d json rows", name, len(lines)-1, len(rows))
		return 0
	}
	head := lines[0]
	for _, w := range twoWord {
		head = strings.ReplaceAll(head, w, strings.ReplaceAll(w, " ", "_"))
	}
	hdr := strings.Fields(head)
	n := 0
	for i, line := range lines[1:] {
		f := strings.Fields(line)
		for j, h := range hdr {
			key, ok := cols[strings.ReplaceAll(h, "_", " ")]
			if !ok {
				continue
			}
			if kind == "lvs" && j != 3 || j >= len(f) {
				continue // only LSize sits before any empty column of lvs
			}
			b, err := strconv.ParseInt(rows[i][key], 10, 64)
			if err != nil {
				t.Errorf("%s row %d %s: %q", name, i, key, rows[i][key])
				continue
			}
			got, _ := Units(b, 'r', true)
			if got != f[j] {
				t.Errorf("%s row %d %s: Units(%d) = %q, LVM printed %q", name, i, h, b, got, f[j])
			}
			n++
		}
	}
	return n
}
