package raid

import (
	"fmt"
)

// refArray is an md array laid out by the rules of md-raid.md §5.5 and
// §6 written out again for the tests, independently of the package's
// placement code: it says where each array byte lives and builds the
// members' data areas (with P and Q) from the array's bytes.
type refArray struct {
	level  int32
	layout uint32
	r0     int   // raid0 layout: 1 original, 2 alternate
	C      int64 // chunk bytes
	n      int
	D      int64   // bytes of each member used (raid1/4/5/6/10)
	dm     []int64 // data bytes of each member (linear, raid0)
}

// refLoc is a byte of a role's data area.
type refLoc struct {
	role int
	t    int64
}

// refPlace says where array byte x and the len-1 bytes after it live
// (each location advances with x).
type refPlace struct {
	locs []refLoc // the data, or every copy (the first copy first)
	len  int64
	p    int // parity chunks per stripe: 1 or 2 for raid4/5/6, else 0
}

// refZone is a raid0 zone of §6.3.
type refZone struct {
	roles    []int
	ds, de   int64 // device bytes
	as, size int64 // array bytes
}

func (a *refArray) zones() []refZone {
	z := make([]int64, a.n)
	zmin := int64(-1)
	for r := range z {
		z[r] = a.dm[r] / a.C * a.C
		if zmin < 0 || z[r] < zmin {
			zmin = z[r]
		}
	}
	// Zone 0: every role, [0, Zmin).
	all := make([]int, a.n)
	for r := range all {
		all[r] = r
	}
	out := []refZone{{roles: all, ds: 0, de: zmin, as: 0, size: zmin * int64(a.n)}}
	for {
		prev := out[len(out)-1]
		var roles []int
		de := int64(-1)
		for r := range z {
			if z[r] > prev.de {
				roles = append(roles, r)
				if de < 0 || z[r] < de {
					de = z[r]
				}
			}
		}
		if roles == nil {
			return out
		}
		out = append(out, refZone{roles: roles, ds: prev.de, de: de, as: prev.as + prev.size, size: (de - prev.de) * int64(len(roles))})
	}
}

// r10 returns the raid10 geometry of §6.6 in chunks and rows.
func (a *refArray) r10() (nc, fc int64, offset bool, mode int, A, U, stride int64) {
	nc = int64(a.layout & 0xFF)
	fc = int64(a.layout >> 8 & 0xFF)
	offset = a.layout&(1<<16) != 0
	mode = int(a.layout >> 17 & 3)
	n := int64(a.n)
	A = a.D / a.C / fc * n / nc
	U = (A*nc*fc + n - 1) / n
	stride = U / fc
	if offset {
		stride = 1
	}
	return
}

// r10Copies lists the copies of chunk k as role and device chunk row:
// near copies first, each followed by its far copies.
func (a *refArray) r10Copies(k int64) []refLoc {
	nc, fc, offset, mode, _, _, stride := a.r10()
	n := int64(a.n)
	t := k * nc
	r0 := t % n
	q := t / n
	if offset {
		q *= fc
	}
	b := q
	var out []refLoc
	for i := int64(0); i < nc; i++ {
		r := r0 + i
		if r > n-1 {
			r -= n
			if r == 0 {
				b = q + 1 // passing n-1: b grows by one row from here on
			}
		}
		prevR, prevB := r, b
		out = append(out, refLoc{int(r), b})
		for f := int64(1); f < fc; f++ {
			var nr int64
			if mode == 0 {
				nr = (prevR + nc) % n
			} else {
				F := nc * fc
				if mode == 1 {
					F = n / fc
				}
				Ls := (n/F - 1) * F
				Lsz := F + n%F
				if n%F != 0 && prevR+nc > Ls {
					nr = Ls + (prevR+nc-Ls)%Lsz
				} else {
					nr = F*(prevR/F) + (prevR+nc)%F
				}
			}
			prevR, prevB = nr, prevB+stride
			out = append(out, refLoc{int(prevR), prevB})
		}
	}
	return out
}

// stripe returns the roles of P, Q (-1 without) and of the data
// positions of stripe s, and each data role's Q coefficient (raid6).
func (a *refArray) stripe(s int64) (P, Q int, data, coef []int) {
	n := a.n
	sn := int(s % int64(n))
	var d int
	lay := a.layout
	if a.level == 4 {
		lay = 5 // parity on the last role
	}
	Q = -1
	if a.level != 6 {
		d = n - 1
		switch lay {
		case 0, 2:
			P = d - sn
		case 1, 3:
			P = sn
		case 4:
			P = 0
		case 5:
			P = d
		}
		for j := 0; j < d; j++ {
			var D int
			switch lay {
			case 0, 1:
				D = j
				if j >= P {
					D = j + 1
				}
			case 2, 3:
				D = (P + 1 + j) % n
			case 4:
				D = j + 1
			case 5:
				D = j
			}
			data = append(data, D)
		}
		return P, Q, data, nil
	}
	d = n - 2
	s1 := int(s % int64(n-1))
	switch lay {
	case 0, 2, 10:
		P = n - 1 - sn
	case 1, 3, 8:
		P = sn
	case 9:
		P = n - 1 - int((s+1)%int64(n))
	case 4, 20:
		P = 0
	case 5:
		P = d
	case 16, 18:
		P = d - s1
	case 17, 19:
		P = s1
	}
	switch lay {
	case 0, 1, 8, 9:
		Q = P + 1
		if P == n-1 {
			Q = 0
		}
	case 2, 3:
		Q = (P + 1) % n
	case 4:
		Q = 1
	case 5:
		Q = d + 1
	case 10:
		Q = (P + n - 1) % n
	case 16, 17, 18, 19, 20:
		Q = n - 1
	}
	for j := 0; j < d; j++ {
		var D int
		switch lay {
		case 0, 1, 8, 9:
			switch {
			case P == n-1:
				D = j + 1
			case j < P:
				D = j
			default:
				D = j + 2
			}
		case 2, 3:
			D = (P + 2 + j) % n
		case 4:
			D = j + 2
		case 5:
			D = j
		case 10:
			D = (P + 1 + j) % n
		case 16, 17:
			D = j
			if j >= P {
				D = j + 1
			}
		case 18, 19:
			D = (P + 1 + j) % (n - 1)
		case 20:
			D = j + 1
		}
		data = append(data, D)
	}
	// Q coefficients: the role for the DDF layouts; otherwise count the
	// data roles met walking up from the role after Q.
	coef = make([]int, d)
	for j, D := range data {
		if lay == 8 || lay == 9 || lay == 10 {
			coef[j] = D
			continue
		}
		c := 0
		for r := (Q + 1) % n; r != D; r = (r + 1) % n {
			if r != P && r != Q {
				c++
			}
		}
		coef[j] = c
	}
	return P, Q, data, coef
}

// parityCount is the P/Q count of the level.
func (a *refArray) parityCount() int {
	switch a.level {
	case 4, 5:
		return 1
	case 6:
		return 2
	}
	return 0
}

// size is the array size of §5.5.
func (a *refArray) size() int64 {
	switch a.level {
	case -1:
		var s int64
		for _, d := range a.dm {
			if a.C != 0 {
				d = d / a.C * a.C
			}
			s += d
		}
		return s
	case 0:
		var s int64
		for _, d := range a.dm {
			s += d / a.C * a.C
		}
		return s
	case 1:
		return a.D
	case 4, 5, 6:
		return a.D / a.C * a.C * int64(a.n-a.parityCount())
	case 10:
		_, _, _, _, A, _, _ := a.r10()
		return A * a.C
	}
	panic("level")
}

// areaLen is the bytes of role r's data area the array uses.
func (a *refArray) areaLen(r int) int64 {
	switch a.level {
	case -1:
		if a.C != 0 {
			return a.dm[r] / a.C * a.C
		}
		return a.dm[r]
	case 0:
		return a.dm[r] / a.C * a.C
	case 1:
		return a.D
	default:
		return a.D / a.C * a.C
	}
}

// where says where array byte x lives.
func (a *refArray) where(x int64) refPlace {
	switch a.level {
	case -1:
		var start int64
		for r := 0; r < a.n; r++ {
			l := a.areaLen(r)
			if x < start+l {
				return refPlace{locs: []refLoc{{r, x - start}}, len: start + l - x}
			}
			start += l
		}
		panic("beyond the array")
	case 1:
		p := refPlace{len: a.D - x}
		for r := 0; r < a.n; r++ {
			p.locs = append(p.locs, refLoc{r, x})
		}
		return p
	}
	k, w := x/a.C, x%a.C
	left := a.C - w
	switch a.level {
	case 0:
		for _, z := range a.zones() {
			if x < z.as || x >= z.as+z.size {
				continue
			}
			m := int64(len(z.roles))
			o := x - z.as
			row := o / (a.C * m)
			q := (o / a.C) % m
			if a.r0 == 1 {
				q = k % m
			}
			return refPlace{locs: []refLoc{{z.roles[q], z.ds + row*a.C + w}}, len: left}
		}
		panic("beyond the zones")
	case 4, 5, 6:
		p := a.parityCount()
		d := int64(a.n - p)
		s, j := k/d, k%d
		_, _, data, _ := a.stripe(s)
		return refPlace{locs: []refLoc{{data[j], s*a.C + w}}, len: left, p: p}
	case 10:
		cs := a.r10Copies(k)
		for i := range cs {
			cs[i].t = cs[i].t*a.C + w
		}
		return refPlace{locs: cs, len: left}
	}
	panic("level")
}

// refMul multiplies in GF(2^8) with the polynomial 0x11D.
func refMul(a, b byte) byte {
	var p byte
	for b != 0 {
		if b&1 != 0 {
			p ^= a
		}
		hi := a & 0x80
		a <<= 1
		if hi != 0 {
			a ^= 0x1D
		}
		b >>= 1
	}
	return p
}

// build returns each role's data area (areaLen bytes) for the array
// bytes data: data chunks and copies placed, P and Q computed.
func (a *refArray) build(data []byte) ([][]byte, error) {
	areas := make([][]byte, a.n)
	owner := make([][]int64, a.n) // array byte + 1 stored at each area byte, to catch collisions
	for r := range areas {
		areas[r] = make([]byte, a.areaLen(r))
		owner[r] = make([]int64, a.areaLen(r))
	}
	for x := int64(0); x < int64(len(data)); {
		pl := a.where(x)
		l := min(pl.len, int64(len(data))-x)
		for _, c := range pl.locs {
			if c.t < 0 || c.t+l > int64(len(areas[c.role])) {
				return nil, fmt.Errorf("array byte %d: role %d byte %d beyond its %d bytes", x, c.role, c.t, len(areas[c.role]))
			}
			for i := int64(0); i < l; i++ {
				if o := owner[c.role][c.t+i]; o != 0 && o != x+i+1 {
					return nil, fmt.Errorf("array bytes %d and %d both on role %d byte %d", o-1, x+i, c.role, c.t+i)
				}
				owner[c.role][c.t+i] = x + i + 1
			}
			copy(areas[c.role][c.t:c.t+l], data[x:x+l])
		}
		x += l
	}
	if p := a.parityCount(); p > 0 {
		rows := a.D / a.C
		for s := int64(0); s < rows; s++ {
			P, Q, dr, coef := a.stripe(s)
			lo, hi := s*a.C, (s+1)*a.C
			pb := areas[P][lo:hi]
			clear(pb)
			var qb []byte
			if Q >= 0 {
				qb = areas[Q][lo:hi]
				clear(qb)
			}
			for j, D := range dr {
				src := areas[D][lo:hi]
				var mul [256]byte
				g := byte(1)
				if Q >= 0 {
					for i := 0; i < coef[j]; i++ {
						g = refMul(g, 2)
					}
					for v := range mul {
						mul[v] = refMul(byte(v), g)
					}
				}
				for i, v := range src {
					pb[i] ^= v
					if qb != nil {
						qb[i] ^= mul[v]
					}
				}
			}
		}
	}
	return areas, nil
}

// missing says, per array byte, whether a correct reader must report it
// missing when lost(role, t) says which data-area bytes are unreadable,
// present(role) which roles have a member (raid1 trusts its first
// present member) and resync is the ResyncFrom of the array.
func (a *refArray) missing(lost func(r int, t int64) bool, present func(r int) bool, resync int64) []bool {
	size := a.size()
	out := make([]bool, size)
	for x := int64(0); x < size; {
		pl := a.where(x)
		l := min(pl.len, size-x)
		locs := pl.locs
		if a.level == 1 {
			var keep []refLoc
			for _, c := range locs {
				if present(c.role) {
					keep = append(keep, c)
				}
			}
			locs = keep
		}
		for i := int64(0); i < l; i++ {
			m := true
			if pl.p > 0 {
				c := locs[0]
				t := c.t + i
				m = false
				if lost(c.role, t) {
					cnt := 0
					for r := 0; r < a.n; r++ {
						if lost(r, t) {
							cnt++
						}
					}
					m = cnt > pl.p || t >= resync
				}
			} else {
				for j, c := range locs {
					t := c.t + i
					if !lost(c.role, t) && (j == 0 || t < resync || a.level <= 0) {
						m = false
						break
					}
				}
			}
			out[x+i] = m
		}
		x += l
	}
	return out
}
