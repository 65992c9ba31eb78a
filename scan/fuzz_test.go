package scan_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/scan"
)

// fixtureHeads returns the first n bytes of every fixture image.
func fixtureHeads(f *testing.F, n int) [][]byte {
	var out [][]byte
	for _, name := range fixture.Names() {
		fx := fixture.Load(f, name)
		files := fx.ImageNames(false)
		for _, v := range fx.Manifest.Variants {
			files = append(files, v.File)
		}
		for _, im := range files {
			b := fx.Image(f, im)
			for _, pv := range fx.Manifest.PVs {
				if pv.Image == im && pv.OffsetBytes > 0 && pv.OffsetBytes+int64(n) <= int64(len(b)) {
					out = append(out, append([]byte(nil), b[pv.OffsetBytes:pv.OffsetBytes+int64(n)]...))
				}
			}
			out = append(out, append([]byte(nil), b[:min(n, len(b))]...))
		}
	}
	return out
}

// FuzzReadLabel feeds arbitrary label sectors to the label and PV header
// decoder: it must not panic, and what it returns must be consistent.
func FuzzReadLabel(f *testing.F) {
	for _, b := range fixtureHeads(f, 2048) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		lb, probs, err := scan.ReadLabel(bytes.NewReader(b), int64(len(b)), 4096)
		if err == nil && (lb == nil || lb.Header == nil) {
			t.Fatalf("no error but no label/header")
		}
		if lb != nil {
			for _, fl := range lb.Struct.Fields {
				if fl.Off < 4096 || fl.Off+int64(fl.Len) > 4096+int64(len(b)) {
					t.Fatalf("field %s outside the input: %d+%d", fl.Name, fl.Off, fl.Len)
				}
			}
		}
		for _, p := range probs {
			_ = p.String()
		}
	})
}

// FuzzMDA feeds arbitrary PV images (label + metadata area) to the full
// PV probe: headers, slots, wrapped text, parsing. The input's first 4 KiB
// hold a valid label pointing at a metadata area in the fuzzed bytes.
func FuzzMDA(f *testing.F) {
	for _, b := range fixtureHeads(f, 64<<10) {
		if len(b) >= 8192 {
			f.Add(b[4096:])
		}
	}
	f.Add(make([]byte, 1024))
	label := fixture.Load(f, "banana").Image(f, "pv0")[:4096]
	f.Fuzz(func(t *testing.T, area []byte) {
		if len(area) > 1<<20 {
			return
		}
		img := append(append([]byte(nil), label...), area...)
		// Point the single metadata area at the fuzzed bytes, whatever
		// their length, and fix the label CRC so the label is valid.
		sec := img[512:1024]
		binary.LittleEndian.PutUint64(sec[32+32+8+32+8:], uint64(len(area)))
		binary.LittleEndian.PutUint32(sec[16:], scan.CRC(scan.InitialCRC, sec[20:]))
		res := scan.Scan([]*scan.Input{scan.NewInput("fuzz", bytes.NewReader(img), int64(len(img)))}, scan.Options{NoPartitions: true})
		for _, p := range res.AllProblems() {
			_ = p.String()
		}
	})
}

// FuzzScanRing walks arbitrary bytes as a metadata area's ring buffer.
func FuzzScanRing(f *testing.F) {
	for _, b := range fixtureHeads(f, 64<<10) {
		if len(b) >= 8192 {
			f.Add(b[4096:])
		}
	}
	f.Fuzz(func(t *testing.T, area []byte) {
		copies, _ := scan.ScanRing(bytes.NewReader(area), int64(len(area)), 0, 0, uint64(len(area)))
		for _, c := range copies {
			if c.Size == 0 || c.RelOff < 512 || c.RelOff >= uint64(len(area)) {
				t.Fatalf("copy outside the area: %+v", c.RelOff)
			}
		}
	})
}
