package blockdev

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"github.com/lvminspect/lvminspect/model"
)

// FieldBuf builds the model.Structure of a container's structure for
// its Fields: B is the structure's bytes, read at byte Base of its file,
// and Order the byte order of its integers. Every method adds the field
// at offset off of B (at Base+off of the file) and returns it, valid
// until the next field is added; off and n must lie within B.
type FieldBuf struct {
	B     []byte
	Base  int64
	Order binary.ByteOrder
	St    model.Structure
}

// NewFieldBuf starts the structure name, of len(b) bytes at base.
func NewFieldBuf(name string, b []byte, base int64, order binary.ByteOrder) *FieldBuf {
	return &FieldBuf{B: b, Base: base, Order: order, St: model.Structure{Name: name, Off: base, Len: len(b)}}
}

// Add adds the field name of n bytes at off, with the value val.
func (f *FieldBuf) Add(name string, off, n int, val string) *model.Field {
	f.St.Fields = append(f.St.Fields, model.Field{Name: name, Off: f.Base + int64(off), Len: n, Value: val})
	return &f.St.Fields[len(f.St.Fields)-1]
}

// U8 adds the byte at off, in decimal.
func (f *FieldBuf) U8(name string, off int) *model.Field {
	return f.Add(name, off, 1, fmt.Sprint(f.B[off]))
}

// U16 adds the 16-bit integer at off, in decimal.
func (f *FieldBuf) U16(name string, off int) *model.Field {
	return f.Add(name, off, 2, fmt.Sprint(f.Order.Uint16(f.B[off:])))
}

// U32 adds the 32-bit integer at off, in decimal.
func (f *FieldBuf) U32(name string, off int) *model.Field {
	return f.Add(name, off, 4, fmt.Sprint(f.Order.Uint32(f.B[off:])))
}

// Hex32 adds the 32-bit integer at off, in hexadecimal ("0x0000abcd").
func (f *FieldBuf) Hex32(name string, off int) *model.Field {
	return f.Add(name, off, 4, fmt.Sprintf("%#08x", f.Order.Uint32(f.B[off:])))
}

// U64 adds the 64-bit integer at off, in decimal.
func (f *FieldBuf) U64(name string, off int) *model.Field {
	return f.Add(name, off, 8, fmt.Sprint(f.Order.Uint64(f.B[off:])))
}

// Text adds the n bytes at off as a quoted string.
func (f *FieldBuf) Text(name string, off, n int) *model.Field {
	return f.Add(name, off, n, fmt.Sprintf("%q", f.B[off:off+n]))
}

// Raw adds the n bytes at off in hexadecimal.
func (f *FieldBuf) Raw(name string, off, n int) *model.Field {
	return f.Add(name, off, n, hex.EncodeToString(f.B[off:off+n]))
}

// Checksum adds the 32-bit checksum at off, as Hex32, checked against
// computed.
func (f *FieldBuf) Checksum(name string, off int, computed uint32) *model.Field {
	fl := f.Hex32(name, off)
	fl.Check = Check32(f.Order.Uint32(f.B[off:]), computed)
	return fl
}

// Check32 is the check of a 32-bit checksum: OK if stored is computed,
// both shown in hexadecimal.
func Check32(stored, computed uint32) *model.Check {
	return &model.Check{OK: stored == computed, Stored: fmt.Sprintf("%#08x", stored), Computed: fmt.Sprintf("%#08x", computed)}
}
