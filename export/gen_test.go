package export

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"sort"
)

// patchSource is an LV of zeros with a few patches of data, generated on
// the fly (so large sizes cost no memory). With zeroRuns it describes the
// gaps between patches as RunZero (as a thin LV or sparse input would);
// otherwise everything is RunData that happens to read as zeros.
type patchSource struct {
	size     int64
	patches  []patch // sorted by off, non-overlapping
	zeroRuns bool
}

type patch struct {
	off  int64
	data []byte
}

func (s *patchSource) Size() int64 { return s.size }

func (s *patchSource) Runs(off, n int64) ([]Run, error) {
	if !s.zeroRuns {
		return []Run{{Off: off, Len: n, Kind: RunData, Source: "gen"}}, nil
	}
	var out []Run
	pos, end := off, off+n
	for _, p := range s.patches {
		pe := p.off + int64(len(p.data))
		if pe <= pos || p.off >= end {
			continue
		}
		if p.off > pos {
			out = append(out, Run{Off: pos, Len: p.off - pos, Kind: RunZero})
			pos = p.off
		}
		e := min(end, pe)
		out = append(out, Run{Off: pos, Len: e - pos, Kind: RunData, Source: "gen"})
		pos = e
	}
	if pos < end {
		out = append(out, Run{Off: pos, Len: end - pos, Kind: RunZero})
	}
	return out, nil
}

func (s *patchSource) ReadAt(b []byte, off int64) (int, error) {
	clear(b)
	end := off + int64(len(b))
	for _, p := range s.patches {
		pe := p.off + int64(len(p.data))
		if pe <= off || p.off >= end {
			continue
		}
		lo, hi := max(off, p.off), min(end, pe)
		copy(b[lo-off:hi-off], p.data[lo-p.off:hi-p.off])
	}
	if end > s.size {
		return int(max(0, s.size-off)), io.EOF
	}
	return len(b), nil
}

// sum hashes the source's content without reading it.
func (s *patchSource) sum() string {
	h := sha256.New()
	sort.Slice(s.patches, func(i, j int) bool { return s.patches[i].off < s.patches[j].off })
	pos := int64(0)
	for _, p := range s.patches {
		hashZeros(h, p.off-pos)
		h.Write(p.data)
		pos = p.off + int64(len(p.data))
	}
	hashZeros(h, s.size-pos)
	return hex.EncodeToString(h.Sum(nil))
}

func hashZeros(h hash.Hash, n int64) {
	z := make([]byte, 1<<20)
	for n > 0 {
		k := min(n, int64(len(z)))
		h.Write(z[:k])
		n -= k
	}
}

// genSource is a dense LV of random-looking bytes: a 1 MiB pattern
// repeated, generated once (so large sizes cost no memory).
type genSource struct{ size int64 }

var pattern = randomData(1<<20, 99)

func (g genSource) Size() int64 { return g.size }

func (g genSource) Runs(off, n int64) ([]Run, error) {
	return []Run{{Off: off, Len: n, Kind: RunData, Source: "gen"}}, nil
}

func (g genSource) ReadAt(b []byte, off int64) (int, error) {
	for i := 0; i < len(b); {
		i += copy(b[i:], pattern[(off+int64(i))%int64(len(pattern)):])
	}
	return len(b), nil
}
