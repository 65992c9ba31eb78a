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
// until the next field is added. A field that does not lie within B (a
// structure cut short on a damaged disk) is added with no value read.
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

// beyond is the value of a field that lies outside the bytes read.
const beyond = "(beyond the structure's bytes read)"

// at returns the n bytes at off, or false when they are not all in B.
func (f *FieldBuf) at(off, n int) ([]byte, bool) {
	if off < 0 || n < 0 || off > len(f.B) || n > len(f.B)-off {
		return nil, false
	}
	return f.B[off : off+n], true
}

// U8 adds the byte at off, in decimal.
func (f *FieldBuf) U8(name string, off int) *model.Field {
	b, ok := f.at(off, 1)
	if !ok {
		return f.Add(name, off, 1, beyond)
	}
	return f.Add(name, off, 1, fmt.Sprint(b[0]))
}

// U16 adds the 16-bit integer at off, in decimal.
func (f *FieldBuf) U16(name string, off int) *model.Field {
	b, ok := f.at(off, 2)
	if !ok {
		return f.Add(name, off, 2, beyond)
	}
	return f.Add(name, off, 2, fmt.Sprint(f.Order.Uint16(b)))
}

// U32 adds the 32-bit integer at off, in decimal.
func (f *FieldBuf) U32(name string, off int) *model.Field {
	b, ok := f.at(off, 4)
	if !ok {
		return f.Add(name, off, 4, beyond)
	}
	return f.Add(name, off, 4, fmt.Sprint(f.Order.Uint32(b)))
}

// Hex32 adds the 32-bit integer at off, in hexadecimal ("0x0000abcd").
func (f *FieldBuf) Hex32(name string, off int) *model.Field {
	b, ok := f.at(off, 4)
	if !ok {
		return f.Add(name, off, 4, beyond)
	}
	return f.Add(name, off, 4, fmt.Sprintf("%#08x", f.Order.Uint32(b)))
}

// U64 adds the 64-bit integer at off, in decimal.
func (f *FieldBuf) U64(name string, off int) *model.Field {
	b, ok := f.at(off, 8)
	if !ok {
		return f.Add(name, off, 8, beyond)
	}
	return f.Add(name, off, 8, fmt.Sprint(f.Order.Uint64(b)))
}

// Text adds the n bytes at off as a quoted string.
func (f *FieldBuf) Text(name string, off, n int) *model.Field {
	b, ok := f.at(off, n)
	if !ok {
		return f.Add(name, off, n, beyond)
	}
	return f.Add(name, off, n, fmt.Sprintf("%q", b))
}

// Raw adds the n bytes at off in hexadecimal.
func (f *FieldBuf) Raw(name string, off, n int) *model.Field {
	b, ok := f.at(off, n)
	if !ok {
		return f.Add(name, off, n, beyond)
	}
	return f.Add(name, off, n, hex.EncodeToString(b))
}

// Checksum adds the 32-bit checksum at off, as Hex32, checked against
// computed (no check when it lies outside the bytes read).
func (f *FieldBuf) Checksum(name string, off int, computed uint32) *model.Field {
	fl := f.Hex32(name, off)
	if b, ok := f.at(off, 4); ok {
		fl.Check = Check32(f.Order.Uint32(b), computed)
	}
	return fl
}

// Check32 is the check of a 32-bit checksum: OK if stored is computed,
// both shown in hexadecimal.
func Check32(stored, computed uint32) *model.Check {
	return &model.Check{OK: stored == computed, Stored: fmt.Sprintf("%#08x", stored), Computed: fmt.Sprintf("%#08x", computed)}
}
