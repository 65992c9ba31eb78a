// Command synthmd writes the member images of a Linux md RAID array
// (version-1 superblock, docs/format md-raid.md sections 3 and 6) whose
// array content is the bytes of a given file, for benchmarks and tests on
// machines without an md driver.
//
//	go run ./scripts/synthmd -in ARRAY.img -out PREFIX -members 3 [-level 5]
//	    [-layout left-symmetric] [-chunk 512] [-metadata 1.2]
//	    [-uuid HEX] [-name host:0] [-data-offset-kib 1024]
//
// writes PREFIX0.img .. PREFIX{n-1}.img, member i holding role i. The array
// is ARRAY.img rounded down to whole stripes (raid0/4/5: n or n-1 chunks;
// raid1: 4 KiB); an input smaller than one stripe is refused. Every data
// byte is written (parity computed); only the metadata gap in front of the
// data area is left as a hole. The superblocks describe a clean array,
// with an empty bad-block log reserved as mdadm does.
//
// Levels: 0 (one zone: all members the same size), 1, 4 (parity on the
// last role) and 5 with layouts 0..5 (left-asymmetric, right-asymmetric,
// left-symmetric, right-symmetric, parity-first, parity-last).
package main

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	sector   = 512
	magic    = 0xA92B4EFC
	sbFixed  = 256
	maxDevSB = 128 // dev_roles entries mdadm writes for small arrays
	// slots batches are in flight (read, placed, being written),
	// which bounds the memory.
	slots = 3
)

// batchBytes is about how many array bytes are read, placed and written
// at a time (a variable for the tests).
var batchBytes int64 = 4 << 20

// Params describes the array to write.
type Params struct {
	Level      int    // 0, 1, 4 or 5
	Layout     int    // md layout number (level 5: 0..5; other levels 0)
	Members    int    // raid_disks
	Chunk      int64  // bytes; a power of two, at least 4 KiB (unused for raid1)
	Metadata   string // "1.0", "1.1" or "1.2"
	DataOffset int64  // bytes from the member start to its data area (1.1, 1.2)
	UUID       [16]byte
	Name       string // set_name, at most 32 bytes
	CTime      time.Time
	UTime      time.Time
	Events     uint64
	DevUUIDs   [][16]byte // per role; nil: derived from UUID
	// DevNumbers are the roles' device numbers (their index in
	// dev_roles); nil: the role itself. Real arrays differ (md-raid.md
	// 3.5): in the md-raid5 fixture role 2 has device number 3.
	DevNumbers []int
	NoBBLog    bool // do not reserve the 8-sector bad-block log
}

// Geometry is the array's shape for a given input size. Sizes are bytes.
type Geometry struct {
	N, D        int   // roles; data chunks per stripe row
	Unit        int64 // bytes per member per row (the chunk; raid1: 4 KiB)
	Rows        int64 // stripe rows
	ArraySize   int64 // Rows * D * Unit
	MemberData  int64 // Rows * Unit: each member's data area
	SuperOffset int64
	DataOffset  int64
	MemberSize  int64 // size of each member image
	layout      int
	level       int
}

// NewGeometry checks p and works out the array for an input of size bytes.
func NewGeometry(p Params, size int64) (*Geometry, error) {
	g := &Geometry{N: p.Members, level: p.Level, layout: p.Layout}
	if p.Members < 1 || p.Members > 1920 {
		return nil, fmt.Errorf("%d members: give 1 to 1920", p.Members)
	}
	switch p.Level {
	case 0:
		g.D = p.Members
	case 1:
		g.D = 1
	case 4, 5:
		if p.Members < 2 {
			return nil, fmt.Errorf("raid%d needs at least 2 members", p.Level)
		}
		g.D = p.Members - 1
	default:
		return nil, fmt.Errorf("level %d: synthmd writes levels 0, 1, 4 and 5", p.Level)
	}
	if (p.Level == 5 && (p.Layout < 0 || p.Layout > 5)) || (p.Level != 5 && p.Layout != 0) {
		return nil, fmt.Errorf("layout %d is not valid for level %d", p.Layout, p.Level)
	}
	if p.Level == 1 {
		g.Unit = 4096
	} else {
		if p.Chunk < 4096 || p.Chunk&(p.Chunk-1) != 0 || p.Chunk/sector > math.MaxUint32 {
			return nil, fmt.Errorf("chunk of %d bytes: give a power of two of at least 4 KiB", p.Chunk)
		}
		g.Unit = p.Chunk
	}
	if len(p.Name) > 32 {
		return nil, fmt.Errorf("name %q is longer than 32 bytes", p.Name)
	}
	if p.DevUUIDs != nil && len(p.DevUUIDs) != p.Members {
		return nil, fmt.Errorf("%d device UUIDs for %d members", len(p.DevUUIDs), p.Members)
	}
	if p.DevNumbers != nil {
		if len(p.DevNumbers) != p.Members {
			return nil, fmt.Errorf("%d device numbers for %d members", len(p.DevNumbers), p.Members)
		}
		seen := map[int]bool{}
		for _, d := range p.DevNumbers {
			if d < 0 || d >= 1920 || seen[d] {
				return nil, fmt.Errorf("device numbers %v: give distinct numbers below 1920", p.DevNumbers)
			}
			seen[d] = true
		}
	}
	row := int64(g.D) * g.Unit
	g.Rows = size / row
	if g.Rows == 0 {
		return nil, fmt.Errorf("the input (%d bytes) is smaller than one stripe row (%d bytes)", size, row)
	}
	g.ArraySize = g.Rows * row
	g.MemberData = g.Rows * g.Unit
	switch p.Metadata {
	case "1.2", "1.1":
		g.SuperOffset = 0
		if p.Metadata == "1.2" {
			g.SuperOffset = 4096
		}
		if p.DataOffset%sector != 0 || p.DataOffset < g.SuperOffset+4096 {
			return nil, fmt.Errorf("data offset %d: give a multiple of 512 bytes, at least %d", p.DataOffset, g.SuperOffset+4096)
		}
		g.DataOffset = p.DataOffset
		g.MemberSize = g.DataOffset + g.MemberData
	case "1.0":
		if p.DataOffset != 0 {
			return nil, fmt.Errorf("metadata 1.0 keeps its data at byte 0 (data offset %d)", p.DataOffset)
		}
		// As mdadm places them (md-raid.md 3.1): the data, the
		// bad-block log's 4 KiB, the superblock. With 24 sectors after
		// the (4 KiB-aligned) data the superblock's sector, 16 sectors
		// before the end rounded down to 4 KiB (2.1), is 8 sectors
		// after the data.
		g.SuperOffset = g.MemberData + 8*sector
		g.MemberSize = g.MemberData + 24*sector
	default:
		return nil, fmt.Errorf("metadata %q: synthmd writes 1.0, 1.1 and 1.2", p.Metadata)
	}
	return g, nil
}

// Place gives the role holding data position j (0 .. D-1) of stripe row s
// in roles, and returns the parity role (-1 without parity): md-raid.md
// 6.3 (raid0, one zone), 6.4 (raid1: D = 1, role 0 stands for all), 6.5
// and segment-mapping.md 4.4.
func (g *Geometry) Place(s int64, roles []int) int {
	n, d := int64(g.N), int64(g.D)
	p := int64(-1)
	switch g.level {
	case 0, 1:
		for j := range roles {
			roles[j] = j
		}
		return -1
	case 4:
		p = d // md's raid4: parity on the last role
		for j := range roles {
			roles[j] = j
		}
		return int(p)
	}
	switch g.layout {
	case 0, 2: // left-asymmetric, left-symmetric
		p = d - s%n
	case 1, 3: // right-asymmetric, right-symmetric
		p = s % n
	case 4: // parity-first
		p = 0
	case 5: // parity-last
		p = d
	}
	for j := range roles {
		jj := int64(j)
		switch g.layout {
		case 0, 1:
			if jj >= p {
				jj++
			}
			roles[j] = int(jj)
		case 2, 3:
			roles[j] = int((p + 1 + jj) % n)
		case 4:
			roles[j] = j + 1
		case 5:
			roles[j] = j
		}
	}
	return int(p)
}

// Superblock returns the 4 KiB block holding the version-1 superblock of
// role (md-raid.md 3.1, checksum 3.3), to be written at g.SuperOffset.
func Superblock(p Params, g *Geometry, role int) []byte {
	numbers := p.DevNumbers
	if numbers == nil {
		numbers = make([]int, p.Members)
		for r := range numbers {
			numbers[r] = r
		}
	}
	maxDev := maxDevSB
	for _, d := range numbers {
		maxDev = max(maxDev, d+1)
	}
	b := make([]byte, 4096)
	le := binary.LittleEndian
	le.PutUint32(b[0:], magic)
	le.PutUint32(b[4:], 1) // major_version
	// feature_map 0, pad0 0
	copy(b[16:32], p.UUID[:])
	copy(b[32:64], p.Name)
	le.PutUint64(b[64:], mdTime(p.CTime))
	le.PutUint32(b[72:], uint32(int32(p.Level)))
	le.PutUint32(b[76:], uint32(p.Layout))
	if p.Level != 0 { // raid0 members each contribute data_size
		le.PutUint64(b[80:], uint64(g.MemberData/sector))
	}
	if p.Level != 1 {
		le.PutUint32(b[88:], uint32(g.Unit/sector))
	}
	le.PutUint32(b[92:], uint32(p.Members))
	le.PutUint64(b[128:], uint64(g.DataOffset/sector))
	le.PutUint64(b[136:], uint64(g.MemberData/sector))
	le.PutUint64(b[144:], uint64(g.SuperOffset/sector))
	le.PutUint32(b[160:], uint32(numbers[role]))
	du := devUUID(p, role)
	copy(b[168:184], du[:])
	if !p.NoBBLog { // 8 sectors reserved, no entries (feature bit 3 clear)
		off := int32(8) // 1.1: sector 8
		switch p.Metadata {
		case "1.2":
			off = 16 // sector 24
		case "1.0":
			off = -8 // the 4 KiB before the superblock
		}
		le.PutUint16(b[186:], 8)
		le.PutUint32(b[188:], uint32(off))
	}
	le.PutUint64(b[192:], mdTime(p.UTime))
	le.PutUint64(b[200:], p.Events)
	le.PutUint64(b[208:], math.MaxUint64) // resync_offset: in sync
	le.PutUint32(b[220:], uint32(maxDev))
	for i := range maxDev {
		le.PutUint16(b[sbFixed+2*i:], 0xFFFF) // no device with this number
	}
	for r, d := range numbers {
		le.PutUint16(b[sbFixed+2*d:], uint16(r))
	}
	le.PutUint32(b[216:], checksum(b[:sbFixed+2*maxDev]))
	return b
}

// checksum is md-raid.md 3.3: the little-endian u32 words (a u16 tail)
// summed into 64 bits with sb_csum taken as zero, the halves added.
func checksum(b []byte) uint32 {
	var sum uint64
	i := 0
	for ; i+4 <= len(b); i += 4 {
		if i != 216 {
			sum += uint64(binary.LittleEndian.Uint32(b[i:]))
		}
	}
	if i+2 <= len(b) {
		sum += uint64(binary.LittleEndian.Uint16(b[i:]))
	}
	return uint32(sum) + uint32(sum>>32)
}

// mdTime encodes t as md does: seconds in bits 0-39, microseconds above.
func mdTime(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return uint64(t.Unix())&(1<<40-1) | uint64(t.Nanosecond()/1000)<<40
}

func devUUID(p Params, role int) [16]byte {
	if p.DevUUIDs != nil {
		return p.DevUUIDs[role]
	}
	h := sha256.Sum256(fmt.Appendf(nil, "synthmd device %x %d", p.UUID, role))
	var u [16]byte
	copy(u[:], h[:])
	return u
}

// batch is a run of stripe rows on its way from the input to the members.
type batch struct {
	arr  []byte   // the rows' array bytes
	mem  [][]byte // per role: its bytes of the rows (raid1: all arr)
	off  int64    // offset in the data areas
	n    int64    // bytes per member
	refs atomic.Int32
}

// Write writes the superblocks and data areas of the array whose bytes
// src yields (g.ArraySize of them are read) to dst, one per role, at
// their offsets in the member images. Memory is bounded: a few batches of
// about batchBytes of array bytes. Each member is written by its own
// goroutine while the next rows are read and placed.
func Write(src io.Reader, p Params, g *Geometry, dst []io.WriterAt) error {
	if len(dst) != g.N {
		return fmt.Errorf("%d member outputs for %d members", len(dst), g.N)
	}
	for r, w := range dst {
		if _, err := w.WriteAt(Superblock(p, g, r), g.SuperOffset); err != nil {
			return fmt.Errorf("member %d: %w", r, err)
		}
	}
	rowArr := int64(g.D) * g.Unit
	k := max(1, batchBytes/rowArr)
	free := make(chan *batch, slots)
	for range slots {
		b := &batch{arr: make([]byte, k*rowArr), mem: make([][]byte, g.N)}
		for r := range b.mem {
			if p.Level == 1 {
				b.mem[r] = b.arr
			} else {
				b.mem[r] = make([]byte, k*g.Unit)
			}
		}
		free <- b
	}
	var (
		errMu    sync.Mutex
		firstErr error
		failed   atomic.Bool
		wg       sync.WaitGroup
	)
	setErr := func(err error) {
		errMu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		errMu.Unlock()
		failed.Store(true)
	}
	chans := make([]chan *batch, g.N)
	for r := range chans {
		chans[r] = make(chan *batch, slots)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range chans[r] {
				if !failed.Load() {
					if _, err := dst[r].WriteAt(b.mem[r][:b.n], g.DataOffset+b.off); err != nil {
						setErr(fmt.Errorf("member %d: %w", r, err))
					}
				}
				if b.refs.Add(-1) == 0 {
					free <- b
				}
			}
		}()
	}
	roles := make([]int, g.D)
	for row := int64(0); row < g.Rows && !failed.Load(); row += k {
		b := <-free
		cnt := min(k, g.Rows-row)
		if _, err := io.ReadFull(src, b.arr[:cnt*rowArr]); err != nil {
			setErr(fmt.Errorf("reading the array at byte %d: %w", row*rowArr, err))
			free <- b
			break
		}
		if p.Level != 1 {
			for i := range cnt {
				s := row + i
				par := g.Place(s, roles)
				mo := i * g.Unit
				for j, r := range roles {
					c := b.arr[(i*int64(g.D)+int64(j))*g.Unit:][:g.Unit]
					copy(b.mem[r][mo:mo+g.Unit], c)
					if par >= 0 {
						pc := b.mem[par][mo : mo+g.Unit]
						if j == 0 {
							copy(pc, c)
						} else {
							subtle.XORBytes(pc, pc, c)
						}
					}
				}
			}
		}
		b.off, b.n = row*g.Unit, cnt*g.Unit
		b.refs.Store(int32(g.N))
		for _, ch := range chans {
			ch <- b
		}
	}
	for _, ch := range chans {
		close(ch)
	}
	wg.Wait()
	return firstErr
}

// parseLayout accepts an md layout number or mdadm's name for it.
func parseLayout(s string) (int, error) {
	names := map[string]int{
		"left-asymmetric": 0, "la": 0, "right-asymmetric": 1, "ra": 1,
		"left-symmetric": 2, "ls": 2, "right-symmetric": 3, "rs": 3,
		"parity-first": 4, "parity-last": 5,
	}
	if v, ok := names[strings.ToLower(s)]; ok {
		return v, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("layout %q: give a number or one of left-asymmetric, right-asymmetric, left-symmetric, right-symmetric, parity-first, parity-last", s)
	}
	return v, nil
}

// parseUUID reads 32 hex digits, ignoring ':' and '-'.
func parseUUID(s string) ([16]byte, error) {
	var u [16]byte
	h := strings.NewReplacer(":", "", "-", "").Replace(s)
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != 16 {
		return u, fmt.Errorf("uuid %q: give 32 hex digits", s)
	}
	copy(u[:], b)
	return u, nil
}

func main() {
	in := flag.String("in", "", "the file holding the array's bytes")
	out := flag.String("out", "", "prefix of the member images: PREFIX0.img, PREFIX1.img, ...")
	members := flag.Int("members", 3, "number of members (raid_disks)")
	level := flag.Int("level", 5, "raid level: 0, 1, 4 or 5")
	layout := flag.String("layout", "", "raid5 layout: name or number (default left-symmetric; other levels 0)")
	chunk := flag.Int64("chunk", 512, "chunk size in KiB (raid0/4/5)")
	metadata := flag.String("metadata", "1.2", "superblock version: 1.0, 1.1 or 1.2")
	uuidHex := flag.String("uuid", "", "array UUID, 32 hex digits (default random)")
	name := flag.String("name", "synthmd:0", "array name (homehost:name)")
	dataOffKiB := flag.Int64("data-offset-kib", -1, "data offset in KiB (default 1024 for 1.1 and 1.2, 0 for 1.0)")
	events := flag.Uint64("events", 1, "the superblocks' event count")
	flag.Parse()
	if *in == "" || *out == "" {
		fail(errors.New("-in FILE and -out PREFIX are required"))
	}
	p := Params{Level: *level, Members: *members, Chunk: *chunk << 10, Metadata: *metadata, Name: *name, Events: *events}
	var err error
	switch {
	case *layout != "":
		if p.Layout, err = parseLayout(*layout); err != nil {
			fail(err)
		}
	case p.Level == 5:
		p.Layout = 2
	}
	switch {
	case *dataOffKiB >= 0:
		p.DataOffset = *dataOffKiB << 10
	case p.Metadata != "1.0":
		p.DataOffset = 1 << 20
	}
	if *uuidHex != "" {
		if p.UUID, err = parseUUID(*uuidHex); err != nil {
			fail(err)
		}
	} else if _, err := rand.Read(p.UUID[:]); err != nil {
		fail(err)
	}
	p.CTime = time.Now().Truncate(time.Second)
	p.UTime = p.CTime

	f, err := os.Open(*in)
	if err != nil {
		fail(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		fail(err)
	}
	g, err := NewGeometry(p, st.Size())
	if err != nil {
		fail(err)
	}
	if g.ArraySize < st.Size() {
		fmt.Fprintf(os.Stderr, "synthmd: the array holds the first %d bytes of %s (%d bytes not in a whole stripe row left out)\n",
			g.ArraySize, *in, st.Size()-g.ArraySize)
	}
	outs := make([]*os.File, g.N)
	dst := make([]io.WriterAt, g.N)
	for r := range outs {
		path := fmt.Sprintf("%s%d.img", *out, r)
		if outs[r], err = os.Create(path); err != nil {
			fail(err)
		}
		if err := outs[r].Truncate(g.MemberSize); err != nil {
			fail(err)
		}
		dst[r] = outs[r]
	}
	if err := Write(f, p, g, dst); err != nil {
		fail(err)
	}
	for _, o := range outs {
		if err := o.Close(); err != nil {
			fail(err)
		}
	}
	fmt.Printf("%s%d.img .. %s%d.img: raid%d, metadata %s, %d members of %d bytes (data at %d), array %d bytes, uuid %x\n",
		*out, 0, *out, g.N-1, p.Level, p.Metadata, g.N, g.MemberSize, g.DataOffset, g.ArraySize, p.UUID)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "synthmd:", err)
	os.Exit(2)
}
