package export

import (
	"context"
	"fmt"
	"sort"
)

// RunKind says what a run of LV bytes is.
type RunKind int

const (
	// RunData bytes are read with Source.ReadAt.
	RunData RunKind = iota
	// RunZero bytes are known to be zeros (an unprovisioned thin block, a
	// hole in the input image): they are hashed as zeros, not read, and
	// become a hole in sparse output.
	RunZero
	// RunMissing bytes have no source (PV missing, beyond a truncated
	// image). They are exported as zeros only with Options.AllowPartial
	// and are reported in Result.Missing.
	RunMissing
)

// String returns "data", "zero" or "missing".
func (k RunKind) String() string {
	switch k {
	case RunData:
		return "data"
	case RunZero:
		return "zero"
	case RunMissing:
		return "missing"
	}
	return fmt.Sprintf("RunKind(%d)", int(k))
}

// Run is a contiguous range of LV bytes of one kind.
type Run struct {
	Off, Len int64
	Kind     RunKind
	// Source names the PV or input the bytes come from, for per-source
	// byte counts and messages; "" when none.
	Source string
	// Reason explains a RunMissing run.
	Reason string
}

// End is Off+Len.
func (r Run) End() int64 { return r.Off + r.Len }

// Source is an LV as the export engine sees it.
type Source interface {
	// Size is the LV size in bytes.
	Size() int64
	// Runs describes [off, off+n) as consecutive runs covering it
	// exactly, in order.
	Runs(off, n int64) ([]Run, error)
	// ReadAt reads LV bytes. The engine calls it only on RunData ranges.
	ReadAt(p []byte, off int64) (int, error)
}

// Range is a range of LV bytes with the reason it was not exported as
// data (missing PV, read error).
type Range struct {
	Off    int64  `json:"start"`
	Len    int64  `json:"length"`
	Source string `json:"source,omitempty"` // PV or input, "" when none
	Reason string `json:"reason"`
}

// End is Off+Len.
func (r Range) End() int64 { return r.Off + r.Len }

// String formats the range as "[start, end) source: reason".
func (r Range) String() string {
	s := fmt.Sprintf("LV bytes [%d, %d)", r.Off, r.End())
	if r.Source != "" {
		s += " " + r.Source
	}
	return s + ": " + r.Reason
}

// checkRuns verifies that runs cover [off, off+n) exactly, in order.
func checkRuns(runs []Run, off, n int64) error {
	pos := off
	for i, r := range runs {
		if r.Off != pos || r.Len <= 0 {
			return fmt.Errorf("export: source runs for [%d, %d) are inconsistent at run %d (off %d, len %d, expected off %d)", off, off+n, i, r.Off, r.Len, pos)
		}
		if r.Kind != RunData && r.Kind != RunZero && r.Kind != RunMissing {
			return fmt.Errorf("export: source run at %d has unknown kind %d", r.Off, int(r.Kind))
		}
		pos = r.End()
	}
	if pos != off+n {
		return fmt.Errorf("export: source runs for [%d, %d) end at %d", off, off+n, pos)
	}
	return nil
}

// addRange appends r to list, merging it with the last range when they
// touch and have the same source and reason.
func addRange(list []Range, r Range) []Range {
	if k := len(list); k > 0 {
		last := &list[k-1]
		if last.End() == r.Off && last.Source == r.Source && last.Reason == r.Reason {
			last.Len += r.Len
			return list
		}
	}
	return append(list, r)
}

// mergeRanges sorts ranges by offset and merges neighbours with the same
// source and reason (chunks are read in parallel, so they may be recorded
// out of order).
func mergeRanges(list []Range) []Range {
	sort.SliceStable(list, func(i, j int) bool { return list[i].Off < list[j].Off })
	var out []Range
	for _, r := range list {
		out = addRange(out, r)
	}
	return out
}

// MissingBytes adds up the RunMissing bytes of src, looking at its runs
// only (no data is read), and returns the first missing run's reason.
// Like MissingRanges, its work grows with the number of runs, not with
// the LV's size.
func MissingBytes(src Source) (n int64, why string, err error) {
	err = EachRun(context.Background(), src, func(r Run) {
		if r.Kind != RunMissing {
			return
		}
		n += r.Len
		if why == "" {
			why = r.Reason
			if why == "" {
				why = "no source for " + r.Source
			}
		}
	})
	return n, why, err
}
