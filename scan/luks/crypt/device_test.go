package crypt

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/lvminspect/lvminspect/scan/device"
)

// memDev is an in-memory device with holes (which read as zeros),
// unreadable ranges, readahead hints recorded, and a check that a device
// saying it takes one read at a time is never read concurrently.
type memDev struct {
	b          []byte
	holes      [][2]int64 // [off, end)
	bad        [][2]int64
	serial     bool
	active     atomic.Int32
	overlapped atomic.Bool
	mu         sync.Mutex
	hints      []string
}

func (m *memDev) Size() int64 { return int64(len(m.b)) }

func (m *memDev) ReadAt(p []byte, off int64) (int, error) {
	if m.serial {
		if m.active.Add(1) > 1 {
			m.overlapped.Store(true)
		}
		defer m.active.Add(-1)
	}
	if off < 0 {
		return 0, errors.New("negative")
	}
	if off >= int64(len(m.b)) {
		return 0, io.EOF
	}
	for _, r := range m.bad {
		if off < r[1] && off+int64(len(p)) > r[0] {
			n := int(max(r[0]-off, 0))
			copy(p[:n], m.b[off:])
			// The whole damaged range, as a chunked container reports it.
			return n, &device.UnreadableError{Device: "mem", Off: r[0], Len: r[1] - r[0], Why: "test damage"}
		}
	}
	n := copy(p, m.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (m *memDev) ConcurrentReads() bool { return !m.serial }

func (m *memDev) Map(off, length int64) ([]device.Extent, error) {
	end := min(off+length, int64(len(m.b)))
	kind := func(x int64) (device.Kind, int64) {
		for _, r := range m.bad {
			if x >= r[0] && x < r[1] {
				return device.Unreadable, r[1]
			}
		}
		for _, r := range m.holes {
			if x >= r[0] && x < r[1] {
				return device.Hole, r[1]
			}
		}
		next := end
		for _, r := range append(append([][2]int64{}, m.bad...), m.holes...) {
			if r[0] > x && r[0] < next {
				next = r[0]
			}
		}
		return device.Data, next
	}
	var out []device.Extent
	for x := off; x < end; {
		k, next := kind(x)
		next = min(next, end)
		e := device.Extent{Off: x, Len: next - x, Kind: k}
		if k == device.Unreadable {
			e.Why = "test damage"
		}
		out = append(out, e)
		x = next
	}
	return out, nil
}

func (m *memDev) AdviseSequential(off, n int64) {
	m.mu.Lock()
	m.hints = append(m.hints, fmt.Sprintf("seq %d+%d", off, n))
	m.mu.Unlock()
}

func (m *memDev) AdviseWillNeed(off, n int64) {
	m.mu.Lock()
	m.hints = append(m.hints, fmt.Sprintf("need %d+%d", off, n))
	m.mu.Unlock()
}

// volume is an encrypted area at byte off of a device, with its plaintext.
type volume struct {
	dev  *memDev
	pt   []byte
	off  int64
	spec string
	key  []byte
	ss   int
}

func makeVolume(t testing.TB, r *rand.Rand, spec string, keyLen, ss, sectors int, off int64, ivFirst uint64) *volume {
	key := randBytes(r, keyLen)
	pt := randBytes(r, sectors*ss)
	ct := refEncrypt(t, spec, key, ss, false, pt, ivFirst)
	b := randBytes(r, int(off)+len(ct)+777)
	copy(b[off:], ct)
	return &volume{dev: &memDev{b: b}, pt: pt, off: off, spec: spec, key: key, ss: ss}
}

func (v *volume) open(t testing.TB, ivFirst uint64) *Device {
	t.Helper()
	c, err := New(v.spec, v.key, v.ss)
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDevice(v.dev, v.off, int64(len(v.pt)), c, ivFirst, "test-crypt")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func checkRead(t *testing.T, d *Device, pt []byte, off int64, n int) {
	t.Helper()
	p := make([]byte, n)
	got, err := d.ReadAt(p, off)
	wantN := max(0, min(int64(n), int64(len(pt))-off))
	if int64(got) != wantN {
		t.Fatalf("ReadAt(%d bytes at %d) = %d, %v; want %d bytes", n, off, got, err, wantN)
	}
	if int64(n) > wantN {
		if err != io.EOF {
			t.Fatalf("ReadAt(%d bytes at %d) past the end: err %v, want io.EOF", n, off, err)
		}
	} else if err != nil {
		t.Fatalf("ReadAt(%d bytes at %d): %v", n, off, err)
	}
	if !bytes.Equal(p[:got], pt[off:off+int64(got)]) {
		t.Fatalf("ReadAt(%d bytes at %d): wrong plaintext", n, off)
	}
}

func TestDeviceReads(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, v := range roundTripSpecs {
		for _, ss := range []int{512, 4096} {
			kl := v.keys[len(v.keys)-1]
			t.Run(fmt.Sprintf("%s/ss%d", v.spec, ss), func(t *testing.T) {
				ivFirst := uint64(r.IntN(3)) * 2097152
				vol := makeVolume(t, r, v.spec, kl, ss, 600, int64(ss)*3+4096, ivFirst)
				d := vol.open(t, ivFirst)
				if d.Size() != int64(len(vol.pt)) || d.Tail() != 0 {
					t.Fatalf("size %d tail %d", d.Size(), d.Tail())
				}
				// Whole device, aligned, unaligned, small, past the end.
				checkRead(t, d, vol.pt, 0, len(vol.pt))
				for range 200 {
					off := r.Int64N(int64(len(vol.pt)) + 100)
					n := r.IntN(3 * ss)
					if r.IntN(10) == 0 {
						n = r.IntN(len(vol.pt))
					}
					checkRead(t, d, vol.pt, off, n)
				}
				checkRead(t, d, vol.pt, 1, len(vol.pt)-2)
				checkRead(t, d, vol.pt, int64(ss)-1, 2)
				checkRead(t, d, vol.pt, int64(len(vol.pt))-5, 10)
				if n, err := d.ReadAt(nil, d.Size()); n != 0 || err != nil {
					t.Errorf("empty read at the end: %d, %v", n, err)
				}
				if _, err := d.ReadAt(make([]byte, 1), -1); err == nil {
					t.Error("negative offset accepted")
				}
			})
		}
	}
}

// Large reads split over goroutines, from a device that takes concurrent
// reads and from one that takes one at a time, and concurrent readers.
func TestDeviceParallel(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, serial := range []bool{false, true} {
		for _, ss := range []int{512, 4096} {
			vol := makeVolume(t, r, "aes-xts-plain64", 64, ss, (6<<20)/ss, 1<<20, 0)
			vol.dev.serial = serial
			d := vol.open(t, 0)
			checkRead(t, d, vol.pt, 0, len(vol.pt))
			checkRead(t, d, vol.pt, 12345, 4<<20)
			checkRead(t, d, vol.pt, 1<<20, 4<<20+100)
			var wg sync.WaitGroup
			for g := range 8 {
				seed := uint64(g)
				wg.Go(func() {
					r := rand.New(rand.NewPCG(seed, 99))
					for range 20 {
						off := r.Int64N(int64(len(vol.pt)))
						n := r.IntN(1 << 20)
						if r.IntN(4) == 0 {
							n = r.IntN(3 << 20)
						}
						p := make([]byte, n)
						got, err := d.ReadAt(p, off)
						if err != nil && err != io.EOF {
							t.Errorf("concurrent ReadAt: %v", err)
							return
						}
						if !bytes.Equal(p[:got], vol.pt[off:off+int64(got)]) {
							t.Errorf("concurrent ReadAt(%d at %d): wrong plaintext", n, off)
							return
						}
					}
				})
			}
			wg.Wait()
			if vol.dev.overlapped.Load() {
				t.Errorf("ss %d: a device that takes one read at a time was read concurrently", ss)
			}
		}
	}
}

func TestDeviceIVFirst(t *testing.T) {
	// iv_tweak counts in 512-byte units: a segment that starts at IV
	// 2097152 with 4096-byte sectors, read with the wrong first IV, is noise.
	r := rand.New(rand.NewPCG(7, 8))
	vol := makeVolume(t, r, "aes-xts-plain64", 64, 4096, 16, 0, 2097152)
	checkRead(t, vol.open(t, 2097152), vol.pt, 0, len(vol.pt))
	p := make([]byte, len(vol.pt))
	if _, err := vol.open(t, 2097152/8).ReadAt(p, 0); err != nil || bytes.Equal(p[:4096], vol.pt[:4096]) {
		t.Errorf("the IV counted in 4096-byte units decrypted correctly: %v", err)
	}
}

func TestDeviceUnreadableAndMap(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	const off = 8192
	vol := makeVolume(t, r, "aes-cbc-essiv:sha256", 32, 4096, 64, off, 0)
	// A hole over sectors 2-3 of the ciphertext and an unreadable range
	// in the middle of sector 10 to the start of sector 12.
	vol.dev.holes = [][2]int64{{off + 2*4096, off + 4*4096}}
	vol.dev.bad = [][2]int64{{off + 10*4096 + 100, off + 11*4096 + 1}}
	clear(vol.dev.b[off+2*4096 : off+4*4096])
	d := vol.open(t, 0)
	hole := make([]byte, 2*4096)
	if _, err := d.ReadAt(hole, 2*4096); err != nil || bytes.Count(hole, []byte{0}) > 100 {
		t.Errorf("a hole of the ciphertext decrypted to zeros: %v", err)
	}
	copy(vol.pt[2*4096:], hole) // what the device holds there now
	ext, err := d.Map(0, d.Size())
	if err != nil {
		t.Fatal(err)
	}
	want := []device.Extent{
		{Off: 0, Len: 10 * 4096, Kind: device.Data},
		{Off: 10 * 4096, Len: 2 * 4096, Kind: device.Unreadable, Why: "the ciphertext is unreadable: test damage"},
		{Off: 12 * 4096, Len: 52 * 4096, Kind: device.Data},
	}
	if fmt.Sprint(ext) != fmt.Sprint(want) {
		t.Errorf("Map:\n got %v\nwant %v", ext, want)
	}
	ext, err = d.Map(10*4096+5, 100)
	if err != nil || fmt.Sprint(ext) != fmt.Sprint([]device.Extent{{Off: 10*4096 + 5, Len: 100, Kind: device.Unreadable, Why: "the ciphertext is unreadable: test damage"}}) {
		t.Errorf("Map inside a sector: %v, %v", ext, err)
	}
	if ext, err := d.Map(d.Size(), 10); ext != nil || err != nil {
		t.Errorf("Map at the end: %v, %v", ext, err)
	}
	if _, err := d.Map(-1, 10); err == nil {
		t.Error("Map at a negative offset accepted")
	}
	// Reads up to the damage work; a read across it returns the sectors
	// before it and an UnreadableError in the decrypted device's offsets.
	checkRead(t, d, vol.pt, 0, 10*4096)
	checkRead(t, d, vol.pt, 12*4096, 10*4096)
	p := make([]byte, 8*4096)
	n, err := d.ReadAt(p, 6*4096+7)
	var ue *device.UnreadableError
	if !errors.As(err, &ue) || ue.Device != "test-crypt" || ue.Off != 10*4096 || ue.Len != 2*4096 {
		t.Fatalf("read across the damage: n %d, %v", n, err)
	}
	if n != 4*4096-7 || !bytes.Equal(p[:n], vol.pt[6*4096+7:10*4096]) {
		t.Errorf("read across the damage returned %d bytes", n)
	}
	// A read that starts in the damage.
	n, err = d.ReadAt(p, 11*4096+5)
	if !errors.As(err, &ue) || ue.Off != 11*4096 || ue.Len != 4096 || n != 0 {
		t.Errorf("read from inside the damage: n %d, %v", n, err)
	}
	// The same through the parallel path.
	p = make([]byte, 4<<20)
	vol2 := makeVolume(t, r, "aes-xts-plain64", 64, 512, (4<<20)/512, off, 0)
	vol2.dev.bad = [][2]int64{{off + 3<<20 + 1000, off + 3<<20 + 1001}}
	n, err = vol2.open(t, 0).ReadAt(p, 0)
	if !errors.As(err, &ue) || ue.Off != 3<<20+512 || ue.Len != 512 || n != 3<<20+512 || !bytes.Equal(p[:n], vol2.pt[:n]) {
		t.Errorf("parallel read across the damage: n %d, %v", n, err)
	}
}

func TestDeviceHints(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	vol := makeVolume(t, r, "aes-xts-plain64", 64, 4096, 16, 1<<20, 0)
	d := vol.open(t, 0)
	d.AdviseSequential(100, 5000)
	d.AdviseWillNeed(4096*15, 1<<30)
	d.AdviseWillNeed(d.Size(), 10)
	want := []string{"seq 1048576+8192", "need 1110016+4096"}
	if fmt.Sprint(vol.dev.hints) != fmt.Sprint(want) {
		t.Errorf("hints %v, want %v", vol.dev.hints, want)
	}
}

func TestNewDeviceErrors(t *testing.T) {
	c, err := New("aes-xts-plain64", seq(64), 4096)
	if err != nil {
		t.Fatal(err)
	}
	dev := &memDev{b: make([]byte, 1<<20)}
	for _, v := range [][2]int64{{-1, 4096}, {0, -1}, {1<<20 + 1, 0}, {4096, 1 << 20}, {1 << 62, 1 << 62}} {
		var re *RangeError
		if _, err := NewDevice(dev, v[0], v[1], c, 0, "x"); !errors.As(err, &re) {
			t.Errorf("NewDevice(%d, %d): %v", v[0], v[1], err)
		}
	}
	if _, err := NewDevice(nil, 0, 0, c, 0, "x"); err == nil {
		t.Error("no device accepted")
	}
	d, err := NewDevice(dev, 512, 1<<20-512, c, 0, "x")
	if err != nil {
		t.Fatal(err)
	}
	if d.Size() != 1<<20-4096 || d.Tail() != 3584 {
		t.Errorf("size %d tail %d", d.Size(), d.Tail())
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ReadAt(make([]byte, 10), 0); !errors.Is(err, ErrWiped) {
		t.Errorf("read after Close: %v", err)
	}
	if _, err := NewDevice(dev, 0, 4096, c, 0, "x"); !errors.Is(err, ErrWiped) {
		t.Errorf("NewDevice with a wiped cipher: %v", err)
	}
}
