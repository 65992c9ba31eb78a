package scan

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

func TestCRCVectors(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint32
	}{
		{"", 0xF597A6CF}, {"123456789", 0x4991CF02}, {"a", 0x319B1949}, {"abc", 0xC6A054D0}, {"LABELONE", 0x8BCF65C4},
	} {
		if got := CRC(InitialCRC, []byte(tc.in)); got != tc.want {
			t.Errorf("CRC(%q) = %#x, want %#x", tc.in, got, tc.want)
		}
	}
	if got := CRC(CRC(InitialCRC, []byte("1234")), []byte("56789")); got != 0x4991CF02 {
		t.Errorf("chained CRC = %#x", got)
	}
}

// specLabel builds the worked label example of label-and-pv-header.md §4.
func specLabel(sector int) []byte {
	b := make([]byte, 512)
	copy(b, "LABELONE")
	binary.LittleEndian.PutUint64(b[8:], uint64(sector))
	binary.LittleEndian.PutUint32(b[20:], 32)
	copy(b[24:], "LVM2 001")
	copy(b[32:], "yn524djR8pWl30GAa66q7cU2vQ87uiXE")
	binary.LittleEndian.PutUint64(b[64:], 67108864)
	binary.LittleEndian.PutUint64(b[72:], 1048576)
	binary.LittleEndian.PutUint64(b[104:], 4096)
	binary.LittleEndian.PutUint64(b[112:], 1044480)
	binary.LittleEndian.PutUint32(b[136:], 2)
	binary.LittleEndian.PutUint32(b[140:], 1)
	binary.LittleEndian.PutUint32(b[16:], CRC(InitialCRC, b[20:]))
	return b
}

func TestSpecLabelExample(t *testing.T) {
	sec := specLabel(1)
	if got := binary.LittleEndian.Uint32(sec[16:]); got != 0x0B65F34B {
		t.Fatalf("worked example CRC = %#x, want 0x0B65F34B", got)
	}
	img := make([]byte, 2048)
	copy(img[512:], sec)
	lb, probs, err := ReadLabel(bytes.NewReader(img), int64(len(img)), 0)
	if err != nil || len(probs) != 0 {
		t.Fatalf("ReadLabel: %v %v", err, probs)
	}
	h := lb.Header
	if lb.Sector != 1 || !lb.CRC.OK || h.UUID != "yn524djR8pWl30GAa66q7cU2vQ87uiXE" || h.DeviceSize != 67108864 ||
		len(h.DataAreas) != 1 || h.DataAreas[0].Offset != 1048576 || len(h.MetadataAreas) != 1 ||
		h.MetadataAreas[0] != (DiskLocn{4096, 1044480}) || !h.InUse() || len(h.BootloaderAreas) != 0 {
		t.Fatalf("decoded %+v %+v", lb, h)
	}
	// Every byte range named: uuid at 544, device_size at 576.
	var names []string
	for _, f := range h.Struct.Fields {
		names = append(names, f.Name)
		if f.Name == "device_size" && f.Off != 576 {
			t.Errorf("device_size at %d, want 576", f.Off)
		}
	}
	if !strings.Contains(strings.Join(names, ","), "metadata_area[0].size") {
		t.Errorf("fields: %v", names)
	}
}

func TestLabelDamage(t *testing.T) {
	put := func(sector int, sec []byte) []byte {
		img := make([]byte, 2048)
		copy(img[sector*512:], sec)
		return img
	}
	t.Run("bad crc used with an error", func(t *testing.T) {
		sec := specLabel(1)
		sec[16] ^= 0xff
		lb, probs, err := ReadLabel(bytes.NewReader(put(1, sec)), 2048, 1000)
		if err != nil || lb == nil {
			t.Fatalf("damaged label not returned: %v", err)
		}
		if len(probs) != 1 || probs[0].Field != "crc_xl" || probs[0].Off != 1000+512+16 || probs[0].Severity != SevError {
			t.Fatalf("problems %+v", probs)
		}
	})
	t.Run("label in sector 3", func(t *testing.T) {
		lb, _, err := ReadLabel(bytes.NewReader(put(3, specLabel(3))), 2048, 0)
		if err != nil || lb.Sector != 3 {
			t.Fatalf("%v %+v", err, lb)
		}
	})
	t.Run("copied label with a wrong sector number", func(t *testing.T) {
		lb, probs, err := ReadLabel(bytes.NewReader(put(2, specLabel(1))), 2048, 0)
		if err != nil || lb.Sector != 2 || len(probs) == 0 || probs[0].Field != "sector_xl" {
			t.Fatalf("%v %+v %+v", err, lb, probs)
		}
	})
	t.Run("weak label", func(t *testing.T) {
		sec := specLabel(1)
		copy(sec, "XXXXXXXX")
		lb, probs, err := ReadLabel(bytes.NewReader(put(1, sec)), 2048, 0)
		if err != nil || !lb.Weak || len(probs) == 0 || !strings.Contains(probs[0].Msg, "weak") {
			t.Fatalf("%v %+v %+v", err, lb, probs)
		}
	})
	t.Run("two valid labels", func(t *testing.T) {
		img := put(1, specLabel(1))
		copy(img[1024:], specLabel(2))
		lb, probs, err := ReadLabel(bytes.NewReader(img), 2048, 0)
		if err != nil || lb.Sector != 1 || len(probs) != 1 || !strings.Contains(probs[0].Msg, "additional") {
			t.Fatalf("%v %+v %+v", err, lb, probs)
		}
	})
	t.Run("list without terminator", func(t *testing.T) {
		sec := specLabel(1)
		for o := 72; o+16 <= 512; o += 16 {
			binary.LittleEndian.PutUint64(sec[o:], 4096)
			binary.LittleEndian.PutUint64(sec[o+8:], 512)
		}
		binary.LittleEndian.PutUint32(sec[16:], CRC(InitialCRC, sec[20:]))
		_, probs, err := ReadLabel(bytes.NewReader(put(1, sec)), 2048, 0)
		if !errors.Is(err, ErrNoLabel) || len(probs) == 0 || !strings.Contains(probs[0].Msg, "overflow") {
			t.Fatalf("%v %+v", err, probs)
		}
	})
	t.Run("none", func(t *testing.T) {
		if _, _, err := ReadLabel(bytes.NewReader(make([]byte, 2048)), 2048, 0); !errors.Is(err, ErrNoLabel) {
			t.Fatal(err)
		}
		if _, _, err := ReadLabel(bytes.NewReader(nil), 0, 0); !errors.Is(err, ErrNoLabel) {
			t.Fatal(err)
		}
	})
}

func TestSpecMDAHeaderVector(t *testing.T) {
	b := make([]byte, 512)
	copy(b[4:], mdaMagic)
	binary.LittleEndian.PutUint32(b[20:], 1)
	binary.LittleEndian.PutUint64(b[24:], 4096)
	binary.LittleEndian.PutUint64(b[32:], 1044480)
	binary.LittleEndian.PutUint64(b[40:], 61952)
	binary.LittleEndian.PutUint64(b[48:], 12547)
	binary.LittleEndian.PutUint32(b[56:], 0x30EA88D6)
	if got := CRC(InitialCRC, b[4:]); got != 0x2E06790B {
		t.Fatalf("mda header vector %#x", got)
	}
	binary.LittleEndian.PutUint32(b, 0x2E06790B)
	h, probs, err := decodeMDAHeader(b, 4096, DiskLocn{4096, 1044480})
	if err != nil || len(probs) != 0 || !h.Checksum.OK || h.Slots[0].Size != 12547 || h.Slots[0].Ignored() {
		t.Fatalf("%v %v %+v", err, probs, h)
	}
	binary.LittleEndian.PutUint32(b[60:], 0x01000000) // big-endian ignored bit
	h, _, _ = decodeMDAHeader(b, 4096, DiskLocn{4096, 1044480})
	if !h.Slots[0].Ignored() {
		t.Fatal("big-endian ignored flag not recognised")
	}
}

func TestReadTextWrapped(t *testing.T) {
	// A 4 KiB area whose text starts 1 KiB before the end and wraps.
	const S = 4096
	area := make([]byte, S)
	text := []byte(strings.Repeat("x", 1500) + "\n\n\x00")
	n := copy(area[S-1024:], text)
	copy(area[512:], text[n:])
	h := &MDAHeader{Size: S}
	h.Slots[0] = RawLocn{Offset: S - 1024, Size: uint64(len(text)), Checksum: CRC(InitialCRC, text)}
	c, err := ReadText(bytes.NewReader(area), S, 0, 0, h, 0)
	if err != nil || !c.Wrapped || c.WrapSize != uint64(len(text)-1024) || !bytes.Equal(c.Text, text[:len(text)-1]) {
		t.Fatalf("%v %+v", err, c)
	}
	h.Slots[0].Size = S // larger than the buffer
	if _, err := ReadText(bytes.NewReader(area), S, 0, 0, h, 0); err == nil {
		t.Fatal("oversized text accepted")
	}
	h.Slots[0] = RawLocn{Offset: 100, Size: 10}
	if _, err := ReadText(bytes.NewReader(area), S, 0, 0, h, 0); err == nil {
		t.Fatal("text inside the header accepted")
	}
}
