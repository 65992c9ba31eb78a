// Package format is the one place where lvminspect turns numbers into
// text: sizes (the IEC style of scan, history, diff, export and the
// inspector, and the unit letters of LVM's own reports), offsets, segment
// numbers and types, counts, durations and times. Every front end uses it,
// so one fact reads the same everywhere.
//
// Sizes follow LVM's convention for rounded numbers: a size is shown with
// two decimals, rounded to the nearest hundredth (ties to even, as C's
// printf does), and when the number shown is larger than the exact value
// it is prefixed with "<" ("<33.88m" for 33.875 MiB), so a shown size is
// never silently rounded up. A number rounded down carries no mark (LVM
// prints 12.125 MiB as "12.12m").
package format

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/lvminspect/lvminspect/model"
)

// iec are the binary unit names of Size, from KiB up.
var iec = []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}

// Size is an LVM-style human size with binary units and two decimals, as
// lvs shows sizes but with a space and the IEC unit: "14.00 MiB",
// "1020.00 KiB", "512 B" (below 1 KiB exact, no decimals), and "<34.98 MiB"
// when the number shown is larger than the exact value.
func Size(n int64) string { return SizeOf(big.NewInt(n)) }

// SizeExact is Size followed by the exact byte count when Size is not
// exact: "14.00 MiB", or "<34.98 MiB (36678656 bytes)".
func SizeExact(n int64) string { return SizeExactOf(big.NewInt(n)) }

// SizeOf is Size of any number of bytes: sizes computed from the extent
// and sector counts a metadata text claims may be far beyond 2^63 (a PV
// of 2^64 - 1 extents of 4 MiB), and are shown as they are, in EiB, never
// wrapped around to a negative number.
func SizeOf(n *big.Int) string {
	s, _ := human(n, 1024, func(i int) string { return " " + iec[i] }, " B", true)
	return s
}

// SizeExactOf is SizeExact of any number of bytes (see SizeOf).
func SizeExactOf(n *big.Int) string {
	s, exact := human(n, 1024, func(i int) string { return " " + iec[i] }, " B", true)
	if exact {
		return s
	}
	return s + " (" + n.String() + " bytes)"
}

// Product is n × unit exactly: the bytes of n extents or sectors, for
// SizeOf and UnitsOf.
func Product(n uint64, unit int64) *big.Int {
	return new(big.Int).Mul(new(big.Int).SetUint64(n), big.NewInt(unit))
}

// ErrUnit is returned by Units and ParseUnit for a unit letter LVM does not
// know.
var ErrUnit = errors.New("unknown unit")

// ParseUnit checks an LVM --units argument and returns its letter. LVM's
// letters are accepted: b B (bytes), s S (512-byte sectors), k m g t p e
// (1024-based), K M G T P E (1000-based), h H (human, the fitting unit),
// r R (human with the "<" rounding mark; what lvs prints by default).
func ParseUnit(s string) (byte, error) {
	if len(s) != 1 || !strings.ContainsRune("bBsSkKmMgGtTpPeEhHrR", rune(s[0])) {
		return 0, fmt.Errorf("%w %q: use one of b s k m g t p e h r (1024-based) or B S K M G T P E H R (1000-based)", ErrUnit, s)
	}
	return s[0], nil
}

// Units formats a size in one of LVM's --units letters as lvs prints it:
// "14680064B" (b, B), "28672S" (s, S), "14.00m" (k..e, 1024-based),
// "14.68M" (K..E, 1000-based), "14.00m" or "<33.88m" (h/H pick the fitting
// unit; r/R also mark a number rounded up with "<", as lvs does by
// default). Zero is "0" in every unit, as LVM prints it. Without suffix the
// unit letter is left out ("14680064", "14.00"); the "<" mark stays.
func Units(n int64, unit byte, suffix bool) (string, error) {
	return UnitsOf(big.NewInt(n), unit, suffix)
}

// UnitsOf is Units of any number of bytes (see SizeOf).
func UnitsOf(n *big.Int, unit byte, suffix bool) (string, error) {
	if _, err := ParseUnit(string([]byte{unit})); err != nil {
		return "", err
	}
	if n.Sign() == 0 {
		return "0", nil
	}
	suf := func(s string) string {
		if suffix {
			return s
		}
		return ""
	}
	switch unit {
	case 'b', 'B':
		return n.String() + suf("B"), nil
	case 's', 'S':
		// Sizes in LVM are whole sectors; a byte count that is not is
		// shown in whole sectors, rounded down (towards zero).
		return new(big.Int).Quo(n, big.NewInt(model.SectorSize)).String() + suf("S"), nil
	case 'h', 'H', 'r', 'R':
		base := int64(1024)
		letters := "kmgtpe"
		if unit == 'H' || unit == 'R' {
			base, letters = 1000, "KMGTPE"
		}
		s, _ := human(n, base, func(i int) string { return suf(letters[i : i+1]) }, suf("B"), unit == 'r' || unit == 'R')
		return s, nil
	}
	base := int64(1024)
	i := strings.IndexByte("kmgtpe", unit)
	if i < 0 {
		base = 1000
		i = strings.IndexByte("KMGTPE", unit)
	}
	s, _ := fixed2(n, pow(base, i+1), false)
	return s + suf(string([]byte{unit})), nil
}

// human picks the largest unit not larger than |n| (at most EiB) and
// formats n in it with two decimals; below the first unit it prints the
// exact number with bytes. mark adds "<" when the number shown is larger
// than the exact one. exact reports whether the text equals the value
// exactly.
func human(n *big.Int, base int64, unitName func(int) string, bytes string, mark bool) (s string, exact bool) {
	a := new(big.Int).Abs(n)
	b := big.NewInt(base)
	if a.Cmp(b) < 0 {
		return n.String() + bytes, true
	}
	i := 0
	div := big.NewInt(base)
	for i < len(iec)-1 && new(big.Int).Quo(a, b).Cmp(div) >= 0 {
		div.Mul(div, b)
		i++
	}
	s, exact = fixed2(n, div, mark)
	return s + unitName(i), exact
}

// fixed2 formats n/div with two decimals, rounded to nearest with ties to
// even, computed exactly. With mark, a result larger than n/div is
// prefixed with "<".
func fixed2(n, d *big.Int, mark bool) (string, bool) {
	num := new(big.Int).Mul(n, big.NewInt(100))
	q, r := new(big.Int).QuoRem(num, d, new(big.Int))
	neg := num.Sign() < 0
	if neg {
		q.Neg(q)
		r.Neg(r)
	}
	// q, r are now for |n|*100 / div.
	twice := new(big.Int).Lsh(r, 1)
	up := false
	switch twice.Cmp(d) {
	case 1:
		up = true
	case 0:
		up = q.Bit(0) == 1
	}
	if up {
		q.Add(q, big.NewInt(1))
	}
	exact := r.Sign() == 0
	digits := q.String()
	for len(digits) < 3 {
		digits = "0" + digits
	}
	s := digits[:len(digits)-2] + "." + digits[len(digits)-2:]
	if neg {
		s = "-" + s
	}
	// The shown magnitude is larger than the exact one when rounded up.
	if mark && up && !neg {
		s = "<" + s
	}
	return s, exact
}

func pow(b int64, e int) *big.Int {
	return new(big.Int).Exp(big.NewInt(b), big.NewInt(int64(e)), nil)
}

// Offset formats an unsigned byte offset as decimal and hex:
// "6298624 (0x601c00)".
func Offset(off uint64) string { return fmt.Sprintf("%d (%#x)", off, off) }

// Segment names a segment from its 0-based index as the metadata text
// numbers them, from 1: Segment(0) is "segment 1".
// It is model.SegmentName, which the model's own errors use.
func Segment(i int) string { return model.SegmentName(i) }

// SegType names a segment's type as lvs shows it (its segtype field):
// LVM writes a linear segment as "striped" with one stripe, so that is
// "linear", more stripes "striped"; any other type is its base type,
// without the "+FLAG" suffixes the metadata may add ("cache-pool" for
// "cache-pool+METADATA_FORMAT"). The metadata's exact words stay in
// Segment.Type.
func SegType(s *model.Segment) string {
	if s == nil {
		return ""
	}
	base := s.BaseType
	if base == "" {
		base, _ = model.SplitType(s.Type)
	}
	if base == "striped" {
		if s.StripeCount <= 1 {
			return "linear"
		}
		return "striped"
	}
	return base
}

// Count formats a count with the singular or plural noun: "1 LV", "3 LVs".
func Count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// Duration formats a duration in the ETA style: "1h02m", "3m04s", "12s".
// Negative durations are shown as "0s".
func Duration(d time.Duration) string {
	d = d.Round(time.Second)
	if d < 0 {
		d = 0
	}
	switch {
	case d >= time.Hour:
		return fmt.Sprintf("%dh%02dm", int64(d.Hours()), int64(d.Minutes())%60)
	case d >= time.Minute:
		return fmt.Sprintf("%dm%02ds", int64(d.Minutes()), int64(d.Seconds())%60)
	}
	return fmt.Sprintf("%ds", int64(d.Seconds()))
}

// Time formats a Unix time in UTC, "2006-01-02 15:04:05Z", or "-" for 0.
func Time(unix int64) string {
	if unix == 0 {
		return "-"
	}
	return time.Unix(unix, 0).UTC().Format("2006-01-02 15:04:05Z")
}

// Percent formats a percentage as lvs shows Data% and Meta%: two decimals,
// "12.50", "100.00". A share that is neither empty nor full never reads as
// either: above 0 it is at least "0.01", below 100 at most "99.99".
func Percent(p float64) string {
	s := strconv.FormatFloat(p, 'f', 2, 64)
	switch {
	case p > 0 && s == "0.00":
		return "0.01"
	case p < 100 && s == "100.00":
		return "99.99"
	}
	return s
}
