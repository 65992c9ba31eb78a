package blockdev

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// memDev is a device of the bytes b; failAt, if set, makes reads at or
// past it fail with errBroken.
type memDev struct {
	b      []byte
	failAt int64
}

var errBroken = errors.New("broken")

func (m memDev) Size() int64 { return int64(len(m.b)) }

func (m memDev) ReadAt(p []byte, off int64) (int, error) {
	if m.failAt > 0 && off+int64(len(p)) > m.failAt {
		n := copy(p, m.b[off:max(m.failAt, off)])
		return n, errBroken
	}
	return bytes.NewReader(m.b).ReadAt(p, off)
}

func TestReadParent(t *testing.T) {
	q := bytes.Repeat([]byte{'x'}, 8)
	if err := ReadParent(nil, q, 3); err != nil || !bytes.Equal(q, make([]byte, 8)) {
		t.Fatalf("no parent: %q, %v", q, err)
	}
	p := memDev{b: []byte("0123456789")}
	q = bytes.Repeat([]byte{'x'}, 8)
	if err := ReadParent(p, q, 2); err != nil || string(q) != "23456789" {
		t.Fatalf("inside: %q, %v", q, err)
	}
	// Past the parent's end: zeros.
	q = bytes.Repeat([]byte{'x'}, 8)
	if err := ReadParent(p, q, 6); err != nil || !bytes.Equal(q, []byte("6789\x00\x00\x00\x00")) {
		t.Fatalf("across the end: %q, %v", q, err)
	}
	q = bytes.Repeat([]byte{'x'}, 4)
	if err := ReadParent(p, q, 40); err != nil || !bytes.Equal(q, make([]byte, 4)) {
		t.Fatalf("past the end: %q, %v", q, err)
	}
	// A parent that fails says so.
	if err := ReadParent(memDev{b: p.b, failAt: 5}, make([]byte, 8), 0); !errors.Is(err, errBroken) {
		t.Fatalf("failing parent: %v", err)
	}
	// A parent that reads short with io.EOF inside its size is an error.
	if err := ReadParent(shortDev{}, make([]byte, 8), 0); err != io.ErrUnexpectedEOF {
		t.Fatalf("short parent: %v", err)
	}
}

type shortDev struct{}

func (shortDev) Size() int64 { return 100 }
func (shortDev) ReadAt(p []byte, off int64) (int, error) {
	return 1, io.EOF
}
