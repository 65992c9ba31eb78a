package raid

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/lvminspect/lvminspect/export"
)

// fuzzMember is a member that fails the test when it is asked about
// bytes outside [lo, size): in front of its data area or past its end.
type fuzzMember struct {
	memSrc
	lo int64
	t  *testing.T
}

func (m *fuzzMember) Runs(off, n int64) ([]export.Run, error) {
	if off < m.lo || n < 0 || off+n > m.Size() {
		m.t.Errorf("%s: Runs(%d, %d) outside [%d, %d)", m.name, off, n, m.lo, m.Size())
	}
	return m.memSrc.Runs(off, n)
}

func (m *fuzzMember) ReadAt(p []byte, off int64) (int, error) {
	if off < m.lo || off+int64(len(p)) > m.Size() {
		m.t.Errorf("%s: ReadAt(%d bytes at %d) outside [%d, %d)", m.name, len(p), off, m.lo, m.Size())
	}
	return m.memSrc.ReadAt(p, off)
}

// fuzzBytes hands out the fuzz input a byte at a time, then zeros.
type fuzzBytes []byte

func (b *fuzzBytes) next() int64 {
	if len(*b) == 0 {
		return 0
	}
	v := (*b)[0]
	*b = (*b)[1:]
	return int64(v)
}

// fuzzArray derives a small array from the input.
func fuzzArray(t *testing.T, in []byte) MDArray {
	b := fuzzBytes(in)
	levels := []int32{-1, 0, 1, 4, 5, 6, 10, 2}
	a := MDArray{Name: "fz", Level: levels[b.next()%int64(len(levels))], ResyncFrom: math.MaxInt64}
	switch a.Level {
	case 4:
		a.Layout = uint32(b.next() % 7)
	case 5:
		a.Layout = uint32(b.next() % 8)
	case 6:
		a.Layout = uint32(b.next() % 23)
	case 10:
		a.Layout = uint32(b.next()%4) | uint32(b.next()%4)<<8 | uint32(b.next()%2)<<16 | uint32(b.next()%4)<<17
		if b.next()%16 == 0 {
			a.Layout |= 1 << 20
		}
	}
	n := 1 + int(b.next()%8)
	a.ChunkBytes = 4096 << (b.next() % 3)
	switch b.next() % 16 {
	case 0:
		a.ChunkBytes = 3 * 4096
	case 1:
		a.ChunkBytes = 0
	case 2:
		a.ChunkBytes = 1000
	}
	unit := max(a.ChunkBytes, 4096)
	a.Size = unit*(b.next()%12) + b.next()%4*512
	a.Raid0Layout = int(b.next() % 4)
	if b.next()%4 == 0 {
		a.ResyncFrom = b.next() * 1024
	}
	a.Roles = make([]MDMember, n)
	for r := range a.Roles {
		mb := &a.Roles[r]
		mb.Name = fmt.Sprintf("m%d", r)
		mb.DataOffset = b.next() % 3 * 512
		mb.DataSize = unit*(b.next()%6) + b.next()%3*1024
		flags := b.next()
		if flags%5 == 0 {
			if flags%2 == 0 {
				mb.DataSize = 0
			}
			continue // missing
		}
		need := max(a.Size, mb.DataSize)
		l := mb.DataOffset + need + (b.next()%5-2)*1024
		if l < mb.DataOffset {
			l = mb.DataOffset
		}
		data := make([]byte, l)
		for i := range data {
			data[i] = byte(i*31 + r)
		}
		src := &fuzzMember{memSrc: memSrc{name: mb.Name, data: data}, lo: mb.DataOffset, t: t}
		if flags%7 == 1 && l > mb.DataOffset {
			g := mb.DataOffset + b.next()*97%(l-mb.DataOffset)
			src.gaps = []export.Run{{Off: g, Len: min(l-g, 1+b.next()*64), Kind: export.RunMissing}}
		}
		if flags%3 == 1 {
			from := b.next() * 256
			to := from + b.next()*128
			if flags%2 == 0 {
				to = math.MaxInt64
			}
			mb.Bad = []MDBadRange{{From: from, To: to, Why: "fuzz"}}
		}
		mb.Src = src
	}
	return a
}

func FuzzOpenMD(f *testing.F) {
	f.Add([]byte{4, 2, 2, 1, 8, 0, 0, 0, 0, 0, 1, 1, 1, 2, 0, 1, 1, 1, 2})             // raid5
	f.Add([]byte{5, 2, 3, 1, 6, 0, 0, 0, 0, 0, 1, 1, 0, 2, 0, 1, 0, 2, 0, 0, 3, 0, 1}) // raid6
	f.Add([]byte{6, 1, 2, 0, 0, 3, 1, 9, 0, 0, 0, 0, 0, 1, 1, 1, 2, 0, 1, 1, 1, 2})    // raid10 far
	f.Add([]byte{6, 1, 3, 1, 0, 4, 1, 9, 0, 0, 0, 0, 0, 1, 1, 1, 2, 0, 1, 5, 1, 2})    // raid10 offset
	f.Add([]byte{1, 3, 0, 4, 0, 1, 0, 0, 0, 3, 1, 1, 0, 0, 5, 0, 2, 0, 1, 2, 1, 3})    // raid0 zones
	f.Add([]byte{0, 2, 1, 4, 0, 0, 0, 0, 0, 2, 1, 1, 0, 1, 5, 2, 2})                   // linear
	f.Add([]byte{2, 2, 0, 7, 0, 0, 1, 9, 0, 1, 1, 3, 1, 1, 2, 2, 5})                   // raid1
	f.Fuzz(func(t *testing.T, in []byte) {
		a := fuzzArray(t, in)
		src, err := OpenMD(a)
		if err != nil {
			var me *MDError
			var le *MDLayoutError
			if !errors.As(err, &me) && !errors.As(err, &le) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		size := src.Size()
		if size < 0 || size > 64<<20 {
			t.Fatalf("array size %d", size)
		}
		if _, err := src.Runs(-1, 1); err == nil {
			t.Error("Runs(-1, 1) accepted")
		}
		if _, err := src.Runs(size, 1); err == nil {
			t.Error("Runs past the end accepted")
		}
		if _, err := src.ReadAt(make([]byte, 1), size+1); err == nil {
			t.Error("ReadAt past the end accepted")
		}
		runs, err := src.Runs(0, size)
		if err != nil {
			t.Fatal(err)
		}
		pos := int64(0)
		for _, r := range runs {
			if r.Off != pos || r.Len <= 0 {
				t.Fatalf("run %+v does not continue at %d", r, pos)
			}
			pos = r.End()
			buf := make([]byte, min(r.Len, 1<<20))
			m, err := src.ReadAt(buf, r.Off)
			switch r.Kind {
			case export.RunData:
				if m != len(buf) {
					t.Fatalf("ReadAt of data [%d, %d): %d, %v", r.Off, r.Off+int64(len(buf)), m, err)
				}
			case export.RunMissing:
				if err == nil || r.Reason == "" {
					t.Fatalf("missing run %+v: ReadAt %d, %v", r, m, err)
				}
			}
		}
		if pos != size {
			t.Fatalf("runs end at %d of %d", pos, size)
		}
		// Short ranges across the array agree with the whole.
		for off := int64(0); off < size; off += max(1, size/7) {
			l := min(size-off, 5000)
			rs, err := src.Runs(off, l)
			if err != nil {
				t.Fatal(err)
			}
			p := off
			for _, r := range rs {
				if r.Off != p || r.Len <= 0 {
					t.Fatalf("Runs(%d, %d): run %+v does not continue at %d", off, l, r, p)
				}
				p = r.End()
			}
			if p != off+l {
				t.Fatalf("Runs(%d, %d) end at %d", off, l, p)
			}
		}
		if _, err := src.Redundant(0, size); err != nil {
			t.Fatal(err)
		}
		_ = src.Notes()
	})
}
