package export

import (
	"fmt"
	"sort"
	"strings"

	"github.com/lvminspect/lvminspect/internal/format"
)

// ExistsError is returned when the output file exists and Options.Force
// is not set (also when it appeared while the export was running).
type ExistsError struct {
	Path string
}

func (e *ExistsError) Error() string {
	return fmt.Sprintf("export: %s already exists (use --force to replace it)", e.Path)
}

// MissingError is returned, before anything is written, when some LV
// bytes have no source and Options.AllowPartial is not set.
type MissingError struct {
	Ranges []Range
}

// maxListed bounds how many ranges an error message lists.
const maxListed = 10

func (e *MissingError) Error() string {
	var total int64
	for _, r := range e.Ranges {
		total += r.Len
	}
	var b strings.Builder
	fmt.Fprintf(&b, "export: %s of the LV have no source, in %s", format.SizeExact(total), format.Count(len(e.Ranges), "range", "ranges"))
	if srcs := e.Sources(); len(srcs) > 0 {
		fmt.Fprintf(&b, " (PVs: %s)", strings.Join(srcs, ", "))
	}
	for i, r := range e.Ranges {
		if i == maxListed {
			fmt.Fprintf(&b, "; and %d more", len(e.Ranges)-maxListed)
			break
		}
		b.WriteString("; ")
		b.WriteString(r.String())
	}
	b.WriteString("; allow a partial export to write them as zeros")
	return b.String()
}

// Sources lists the distinct non-empty sources of the missing ranges,
// sorted.
func (e *MissingError) Sources() []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range e.Ranges {
		if r.Source != "" && !seen[r.Source] {
			seen[r.Source] = true
			out = append(out, r.Source)
		}
	}
	sort.Strings(out)
	return out
}

// ReadError is returned when reading LV data fails and
// Options.AllowPartial is not set.
type ReadError struct {
	Off    int64  // LV offset of the first byte that could not be read
	Len    int64  // bytes left in the run being read
	Source string // PV or input of the run
	Err    error
}

func (e *ReadError) Error() string {
	src := ""
	if e.Source != "" {
		src = " from " + e.Source
	}
	return fmt.Sprintf("export: reading LV byte %d%s: %v", e.Off, src, e.Err)
}

// Unwrap returns the underlying error.
func (e *ReadError) Unwrap() error { return e.Err }
