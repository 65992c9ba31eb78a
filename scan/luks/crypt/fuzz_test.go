package crypt

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/scan/device"
)

func FuzzNew(f *testing.F) {
	for _, v := range roundTripSpecs {
		f.Add(v.spec, uint16(v.keys[0]), 512, false, uint64(0))
	}
	f.Add("aes-cbc-essiv:sha1", uint16(32), 4096, true, uint64(1<<40))
	f.Add("serpent-xts-plain64", uint16(64), 512, false, uint64(3))
	f.Add("aes:64-cbc-lmk", uint16(32), 512, false, uint64(3))
	f.Add("aes-xts-plain64", uint16(64), 1000, false, uint64(3))
	f.Add("-", uint16(0), 0, false, uint64(0))
	f.Fuzz(func(t *testing.T, spec string, keyLen uint16, ss int, large bool, first uint64) {
		key := make([]byte, int(keyLen)%600)
		for i := range key {
			key[i] = byte(i * 7)
		}
		var opts []Option
		if large {
			opts = append(opts, IVLargeSectors())
		}
		c, err := New(spec, key, ss, opts...)
		name, mode, _ := strings.Cut(spec, "-")
		c2, err2 := New2(name, mode, key, ss, opts...)
		if (err == nil) != (err2 == nil) && !strings.Contains(name, "-") && name != "" {
			t.Errorf("New(%q) and New2(%q, %q) disagree: %v / %v", spec, name, mode, err, err2)
		}
		if c2 != nil {
			c2.Wipe()
		}
		if err != nil {
			if err.Error() == "" {
				t.Error("empty error")
			}
			return
		}
		if c.SectorSize() != ss || c.KeySize() != len(key) {
			t.Errorf("sector size %d key size %d", c.SectorSize(), c.KeySize())
		}
		b := make([]byte, 2*ss)
		if err := c.Decrypt(b, first); err != nil {
			t.Errorf("Decrypt: %v", err)
		}
		if err := c.Decrypt(b[:ss/2], first); err == nil {
			t.Error("half a sector accepted")
		}
		c.Wipe()
		if err := c.Decrypt(b, first); !errors.Is(err, ErrWiped) {
			t.Errorf("Decrypt after Wipe: %v", err)
		}
	})
}

func FuzzDeviceRead(f *testing.F) {
	f.Add(int64(0), uint32(4096), uint8(0), int64(0), uint64(0), uint8(0))
	f.Add(int64(511), uint32(2), uint8(3), int64(100), uint64(8), uint8(1))
	f.Add(int64(-1), uint32(1<<20), uint8(1), int64(-5), uint64(1<<63), uint8(2))
	f.Add(int64(1<<62), uint32(10), uint8(2), int64(1<<40), uint64(0), uint8(3))
	r := rand.New(rand.NewPCG(13, 14))
	const devSize = 1 << 20
	type vol struct {
		under *memDev
		pt    []byte // plaintext of the area at byte 4096, IVs from 0
		key   []byte
	}
	vols := map[int]vol{}
	for _, ss := range []int{512, 1024, 2048, 4096} {
		v := makeVolume(f, r, "aes-xts-plain64", 64, ss, (devSize-8192)/ss, 4096, 0)
		vols[ss] = vol{v.dev, v.pt, v.key}
	}
	f.Fuzz(func(t *testing.T, off int64, n uint32, ssSel uint8, areaOff int64, ivFirst uint64, damage uint8) {
		ss := 512 << (ssSel % 4)
		v := vols[ss]
		under := &memDev{b: v.under.b, serial: damage&4 != 0}
		if damage&1 != 0 {
			under.bad = [][2]int64{{devSize / 3, devSize/3 + int64(damage)}}
		}
		if damage&2 != 0 {
			under.holes = [][2]int64{{devSize / 2, devSize/2 + 5000}}
		}
		c, err := New("aes-xts-plain64", seq(64), ss)
		if err != nil {
			t.Fatal(err)
		}
		// An arbitrary area: NewDevice must refuse what does not fit.
		d, err := NewDevice(under, areaOff, int64(n)%(2*devSize), c, ivFirst, "fuzz")
		if err == nil {
			p := make([]byte, int(n)%(3<<20))
			if _, err := d.ReadAt(p, off); err == nil && off >= d.Size() && len(p) > 0 {
				t.Error("read past the end without io.EOF")
			}
			if ext, err := d.Map(off, int64(n)); err == nil {
				pos := max(off, 0)
				for _, e := range ext {
					if e.Off != pos || e.Len <= 0 || e.Kind == device.Hole {
						t.Fatalf("Map(%d, %d) = %v", off, n, ext)
					}
					pos += e.Len
				}
			}
			d.AdviseSequential(off, int64(n))
			d.AdviseWillNeed(off, int64(n))
		}
		// The known volume: any read returns the plaintext.
		c, err = New("aes-xts-plain64", v.key, ss)
		if err != nil {
			t.Fatal(err)
		}
		d, err = NewDevice(&memDev{b: v.under.b}, 4096, int64(len(v.pt)), c, 0, "fuzz")
		if err != nil {
			t.Fatal(err)
		}
		p := make([]byte, int(n)%(3<<20))
		got, err := d.ReadAt(p, off)
		if off < 0 {
			if err == nil {
				t.Error("negative offset accepted")
			}
			return
		}
		want := max(0, min(int64(len(p)), int64(len(v.pt))-off))
		if int64(got) != want || (err != nil && err != io.EOF) || (int64(len(p)) > want && err != io.EOF) {
			t.Fatalf("ReadAt(%d at %d) = %d, %v", len(p), off, got, err)
		}
		if got > 0 && !bytes.Equal(p[:got], v.pt[off:off+int64(got)]) {
			t.Fatalf("ReadAt(%d at %d): wrong plaintext", len(p), off)
		}
	})
}
