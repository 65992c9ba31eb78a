package raid

import (
	"fmt"
	"strings"
	"testing"
)

// The placement diagrams of spec §4.4 (rows = stripes, columns = images),
// transcribed; la_6, ra_6, rs_6 and n_6 worked out by hand from the table.
var layoutDiagrams = map[string][]string{
	"ls": {"D0 D1 D2 P", "D4 D5 P D3", "D8 P D6 D7", "P D9 D10 D11"},
	"rs": {"P D0 D1 D2", "D5 P D3 D4", "D7 D8 P D6", "D9 D10 D11 P"},
	"la": {"D0 D1 D2 P", "D3 D4 P D5", "D6 P D7 D8", "P D9 D10 D11"},
	"ra": {"P D0 D1 D2", "D3 P D4 D5", "D6 D7 P D8", "D9 D10 D11 P"},
	"p0": {"P D0 D1 D2", "P D3 D4 D5", "P D6 D7 D8", "P D9 D10 D11"},
	"n":  {"D0 D1 D2 P", "D3 D4 D5 P", "D6 D7 D8 P", "D9 D10 D11 P"},

	"zr":   {"P Q D0 D1 D2", "D3 P Q D4 D5", "D6 D7 P Q D8", "D9 D10 D11 P Q", "Q D12 D13 D14 P"},
	"nr":   {"D0 D1 D2 P Q", "D3 D4 P Q D5", "D6 P Q D7 D8", "P Q D9 D10 D11", "Q D12 D13 D14 P"},
	"nc":   {"D0 D1 D2 Q P", "D4 D5 Q P D3", "D8 Q P D6 D7", "Q P D9 D10 D11", "P D12 D13 D14 Q"},
	"ls_6": {"D0 D1 D2 P Q", "D4 D5 P D3 Q", "D8 P D6 D7 Q", "P D9 D10 D11 Q", "D12 D13 D14 P Q"},
	"la_6": {"D0 D1 D2 P Q", "D3 D4 P D5 Q", "D6 P D7 D8 Q", "P D9 D10 D11 Q", "D12 D13 D14 P Q"},
	"ra_6": {"P D0 D1 D2 Q", "D3 P D4 D5 Q", "D6 D7 P D8 Q", "D9 D10 D11 P Q", "P D12 D13 D14 Q"},
	"rs_6": {"P D0 D1 D2 Q", "D5 P D3 D4 Q", "D7 D8 P D6 Q", "D9 D10 D11 P Q", "P D12 D13 D14 Q"},
	"n_6":  {"D0 D1 D2 P Q", "D3 D4 D5 P Q", "D6 D7 D8 P Q", "D9 D10 D11 P Q", "D12 D13 D14 P Q"},
}

// drawStripe renders stripe s of a layout like the diagrams.
func drawStripe(l *parityLayout, s int64) string {
	cells := make([]string, l.n)
	P, Q := l.parity(s)
	cells[P] = "P"
	if Q >= 0 {
		cells[Q] = "Q"
	}
	for j := 0; j < l.d; j++ {
		i := l.dataImage(j, P)
		if i < 0 || i >= l.n || cells[i] != "" {
			return fmt.Sprintf("data %d on bad image %d", j, i)
		}
		cells[i] = fmt.Sprintf("D%d", s*int64(l.d)+int64(j))
	}
	return strings.Join(cells, " ")
}

func TestLayoutsMatchSpecDiagrams(t *testing.T) {
	for name, rows := range layoutDiagrams {
		n := len(strings.Fields(rows[0]))
		l, err := newParityLayout(name, n)
		if err != nil {
			t.Fatal(err)
		}
		for s, want := range rows {
			if got := drawStripe(l, int64(s)); got != want {
				t.Errorf("%s stripe %d: %s, want %s", name, s, got, want)
			}
		}
	}
}

// Every layout puts each data position, P and Q on distinct images for
// many image counts and stripes.
func TestLayoutsArePermutations(t *testing.T) {
	for name, pl := range parityLayouts {
		for n := pl.p + 1; n <= 12; n++ {
			l, err := newParityLayout(name, n)
			if err != nil {
				t.Fatal(err)
			}
			for s := int64(0); s < 3*int64(n); s++ {
				if d := drawStripe(l, s); strings.Contains(d, "bad") {
					t.Fatalf("%s n=%d stripe %d: %s", name, n, s, d)
				}
			}
		}
	}
}

func TestSyndromeCoefficients(t *testing.T) {
	zr, _ := newParityLayout("zr", 5)
	P, Q := zr.parity(0)
	for i, want := range map[int]int{2: 2, 3: 3, 4: 4} {
		if got := zr.coef(i, P, Q); got != want {
			t.Errorf("zr stripe 0 image %d: coefficient %d, want %d", i, got, want)
		}
	}
	ls6, _ := newParityLayout("ls_6", 5)
	P, Q = ls6.parity(1) // D4 D5 P D3 Q
	for i, want := range map[int]int{0: 0, 1: 1, 3: 2} {
		if got := ls6.coef(i, P, Q); got != want {
			t.Errorf("ls_6 stripe 1 image %d: coefficient %d, want %d", i, got, want)
		}
	}
}

func TestLayoutFromMD(t *testing.T) {
	for name, pl := range parityLayouts {
		level := uint32(5)
		if pl.p == 2 {
			level = 6
		}
		if got := layoutFromMD(level, pl.mdLayout); got != name {
			t.Errorf("MD level %d layout %d: %q, want %q", level, pl.mdLayout, got, name)
		}
	}
	if got := layoutFromMD(6, 2); got != "" {
		t.Errorf("level 6 layout 2: %q, want none", got)
	}
}

func TestGF(t *testing.T) {
	// 2^8 = x^8 = x^4+x^3+x^2+1 = 0x1D.
	if gfPow(8) != 0x1D {
		t.Errorf("2^8 = %#x, want 0x1d", gfPow(8))
	}
	for a := 1; a < 256; a++ {
		if gfMul[a][gfInv(byte(a))] != 1 {
			t.Fatalf("a*inv(a) != 1 for %d", a)
		}
		// Multiplication by 2 is shift and reduce.
		want := a << 1
		if want&0x100 != 0 {
			want ^= 0x11D
		}
		if gfMul[a][2] != byte(want) {
			t.Fatalf("%d*2 = %d, want %d", a, gfMul[a][2], want)
		}
	}
	for a := 0; a < 256; a += 7 {
		for b := 0; b < 256; b += 5 {
			for c := 0; c < 256; c += 11 {
				if gfMul[a][b^c] != gfMul[a][b]^gfMul[a][c] {
					t.Fatalf("distributivity fails for %d, %d, %d", a, b, c)
				}
			}
		}
	}
}
