package export

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lvminspect/lvminspect/model"
)

func TestWriteProvenance(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "lv.img")
	loc := time.FixedZone("X", 3600)
	res := &Result{Size: 1 << 20, SHA256: "ab", BytesRead: map[string]int64{"pv-a": 100},
		Start: time.Date(2024, 1, 2, 3, 4, 5, 0, loc), End: time.Date(2024, 1, 2, 3, 5, 5, 0, loc)}
	p := &Provenance{Tool: "lvminspect", ToolVersion: "test", VG: NameUUID{"vg", "vg-uuid"}, LV: NameUUID{"lv", "lv-uuid"}, Seqno: 7,
		ExtentMap: ExtentMapFromPieces([]model.Piece{{LVOffset: 0, Length: 1 << 20, PVUUID: "pv-a", PVOffset: 1 << 20}}, map[string]string{"pv-a": "/dev/x"})}
	p.FillResult(res)
	path := ProvenancePath(img)
	if path != img+".json" || ProvenancePath("-") != "" {
		t.Fatalf("ProvenancePath %q", path)
	}
	if err := WriteProvenance(path, p); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"inputs", "vg", "lv", "seqno", "extent_map", "bytes_read", "checksums", "tool_version", "start_time", "end_time", "size", "sha256", "missing_ranges", "reused_extents"} {
		if _, ok := m[k]; !ok {
			t.Errorf("key %q missing", k)
		}
	}
	if _, ok := m["md5"]; ok {
		t.Error("empty md5 written")
	}
	if s, _ := m["missing_ranges"].([]any); s == nil {
		t.Errorf("missing_ranges is %v, want []", m["missing_ranges"])
	}
	if s, _ := m["reused_extents"].([]any); s == nil {
		t.Errorf("reused_extents is %v, want []", m["reused_extents"])
	}
	if m["start_time"] != "2024-01-02T02:04:05Z" {
		t.Errorf("start_time %v, want UTC RFC 3339", m["start_time"])
	}
	em := m["extent_map"].([]any)[0].(map[string]any)
	if em["pv_path"] != "/dev/x" || em["pv_uuid"] != "pv-a" || em["pv_offset"] != float64(1<<20) {
		t.Errorf("extent map %v", em)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), "tmp") {
			t.Errorf("temporary %s left", e.Name())
		}
	}

	// Missing ranges and md5.
	res.MD5 = "cd"
	res.Missing = []Range{{Off: 4096, Len: 512, Source: "pv-b", Reason: "PV pv-b is not available"}}
	p.FillResult(res)
	if err := WriteProvenance(path, p); err != nil {
		t.Fatal(err)
	}
	var q struct {
		MD5           string         `json:"md5"`
		MissingRanges []MissingRange `json:"missing_ranges"`
	}
	b, _ = os.ReadFile(path)
	if err := json.Unmarshal(b, &q); err != nil {
		t.Fatal(err)
	}
	if q.MD5 != "cd" || len(q.MissingRanges) != 1 || q.MissingRanges[0].Start != 4096 || q.MissingRanges[0].Length != 512 || !strings.Contains(q.MissingRanges[0].Reason, "pv-b") {
		t.Errorf("rewritten record %+v", q)
	}
}
