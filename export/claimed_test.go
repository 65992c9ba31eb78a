package export

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lvminspect/lvminspect/model"
)

// countingSource counts the Runs calls made on a Source.
type countingSource struct {
	Source
	calls int
}

func (c *countingSource) Runs(off, n int64) ([]Run, error) {
	c.calls++
	return c.Source.Runs(off, n)
}

// TestMissingRangesClaimedSize: an LV whose metadata claims 2^36 extents
// of 4 MiB (2^58 bytes) on a PV of 2^63 extents, of which the image holds
// 1 MiB. Asking 1 GiB at a time took 2^28 calls (it never finished);
// the missing bytes are now known in a few dozen, and the same for an
// LV of math.MaxInt64 bytes.
func TestMissingRangesClaimedSize(t *testing.T) {
	const eb = 4 << 20
	for _, size := range []int64{1 << 58, math.MaxInt64} {
		img := bytes.Repeat([]byte{1}, 1<<20)
		pieces := []model.Piece{{LVOffset: 0, Length: size / 2, PVUUID: "pv", PVLabel: "pv0", PVOffset: 1 << 20},
			{LVOffset: size/2 + eb, Length: size - size/2 - eb, PVUUID: "gone", PVLabel: "pv1"}}
		src := &countingSource{Source: NewPieceSource(size, pieces, map[string]PVReader{"pv": {R: bytes.NewReader(img), Size: 2 << 20, Name: "img"}})}
		miss, err := MissingRanges(context.Background(), src)
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for _, r := range miss {
			n += r.Len
		}
		// All but the first PV MiB is missing: beyond the image, the gap
		// of one extent and the PV no input holds.
		if want := size - (1 << 20); n != want || len(miss) != 3 {
			t.Errorf("size %d: %d missing bytes in %d ranges %v, want %d in 3", size, n, len(miss), miss, want)
		}
		if src.calls > 80 {
			t.Errorf("size %d: %d Runs calls", size, src.calls)
		}
		src.calls = 0
		mb, why, err := MissingBytes(src)
		if err != nil || mb != n || why == "" || src.calls > 80 {
			t.Errorf("MissingBytes: %d (%q), %v after %d calls; want %d", mb, why, err, src.calls, n)
		}
	}
}

// TestEachRunManyRuns: a window that holds many runs shrinks again, and
// every run is seen once, in order.
func TestEachRunManyRuns(t *testing.T) {
	var kinds []Run
	for off := int64(0); off < 64<<20; off += 8 << 10 {
		kinds = append(kinds, Run{Off: off, Len: 4 << 10, Kind: RunMissing, Reason: "hole"})
	}
	src := &memSource{data: make([]byte, 64<<20), kinds: kinds}
	var got []Run
	if err := EachRun(context.Background(), src, func(r Run) { got = append(got, r) }); err != nil {
		t.Fatal(err)
	}
	if err := checkRuns(got, 0, src.Size()); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2*len(kinds) {
		t.Errorf("%d runs, want %d", len(got), 2*len(kinds))
	}
}

// runsOnly hides a Source's MissingRanges: MissingRanges then asks for
// its runs.
type runsOnly struct{ Source }

// TestStripedMissingRangesAgree: a striped source's missing ranges,
// computed from its areas, are those its runs give, for random layouts
// of present, truncated and absent PVs.
func TestStripedMissingRangesAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for iter := 0; iter < 5000; iter++ {
		var sets []model.StripeSet
		pvs := map[string]PVReader{}
		for k := 0; k < 3; k++ {
			u := fmt.Sprintf("pv%d", k)
			switch rng.IntN(3) {
			case 0: // absent
			case 1:
				pvs[u] = PVReader{R: bytes.NewReader(nil), Size: 1 << 40, Name: u}
			case 2:
				pvs[u] = PVReader{R: bytes.NewReader(nil), Size: int64(rng.IntN(64)) << 12, Name: u}
			}
		}
		off := int64(0)
		for s := 1 + rng.IntN(3); s > 0; s-- {
			sc := 1 + rng.IntN(3)
			chunk := int64(1+rng.IntN(4)) << 12
			rows := int64(1 + rng.IntN(8))
			set := model.StripeSet{LVOffset: off, Length: chunk * rows * int64(sc), Chunk: chunk}
			if sc == 1 {
				set.Chunk = set.Length
			}
			for a := 0; a < sc; a++ {
				k := rng.IntN(3)
				set.Areas = append(set.Areas, model.Piece{PVUUID: fmt.Sprintf("pv%d", k), PVLabel: fmt.Sprintf("pv%d", k),
					PVOffset: int64(rng.IntN(32)) << 12, Length: chunk * rows})
			}
			sets = append(sets, set)
			off += set.Length
			if rng.IntN(4) == 0 {
				off += 4096 // a gap
			}
		}
		size := off + int64(rng.IntN(2))*4096
		src := NewStripedSource(size, sets, pvs, nil)
		got, err := MissingRanges(context.Background(), src)
		if err != nil {
			t.Fatal(err)
		}
		want, err := MissingRanges(context.Background(), runsOnly{src})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("iteration %d: from the areas\n%v\nfrom the runs\n%v", iter, got, want)
		}
	}
}
