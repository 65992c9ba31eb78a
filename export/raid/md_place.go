package raid

import (
	"fmt"
	"sort"
)

// mdRaid10 places the copies of md's raid10 (md-raid.md §6.6): nc near
// copies side by side, each with fc-1 far copies stride further on. Copy
// j of a chunk is near copy j mod nc, far copy j div nc (0 = the near
// copy itself), so copy 0 is the first near copy.
type mdRaid10 struct {
	n, nc, fc  int64
	offset     bool // far copies are offset copies, one row apart
	sets       int  // far-set mode: 0, 1 or 2
	cb         int64
	A, U       int64 // array chunks; chunks used per member
	strideRows int64 // rows between far copies
	limit      int64 // data-area bytes the copies occupy
}

// copyAt returns the role and device chunk row of copy j of chunk k.
func (g *mdRaid10) copyAt(k, j int64) (int64, int64) {
	t := k * g.nc
	r0, q := t%g.n, t/g.n
	if g.offset {
		q *= g.fc
	}
	i, f := j%g.nc, j/g.nc
	r, row := r0+i, q
	if r >= g.n {
		r -= g.n
		row++
	}
	for ; f > 0; f-- {
		r = g.farRole(r)
		row += g.strideRows
	}
	return r, row
}

// farRole is the role of the next far copy after one on role r.
func (g *mdRaid10) farRole(r int64) int64 {
	if g.sets == 0 {
		return (r + g.nc) % g.n
	}
	F := g.nc * g.fc
	if g.sets == 1 {
		F = g.n / g.fc
	}
	Ls := (g.n/F - 1) * F // start of the last set
	Lsz := F + g.n%F      // its size, with the left-over roles
	if g.n%F != 0 && r+g.nc > Ls {
		return Ls + (r+g.nc-Ls)%Lsz
	}
	return F*(r/F) + (r+g.nc)%F
}

func (g *mdRaid10) chunk(k, j int64) (int, int64) {
	r, row := g.copyAt(k, j)
	return int(r), row * g.cb
}

func (g *mdRaid10) bands(k0, k1 int64) [][2]int64 {
	m := int64(1)
	if g.offset {
		m = g.fc
	}
	lo := k0 * g.nc / g.n * m
	hi := ((k1*g.nc+g.nc-1)/g.n+1)*m + 1 // one row more for a near copy that wrapped
	var out [][2]int64
	for f := int64(0); f < g.fc; f++ {
		a, b := (lo+f*g.strideRows)*g.cb, min(g.limit, (hi+f*g.strideRows)*g.cb)
		if a < b {
			out = append(out, [2]int64{a, b})
		}
	}
	return mergeBands(out)
}

// mergeBands sorts ranges and merges those that overlap or touch.
func mergeBands(b [][2]int64) [][2]int64 {
	sort.Slice(b, func(i, j int) bool { return b[i][0] < b[j][0] })
	var out [][2]int64
	for _, r := range b {
		if k := len(out); k > 0 && r[0] <= out[k-1][1] {
			out[k-1][1] = max(out[k-1][1], r[1])
			continue
		}
		out = append(out, r)
	}
	return out
}

// verify checks the placement where chunks could meet (the first and
// last chunks of the array, over more than one period of the layout): no
// two copies share a member chunk, and every copy lies within the rows
// members have. It returns the rows the copies occupy.
func (g *mdRaid10) verify(rows int64) (int64, error) {
	type spot struct{ r, row int64 }
	seen := map[spot]int64{}
	span := 2*g.n + 2
	var top int64
	check := func(k int64) error {
		for j := int64(0); j < g.nc*g.fc; j++ {
			r, row := g.copyAt(k, j)
			if row >= rows {
				return fmt.Errorf("copy %d of chunk %d is on device chunk row %d, members have %d rows", j, k, row, rows)
			}
			top = max(top, row+1)
			s := spot{r, row}
			if k2, ok := seen[s]; ok {
				return fmt.Errorf("chunks %d and %d both have a copy on role %d, device chunk row %d", k2, k, r, row)
			}
			seen[s] = k
		}
		return nil
	}
	for k := int64(0); k < min(g.A, span); k++ {
		if err := check(k); err != nil {
			return 0, err
		}
	}
	for k := max(span, g.A-span); k < g.A; k++ {
		if err := check(k); err != nil {
			return 0, err
		}
	}
	return top, nil
}

// mdZone places the chunks of one raid0 zone of m roles whose device
// range starts at data byte ds (md-raid.md §6.3): chunk k of the zone is
// on the zone's role (k+rot) mod m at row k div m. rot is 0 for the
// alternate layout and, for the original layout, the number of chunks
// before the zone mod m (the role counts chunks from the array's start).
type mdZone struct {
	m, ds, cb, rot int64
}

func (z *mdZone) chunk(k, _ int64) (int, int64) {
	return int((k + z.rot) % z.m), z.ds + k/z.m*z.cb
}

func (z *mdZone) bands(k0, k1 int64) [][2]int64 {
	return [][2]int64{{z.ds + k0/z.m*z.cb, z.ds + (k1/z.m+1)*z.cb}}
}
