package metatext

import (
	"errors"
	"fmt"
	"strings"
)

// SyntaxError reports text that is not in LVM's configuration syntax. No
// document or VG is returned with it.
type SyntaxError struct {
	Line   int // 1-based line number
	Col    int // 1-based byte column in that line
	Offset int // byte offset from the start of the text
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("metadata text: line %d, column %d (offset %d): %s", e.Line, e.Col, e.Offset, e.Msg)
}

// ErrNoVG is returned by [Build] and [Parse] when the text is
// syntactically valid but holds no section, hence no volume group.
var ErrNoVG = errors.New("metadata text: no volume group section")

// InvalidError is returned together with a non-nil VG when the text was
// parsed and converted, but LVM itself would refuse the document: wrong
// `contents` or `version`, a required key missing, a value of the wrong
// type or range, an area naming an unknown volume, segments that do not
// tile their LV, a segment_count that does not match, and so on.
//
// The VG is as complete as the text allows; every problem is also listed
// in VG.Anomalies. Tools that inspect damaged or unusual metadata should
// show the VG together with the problems.
type InvalidError struct {
	VG       string   // VG name
	Problems []string // each "line N: path: what"
}

func (e *InvalidError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "metadata text: vg %s: LVM would refuse this metadata: ", clip(e.VG))
	const show = 3
	for i, p := range e.Problems {
		if i == show {
			fmt.Fprintf(&b, "; and %d more", len(e.Problems)-show)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p)
	}
	return b.String()
}

// Anomaly is something the parser accepted but a careful reader should
// know about.
type Anomaly struct {
	Line int // 1-based; 0 if not tied to a line
	Msg  string
}

func (a Anomaly) String() string {
	if a.Line == 0 {
		return a.Msg
	}
	return fmt.Sprintf("line %d: %s", a.Line, a.Msg)
}

// clip shortens a name or text quoted in a message.
func clip(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
