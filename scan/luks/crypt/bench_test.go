package crypt

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/lvminspect/lvminspect/scan/device"
)

// benchDevice reads a 64 MiB in-memory volume sequentially in 4 MiB reads,
// as the export pipeline does, and reports MB/s of plaintext.
func benchDevice(b *testing.B, spec string, keyLen, ss int) {
	const size, chunk = 64 << 20, 4 << 20
	under := device.Reader{R: bytes.NewReader(make([]byte, size)), N: size}
	c, err := New(spec, seq(keyLen), ss)
	if err != nil {
		b.Fatal(err)
	}
	d, err := NewDevice(under, 0, size, c, 0, "bench")
	if err != nil {
		b.Fatal(err)
	}
	p := make([]byte, chunk)
	b.SetBytes(chunk)
	b.ReportAllocs()
	var off int64
	for b.Loop() {
		if _, err := d.ReadAt(p, off); err != nil {
			b.Fatal(err)
		}
		off = (off + chunk) % size
	}
}

func BenchmarkDevice512(b *testing.B)     { benchDevice(b, "aes-xts-plain64", 64, 512) }
func BenchmarkDevice4096(b *testing.B)    { benchDevice(b, "aes-xts-plain64", 64, 4096) }
func BenchmarkDeviceCBC512(b *testing.B)  { benchDevice(b, "aes-cbc-essiv:sha256", 32, 512) }
func BenchmarkDeviceTwofish(b *testing.B) { benchDevice(b, "twofish-xts-plain64", 64, 512) }

// BenchmarkDecrypt is one core's rate.
func BenchmarkDecrypt(b *testing.B) {
	c, err := New("aes-xts-plain64", seq(64), 512)
	if err != nil {
		b.Fatal(err)
	}
	p := make([]byte, 1<<20)
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		if err := c.Decrypt(p, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// A 4 MiB read allocates a few hundred bytes (goroutines' results), not
// buffers: the plaintext is decrypted in the caller's buffer.
func TestDeviceReadAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	const size, chunk = 16 << 20, 4 << 20
	under := device.Reader{R: bytes.NewReader(make([]byte, size)), N: size}
	c, err := New("aes-xts-plain64", seq(64), 512)
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDevice(under, 0, size, c, 0, "alloc")
	if err != nil {
		t.Fatal(err)
	}
	p := make([]byte, chunk+1)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const reads = 40
	for i := range reads {
		// Unaligned, so that the scratch sectors are used too.
		if _, err := d.ReadAt(p, int64(i%3)*chunk+int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / reads; per > 8<<10 {
		t.Errorf("%d bytes allocated per 4 MiB read", per)
	}
}
