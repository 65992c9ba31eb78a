package blockdev

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/lvminspect/lvminspect/scan/device"
	"github.com/spf13/afero"
)

// blockRead is a read for ReadAt that fills q block by block, as the
// readers do, from data, stopping with bad at byte failAt.
func blockRead(data []byte, off, bs, failAt int64, bad error) func(q []byte) (int, error) {
	return func(q []byte) (int, error) {
		done := 0
		for done < len(q) {
			pos := off + int64(done)
			l := min(bs-pos%bs, int64(len(q)-done))
			if failAt >= 0 && pos <= failAt && failAt < pos+l {
				return done, bad
			}
			done += copy(q[done:done+int(l)], data[pos:pos+l])
		}
		return done, nil
	}
}

func TestReadAt(t *testing.T) {
	data := make([]byte, 100)
	for i := range data {
		data[i] = byte(i)
	}
	size := int64(len(data))
	bad := errors.New("bad block")
	for _, tc := range []struct {
		name     string
		off      int64
		n        int
		failAt   int64
		wantN    int
		wantErr  error
		wantCall bool
	}{
		{"inside one block", 3, 5, -1, 5, nil, true},
		{"crossing blocks", 5, 30, -1, 30, nil, true},
		{"whole device", 0, 100, -1, 100, nil, true},
		{"to the end", 90, 10, -1, 10, nil, true},
		{"past the end", 90, 20, -1, 10, io.EOF, true},
		{"at the end", 100, 1, -1, 0, io.EOF, false},
		{"beyond the end", 150, 1, -1, 0, io.EOF, false},
		{"empty at the end", 100, 0, -1, 0, nil, false},
		{"empty beyond the end", 150, 0, -1, 0, nil, false},
		{"empty inside", 10, 0, -1, 0, nil, true},
		{"error in the second block", 5, 30, 20, 11, bad, true},
		{"error wins over the end", 95, 10, 98, 1, bad, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := bytes.Repeat([]byte{0xee}, tc.n)
			called := false
			read := blockRead(data, tc.off, 16, tc.failAt, bad)
			n, err := ReadAt(p, tc.off, size, func(q []byte) (int, error) {
				called = true
				if want := min(int64(tc.n), max(size-tc.off, 0)); int64(len(q)) != want {
					t.Fatalf("read given %d bytes, want %d", len(q), want)
				}
				return read(q)
			})
			if n != tc.wantN || err != tc.wantErr || called != tc.wantCall {
				t.Fatalf("ReadAt = %d, %v (read called %v), want %d, %v (%v)", n, err, called, tc.wantN, tc.wantErr, tc.wantCall)
			}
			if n > 0 && !bytes.Equal(p[:n], data[tc.off:tc.off+int64(n)]) {
				t.Fatalf("read %x", p[:n])
			}
			for _, c := range p[n:] {
				if c != 0xee && tc.wantErr != bad {
					t.Fatalf("bytes past %d written: %x", n, p[n:])
				}
			}
		})
	}
}

func TestReadAtShortReadIsEOF(t *testing.T) {
	// A read that returns less than it was given and no error ends at
	// io.EOF.
	n, err := ReadAt(make([]byte, 10), 0, 100, func(q []byte) (int, error) { return 4, nil })
	if n != 4 || err != io.EOF {
		t.Fatalf("%d, %v", n, err)
	}
}

func TestShortRead(t *testing.T) {
	other := errors.New("other")
	for _, tc := range []struct {
		n, want int
		err     error
		out     error
	}{
		{10, 10, nil, nil},
		{10, 10, io.EOF, nil},
		{10, 10, other, nil},
		{0, 0, nil, nil},
		{3, 10, nil, io.ErrUnexpectedEOF},
		{3, 10, io.EOF, io.ErrUnexpectedEOF},
		{3, 10, other, other},
	} {
		if got := ShortRead(tc.n, tc.want, tc.err); got != tc.out {
			t.Errorf("ShortRead(%d, %d, %v) = %v, want %v", tc.n, tc.want, tc.err, got, tc.out)
		}
	}
}

func TestReadFull(t *testing.T) {
	r := bytes.NewReader([]byte("0123456789"))
	p := make([]byte, 4)
	if err := ReadFull(r, p, 3); err != nil || string(p) != "3456" {
		t.Fatalf("%q, %v", p, err)
	}
	// The last bytes: bytes.Reader returns io.EOF with them.
	if err := ReadFull(r, p, 6); err != nil || string(p) != "6789" {
		t.Fatalf("%q, %v", p, err)
	}
	if err := ReadFull(r, p, 8); err != io.ErrUnexpectedEOF {
		t.Fatalf("past the end: %v", err)
	}
	if err := ReadFull(r, p, 20); err != io.ErrUnexpectedEOF {
		t.Fatalf("beyond the end: %v", err)
	}
	if err := ReadFull(r, nil, 20); err != nil {
		t.Fatalf("empty: %v", err)
	}
}

func TestAppendExtent(t *testing.T) {
	d := func(off, n int64) device.Extent { return device.Extent{Off: off, Len: n, Kind: device.Data} }
	h := func(off, n int64) device.Extent { return device.Extent{Off: off, Len: n, Kind: device.Hole} }
	u := func(off, n int64, why string) device.Extent {
		return device.Extent{Off: off, Len: n, Kind: device.Unreadable, Why: why}
	}
	for _, tc := range []struct {
		name string
		in   []device.Extent
		want []device.Extent
	}{
		{"none", nil, nil},
		{"one", []device.Extent{d(0, 5)}, []device.Extent{d(0, 5)}},
		{"adjacent same kind", []device.Extent{d(0, 5), d(5, 3), d(8, 2)}, []device.Extent{d(0, 10)}},
		{"adjacent other kinds", []device.Extent{d(0, 5), h(5, 3), d(8, 2)}, []device.Extent{d(0, 5), h(5, 3), d(8, 2)}},
		{"not adjacent", []device.Extent{d(0, 5), d(6, 3)}, []device.Extent{d(0, 5), d(6, 3)}},
		{"same reason", []device.Extent{u(0, 5, "x"), u(5, 5, "x")}, []device.Extent{u(0, 10, "x")}},
		{"other reasons", []device.Extent{u(0, 5, "x"), u(5, 5, "y")}, []device.Extent{u(0, 5, "x"), u(5, 5, "y")}},
		{"empty dropped", []device.Extent{h(0, 0), d(0, 5), h(5, 0), d(5, 5)}, []device.Extent{d(0, 10)}},
		{"negative dropped", []device.Extent{d(0, 5), h(5, -1)}, []device.Extent{d(0, 5)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out []device.Extent
			for _, e := range tc.in {
				out = AppendExtent(out, e)
			}
			if len(out) != len(tc.want) {
				t.Fatalf("%+v, want %+v", out, tc.want)
			}
			for i := range out {
				if out[i] != tc.want[i] {
					t.Fatalf("%+v, want %+v", out, tc.want)
				}
			}
		})
	}
}

func TestConcurrentReader(t *testing.T) {
	data := make([]byte, 1<<16)
	for i := range data {
		data[i] = byte(i * 7)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	osf, err := afero.NewOsFs().Open(filepath.Join(dir, "x"))
	if err != nil {
		t.Fatal(err)
	}
	if r := ConcurrentReader(osf); r != osf {
		t.Fatalf("an *os.File is wrapped: %T", r)
	}
	mem := afero.NewMemMapFs()
	if err := afero.WriteFile(mem, "/x", data, 0o644); err != nil {
		t.Fatal(err)
	}
	mf, err := mem.Open("/x")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []ReaderAtCloser{ConcurrentReader(osf), ConcurrentReader(mf)} {
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := make([]byte, 777)
				for i := range 200 {
					off := int64((g*7919 + i*104729) % (len(data) - len(p)))
					if err := ReadFull(r, p, off); err != nil {
						t.Error(err)
						return
					}
					if !bytes.Equal(p, data[off:off+int64(len(p))]) {
						t.Errorf("%T: wrong bytes at %d", r, off)
						return
					}
				}
			}()
		}
		wg.Wait()
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

type closer struct {
	closed *[]int
	i      int
	err    error
}

func (c closer) Close() error { *c.closed = append(*c.closed, c.i); return c.err }

func TestCloseAll(t *testing.T) {
	if err := CloseAll(nil); err != nil {
		t.Fatal(err)
	}
	var closed []int
	e1, e2 := errors.New("one"), errors.New("two")
	cs := []io.Closer{closer{&closed, 0, nil}, closer{&closed, 1, e1}, closer{&closed, 2, nil}, closer{&closed, 3, e2}}
	if err := CloseAll(cs); err != e1 {
		t.Fatalf("error %v, want the first", err)
	}
	if len(closed) != 4 || closed[0] != 0 || closed[3] != 3 {
		t.Fatalf("closed %v, want all in order", closed)
	}
}

func TestParentError(t *testing.T) {
	e := &ParentError{Format: "vmdk", Child: "top.vmdk", Name: "base.vmdk", Tried: []string{"/a/base.vmdk"}, Why: "not found"}
	if want := `vmdk: top.vmdk: parent "base.vmdk": not found (tried ["/a/base.vmdk"])`; e.Error() != want {
		t.Errorf("%q", e.Error())
	}
}

func TestOpenLink(t *testing.T) {
	fs := afero.NewMemMapFs()
	if err := afero.WriteFile(fs, "/a.img", make([]byte, 700), 0o444); err != nil {
		t.Fatal(err)
	}
	f, size, seen, err := OpenLink(fs, "vhd", "/a.img", nil, 2)
	if err != nil || size != 700 || len(seen) != 1 || seen[0] != "/a.img" {
		t.Fatalf("%v %d %v", err, size, seen)
	}
	f.Close()
	if _, _, _, err := OpenLink(fs, "vhd", "/x/../a.img", seen, 2); err == nil || !strings.Contains(err.Error(), "vhd: /a.img: the parent chain loops back to /x/../a.img") {
		t.Errorf("loop: %v", err)
	}
	if _, _, _, err := OpenLink(fs, "vhd", "/b.img", []string{"/c", "/d"}, 2); err == nil || !strings.Contains(err.Error(), "deeper than 2") {
		t.Errorf("depth: %v", err)
	}
	if _, _, _, err := OpenLink(fs, "vmdk", "/missing.img", nil, 2); err == nil || !strings.HasPrefix(err.Error(), "vmdk: ") {
		t.Errorf("missing: %v", err)
	}
}
