package raid

import "fmt"

// parityLayout places the data and parity chunks of raid4, raid5 and raid6
// stripes (spec §4.4). Stripe s of a segment with n images holds d = n-p
// data chunks; the formulas below give, for each stripe, the image of the
// P parity, of the Q syndrome (raid6) and of data position j.
type parityLayout struct {
	name string // layout name: "p0" (raid4), la, ra, ls, rs, n, zr, nr, nc, la_6, ra_6, ls_6, rs_6, n_6
	n    int    // images
	p    int    // parity images: 1 or 2
	d    int    // data images: n - p
	ddf  bool   // DDF syndrome coefficients (zr, nr, nc)
}

// parityLayouts lists the layouts by name with their parity count and MD
// layout number (spec §4.4 table).
var parityLayouts = map[string]struct {
	p        int
	mdLayout uint32
}{
	"p0": {1, 4}, "la": {1, 0}, "ra": {1, 1}, "ls": {1, 2}, "rs": {1, 3}, "n": {1, 5},
	"zr": {2, 8}, "nr": {2, 9}, "nc": {2, 10},
	"la_6": {2, 16}, "ra_6": {2, 17}, "ls_6": {2, 18}, "rs_6": {2, 19}, "n_6": {2, 5},
}

// newParityLayout checks a layout name against the image count.
func newParityLayout(name string, n int) (*parityLayout, error) {
	l, ok := parityLayouts[name]
	if !ok {
		return nil, fmt.Errorf("unknown parity layout %q", name)
	}
	if n < l.p+1 {
		return nil, fmt.Errorf("layout %s needs at least %d images, the segment has %d", name, l.p+1, n)
	}
	return &parityLayout{name: name, n: n, p: l.p, d: n - l.p, ddf: name == "zr" || name == "nr" || name == "nc"}, nil
}

// layoutFromMD maps a superblock's MD level and layout back to a layout
// name, "" when unknown.
func layoutFromMD(level, layout uint32) string {
	for name, l := range parityLayouts {
		if l.mdLayout == layout && (level == 5 && l.p == 1 || level == 6 && l.p == 2) {
			return name
		}
	}
	return ""
}

func mod(a, m int64) int {
	r := a % m
	if r < 0 {
		r += m
	}
	return int(r)
}

// parity returns the images holding P and Q (Q = -1 without raid6) in
// stripe s.
func (l *parityLayout) parity(s int64) (P, Q int) {
	n, d := int64(l.n), l.d
	Q = -1
	switch l.name {
	case "p0":
		P = 0
	case "la", "ls":
		P = d - mod(s, n)
	case "ra", "rs":
		P = mod(s, n)
	case "n":
		P = d
	case "zr", "nr":
		if l.name == "zr" {
			P = mod(s, n)
		} else {
			P = l.n - 1 - mod(s+1, n)
		}
		Q = P + 1
		if P == l.n-1 {
			Q = 0
		}
	case "nc":
		P = l.n - 1 - mod(s, n)
		Q = (P + l.n - 1) % l.n
	case "la_6", "ls_6":
		P, Q = d-mod(s, n-1), l.n-1
	case "ra_6", "rs_6":
		P, Q = mod(s, n-1), l.n-1
	case "n_6":
		P, Q = d, d+1
	}
	return P, Q
}

// dataImage returns the image holding data position j (0 <= j < d) of
// stripe s, whose parity is on P.
func (l *parityLayout) dataImage(j, P int) int {
	switch l.name {
	case "p0":
		return j + 1
	case "la", "ra", "la_6", "ra_6":
		if j < P {
			return j
		}
		return j + 1
	case "ls", "rs":
		return (P + 1 + j) % l.n
	case "ls_6", "rs_6":
		return (P + 1 + j) % (l.n - 1)
	case "n", "n_6":
		return j
	case "zr", "nr":
		if P == l.n-1 {
			return j + 1
		}
		if j < P {
			return j
		}
		return j + 2
	case "nc":
		return (P + 1 + j) % l.n
	}
	return -1
}

// coef returns the RAID6 syndrome coefficient index of data image i in a
// stripe with parity images P and Q (spec §4.5).
func (l *parityLayout) coef(i, P, Q int) int {
	if l.ddf {
		return i
	}
	c := 0
	for k := 0; k < i; k++ {
		if k != P && k != Q {
			c++
		}
	}
	return c
}
