package raid

import "fmt"

// parityLayout places the data and parity chunks of raid4, raid5 and raid6
// stripes (spec §4.4). Stripe s of a segment with n images holds d = n-p
// data chunks; the formulas below give, for each stripe, the image of the
// P parity, of the Q syndrome (raid6) and of data position j.
type parityLayout struct {
	name string // layout name: "p0" (raid4), la, ra, ls, rs, n, zr, nr, nc, la_6, ra_6, ls_6, rs_6, n_6; md6_la, md6_ra, md6_ls, md6_rs, md6_p0, md6_p0_6 (md only)
	n    int    // images
	p    int    // parity images: 1 or 2
	d    int    // data images: n - p
	ddf  bool   // DDF syndrome coefficients (zr, nr, nc)
	// qNext: the syndrome coefficients count the data images met walking
	// up from the image after Q, with wrap-around (md's raid6 layouts 0 to
	// 4 and 20, md-raid.md §6.5), instead of from image 0.
	qNext bool
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

// mdParityLayouts are the raid6 layouts of md that LVM does not create
// (md-raid.md §6.5), with their md layout number. They are kept apart
// from parityLayouts so that an LVM segment never takes one of them from
// its dm-raid superblock.
var mdParityLayouts = map[string]struct {
	p        int
	mdLayout uint32
}{
	"md6_la": {2, 0}, "md6_ra": {2, 1}, "md6_ls": {2, 2}, "md6_rs": {2, 3}, "md6_p0": {2, 4}, "md6_p0_6": {2, 20},
}

// newParityLayout checks a layout name against the image count.
func newParityLayout(name string, n int) (*parityLayout, error) {
	l, ok := parityLayouts[name]
	isMD := false
	if !ok {
		l, isMD = mdParityLayouts[name]
		if !isMD {
			return nil, fmt.Errorf("unknown parity layout %q", name)
		}
	}
	if n < l.p+1 {
		return nil, fmt.Errorf("layout %s needs at least %d images, the segment has %d", name, l.p+1, n)
	}
	return &parityLayout{name: name, n: n, p: l.p, d: n - l.p, ddf: name == "zr" || name == "nr" || name == "nc", qNext: isMD}, nil
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
	case "md6_la", "md6_ls":
		P = l.n - 1 - mod(s, n)
		Q = (P + 1) % l.n
	case "md6_ra", "md6_rs":
		P = mod(s, n)
		Q = (P + 1) % l.n
	case "md6_p0":
		P, Q = 0, 1
	case "md6_p0_6":
		P, Q = 0, l.n-1
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
	case "md6_la", "md6_ra":
		if P == l.n-1 {
			return j + 1
		}
		if j < P {
			return j
		}
		return j + 2
	case "md6_ls", "md6_rs":
		return (P + 2 + j) % l.n
	case "md6_p0":
		return j + 2
	case "md6_p0_6":
		return j + 1
	}
	return -1
}

// coef returns the RAID6 syndrome coefficient index of data image i in a
// stripe with parity images P and Q (spec §4.5; md-raid.md §6.5 for the
// qNext layouts, whose rule gives the same numbers as §4.5's where Q is
// the last image).
func (l *parityLayout) coef(i, P, Q int) int {
	if l.ddf {
		return i
	}
	if l.qNext {
		c := 0
		for k := (Q + 1) % l.n; k != i; k = (k + 1) % l.n {
			if k != P && k != Q {
				c++
			}
		}
		return c
	}
	c := 0
	for k := 0; k < i; k++ {
		if k != P && k != Q {
			c++
		}
	}
	return c
}
