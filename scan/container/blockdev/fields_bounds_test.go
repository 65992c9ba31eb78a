package blockdev

import (
	"encoding/binary"
	"testing"
)

// A field outside the bytes read is added without a value read, never a
// panic (a structure cut short on a damaged image).
func TestFieldBufBeyond(t *testing.T) {
	f := NewFieldBuf("s", []byte{1, 2}, 100, binary.LittleEndian)
	f.U8("a", 1)
	f.U16("b", 1)
	f.U32("c", 0)
	f.Hex32("d", -1)
	f.U64("e", 2)
	f.Text("g", 1, 5)
	f.Raw("h", 3, 1)
	fl := f.Checksum("i", 0, 7)
	if fl.Check != nil {
		t.Error("a checksum beyond the bytes was checked")
	}
	if got := f.St.Fields[0].Value; got != "2" {
		t.Errorf("a = %q", got)
	}
	for _, x := range f.St.Fields[1:] {
		if x.Value != beyond {
			t.Errorf("%s = %q, want %q", x.Name, x.Value, beyond)
		}
	}
}
