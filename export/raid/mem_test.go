package raid

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"

	"github.com/lvminspect/lvminspect/export"
)

// memSrc is an in-memory sub-LV; gaps lists ranges reported as missing
// (or as zeros when zero is set on the gap).
type memSrc struct {
	name string
	data []byte
	gaps []export.Run // sorted, Kind RunMissing or RunZero
}

func (m *memSrc) Size() int64 { return int64(len(m.data)) }

func (m *memSrc) Runs(off, n int64) ([]export.Run, error) {
	if off < 0 || n < 0 || off+n > m.Size() {
		return nil, fmt.Errorf("memSrc %s: [%d, %d) outside %d", m.name, off, off+n, m.Size())
	}
	var out []export.Run
	pos, end := off, off+n
	for _, g := range m.gaps {
		if g.End() <= pos || g.Off >= end {
			continue
		}
		if g.Off > pos {
			out = export.AppendRun(out, export.Run{Off: pos, Len: g.Off - pos, Kind: export.RunData, Source: m.name})
			pos = g.Off
		}
		e := min(end, g.End())
		out = export.AppendRun(out, export.Run{Off: pos, Len: e - pos, Kind: g.Kind, Source: m.name, Reason: m.name + " gap"})
		pos = e
	}
	if pos < end {
		out = export.AppendRun(out, export.Run{Off: pos, Len: end - pos, Kind: export.RunData, Source: m.name})
	}
	return out, nil
}

func (m *memSrc) ReadAt(p []byte, off int64) (int, error) {
	for _, g := range m.gaps {
		if g.Kind == export.RunMissing && off < g.End() && off+int64(len(p)) > g.Off {
			return 0, fmt.Errorf("memSrc %s: read [%d, %d) touches missing [%d, %d)", m.name, off, off+int64(len(p)), g.Off, g.End())
		}
	}
	if off >= m.Size() {
		return 0, io.EOF
	}
	n := copy(p, m.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// lose marks [off, off+n) of the image missing (n < 0: to the end).
func (m *memSrc) lose(off, n int64) {
	if n < 0 {
		n = m.Size() - off
	}
	m.gaps = append(m.gaps, export.Run{Off: off, Len: n, Kind: export.RunMissing})
}

// encodeParity lays data out as the layout does, with P and Q, over n
// images of imgLen bytes after base bytes of padding.
func encodeParity(l *parityLayout, cb int64, data []byte, imgLen, base int64) [][]byte {
	imgs := make([][]byte, l.n)
	for i := range imgs {
		imgs[i] = make([]byte, base+imgLen)
		for k := int64(0); k < base; k++ {
			imgs[i][k] = 0xEE
		}
	}
	d := int64(l.d)
	for s := int64(0); (s+1)*cb <= imgLen; s++ {
		P, Q := l.parity(s)
		row := base + s*cb
		pb := imgs[P][row : row+cb]
		for j := int64(0); j < d; j++ {
			img := l.dataImage(int(j), P)
			lo := (s*d + j) * cb
			if lo >= int64(len(data)) {
				continue
			}
			chunk := data[lo:min(int64(len(data)), lo+cb)]
			copy(imgs[img][row:], chunk)
			xorInto(pb[:len(chunk)], chunk)
			if Q >= 0 {
				mulXorInto(imgs[Q][row:row+int64(len(chunk))], chunk, gfPow(l.coef(img, P, Q)))
			}
		}
	}
	return imgs
}

func randBytes(r *rand.Rand, n int64) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// firstDiff describes where a and b differ.
func firstDiff(a, b []byte) string {
	for i := range a {
		if a[i] != b[i] {
			return fmt.Sprintf("first difference at byte %d", i)
		}
	}
	return "equal"
}

func memImages(raw [][]byte, base int64) ([]*memSrc, []*image) {
	ms := make([]*memSrc, len(raw))
	imgs := make([]*image, len(raw))
	for i, b := range raw {
		ms[i] = &memSrc{name: fmt.Sprintf("img%d", i), data: b}
		imgs[i] = &image{name: ms[i].name, src: ms[i], base: base}
	}
	return ms, imgs
}

var _ = bytes.Equal
