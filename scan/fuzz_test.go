package scan_test

import (
	"bytes"
	"strings"
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
			var at int64 // a PV inside a partition: seed from there
			for _, pv := range fx.Manifest.PVs {
				if pv.Image == strings.TrimSuffix(im, ".img.gz") && pv.OffsetBytes > at {
					at = pv.OffsetBytes
				}
			}
			b := fx.ImageHead(f, im, at+int64(n))
			if at > 0 && int64(len(b)) > at {
				out = append(out, b[at:])
			}
			out = append(out, b[:min(n, len(b))])
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

// FuzzMDA feeds arbitrary metadata areas to the metadata-area decoder:
// the header, both raw_locn slots and the (possibly wrapped) text they
// point to. Seeds are the first 16 KiB of every fixture's first area.
func FuzzMDA(f *testing.F) {
	for _, b := range fixtureHeads(f, 20<<10) {
		if len(b) >= 8192 {
			f.Add(b[4096:])
		}
	}
	f.Fuzz(func(t *testing.T, area []byte) {
		r := bytes.NewReader(area)
		size := int64(len(area))
		loc := scan.DiskLocn{Offset: 0, Size: uint64(len(area))}
		h, probs, err := scan.ReadMDAHeader(r, size, 4096, loc)
		for _, p := range probs {
			_ = p.String()
		}
		if err != nil {
			return
		}
		for slot := range h.Slots {
			c, err := scan.ReadText(r, size, 4096, 0, h, slot)
			if err == nil && (c == nil || uint64(len(c.Text)) > c.Size) {
				t.Fatalf("slot %d: inconsistent copy %+v", slot, c)
			}
			if c != nil {
				_ = c.TextProblems()
			}
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
