package blockdev

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/lvminspect/lvminspect/scan/device"
)

// layout is a virtual disk of blocks of bs bytes, each of one kind; the
// InFile blocks are stored in the file in reverse order.
type layout struct {
	bs    int64
	kinds []PieceKind
}

func (l layout) size() int64 { return l.bs * int64(len(l.kinds)) }

func (l layout) pieces(off, n int64, fn func(Piece) error) error {
	for n > 0 {
		b := off / l.bs
		in := off % l.bs
		k := min(l.bs-in, n)
		p := Piece{Off: off, N: k, Kind: l.kinds[b]}
		switch p.Kind {
		case InFile:
			p.FileOff = (int64(len(l.kinds))-1-b)*l.bs + in
		case Bad:
			p.Why = "bad block"
		}
		if err := fn(p); err != nil {
			return err
		}
		off += k
		n -= k
	}
	return nil
}

// file is the container file of l: block b of the disk, if InFile,
// holds bytes of value 'a'+b.
func (l layout) file() []byte {
	f := make([]byte, l.size())
	for b, k := range l.kinds {
		if k == InFile {
			at := (int64(len(l.kinds)) - 1 - int64(b)) * l.bs
			for i := range l.bs {
				f[at+i] = byte('a' + b)
			}
		}
	}
	return f
}

// want is what reading l gives: parent bytes are 'P'.
func (l layout) want() []byte {
	w := make([]byte, l.size())
	for b, k := range l.kinds {
		c := byte(0)
		switch k {
		case InFile:
			c = byte('a' + b)
		case InParent:
			c = 'P'
		}
		for i := range l.bs {
			w[int64(b)*l.bs+i] = c
		}
	}
	return w
}

func parentP(q []byte, off int64) error {
	for i := range q {
		q[i] = 'P'
	}
	return nil
}

func TestReadPieces(t *testing.T) {
	l := layout{bs: 8, kinds: []PieceKind{InFile, Zero, InFile, InParent, InFile, InFile, Zero, InParent}}
	r := bytes.NewReader(l.file())
	want := l.want()
	for off := int64(0); off < l.size(); off++ {
		for n := int64(0); off+n <= l.size(); n++ {
			p := bytes.Repeat([]byte{0xee}, int(n))
			got, err := ReadPieces(p, off, "disk", r, l.pieces, parentP)
			if err != nil || got != int(n) || !bytes.Equal(p, want[off:off+n]) {
				t.Fatalf("ReadPieces(%d, %d) = %d, %v: %q", off, n, got, err, p)
			}
		}
	}
}

func TestReadPiecesNoParent(t *testing.T) {
	l := layout{bs: 4, kinds: []PieceKind{InParent, InFile}}
	p := bytes.Repeat([]byte{0xee}, 8)
	n, err := ReadPieces(p, 0, "disk", bytes.NewReader(l.file()), l.pieces, nil)
	if err != nil || n != 8 || !bytes.Equal(p, []byte{0, 0, 0, 0, 'b', 'b', 'b', 'b'}) {
		t.Fatalf("%d, %v: %q", n, err, p)
	}
}

func TestReadPiecesBad(t *testing.T) {
	l := layout{bs: 4, kinds: []PieceKind{InFile, Zero, Bad, InFile}}
	p := make([]byte, 14)
	n, err := ReadPieces(p, 2, "disk", bytes.NewReader(l.file()), l.pieces, nil)
	var ue *device.UnreadableError
	if n != 6 || !errors.As(err, &ue) || ue.Device != "disk" || ue.Off != 8 || ue.Len != 4 || ue.Why != "bad block" {
		t.Fatalf("%d, %v", n, err)
	}
}

func TestReadPiecesShortFile(t *testing.T) {
	// The file ends inside the second InFile block.
	l := layout{bs: 4, kinds: []PieceKind{InFile, InFile}}
	f := l.file()[:6] // holds block 1 whole, block 0 in part
	p := make([]byte, 8)
	n, err := ReadPieces(p, 0, "disk", bytes.NewReader(f), l.pieces, nil)
	var ue *device.UnreadableError
	if n != 0 || !errors.As(err, &ue) || ue.Off != 0 || ue.Len != 4 || ue.Why != "reading byte 4 of the file: unexpected EOF" {
		t.Fatalf("%d, %v", n, err)
	}
}

func TestReadPiecesParentError(t *testing.T) {
	l := layout{bs: 4, kinds: []PieceKind{Zero, InParent}}
	bad := errors.New("parent broken")
	n, err := ReadPieces(make([]byte, 8), 0, "disk", bytes.NewReader(nil), l.pieces, func([]byte, int64) error { return bad })
	if n != 4 || err != bad {
		t.Fatalf("%d, %v", n, err)
	}
}

// mapped is a parent device that knows its map.
type mapped struct {
	size int64
	es   []device.Extent
}

func (m mapped) Size() int64                             { return m.size }
func (m mapped) ReadAt(p []byte, off int64) (int, error) { return 0, io.EOF }
func (m mapped) Map(off, n int64) ([]device.Extent, error) {
	var out []device.Extent
	for _, e := range m.es {
		s, t := max(e.Off, off), min(e.Off+e.Len, off+n)
		if s < t {
			out = append(out, device.Extent{Off: s, Len: t - s, Kind: e.Kind, Why: e.Why})
		}
	}
	return out, nil
}

func TestMapPieces(t *testing.T) {
	l := layout{bs: 4, kinds: []PieceKind{InFile, InFile, Zero, Zero, Bad, Bad, InParent, InParent, InFile}}
	ext := func(off, n int64, k device.Kind, why string) device.Extent {
		return device.Extent{Off: off, Len: n, Kind: k, Why: why}
	}
	for _, tc := range []struct {
		name     string
		off, n   int64
		parent   device.Device
		want     []device.Extent
		wantNone bool
	}{
		{"no parent", 0, 36, nil, []device.Extent{
			ext(0, 8, device.Data, ""), ext(8, 8, device.Hole, ""), ext(16, 8, device.Unreadable, "bad block"),
			ext(24, 8, device.Hole, ""), ext(32, 4, device.Data, ""),
		}, false},
		{"inside a block", 1, 2, nil, []device.Extent{ext(1, 2, device.Data, "")}, false},
		{"across blocks", 6, 4, nil, []device.Extent{ext(6, 2, device.Data, ""), ext(8, 2, device.Hole, "")}, false},
		{"empty", 5, 0, nil, nil, true},
		{"parent of plain data", 20, 16, bytes.NewReader(make([]byte, 40)), []device.Extent{
			ext(20, 4, device.Unreadable, "bad block"), ext(24, 12, device.Data, ""),
		}, false},
		{"parent ends inside", 24, 12, bytes.NewReader(make([]byte, 27)), []device.Extent{
			ext(24, 3, device.Data, ""), ext(27, 5, device.Hole, ""), ext(32, 4, device.Data, ""),
		}, false},
		{"parent ends before", 24, 8, bytes.NewReader(make([]byte, 10)), []device.Extent{ext(24, 8, device.Hole, "")}, false},
		{"parent's map", 24, 8, mapped{size: 40, es: []device.Extent{ext(0, 26, device.Hole, ""), ext(26, 4, device.Data, ""), ext(30, 10, device.Hole, "")}}, []device.Extent{
			ext(24, 2, device.Hole, ""), ext(26, 4, device.Data, ""), ext(30, 2, device.Hole, ""),
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MapPieces(tc.off, tc.n, l.pieces, tc.parent)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantNone && got != nil {
				t.Fatalf("%+v, want none", got)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("%+v\nwant %+v", got, tc.want)
			}
		})
	}
}
