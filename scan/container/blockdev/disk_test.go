package blockdev

import (
	"encoding/binary"
	"io"
	"testing"

	"github.com/lvminspect/lvminspect/scan/device"
)

func TestReadDisk(t *testing.T) {
	read := func(q []byte) (int, error) { clear(q); return len(q), nil }
	if _, err := ReadDisk("vhd: d.vhd", make([]byte, 4), -1, 10, read); err == nil || err.Error() != "vhd: d.vhd: negative offset -1" {
		t.Fatalf("negative: %v", err)
	}
	if n, err := ReadDisk("ewf", make([]byte, 4), 8, 10, read); n != 2 || err != io.EOF {
		t.Fatalf("at the end: %d, %v", n, err)
	}
	if n, err := ReadDisk("ewf", make([]byte, 4), 0, 10, read); n != 4 || err != nil {
		t.Fatalf("within: %d, %v", n, err)
	}
}

func TestMapBounds(t *testing.T) {
	if _, _, err := MapBounds("vdi: x", 0, -1, 10); err == nil || err.Error() != "vdi: x: map of [0, +-1): negative" {
		t.Fatalf("negative: %v", err)
	}
	if n, ok, err := MapBounds("p", 10, 5, 10); ok || err != nil || n != 0 {
		t.Fatalf("at the end: %d %v %v", n, ok, err)
	}
	if n, ok, err := MapBounds("p", 4, 100, 10); !ok || err != nil || n != 6 {
		t.Fatalf("cut: %d %v %v", n, ok, err)
	}
}

func TestMapDisk(t *testing.T) {
	l := layout{bs: 4, kinds: []PieceKind{InFile, Zero, InParent, Bad}}
	es, err := MapDisk("p", 2, 100, l.size(), l.pieces, nil)
	if err != nil || len(es) != 3 || es[0] != (device.Extent{Off: 2, Len: 2, Kind: device.Data}) || es[1].Kind != device.Hole || es[1].Len != 8 || es[2].Kind != device.Unreadable {
		t.Fatalf("%+v %v", es, err)
	}
	if es, err := MapDisk("p", l.size(), 1, l.size(), l.pieces, nil); es != nil || err != nil {
		t.Fatalf("past the end: %+v %v", es, err)
	}
}

func TestParentReader(t *testing.T) {
	q := []byte{1, 2, 3}
	if err := ParentReader(nil)(q, 0); err != nil || q[0]|q[1]|q[2] != 0 {
		t.Fatalf("%v %v", q, err)
	}
}

func TestFieldBuf(t *testing.T) {
	b := []byte{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 'a', 'b', 0, 0, 0, 0}
	for _, tc := range []struct {
		order binary.ByteOrder
		u16   string
		u32   string
		hex   string
		u64   string
	}{
		{binary.LittleEndian, "513", "67305985", "0x04030201", "578437695752307201"},
		{binary.BigEndian, "258", "16909060", "0x01020304", "72623859790382856"},
	} {
		f := NewFieldBuf("s", b, 100, tc.order)
		f.U8("u8", 0)
		f.U16("u16", 0)
		f.U32("u32", 0)
		f.Hex32("hex", 0)
		f.U64("u64", 0)
		f.Text("text", 8, 2)
		f.Raw("raw", 8, 2)
		f.Checksum("sum", 10, 0)
		bad := *f.Checksum("bad", 0, 1)
		st := f.St
		if st.Name != "s" || st.Off != 100 || st.Len != len(b) || len(st.Fields) != 9 {
			t.Fatalf("%+v", st)
		}
		want := []string{"1", tc.u16, tc.u32, tc.hex, tc.u64, `"ab"`, "6162", "0x00000000", tc.hex}
		for i, w := range want {
			if st.Fields[i].Value != w {
				t.Errorf("%s: %q, want %q", st.Fields[i].Name, st.Fields[i].Value, w)
			}
		}
		if st.Fields[5].Off != 108 || st.Fields[5].Len != 2 || st.Fields[4].Len != 8 {
			t.Errorf("ranges %+v", st.Fields)
		}
		if !st.Fields[7].Check.OK || bad.Check.OK || bad.Check.Stored != tc.hex || bad.Check.Computed != "0x00000001" {
			t.Errorf("checks %+v %+v", st.Fields[7].Check, bad.Check)
		}
	}
}
