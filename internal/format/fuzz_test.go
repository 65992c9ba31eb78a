package format

import (
	"math/big"
	"strconv"
	"strings"
	"testing"
)

// FuzzUnits checks every unit on any size: no panic, bytes exact, and the
// "<" mark set exactly when the number shown is larger than the size.
func FuzzUnits(f *testing.F) {
	for _, n := range []int64{0, 1, 512, 1023, 1024, 35520512, 12713984, 1<<63 - 1, -1, -1 << 63} {
		f.Add(n, byte('r'))
	}
	f.Fuzz(func(t *testing.T, n int64, u byte) {
		s, err := Units(n, u, true)
		if _, perr := ParseUnit(string([]byte{u})); (err == nil) != (perr == nil) {
			t.Fatalf("Units and ParseUnit disagree on %q", u)
		}
		_ = Size(n)
		_ = SizeExact(n)
		if err != nil {
			return
		}
		if u == 'b' || u == 'B' {
			if n != 0 && s != strconv.FormatInt(n, 10)+"B" {
				t.Fatalf("Units(%d, b) = %q", n, s)
			}
			return
		}
		if n <= 0 || u != 'r' && u != 'R' {
			return
		}
		base := int64(1024)
		if u == 'R' {
			base = 1000
		}
		body := strings.TrimPrefix(s, "<")
		if body[len(body)-1] < '0' || body[len(body)-1] > '9' {
			body = body[:len(body)-1]
		}
		if !strings.Contains(body, ".") {
			if n >= base || body != strconv.FormatInt(n, 10) {
				t.Fatalf("Units(%d, %c) = %q", n, u, s)
			}
			return
		}
		unit := strings.IndexByte("kmgtpeKMGTPE", s[len(s)-1]) % 6
		div := new(big.Int).Exp(big.NewInt(base), big.NewInt(int64(unit+1)), nil)
		shown, ok := new(big.Rat).SetString(body)
		if !ok {
			t.Fatalf("Units(%d, %c) = %q", n, u, s)
		}
		exact := new(big.Rat).SetFrac(big.NewInt(n), div)
		if larger := shown.Cmp(exact) > 0; larger != strings.HasPrefix(s, "<") {
			t.Fatalf("Units(%d, %c) = %q: shown larger than exact %v", n, u, s, larger)
		}
	})
}
