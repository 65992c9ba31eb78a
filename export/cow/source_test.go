package cow

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/lvminspect/lvminspect/export"
)

// memSource is bytes with a list of runs (kind per 512-byte sector).
type memSource struct {
	name  string
	b     []byte
	kinds []export.RunKind // per sector
}

func (m *memSource) Size() int64 { return int64(len(m.b)) }

func (m *memSource) Runs(off, n int64) ([]export.Run, error) {
	if off < 0 || n < 0 || off+n > m.Size() {
		return nil, fmt.Errorf("range")
	}
	var out []export.Run
	for p := off; p < off+n; {
		k := m.kinds[p/512]
		e := min(off+n, (p/512+1)*512)
		if l := len(out); l > 0 && out[l-1].Kind == k {
			out[l-1].Len += e - p
		} else {
			out = append(out, export.Run{Off: p, Len: e - p, Kind: k, Source: m.name, Reason: "r"})
		}
		p = e
	}
	return out, nil
}

func (m *memSource) ReadAt(p []byte, off int64) (int, error) {
	if off >= m.Size() {
		return 0, io.EOF
	}
	for i := off; i < off+int64(len(p)) && i < m.Size(); i++ {
		if m.kinds[i/512] == export.RunMissing {
			return int(i - off), fmt.Errorf("missing at %d", i)
		}
	}
	n := copy(p, m.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func newMem(name string, sectors int, fill byte, kinds map[int]export.RunKind) *memSource {
	m := &memSource{name: name, b: bytes.Repeat([]byte{fill}, sectors*512), kinds: make([]export.RunKind, sectors)}
	for s, k := range kinds {
		m.kinds[s] = k
		if k == export.RunZero {
			clear(m.b[s*512 : (s+1)*512])
		}
	}
	return m
}

// TestOverlay reads an overlay through Runs and ReadAt at every sector
// alignment and compares with the expected bytes.
func TestOverlay(t *testing.T) {
	base := newMem("base", 16, 'B', map[int]export.RunKind{5: export.RunZero, 12: export.RunMissing})
	top := newMem("top", 8, 'T', map[int]export.RunKind{1: export.RunMissing})
	ext := []Extent{{Off: 512, Len: 512, SrcOff: 0}, {Off: 1024, Len: 1024, SrcOff: 512}, {Off: 4096, Len: 1536, SrcOff: 2048}, {Off: 7680, Len: 512, SrcOff: 3584}}
	o, err := NewOverlay(base, top, ext)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Extents()) != 3 {
		t.Errorf("extents not merged: %v", o.Extents())
	}
	o.SetTopNote("note")
	want := bytes.Repeat([]byte{'B'}, 16*512)
	kind := make([]export.RunKind, 16)
	kind[12] = export.RunMissing
	clear(want[5*512 : 6*512])
	kind[5] = export.RunZero
	for _, e := range ext {
		for s := e.Off / 512; s < e.End()/512; s++ {
			ts := (e.SrcOff + (s*512 - e.Off)) / 512
			copy(want[s*512:(s+1)*512], top.b[ts*512:(ts+1)*512])
			kind[s] = top.kinds[ts]
		}
	}
	for off := int64(0); off < 16*512; off += 256 {
		for n := int64(1); off+n <= 16*512; n += 511 {
			runs, err := o.Runs(off, n)
			if err != nil {
				t.Fatal(err)
			}
			pos := off
			for i, r := range runs {
				if r.Off != pos || r.Len <= 0 {
					t.Fatalf("Runs(%d, %d): run %d %+v", off, n, i, r)
				}
				if i > 0 && runs[i-1].Kind == r.Kind && runs[i-1].Source == r.Source && runs[i-1].Reason == r.Reason {
					t.Fatalf("Runs(%d, %d): runs %d and %d not merged", off, n, i-1, i)
				}
				for p := r.Off; p < r.End(); p += 512 - p%512 {
					if kind[p/512] != r.Kind {
						t.Fatalf("Runs(%d, %d): byte %d is %v, want %v", off, n, p, r.Kind, kind[p/512])
					}
				}
				if r.Kind == export.RunMissing && r.Source == "top" && r.Reason != "note: r" {
					t.Errorf("top missing run reason %q", r.Reason)
				}
				if r.Kind == export.RunData {
					b := make([]byte, r.Len)
					if m, err := o.ReadAt(b, r.Off); m != len(b) {
						t.Fatalf("ReadAt(%d, %d): %d %v", r.Off, r.Len, m, err)
					}
					if !bytes.Equal(b, want[r.Off:r.End()]) {
						t.Fatalf("ReadAt(%d, %d) differs", r.Off, r.Len)
					}
				}
				pos = r.End()
			}
			if pos != off+n {
				t.Fatalf("Runs(%d, %d) end at %d", off, n, pos)
			}
		}
	}
	if _, err := o.Runs(-1, 2); err == nil {
		t.Errorf("negative offset accepted")
	}
	if m, err := o.ReadAt(make([]byte, 10), 16*512-4); m != 4 || err != io.EOF {
		t.Errorf("read past the end: %d %v", m, err)
	}
}

func TestNewOverlayRejects(t *testing.T) {
	base, top := Zero(4096), Zero(1024)
	for _, ext := range [][]Extent{
		{{Off: 0, Len: 0}},
		{{Off: 4000, Len: 512}},
		{{Off: 0, Len: 512, SrcOff: 1000}},
		{{Off: 512, Len: 512}, {Off: 0, Len: 512}},
		{{Off: 0, Len: 1024}, {Off: 512, Len: 512}},
		{{Off: -512, Len: 512}},
	} {
		if _, err := NewOverlay(base, top, ext); err == nil {
			t.Errorf("extents %v accepted", ext)
		}
	}
}

func TestWindowAndZero(t *testing.T) {
	m := newMem("m", 8, 'x', map[int]export.RunKind{2: export.RunZero})
	w, err := NewWindow(m, 512, 2048)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := w.Runs(0, 2048)
	if err != nil || len(runs) != 3 || runs[1].Off != 512 || runs[1].Kind != export.RunZero {
		t.Errorf("window runs %v %v", runs, err)
	}
	if _, err := NewWindow(m, 4000, 512); err == nil {
		t.Errorf("window beyond the end accepted")
	}
	b := []byte{1, 2, 3}
	if n, err := Zero(2).ReadAt(b, 0); n != 2 || err != io.EOF || b[0] != 0 || b[2] != 3 {
		t.Errorf("zero read %d %v %v", n, err, b)
	}
	r := SourceReader(m)
	if _, err := r.ReadAt(make([]byte, 100), 1024); err != nil {
		t.Errorf("SourceReader over a zero run: %v", err)
	}
	m.kinds[3] = export.RunMissing
	if _, err := r.ReadAt(make([]byte, 1024), 1024); err == nil {
		t.Errorf("SourceReader over a missing run succeeded")
	}
}
