package raid

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/internal/sourcetest"
	"github.com/lvminspect/lvminspect/model"
)

// The raid10 vectors of md-raid.md §6.6 (members of 16 chunks), copies
// as role/row.
var raid10Vectors = []struct {
	layout uint32
	n      int
	A      int64
	stride int64 // rows; 0 for "-"
	chunks [5]string
}{
	{0x102, 4, 32, 0, [5]string{"0/0 1/0", "2/0 3/0", "0/1 1/1", "2/1 3/1", "0/2 1/2"}},
	{0x102, 3, 24, 0, [5]string{"0/0 1/0", "2/0 0/1", "1/1 2/1", "0/2 1/2", "2/2 0/3"}},
	{0x201, 4, 32, 8, [5]string{"0/0 1/8", "1/0 2/8", "2/0 3/8", "3/0 0/8", "0/1 1/9"}},
	{0x201, 3, 24, 8, [5]string{"0/0 1/8", "1/0 2/8", "2/0 0/8", "0/1 1/9", "1/1 2/9"}},
	{0x10201, 3, 24, 1, [5]string{"0/0 1/1", "1/0 2/1", "2/0 0/1", "0/2 1/3", "1/2 2/3"}},
	{0x10301, 4, 20, 1, [5]string{"0/0 1/1 2/2", "1/0 2/1 3/2", "2/0 3/1 0/2", "3/0 0/1 1/2", "0/3 1/4 2/5"}},
}

func TestMDRaid10SpecVectors(t *testing.T) {
	const C = 4096
	for _, v := range raid10Vectors {
		name := fmt.Sprintf("%#x on %d", v.layout, v.n)
		m := &mdSetup{a: MDArray{Level: 10, Layout: v.layout, ChunkBytes: C, Size: 16 * C, Roles: make([]MDMember, v.n)}, n: v.n, name: "t"}
		g, err := m.raid10Geometry()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if g.A != v.A {
			t.Errorf("%s: A = %d, want %d", name, g.A, v.A)
		}
		if v.stride != 0 && g.strideRows != v.stride {
			t.Errorf("%s: stride %d rows, want %d", name, g.strideRows, v.stride)
		}
		ref := &refArray{level: 10, layout: v.layout, C: C, n: v.n, D: 16 * C}
		for k, want := range v.chunks {
			var got, refGot []string
			for j := int64(0); j < g.nc*g.fc; j++ {
				r, row := g.copyAt(int64(k), j)
				got = append(got, fmt.Sprintf("%d/%d", r, row))
				img, off := g.chunk(int64(k), j)
				if int64(img) != r || off != row*C {
					t.Errorf("%s chunk %d copy %d: chunk() = %d, %d, copyAt %d/%d", name, k, j, img, off, r, row)
				}
			}
			for _, c := range ref.r10Copies(int64(k)) {
				refGot = append(refGot, fmt.Sprintf("%d/%d", c.role, c.t))
			}
			if s := strings.Join(got, " "); s != want {
				t.Errorf("%s chunk %d: %s, want %s", name, k, s, want)
			}
			if s := strings.Join(refGot, " "); s != want {
				t.Errorf("test helper: %s chunk %d: %s, want %s", name, k, s, want)
			}
		}
		// The near layout is Copies's own placement (spec §4.3).
		if g.fc == 1 {
			s := &Copies{cb: C, c: g.nc, imgs: make([]*image, v.n)}
			for k := int64(0); k < g.A; k++ {
				for j := int64(0); j < g.nc; j++ {
					i1, o1 := s.place(k, j, 5)
					i2, o2 := g.chunk(k, j)
					if i1 != i2 || o1 != o2+5 {
						t.Fatalf("%s chunk %d copy %d: near %d/%d, md %d/%d", name, k, j, i1, o1, i2, o2)
					}
				}
			}
		}
	}
}

// The raid0 zone vector of md-raid.md §10.3: chunk 64 sectors, data
// sizes 14272, 6080, 10176 sectors.
func TestMDRaid0ZoneVector(t *testing.T) {
	const sec = 512
	sizes := []int64{14272, 6080, 10176}
	roles := make([]MDMember, 3)
	for r, s := range sizes {
		// Each sector of a member holds its role and sector number.
		b := make([]byte, s*sec)
		for i := int64(0); i < s; i++ {
			binary.LittleEndian.PutUint32(b[i*sec:], uint32(r))
			binary.LittleEndian.PutUint32(b[i*sec+4:], uint32(i))
		}
		roles[r] = MDMember{Name: fmt.Sprintf("m%d", r), Src: &memSrc{name: fmt.Sprintf("m%d", r), data: b}, DataSize: s * sec}
	}
	a := MDArray{Name: "md0", Level: 0, ChunkBytes: 64 * sec, Roles: roles, ResyncFrom: math.MaxInt64}
	_, err := OpenMD(a)
	var le *MDLayoutError
	if !errors.As(err, &le) || le.Zones != 3 || len(le.Differ) != 1 || le.Differ[0] != 1 {
		t.Fatalf("layout not recorded: %v (%+v)", err, le)
	}
	if !strings.Contains(err.Error(), "not recorded") || !strings.Contains(err.Error(), "zone 1") {
		t.Errorf("message: %v", err)
	}
	want := map[int][][2]int64{ // array sector -> role, device sector for layouts 1 and 2
		0: {{0, 0}, {0, 0}}, 64: {{1, 0}, {1, 0}}, 18240: {{2, 6080}, {0, 6080}}, 18304: {{0, 6080}, {2, 6080}},
		18368: {{2, 6144}, {0, 6144}}, 26432: {{0, 10176}, {0, 10176}},
	}
	for lay := 1; lay <= 2; lay++ {
		a.Raid0Layout = lay
		src, err := OpenMD(a)
		if err != nil {
			t.Fatal(err)
		}
		if src.Size() != 30528*sec {
			t.Errorf("layout %d: size %d sectors, want 30528", lay, src.Size()/sec)
		}
		for x, w := range want {
			b := make([]byte, sec)
			if n, err := src.ReadAt(b, int64(x)*sec); n != sec || err != nil {
				t.Fatal(n, err)
			}
			r, s := binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint32(b[4:])
			if int64(r) != w[lay-1][0] || int64(s) != w[lay-1][1] {
				t.Errorf("layout %d: array sector %d is %d:%d, want %d:%d", lay, x, r, s, w[lay-1][0], w[lay-1][1])
			}
		}
	}
}

// The pictures of md-raid.md §6.5 for the raid6 layouts segment-mapping.md
// does not list: 5 roles, stripes 0..4, coefficients in brackets.
var md6Pictures = map[string][]string{
	"md6_la": {"Q D0(0) D1(1) D2(2) P", "D3(0) D4(1) D5(2) P Q", "D6(1) D7(2) P Q D8(0)", "D9(2) P Q D10(0) D11(1)", "P Q D12(0) D13(1) D14(2)"},
	"md6_ls": {"Q D0(0) D1(1) D2(2) P", "D3(0) D4(1) D5(2) P Q", "D7(1) D8(2) P Q D6(0)", "D11(2) P Q D9(0) D10(1)", "P Q D12(0) D13(1) D14(2)"},
	"md6_ra": {"P Q D0(0) D1(1) D2(2)", "D3(2) P Q D4(0) D5(1)", "D6(1) D7(2) P Q D8(0)", "D9(0) D10(1) D11(2) P Q", "Q D12(0) D13(1) D14(2) P"},
	"md6_rs": {"P Q D0(0) D1(1) D2(2)", "D5(2) P Q D3(0) D4(1)", "D7(1) D8(2) P Q D6(0)", "D9(0) D10(1) D11(2) P Q", "Q D12(0) D13(1) D14(2) P"},
}

func drawStripeCoef(l *parityLayout, s int64) string {
	cells := make([]string, l.n)
	P, Q := l.parity(s)
	cells[P], cells[Q] = "P", "Q"
	for j := 0; j < l.d; j++ {
		i := l.dataImage(j, P)
		if i < 0 || i >= l.n || cells[i] != "" {
			return fmt.Sprintf("data %d on bad image %d", j, i)
		}
		cells[i] = fmt.Sprintf("D%d(%d)", s*int64(l.d)+int64(j), l.coef(i, P, Q))
	}
	return strings.Join(cells, " ")
}

func TestMDRaid6SpecPictures(t *testing.T) {
	for name, rows := range md6Pictures {
		l, err := newParityLayout(name, 5)
		if err != nil {
			t.Fatal(err)
		}
		for s, want := range rows {
			if got := drawStripeCoef(l, int64(s)); got != want {
				t.Errorf("%s stripe %d: %s, want %s", name, s, got, want)
			}
		}
	}
	// 4 roles, layout 2: Q D0 D1 P, D2 D3 P Q, D5 P Q D4, P Q D6 D7; the
	// coefficient is the position in the stripe.
	l, _ := newParityLayout("md6_ls", 4)
	for s, want := range []string{"Q D0(0) D1(1) P", "D2(0) D3(1) P Q", "D5(1) P Q D4(0)", "P Q D6(0) D7(1)"} {
		if got := drawStripeCoef(l, int64(s)); got != want {
			t.Errorf("md6_ls n=4 stripe %d: %s, want %s", s, got, want)
		}
	}
	// Layouts 4 and 20 from the table.
	for name, want := range map[string]string{"md6_p0": "P Q D0(0) D1(1) D2(2)", "md6_p0_6": "P D0(0) D1(1) D2(2) Q"} {
		l, _ := newParityLayout(name, 5)
		for s := int64(0); s < 5; s++ {
			w := strings.NewReplacer("D0", fmt.Sprintf("D%d", 3*s), "D1", fmt.Sprintf("D%d", 3*s+1), "D2", fmt.Sprintf("D%d", 3*s+2)).Replace(want)
			if got := drawStripeCoef(l, s); got != w {
				t.Errorf("%s stripe %d: %s, want %s", name, s, got, w)
			}
		}
	}
}

// Every parity layout an md array can have agrees with the test's own
// transcription of the spec for many role counts and stripes: placement
// and Q coefficients. Where Q is the last role, the §6.5 rule (walk from
// the role after Q) gives LVM's coefficients (§4.5, walk from role 0).
func TestMDParityLayoutsAgainstSpec(t *testing.T) {
	layouts := map[int32][]uint32{4: {0, 5}, 5: {0, 1, 2, 3, 4, 5}, 6: {0, 1, 2, 3, 4, 5, 8, 9, 10, 16, 17, 18, 19, 20}}
	for level, lays := range layouts {
		for _, lay := range lays {
			name := mdParityName(level, lay)
			for n := 3; n <= 12; n++ {
				if level == 6 && n < 4 {
					continue
				}
				l, err := newParityLayout(name, n)
				if err != nil {
					t.Fatal(err)
				}
				ref := &refArray{level: level, layout: lay, n: n}
				for s := int64(0); s < 3*int64(n); s++ {
					P, Q := l.parity(s)
					rP, rQ, rD, rc := ref.stripe(s)
					if P != rP || Q != rQ {
						t.Fatalf("level %d layout %d n=%d stripe %d: P, Q %d, %d, want %d, %d", level, lay, n, s, P, Q, rP, rQ)
					}
					for j := 0; j < l.d; j++ {
						D := l.dataImage(j, P)
						if D != rD[j] {
							t.Fatalf("level %d layout %d n=%d stripe %d: data %d on %d, want %d", level, lay, n, s, j, D, rD[j])
						}
						if Q >= 0 && l.coef(D, P, Q) != rc[j] {
							t.Fatalf("level %d layout %d n=%d stripe %d: coefficient of role %d %d, want %d", level, lay, n, s, D, l.coef(D, P, Q), rc[j])
						}
					}
					if Q == n-1 && !l.ddf {
						walk := *l
						walk.qNext = !l.qNext
						for j := 0; j < l.d; j++ {
							D := l.dataImage(j, P)
							if walk.coef(D, P, Q) != l.coef(D, P, Q) {
								t.Fatalf("%s n=%d stripe %d: the two coefficient rules differ for role %d", name, n, s, D)
							}
						}
					}
				}
			}
		}
	}
	// LVM's layouts do not take md's from a dm-raid superblock.
	for level := uint32(5); level <= 6; level++ {
		for lay := uint32(0); lay < 32; lay++ {
			if name := layoutFromMD(level, lay); strings.HasPrefix(name, "md6_") {
				t.Errorf("layoutFromMD(%d, %d) = %s", level, lay, name)
			}
		}
	}
}

// mdCase is an array shape to test.
type mdCase struct {
	level  int32
	layout uint32
	r0     int
	n      int
	C      int64
	D      int64
	dm     []int64
}

func (c mdCase) String() string {
	return fmt.Sprintf("level %d layout %#x r0 %d n %d C %d D %d dm %v", c.level, c.layout, c.r0, c.n, c.C, c.D, c.dm)
}

func (c mdCase) ref() *refArray {
	return &refArray{level: c.level, layout: c.layout, r0: c.r0, C: c.C, n: c.n, D: c.D, dm: c.dm}
}

// mdCases lists every level and layout with a few role counts.
func mdCases(r *rand.Rand) []mdCase {
	const C = 4096
	var out []mdCase
	rows := func(n int) int64 { return int64(2*n + 1) }
	// linear, with and without rounding to the chunk.
	out = append(out, mdCase{level: -1, n: 1, dm: []int64{5 * 512}},
		mdCase{level: -1, n: 3, dm: []int64{7 * 512, 3 * 512, 5 * 512}},
		mdCase{level: -1, n: 3, C: C, dm: []int64{3*C + 512, 2 * C, 4*C + 1024}})
	// raid0: one zone, and zones with both layouts; the first zone of
	// 3*3 = 9 chunks, odd, so that the layouts differ in zone 1.
	out = append(out, mdCase{level: 0, n: 1, C: C, dm: []int64{5 * C}},
		mdCase{level: 0, n: 3, C: C, dm: []int64{4 * C, 4 * C, 4*C + 512}},
		mdCase{level: 0, n: 2, C: 2 * C, dm: []int64{6 * C, 6 * C}})
	for _, r0 := range []int{1, 2} {
		out = append(out, mdCase{level: 0, r0: r0, n: 3, C: C, dm: []int64{7 * C, 3 * C, 5*C + 100}},
			mdCase{level: 0, r0: r0, n: 4, C: C, dm: []int64{3 * C, 9 * C, 3 * C, 6 * C}})
	}
	for n := 1; n <= 3; n++ {
		out = append(out, mdCase{level: 1, n: n, D: 20000})
	}
	for _, lay := range []uint32{0, 5} {
		for _, n := range []int{2, 3, 4} {
			out = append(out, mdCase{level: 4, layout: lay, n: n, C: C, D: rows(n)*C + 512})
		}
	}
	for lay := uint32(0); lay <= 5; lay++ {
		for _, n := range []int{2, 3, 4, 5} {
			out = append(out, mdCase{level: 5, layout: lay, n: n, C: C, D: rows(n) * C})
		}
	}
	for _, lay := range []uint32{0, 1, 2, 3, 4, 5, 8, 9, 10, 16, 17, 18, 19, 20} {
		for _, n := range []int{4, 5, 6} {
			out = append(out, mdCase{level: 6, layout: lay, n: n, C: C, D: rows(n)*C + 2048})
		}
	}
	for _, v := range []struct {
		layout uint32
		ns     []int
	}{
		{0x102, []int{2, 3, 4, 5}}, {0x103, []int{3, 4}}, {0x201, []int{2, 3, 4}}, {0x301, []int{3, 5}},
		{0x202, []int{4, 5}}, {0x10201, []int{2, 3, 4}}, {0x10301, []int{3, 4}}, {0x10202, []int{4}},
		{0x20201, []int{4, 5}}, {0x40201, []int{4, 5}}, {0x40202, []int{4, 5, 6}}, {0x20301, []int{6, 7}},
	} {
		for _, n := range v.ns {
			out = append(out, mdCase{level: 10, layout: v.layout, n: n, C: C, D: (16 + int64(r.IntN(3))) * C})
		}
	}
	return out
}

// mdMembers builds the members of c for the array bytes data: each data
// area after a random data offset of 0xEE bytes, with some bytes after.
func mdMembers(t *testing.T, c mdCase, data []byte, r *rand.Rand) ([]*memSrc, []MDMember) {
	t.Helper()
	ref := c.ref()
	areas, err := ref.build(data)
	if err != nil {
		t.Fatalf("%v: %v", c, err)
	}
	ms := make([]*memSrc, c.n)
	roles := make([]MDMember, c.n)
	for i, a := range areas {
		off := int64(r.IntN(4)) * 512
		b := bytes.Repeat([]byte{0xEE}, int(off))
		b = append(b, a...)
		b = append(b, bytes.Repeat([]byte{0xDD}, r.IntN(2)*4096)...)
		ms[i] = &memSrc{name: fmt.Sprintf("m%d", i), data: b}
		roles[i] = MDMember{Name: ms[i].name, Src: ms[i], DataOffset: off}
		if c.dm != nil {
			roles[i].DataSize = c.dm[i]
		}
	}
	return ms, roles
}

func (c mdCase) array(roles []MDMember) MDArray {
	return MDArray{Name: "md9", Level: c.level, Layout: c.layout, Raid0Layout: c.r0, ChunkBytes: c.C, Size: c.D, Roles: roles, ResyncFrom: math.MaxInt64}
}

// checkMD reads src like the export engine and compares every byte and
// the missing ones; a ReadAt over any missing run must fail, not return
// zeros.
func checkMD(t *testing.T, src MDSource, data []byte, want []bool, step int64) {
	t.Helper()
	checkAgainst(t, src, data, want, step)
	runs, err := src.Runs(0, src.Size())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if r.Kind != export.RunMissing {
			continue
		}
		if r.Reason == "" {
			t.Fatalf("missing run %+v without a reason", r)
		}
		b := make([]byte, min(r.Len, 3000))
		if _, err := src.ReadAt(b, r.Off); err == nil {
			t.Fatalf("ReadAt of missing bytes [%d, %d) did not fail (%s)", r.Off, r.Off+int64(len(b)), r.Reason)
		}
	}
}

// TestOpenMDEveryLevel builds arrays of every level and layout with the
// spec's rules, reads them back whole, with every set of roles missing
// that the level survives, and with one more missing than it survives.
func TestOpenMDEveryLevel(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, c := range mdCases(r) {
		ref := c.ref()
		data := randBytes(r, ref.size())
		ms, roles := mdMembers(t, c, data, r)
		src, err := OpenMD(c.array(roles))
		if err != nil {
			t.Fatalf("%v: %v", c, err)
		}
		if src.Size() != ref.size() {
			t.Fatalf("%v: size %d, want %d", c, src.Size(), ref.size())
		}
		got, miss := sourcetest.Read(t, src, 1<<20)
		if len(miss) != 0 || !bytes.Equal(got, data) {
			t.Fatalf("%v: missing %v, %s", c, miss, firstDiff(got, data))
		}
		p := ref.parityCount()
		survived, lostSome := 0, 0
		for set := uint64(1); set < 1<<uint(c.n); set++ {
			k := bits.OnesCount64(set)
			if p > 0 && k > p+1 || c.level <= 0 && k > 1 {
				continue
			}
			rs := append([]MDMember(nil), roles...)
			for i := range rs {
				if set&(1<<uint(i)) != 0 {
					rs[i].Src = nil
				}
			}
			src, err := OpenMD(c.array(rs))
			if err != nil {
				t.Fatalf("%v without %b: %v", c, set, err)
			}
			out := func(i int) bool { return set&(1<<uint(i)) != 0 }
			want := ref.missing(func(i int, _ int64) bool { return out(i) }, func(i int) bool { return !out(i) }, noEnd)
			any := false
			for _, m := range want {
				any = any || m
			}
			if any {
				lostSome++
			} else {
				survived++
			}
			// The level's redundancy decides: parity up to p roles,
			// raid1 while one is left, raid10 while a copy of every chunk
			// is left; linear and raid0 none.
			switch {
			case p > 0 && (k <= p) == any,
				c.level == 1 && (k < c.n) == any,
				c.level <= 0 && !any:
				t.Fatalf("%v without %b: missing bytes %v", c, set, any)
			}
			checkMD(t, src, data, want, 5000+int64(r.IntN(5000)))
			if any && !strings.Contains(fmt.Sprint(src.Notes()), "is missing") {
				t.Errorf("%v without %b: notes %q", c, set, src.Notes())
			}
		}
		if c.level == 10 && (survived == 0 || lostSome == 0) {
			t.Errorf("%v: %d sets survived, %d lost bytes", c, survived, lostSome)
		}
		_ = ms
	}
}

// Bad ranges and an unclean array, at arbitrary byte offsets: the split
// between read, rebuilt and missing bytes is exact.
func TestOpenMDBadRangesAndResync(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	cases := mdCases(r)
	for round := 0; round < 400; round++ {
		c := cases[r.IntN(len(cases))]
		ref := c.ref()
		data := randBytes(r, ref.size())
		_, roles := mdMembers(t, c, data, r)
		type rng struct {
			role int
			a, b int64
		}
		var losses []rng
		for k := 0; k < 1+r.IntN(4); k++ {
			i := r.IntN(c.n)
			al := ref.areaLen(i)
			if al == 0 {
				continue
			}
			a := r.Int64N(al)
			b := min(al, a+1+r.Int64N(3*max(c.C, 4096)))
			if r.IntN(5) == 0 {
				b = math.MaxInt64
			}
			roles[i].Bad = append(roles[i].Bad, MDBadRange{From: a, To: b, Why: fmt.Sprintf("bad %d", k)})
			losses = append(losses, rng{i, a, b})
		}
		gone := -1
		if r.IntN(3) == 0 {
			gone = r.IntN(c.n)
			roles[gone].Src = nil
		}
		arr := c.array(roles)
		if r.IntN(3) == 0 {
			arr.ResyncFrom = r.Int64N(ref.areaLen(0) + 1)
		}
		src, err := OpenMD(arr)
		if err != nil {
			t.Fatalf("%v: %v", c, err)
		}
		lost := func(i int, t int64) bool {
			if i == gone {
				return true
			}
			for _, g := range losses {
				if g.role == i && t >= g.a && t < g.b {
					return true
				}
			}
			return false
		}
		want := ref.missing(lost, func(i int) bool { return i != gone }, arr.ResyncFrom)
		checkMD(t, src, data, want, 1+r.Int64N(20000))
		// Random reads of present ranges.
		for k := 0; k < 20; k++ {
			a := r.Int64N(src.Size())
			b := min(src.Size(), a+1+r.Int64N(50000))
			runs, err := src.Runs(a, b-a)
			if err != nil {
				t.Fatal(err)
			}
			for _, ru := range runs {
				if ru.Kind != export.RunData {
					continue
				}
				buf := make([]byte, ru.Len)
				if m, err := src.ReadAt(buf, ru.Off); m != len(buf) || err != nil {
					t.Fatalf("%v: ReadAt %d at %d: %d, %v", c, ru.Len, ru.Off, m, err)
				}
				if !bytes.Equal(buf, data[ru.Off:ru.End()]) {
					t.Fatalf("%v: ReadAt %d at %d: wrong bytes", c, ru.Len, ru.Off)
				}
			}
		}
		// Redundant names only bytes that were read elsewhere than
		// from their first copy, and none that are missing.
		red, err := src.Redundant(0, src.Size())
		if err != nil {
			t.Fatal(err)
		}
		for _, rg := range red {
			for x := rg.Off; x < rg.End(); x++ {
				if want[x] {
					t.Fatalf("%v: byte %d missing but listed as read from redundancy (%s)", c, x, rg.Reason)
				}
			}
		}
	}
}

// The two raid0 layouts read a multi-zone array differently (so the
// round trip above tells them apart), and a raid0 with a missing role of
// unknown size is refused rather than laid out by a guess.
func TestOpenMDRaid0Layouts(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	c := mdCase{level: 0, r0: 1, n: 3, C: 4096, dm: []int64{7 * 4096, 3 * 4096, 5 * 4096}}
	data := randBytes(r, c.ref().size())
	_, roles := mdMembers(t, c, data, r)
	a := c.array(roles)
	a.Raid0Layout = 2
	src, err := OpenMD(a)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := sourcetest.Read(t, src, 1<<20)
	if bytes.Equal(got, data) {
		t.Fatal("alternate layout reads an original-layout array alike")
	}
	a.Raid0Layout = 0
	if _, err := OpenMD(a); !errors.As(err, new(*MDLayoutError)) {
		t.Fatalf("no layout: %v", err)
	}
	// Equal members: one zone, any layout value.
	c = mdCase{level: 0, n: 3, C: 4096, dm: []int64{4 * 4096, 4 * 4096, 4 * 4096}}
	data = randBytes(r, c.ref().size())
	_, roles = mdMembers(t, c, data, r)
	for lay := 0; lay <= 2; lay++ {
		a := c.array(roles)
		a.Raid0Layout = lay
		src, err := OpenMD(a)
		if err != nil {
			t.Fatal(err)
		}
		checkMD(t, src, data, make([]bool, len(data)), 7000)
	}
	a = c.array(roles)
	a.Roles = append([]MDMember(nil), roles...)
	a.Roles[1] = MDMember{Name: "role 1"}
	var me *MDError
	if _, err := OpenMD(a); !errors.As(err, &me) || me.Field != "Roles[1].DataSize" {
		t.Fatalf("missing role without size: %v", err)
	}
}

// A raid1 that was not clean trusts its first present member only beyond
// ResyncFrom; with that member missing there, the bytes are missing.
func TestOpenMDRaid1Resync(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	c := mdCase{level: 1, n: 3, D: 40960}
	data := randBytes(r, c.D)
	_, roles := mdMembers(t, c, data, r)
	roles[0].Src = nil
	roles[1].Bad = []MDBadRange{{From: 20000, To: 30000, Why: "bad block"}}
	a := c.array(roles)
	a.ResyncFrom = 25000
	src, err := OpenMD(a)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]bool, c.D)
	for x := 25000; x < 30000; x++ {
		want[x] = true // role 1 bad, role 2 not trusted
	}
	checkMD(t, src, data, want, 4096)
	// Role 0 is missing: everything read is read from another role.
	red, _ := src.Redundant(0, src.Size())
	want2 := []struct {
		off, end int64
		src      string
	}{{0, 20000, "m1 (role 1)"}, {20000, 25000, "m2 (role 2)"}, {30000, 40960, "m1 (role 1)"}}
	if len(red) != len(want2) {
		t.Fatalf("redundant %+v", red)
	}
	for i, w := range want2 {
		if red[i].Off != w.off || red[i].End() != w.end || red[i].Source != w.src || !strings.Contains(red[i].Reason, "no member holds role 0") {
			t.Errorf("redundant %d: %+v, want %+v", i, red[i], w)
		}
	}
}

func TestOpenMDErrors(t *testing.T) {
	mem := func(n int64) export.Source { return &memSrc{name: "x", data: make([]byte, n)} }
	roles := func(n int, size int64) []MDMember {
		out := make([]MDMember, n)
		for i := range out {
			out[i] = MDMember{Name: fmt.Sprintf("m%d", i), Src: mem(size), DataSize: size}
		}
		return out
	}
	ok := MDArray{Name: "md0", Level: 5, Layout: 2, ChunkBytes: 4096, Size: 8 * 4096, Roles: roles(3, 8*4096), ResyncFrom: math.MaxInt64}
	if _, err := OpenMD(ok); err != nil {
		t.Fatal(err)
	}
	short := roles(3, 8*4096)
	short[1].Src = mem(8*4096 - 1)
	covered := roles(3, 8*4096)
	covered[2].Src = mem(5 * 4096)
	covered[2].Bad = []MDBadRange{{From: 4 * 4096, To: math.MaxInt64, Why: "member truncated"}}
	off := roles(3, 8*4096)
	off[0].DataOffset = 4096
	cases := []struct {
		name  string
		mod   func(a *MDArray)
		field string // "" for no error
		text  string
	}{
		{"no roles", func(a *MDArray) { a.Roles = nil }, "Roles", "0 roles"},
		{"257 roles", func(a *MDArray) { a.Level = 1; a.Roles = roles(257, 8*4096) }, "Roles", "257 roles"},
		{"256 roles raid1", func(a *MDArray) { a.Level = 1; a.Roles = roles(256, 8*4096) }, "", ""},
		{"65 roles raid5", func(a *MDArray) { a.Roles = roles(65, 8*4096) }, "Roles", "at most 64"},
		{"level 2", func(a *MDArray) { a.Level = 2 }, "Level", "level 2"},
		{"level -4", func(a *MDArray) { a.Level = -4 }, "Level", "level -4"},
		{"raid5 layout 6", func(a *MDArray) { a.Layout = 6 }, "Layout", "6"},
		{"raid4 layout 2", func(a *MDArray) { a.Level = 4; a.Layout = 2 }, "Layout", ""},
		{"raid4 layout 5", func(a *MDArray) { a.Level = 4; a.Layout = 5 }, "", ""},
		{"raid6 layout 6", func(a *MDArray) { a.Level = 6; a.Layout = 6; a.Roles = roles(4, 8*4096) }, "Layout", ""},
		{"raid6 layout 21", func(a *MDArray) { a.Level = 6; a.Layout = 21; a.Roles = roles(4, 8*4096) }, "Layout", ""},
		{"raid6 2 roles", func(a *MDArray) { a.Level = 6; a.Layout = 2; a.Roles = roles(2, 8*4096) }, "Roles", "at least 3"},
		{"chunk 0", func(a *MDArray) { a.ChunkBytes = 0 }, "ChunkBytes", "multiple of 4096"},
		{"chunk 1000", func(a *MDArray) { a.ChunkBytes = 1000 }, "ChunkBytes", ""},
		{"chunk 12 KiB raid5", func(a *MDArray) { a.ChunkBytes = 12288 }, "ChunkBytes", "power of two"},
		{"chunk 12 KiB raid0", func(a *MDArray) { a.Level = 0; a.ChunkBytes = 12288 }, "", ""},
		{"chunk 2 GiB", func(a *MDArray) { a.ChunkBytes = 2 << 30 }, "ChunkBytes", ""},
		{"linear chunk 512", func(a *MDArray) { a.Level = -1; a.ChunkBytes = 512 }, "ChunkBytes", ""},
		{"linear chunk 0", func(a *MDArray) { a.Level = -1; a.ChunkBytes = 0 }, "", ""},
		{"raid0 layout 3", func(a *MDArray) { a.Level = 0; a.Raid0Layout = 3 }, "Raid0Layout", ""},
		{"raid1 size 0", func(a *MDArray) { a.Level = 1; a.Size = 0 }, "Size", ""},
		{"raid5 size under a chunk", func(a *MDArray) { a.Size = 4095 }, "Size", ""},
		{"raid5 overflow", func(a *MDArray) { a.Size = math.MaxInt64 / 4096 * 4096; a.Roles = roles(4, 8*4096) }, "Size", "2^63"},
		{"raid10 overflow", func(a *MDArray) { a.Level = 10; a.Layout = 0x102; a.Size = math.MaxInt64 / 4096 * 4096 }, "Size", "2^63"},
		{"member short", func(a *MDArray) { a.Roles = short }, "Roles[1].Src", "32767 bytes; the layout needs 32768"},
		{"data offset beyond", func(a *MDArray) { a.Roles = off }, "Roles[0].Src", "needs 36864 (data offset 4096"},
		{"member short, tail bad", func(a *MDArray) { a.Roles = covered }, "", ""},
		{"negative offset", func(a *MDArray) { a.Roles = roles(3, 8*4096); a.Roles[0].DataOffset = -1 }, "Roles[0].DataOffset", ""},
		{"negative size", func(a *MDArray) { a.Roles = roles(3, 8*4096); a.Roles[2].DataSize = -1 }, "Roles[2].DataSize", ""},
		{"bad range reversed", func(a *MDArray) { a.Roles = roles(3, 8*4096); a.Roles[1].Bad = []MDBadRange{{From: 5, To: 4}} }, "Roles[1].Bad[0]", ""},
		{"resync negative", func(a *MDArray) { a.ResyncFrom = -1 }, "ResyncFrom", ""},
		{"linear overflow", func(a *MDArray) {
			a.Level = -1
			a.Roles = roles(3, 8*4096)
			for i := range a.Roles {
				a.Roles[i].Src = nil
				a.Roles[i].DataSize = math.MaxInt64 / 2
			}
		}, "Roles", "2^63"},
		{"linear size unknown", func(a *MDArray) { a.Level = -1; a.Roles = roles(3, 8*4096); a.Roles[1] = MDMember{} }, "Roles[1].DataSize", ""},
		{"raid10 nc 0", func(a *MDArray) { a.Level = 10; a.Layout = 0x200 }, "Layout", ""},
		{"raid10 one copy", func(a *MDArray) { a.Level = 10; a.Layout = 0x101 }, "Layout", "copies"},
		{"raid10 4 copies on 3", func(a *MDArray) { a.Level = 10; a.Layout = 0x104 }, "Layout", ""},
		{"raid10 bit 19", func(a *MDArray) { a.Level = 10; a.Layout = 0x80102 }, "Layout", "bits 19-31"},
		{"raid10 far-set 3", func(a *MDArray) { a.Level = 10; a.Layout = 0x60201 }, "Layout", "mode 3"},
		{"raid10 chunk not power of two", func(a *MDArray) { a.Level = 10; a.Layout = 0x102; a.ChunkBytes = 12288 }, "ChunkBytes", ""},
		{"raid10 offset near wrap", func(a *MDArray) { a.Level = 10; a.Layout = 0x10202; a.Roles = roles(5, 8*4096) }, "Layout", "both have a copy"},
		{"raid10 size under far copies", func(a *MDArray) { a.Level = 10; a.Layout = 0x201; a.Size = 4096 }, "Size", ""},
	}
	for _, c := range cases {
		a := ok
		a.Roles = roles(3, 8*4096)
		c.mod(&a)
		_, err := OpenMD(a)
		if c.field == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		var me *MDError
		if !errors.As(err, &me) || me.Field != c.field || !strings.Contains(err.Error(), c.text) || !errors.Is(err, model.ErrMapping) {
			t.Errorf("%s: %v, want an MDError about %s (%q)", c.name, err, c.field, c.text)
		}
	}
}
