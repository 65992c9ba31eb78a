package raid

import (
	"encoding/binary"
	"errors"
	"testing"
)

func validSuperblock() []byte {
	b := make([]byte, 4096)
	le := binary.LittleEndian
	le.PutUint32(b[0:], SuperblockMagic)
	le.PutUint32(b[4:], 1)
	le.PutUint32(b[8:], 4)
	le.PutUint32(b[12:], 2)
	le.PutUint64(b[16:], 20)
	le.PutUint64(b[32:], allOnes)
	le.PutUint64(b[40:], allOnes)
	le.PutUint32(b[48:], 5)
	le.PutUint32(b[52:], 2)
	le.PutUint32(b[56:], 32)
	le.PutUint64(b[64:], allOnes)
	le.PutUint64(b[96:], 2048)
	le.PutUint64(b[112:], 4096)
	return b
}

func TestParseSuperblock(t *testing.T) {
	sb, err := ParseSuperblock(validSuperblock())
	if err != nil {
		t.Fatal(err)
	}
	if sb.NumDevices != 4 || sb.ArrayPosition != 2 || sb.Events != 20 || sb.Level != 5 || sb.Layout != 2 ||
		sb.StripeSectors != 32 || sb.DataOffset != 2048 || sb.Sectors != 4096 || !sb.Extended() ||
		sb.Recovering() || sb.Resyncing() || sb.ReshapeActive() {
		t.Fatalf("decoded %+v", sb)
	}
	b := validSuperblock()
	binary.LittleEndian.PutUint64(b[24:], 1<<3)
	binary.LittleEndian.PutUint64(b[120+8:], 1<<5) // image 64*2+5
	sb, _ = ParseSuperblock(b)
	for i := 0; i < 256; i++ {
		if want := i == 3 || i == 133; sb.Failed(i) != want {
			t.Errorf("Failed(%d) = %v", i, sb.Failed(i))
		}
	}
}

func TestParseSuperblockErrors(t *testing.T) {
	cases := map[string]struct {
		edit  func(b []byte) []byte
		field string
	}{
		"short":        {func(b []byte) []byte { return b[:100] }, "length"},
		"magic":        {func(b []byte) []byte { b[0] = 0; return b }, "magic"},
		"no devices":   {func(b []byte) []byte { binary.LittleEndian.PutUint32(b[8:], 0); return b }, "num_devices"},
		"many devices": {func(b []byte) []byte { binary.LittleEndian.PutUint32(b[8:], 257); return b }, "num_devices"},
		"position":     {func(b []byte) []byte { binary.LittleEndian.PutUint32(b[12:], 4); return b }, "array_position"},
		"incompat":     {func(b []byte) []byte { b[144] = 1; return b }, "incompat_features"},
	}
	for name, c := range cases {
		_, err := ParseSuperblock(c.edit(validSuperblock()))
		var se *SuperblockError
		if !errors.As(err, &se) || se.Field != c.field {
			t.Errorf("%s: error %v, want a SuperblockError on %s", name, err, c.field)
		}
	}
}

func FuzzParseSuperblock(f *testing.F) {
	f.Add(validSuperblock())
	f.Add(make([]byte, 4096))
	f.Add(validSuperblock()[:SuperblockSize])
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 4096 {
			b = b[:4096]
		}
		sb, err := ParseSuperblock(b)
		if err != nil {
			return
		}
		if sb.Magic != SuperblockMagic || sb.NumDevices == 0 || sb.ArrayPosition >= sb.NumDevices {
			t.Fatalf("accepted an invalid superblock: %+v", sb)
		}
		for i := -1; i <= MaxSuperblockDevices; i++ {
			sb.Failed(i)
		}
		_ = sb.Recovering() || sb.Resyncing() || sb.ReshapeActive()
	})
}
