package device

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

type plain struct{ *bytes.Reader }

func (p plain) Size() int64 { return p.Reader.Size() }

func TestMapAllPlainDevice(t *testing.T) {
	d := plain{bytes.NewReader(make([]byte, 100))}
	for _, tc := range []struct {
		off, n int64
		want   []Extent
	}{
		{0, 100, []Extent{{0, 100, Data, ""}}},
		{90, 50, []Extent{{90, 10, Data, ""}}},
		{100, 10, nil},
		{200, 10, nil},
	} {
		got, err := MapAll(d, tc.off, tc.n)
		if err != nil || fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("MapAll(%d, %d) = %v, %v; want %v", tc.off, tc.n, got, err, tc.want)
		}
	}
	if _, err := MapAll(d, -1, 10); err == nil {
		t.Error("negative offset accepted")
	}
}

func TestUnreadableError(t *testing.T) {
	err := fmt.Errorf("reading: %w", &UnreadableError{Device: "d.E01", Off: 4096, Len: 512, Why: "chunk 1: bad checksum"})
	if !errors.Is(err, ErrUnreadable) {
		t.Error("errors.Is(ErrUnreadable) false")
	}
	var ue *UnreadableError
	if !errors.As(err, &ue) || ue.Off != 4096 {
		t.Error("errors.As failed")
	}
	if want := "reading: d.E01: bytes [4096, 4608) cannot be read: chunk 1: bad checksum"; err.Error() != want {
		t.Errorf("%q", err.Error())
	}
}
