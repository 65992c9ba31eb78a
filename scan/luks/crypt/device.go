package crypt

import (
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"

	"github.com/lvminspect/lvminspect/scan/device"
)

// Device is the decrypted payload of a LUKS volume as a device of the
// graph: the encrypted bytes [off, off+size) of another device decrypted
// sector by sector (luks.md §6). It reads only what it is asked for,
// decrypts large reads on several cores, and is safe for concurrent use.
//
// Map reports the underlying device's holes as data (a hole of the
// ciphertext decrypts to pseudo-random bytes, not zeros, luks.md §6.1)
// and its unreadable ranges widened to whole encryption sectors (a
// sector with one unreadable byte cannot be decrypted).
type Device struct {
	under   device.Device
	off     int64 // where the ciphertext starts in under
	size    int64 // whole encryption sectors
	tail    int64 // bytes after the last whole sector, not part of the device
	c       *Cipher
	ss      int64
	ivFirst uint64
	name    string
	serial  *sync.Mutex // held around under's reads when it takes one at a time
}

// RangeError is an encrypted area that does not fit its device, or
// arguments NewDevice cannot use.
type RangeError struct {
	Name       string // the decrypted device's name
	Off, Size  int64  // the encrypted area asked for
	DeviceSize int64  // the size of the device holding it
	Why        string
}

func (e *RangeError) Error() string {
	return fmt.Sprintf("crypt: %s: encrypted area [%d, +%d) of a %d-byte device: %s", e.Name, e.Off, e.Size, e.DeviceSize, e.Why)
}

// parallelMin is the least number of bytes one goroutine decrypts in a
// read split over several.
const parallelMin = 256 << 10

// NewDevice returns the decryption of the bytes [off, off+size) of under
// with c; ivFirst is the IV sector number of its first sector (LUKS2:
// the segment's iv_tweak, LUKS1: 0; luks.md §6.4). The area is a whole
// number of encryption sectors: bytes left after the last whole sector
// are not part of the device (Tail says how many, for the report;
// luks.md §6.1). name is the device's name in errors.
//
// The Device takes c over: Close wipes it. It neither owns nor closes
// under.
func NewDevice(under device.Device, off, size int64, c *Cipher, ivFirst uint64, name string) (*Device, error) {
	if under == nil || c == nil {
		return nil, fmt.Errorf("crypt: %s: no device or no cipher", name)
	}
	dsize := under.Size()
	bad := func(why string) error {
		return &RangeError{Name: name, Off: off, Size: size, DeviceSize: dsize, Why: why}
	}
	switch {
	case off < 0:
		return nil, bad("negative offset")
	case size < 0:
		return nil, bad("negative size")
	case off > dsize:
		return nil, bad("starts past the end of the device")
	case size > dsize-off:
		return nil, bad(fmt.Sprintf("runs %d bytes past the end of the device", size-(dsize-off)))
	}
	c.mu.RLock()
	wiped := c.wiped
	c.mu.RUnlock()
	if wiped {
		return nil, ErrWiped
	}
	ss := int64(c.sectorSize)
	d := &Device{under: under, off: off, size: size - size%ss, tail: size % ss, c: c, ss: ss, ivFirst: ivFirst, name: name}
	if !device.ConcurrentReads(under) {
		d.serial = new(sync.Mutex)
	}
	return d, nil
}

// Size is the decrypted device's size: the whole encryption sectors of
// the area.
func (d *Device) Size() int64 { return d.size }

// Tail is the number of bytes of the area after its last whole
// encryption sector, which the device leaves out.
func (d *Device) Tail() int64 { return d.tail }

// Under is the device holding the ciphertext and where in it the
// encrypted area starts. (Its bytes are ciphertext: not a Section.)
func (d *Device) Under() (device.Device, int64) { return d.under, d.off }

// Cipher is the cipher the device decrypts with.
func (d *Device) Cipher() *Cipher { return d.c }

// IVFirst is the IV sector number of the device's first sector.
func (d *Device) IVFirst() uint64 { return d.ivFirst }

// Name is the device's name.
func (d *Device) Name() string { return d.name }

// ConcurrentReads is true: reads of an underlying device that takes one
// read at a time are serialised here.
func (d *Device) ConcurrentReads() bool { return true }

// Close wipes the cipher's key. It does not close the underlying device.
func (d *Device) Close() error {
	d.c.Wipe()
	return nil
}

// scratch holds one encryption sector (at most 4096 bytes) for reads
// that do not start or end on a sector boundary.
var scratch = sync.Pool{New: func() any { return new([4096]byte) }}

// ReadAt reads the decrypted bytes [off, off+len(p)): whole encryption
// sectors are read and decrypted in p itself, a partial sector at either
// end through a one-sector scratch. A read past Size returns io.EOF for
// the part past the end; a sector whose ciphertext cannot be read fails
// with a *device.UnreadableError for the sectors concerned.
func (d *Device) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("%s: read at negative offset %d", d.name, off)
	}
	if off >= d.size {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	want := len(p)
	if int64(want) > d.size-off {
		p = p[:d.size-off]
	}
	done := 0
	for done < len(p) {
		pos := off + int64(done)
		q := p[done:]
		if r := pos % d.ss; r != 0 || int64(len(q)) < d.ss {
			// A partial sector: decrypt it whole in the scratch.
			buf := scratch.Get().(*[4096]byte)
			sec := buf[:d.ss]
			_, err := d.sectors(sec, pos-r)
			if err == nil {
				done += copy(q, sec[r:])
			}
			clear(sec)
			scratch.Put(buf)
			if err != nil {
				return done, err
			}
			continue
		}
		m := int64(len(q)) / d.ss * d.ss
		n, err := d.sectors(q[:m], pos)
		done += n
		if err != nil {
			return done, err
		}
	}
	if done < want {
		return done, io.EOF
	}
	return done, nil
}

// sectors reads and decrypts whole sectors into b (off and len(b)
// multiples of the sector size), over several goroutines when b is
// large. It returns how many bytes from the start of b hold plaintext.
func (d *Device) sectors(b []byte, off int64) (int, error) {
	workers := min(runtime.GOMAXPROCS(0), len(b)/parallelMin)
	if workers <= 1 {
		return d.readDecrypt(b, off)
	}
	nsec := int64(len(b)) / d.ss
	type result struct {
		n   int
		err error
	}
	res := make([]result, workers)
	part := func(i int) (int64, int64) { // byte range of part i in b
		lo := nsec * int64(i) / int64(workers) * d.ss
		hi := nsec * int64(i+1) / int64(workers) * d.ss
		return lo, hi
	}
	if d.serial != nil {
		// One read of the underlying device, then parallel decryption.
		n, err := d.readUnder(b, off)
		whole := n - n%int(d.ss)
		b = b[:whole]
		nsec = int64(whole) / d.ss
		var wg sync.WaitGroup
		for i := range workers {
			lo, hi := part(i)
			wg.Go(func() { res[i].err = d.decrypt(b[lo:hi], off+lo) })
		}
		wg.Wait()
		for i := range workers {
			if res[i].err != nil {
				lo, _ := part(i)
				return int(lo), res[i].err
			}
		}
		return whole, err
	}
	var wg sync.WaitGroup
	for i := 1; i < workers; i++ {
		lo, hi := part(i)
		wg.Go(func() { res[i].n, res[i].err = d.readDecrypt(b[lo:hi], off+lo) })
	}
	_, hi := part(0)
	res[0].n, res[0].err = d.readDecrypt(b[:hi], off)
	wg.Wait()
	n := 0
	for i := range workers {
		n += res[i].n
		if res[i].err != nil {
			return n, res[i].err
		}
	}
	return n, nil
}

// readDecrypt reads the ciphertext of whole sectors into b and decrypts
// the sectors read.
func (d *Device) readDecrypt(b []byte, off int64) (int, error) {
	n, rerr := d.readUnder(b, off)
	whole := n - n%int(d.ss)
	if err := d.decrypt(b[:whole], off); err != nil {
		return 0, err
	}
	return whole, rerr
}

// decrypt decrypts the whole sectors b, which start at byte off.
func (d *Device) decrypt(b []byte, off int64) error {
	if len(b) == 0 {
		return nil
	}
	// s = iv_tweak + (sector index) × IV step: with the default step
	// (sector size / 512) that is iv_tweak + off / 512 (luks.md §6.4).
	first := d.ivFirst + uint64(off/d.ss)*d.c.ivStep
	if err := d.c.Decrypt(b, first); err != nil {
		return fmt.Errorf("%s: %w", d.name, err)
	}
	return nil
}

// readUnder reads the ciphertext of b (whole sectors at byte off of the
// decrypted device) from the underlying device. It returns how many
// bytes were read, and an error saying which sectors could not be.
func (d *Device) readUnder(b []byte, off int64) (int, error) {
	if d.serial != nil {
		d.serial.Lock()
		defer d.serial.Unlock()
	}
	n, err := d.under.ReadAt(b, d.off+off)
	n = max(0, min(n, len(b)))
	if err == io.EOF && n == len(b) {
		err = nil
	}
	if err == nil && n < len(b) {
		err = io.ErrUnexpectedEOF
	}
	if err == nil {
		return n, nil
	}
	whole := int64(n) / d.ss * d.ss
	bad, badEnd := off+whole, off+whole+d.ss
	var ue *device.UnreadableError
	if errors.As(err, &ue) {
		// The unreadable range, if it is given in the underlying device's
		// offsets and lies in this read, widened to whole sectors.
		rs, re := d.off+off, d.off+off+int64(len(b))
		if ue.Len > 0 && ue.Off <= math.MaxInt64-ue.Len && ue.Off < re && ue.Off+ue.Len > rs {
			lo, hi := max(ue.Off, rs)-d.off, min(ue.Off+ue.Len, re)-d.off
			bad, badEnd = lo/d.ss*d.ss, (hi+d.ss-1)/d.ss*d.ss
			whole = min(whole, bad-off)
		}
		return int(whole), &device.UnreadableError{Device: d.name, Off: bad, Len: badEnd - bad,
			Why: fmt.Sprintf("the ciphertext cannot be read: %v", err)}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return int(whole), &device.UnreadableError{Device: d.name, Off: bad, Len: off + int64(len(b)) - bad,
			Why: fmt.Sprintf("the ciphertext ends early: %d of %d bytes read at byte %d of the underlying device", n, len(b), d.off+off)}
	}
	return int(whole), fmt.Errorf("%s: reading the ciphertext of bytes [%d, %d): %w", d.name, off, off+int64(len(b)), err)
}

// Map describes [off, off+length): data, except the sectors whose
// ciphertext is unreadable. Holes of the underlying device are data
// here: their zeros decrypt to pseudo-random bytes.
func (d *Device) Map(off, length int64) ([]device.Extent, error) {
	if off < 0 || length < 0 {
		return nil, fmt.Errorf("%s: map of [%d, +%d): negative", d.name, off, length)
	}
	if off >= d.size || length == 0 {
		return nil, nil
	}
	end := off + min(length, d.size-off)
	a := off / d.ss * d.ss
	b := (end + d.ss - 1) / d.ss * d.ss
	ext, err := device.MapAll(d.under, d.off+a, b-a)
	if err != nil {
		return nil, fmt.Errorf("%s: mapping the ciphertext: %w", d.name, err)
	}
	// The unreadable ranges widened to whole sectors, merged where the
	// widening makes them overlap.
	var bad []device.Extent
	for _, e := range ext {
		if e.Kind != device.Unreadable {
			continue
		}
		s := (e.Off - d.off) / d.ss * d.ss
		t := (e.Off - d.off + e.Len + d.ss - 1) / d.ss * d.ss
		why := "the ciphertext is unreadable: " + e.Why
		if n := len(bad); n > 0 {
			last := &bad[n-1]
			if le := last.Off + last.Len; le > s || (le == s && last.Why == why) {
				last.Len = max(le, t) - last.Off
				continue
			}
		}
		bad = append(bad, device.Extent{Off: s, Len: t - s, Kind: device.Unreadable, Why: why})
	}
	var out []device.Extent
	pos := off
	for _, u := range bad {
		s, t := max(u.Off, pos), min(u.Off+u.Len, end)
		if t <= s {
			continue
		}
		if s > pos {
			out = append(out, device.Extent{Off: pos, Len: s - pos, Kind: device.Data})
		}
		u.Off, u.Len = s, t-s
		out = append(out, u)
		pos = t
	}
	if pos < end {
		out = append(out, device.Extent{Off: pos, Len: end - pos, Kind: device.Data})
	}
	return out, nil
}

// AdviseSequential passes the hint to the underlying device, shifted
// and widened to whole sectors.
func (d *Device) AdviseSequential(off, n int64) {
	if a, ok := d.under.(device.Advisor); ok {
		if o, m, ok := d.hint(off, n); ok {
			a.AdviseSequential(o, m)
		}
	}
}

// AdviseWillNeed passes the hint to the underlying device, shifted and
// widened to whole sectors.
func (d *Device) AdviseWillNeed(off, n int64) {
	if a, ok := d.under.(device.Advisor); ok {
		if o, m, ok := d.hint(off, n); ok {
			a.AdviseWillNeed(o, m)
		}
	}
}

func (d *Device) hint(off, n int64) (int64, int64, bool) {
	if off < 0 || n <= 0 || off >= d.size {
		return 0, 0, false
	}
	end := off + min(n, d.size-off)
	a := off / d.ss * d.ss
	b := min((end+d.ss-1)/d.ss*d.ss, d.size)
	return d.off + a, b - a, true
}
