package scan

import (
	"encoding/binary"
	"fmt"

	"github.com/lvminspect/lvminspect/model"
)

// fieldBuf decodes little-endian fields from a buffer read at absolute
// offset base, recording each field's byte range for the hex view.
type fieldBuf struct {
	b    []byte
	base int64
	st   *model.Structure
}

func newFieldBuf(name string, b []byte, base int64) *fieldBuf {
	return &fieldBuf{b: b, base: base, st: &model.Structure{Name: name, Off: base, Len: len(b)}}
}

func (f *fieldBuf) add(name string, off, n int, val string) *model.Field {
	f.st.Fields = append(f.st.Fields, model.Field{Name: name, Off: f.base + int64(off), Len: n, Value: val})
	return &f.st.Fields[len(f.st.Fields)-1]
}

func (f *fieldBuf) u32(name string, off int) uint32 {
	v := binary.LittleEndian.Uint32(f.b[off:])
	f.add(name, off, 4, fmt.Sprint(v))
	return v
}

func (f *fieldBuf) u64(name string, off int) uint64 {
	v := binary.LittleEndian.Uint64(f.b[off:])
	f.add(name, off, 8, fmt.Sprint(v))
	return v
}

func (f *fieldBuf) hex32(name string, off int) uint32 {
	v := binary.LittleEndian.Uint32(f.b[off:])
	f.add(name, off, 4, fmt.Sprintf("%#08x", v))
	return v
}

func (f *fieldBuf) text(name string, off, n int) string {
	v := string(f.b[off : off+n])
	f.add(name, off, n, fmt.Sprintf("%q", v))
	return v
}

// check marks the last field added with a verification result.
func (f *fieldBuf) check(stored, computed uint32) *model.Check {
	c := &model.Check{OK: stored == computed, Stored: fmt.Sprintf("%#08x", stored), Computed: fmt.Sprintf("%#08x", computed)}
	f.st.Fields[len(f.st.Fields)-1].Check = c
	return c
}

// readFull reads exactly len(p) bytes at off, distinguishing a short input
// (ErrTruncated) from an I/O error.
func readFull(r interface {
	ReadAt([]byte, int64) (int, error)
}, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil {
		err = fmt.Errorf("short read")
	}
	return err
}
