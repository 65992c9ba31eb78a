package raid

import (
	"encoding/binary"
	"errors"
	"testing"
)

func mirrorLog(regions uint64, clean ...uint64) []byte {
	b := make([]byte, MirrorLogBitsetOffset+int(regions+7)/8)
	binary.LittleEndian.PutUint32(b, MirrorLogMagic)
	binary.LittleEndian.PutUint32(b[4:], 2)
	binary.LittleEndian.PutUint64(b[8:], regions)
	for _, j := range clean {
		b[MirrorLogBitsetOffset+j/8] |= 1 << (j % 8)
	}
	return b
}

func TestParseMirrorLog(t *testing.T) {
	l, err := ParseMirrorLog(mirrorLog(20, 0, 1, 9, 19))
	if err != nil {
		t.Fatal(err)
	}
	if l.Regions != 20 || l.CleanCount() != 4 {
		t.Fatalf("regions %d, clean %d", l.Regions, l.CleanCount())
	}
	for j := uint64(0); j < 25; j++ {
		if want := j == 0 || j == 1 || j == 9 || j == 19; l.Clean(j) != want {
			t.Errorf("Clean(%d) = %v", j, l.Clean(j))
		}
	}
	// Version 1 is read as 2.
	b := mirrorLog(8, 3)
	binary.LittleEndian.PutUint32(b[4:], 1)
	if _, err := ParseMirrorLog(b); err != nil {
		t.Errorf("version 1: %v", err)
	}
}

func TestParseMirrorLogErrors(t *testing.T) {
	cases := map[string]struct {
		b     []byte
		field string
	}{
		"short":     {mirrorLog(8)[:100], "length"},
		"magic":     {func() []byte { b := mirrorLog(8); b[0] = 0; return b }(), "magic"},
		"version":   {func() []byte { b := mirrorLog(8); b[4] = 3; return b }(), "version"},
		"truncated": {mirrorLog(64)[:MirrorLogBitsetOffset+4], "nr_regions"},
		"huge":      {func() []byte { b := mirrorLog(8); binary.LittleEndian.PutUint64(b[8:], 1<<63); return b }(), "nr_regions"},
	}
	for name, c := range cases {
		_, err := ParseMirrorLog(c.b)
		var le *MirrorLogError
		if !errors.As(err, &le) || le.Field != c.field {
			t.Errorf("%s: error %v, want a MirrorLogError on %s", name, err, c.field)
		}
	}
}

func FuzzParseMirrorLog(f *testing.F) {
	f.Add(mirrorLog(2, 0, 1))
	f.Add(mirrorLog(100, 5))
	f.Add(make([]byte, 2048))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := ParseMirrorLog(b)
		if err != nil {
			return
		}
		if l.Regions > uint64(len(b)-MirrorLogBitsetOffset)*8 {
			t.Fatalf("accepted %d regions in %d bytes", l.Regions, len(b))
		}
		c := l.CleanCount()
		if c > l.Regions {
			t.Fatalf("%d clean of %d", c, l.Regions)
		}
		l.Clean(l.Regions)
	})
}
