package partition

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/lvminspect/lvminspect/model"
)

// Table is the partition table found on a disk image.
type Table struct {
	Kind       string // "mbr" or "gpt"
	SectorSize int    // logical sector size the table is expressed in: 512, or 4096 for a 4K GPT
	DiskGUID   string // gpt only
	Partitions []Partition
	// Problems lists anomalies: bad CRCs, backup GPT mismatch or missing,
	// overlapping partitions, partitions past the end of the image,
	// protective MBR oddities, broken EBR chains...
	Problems []string
	// Fields holds the decoded structures (MBR sector and entries, EBRs and
	// their entries, GPT headers and used GPT entries) with absolute byte
	// ranges.
	Fields []model.Structure
}

// Partition is one partition of a Table.
type Partition struct {
	// Index is the number Linux gives the partition: MBR primaries 1-4,
	// logical partitions 5, 6, ... in EBR chain order; GPT entry index+1.
	Index    int
	Start    int64  // bytes from the start of the disk
	Size     int64  // bytes
	Type     string // MBR: "0x8e" style id; GPT: type GUID
	TypeName string // human name where known
	Name     string // GPT partition name
	UUID     string // GPT unique partition GUID
	// Extended marks an MBR extended container. It is listed but is not a
	// partition to probe for a PV.
	Extended bool
	Logical  bool // MBR logical partition (inside the extended partition)
}

// End returns the byte offset just past the partition.
func (p Partition) End() int64 { return p.Start + p.Size }

// ErrNoTable is returned when the image holds no plausible partition table.
var ErrNoTable = errors.New("partition: no partition table found")

// RejectedError is returned (it wraps ErrNoTable) when sector 0 or LBA 1
// looks like a partition table, with its signature, but is not used as
// one: Reason says why.
type RejectedError struct {
	Kind   string // "mbr" or "gpt"
	Reason string
}

func (e *RejectedError) Error() string {
	what := "an MBR signature (0x55AA)"
	if e.Kind == "gpt" {
		what = "a GPT header signature"
	}
	return fmt.Sprintf("partition: sector 0 or 1 carries %s but is not used as a partition table: %s", what, e.Reason)
}

func (e *RejectedError) Unwrap() error { return ErrNoTable }

// ErrDamaged is wrapped by the error returned together with a partial
// Table when the table is damaged (no valid GPT header or entry array,
// broken EBR chain, I/O errors while reading it).
var ErrDamaged = errors.New("partition: damaged partition table")

const (
	mbrSectorSize = 512
	maxGPTEntries = 1 << 20 // bytes of GPT entry array we accept
	maxEBRs       = 256     // length of an EBR chain we follow
	maxProblems   = 200     // Problems entries kept
)

// Read reads the partition table of the whole-disk image r of size bytes.
// It returns (nil, ErrNoTable) when there is no plausible table, and a
// partial Table with an error wrapping ErrDamaged when the table is
// damaged. Anomalies that do not make the result incomplete are only
// listed in Table.Problems.
func Read(r io.ReaderAt, size int64) (*Table, error) {
	if r == nil || size < mbrSectorSize {
		return nil, ErrNoTable
	}
	d := &disk{r: r, size: size}
	s0, err := d.read(0, mbrSectorSize)
	if err != nil {
		return nil, fmt.Errorf("partition: reading sector 0: %w", err)
	}
	m := decodeMBR(s0)

	if m.protective() {
		t := &Table{Kind: "gpt"}
		err := readGPT(d, t, m, s0)
		return t, err
	}
	// No protective entry: an MBR wins when it is plausible; a GPT header
	// is only used without a protective MBR when there is no MBR at all.
	gptSS := d.findGPTSignature()
	if reason := m.implausible(s0); reason == "" {
		t := &Table{Kind: "mbr", SectorSize: mbrSectorSize}
		err := readMBR(d, t, m, s0)
		if gptSS != 0 {
			t.problem("a GPT header signature is present at LBA 1 (%d-byte sectors) but the MBR has no protective 0xEE entry: the GPT is ignored (stale?)", gptSS)
		}
		return t, err
	}
	if gptSS != 0 {
		t := &Table{Kind: "gpt"}
		err := readGPT(d, t, m, s0)
		if t.Partitions == nil && err != nil {
			// A GPT signature alone, without a usable header, on a disk
			// without a protective MBR: not a table.
			return nil, &RejectedError{Kind: "gpt", Reason: fmt.Sprintf("%v (%s)", err, strings.Join(t.Problems, "; "))}
		}
		return t, err
	}
	if reason := m.implausible(s0); m.sigOK && fsBootSector(s0) == "" {
		return nil, &RejectedError{Kind: "mbr", Reason: reason}
	}
	return nil, ErrNoTable
}

// disk reads bounded ranges of the image.
type disk struct {
	r    io.ReaderAt
	size int64
}

var errOutside = errors.New("range outside the image")

// read reads n bytes at off; n is bounded by the callers.
func (d *disk) read(off int64, n int) ([]byte, error) {
	if off < 0 || n < 0 || off > d.size || int64(n) > d.size-off {
		return nil, fmt.Errorf("%d bytes at offset %d: %w", n, off, errOutside)
	}
	b := make([]byte, n)
	got, err := d.r.ReadAt(b, off)
	if got == n {
		return b, nil
	}
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	return nil, fmt.Errorf("reading %d bytes at offset %d: %w", n, off, err)
}

func (t *Table) problem(format string, args ...any) {
	switch {
	case len(t.Problems) < maxProblems:
		t.Problems = append(t.Problems, fmt.Sprintf(format, args...))
	case len(t.Problems) == maxProblems:
		t.Problems = append(t.Problems, "further problems omitted")
	}
}

// checkExtents reports partitions that reach past the end of the image and
// partitions that overlap each other (the extended container is only
// compared with the primaries, as the logical partitions lie inside it).
func (t *Table) checkExtents(size int64) {
	for _, p := range t.Partitions {
		switch {
		case p.Start >= size:
			t.problem("partition %d starts at byte %d, past the end of the image (%d bytes)", p.Index, p.Start, size)
		case p.Size > size-p.Start:
			t.problem("partition %d ends at byte %d, past the end of the image (%d bytes)", p.Index, p.End(), size)
		}
	}
	idx := make([]int, 0, len(t.Partitions))
	for i := range t.Partitions {
		if t.Partitions[i].Size > 0 {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return t.Partitions[idx[a]].Start < t.Partitions[idx[b]].Start })
	// Sweep: compare each partition with those still open before it.
	var open []int
	reported := 0
	for _, i := range idx {
		p := t.Partitions[i]
		keep := open[:0]
		for _, j := range open {
			if t.Partitions[j].End() > p.Start {
				keep = append(keep, j)
			}
		}
		open = keep
		for _, j := range open {
			q := t.Partitions[j]
			if (q.Extended && p.Logical) || (p.Extended && q.Logical) {
				continue
			}
			if reported < 50 {
				t.problem("partitions %d and %d overlap (bytes %d-%d and %d-%d)", q.Index, p.Index, q.Start, q.End(), p.Start, p.End())
			}
			reported++
		}
		if len(open) < 64 { // bound the work on pathological tables
			open = append(open, i)
		}
	}
	if reported > 50 {
		t.problem("%d more overlapping pairs not listed", reported-50)
	}
}

// sizeString formats a byte count for field values.
func sizeString(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	suffix := "KMGTPE"
	v := float64(n)
	i := -1
	for v >= unit && i < len(suffix)-1 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, suffix[i])
}
