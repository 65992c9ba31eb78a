package scan

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Sentinel errors, usable with errors.Is.
var (
	// ErrNoLabel means none of sectors 0..3 holds an LVM2 label.
	ErrNoLabel = errors.New("no LVM2 label")
	// ErrBadChecksum is wrapped by every checksum mismatch.
	ErrBadChecksum = errors.New("checksum mismatch")
	// ErrTruncated means a structure lies beyond the end of the input.
	ErrTruncated = errors.New("beyond the end of the input")
)

// FormatError says that a structure is not valid LVM2 at a given place.
type FormatError struct {
	Structure string // e.g. "label_header", "pv_header", "mda_header", "raw_locn[0]"
	Field     string // the field at fault, if one is
	Off       int64  // absolute byte offset in the input (of the field when known)
	Msg       string
	Stored    string // stored value, where a comparison failed
	Computed  string // computed or expected value
	Err       error  // wrapped sentinel, if any
}

func (e *FormatError) Error() string {
	s := e.Structure
	if e.Field != "" {
		s += "." + e.Field
	}
	s = fmt.Sprintf("%s at byte %d (%#x): %s", s, uint64(e.Off), uint64(e.Off), e.Msg)
	if e.Stored != "" || e.Computed != "" {
		s += fmt.Sprintf(" (stored %s, computed %s)", e.Stored, e.Computed)
	}
	return s
}

func (e *FormatError) Unwrap() error { return e.Err }

// Severity ranks a Problem.
type Severity string

// Severities.
const (
	SevInfo  Severity = "info"
	SevWarn  Severity = "warning"
	SevError Severity = "error"
)

// Problem is something a scan found wrong or unusual. Problems never stop
// a scan: everything still readable is read.
type Problem struct {
	Severity  Severity `json:"severity"`
	Path      string   `json:"path,omitempty"`
	Off       int64    `json:"offset"`
	Structure string   `json:"structure,omitempty"`
	Field     string   `json:"field,omitempty"`
	Stored    string   `json:"stored,omitempty"`
	Computed  string   `json:"computed,omitempty"`
	Msg       string   `json:"message"`
}

// Offsets are unsigned on disk: one of 2^63 or more (a field of a
// crafted header) is kept in Off as the int64 of the same bits, and
// shown and written as the unsigned number.

// problemJSON is Problem as JSON, Off unsigned.
type problemJSON struct {
	Severity  Severity `json:"severity"`
	Path      string   `json:"path,omitempty"`
	Off       uint64   `json:"offset"`
	Structure string   `json:"structure,omitempty"`
	Field     string   `json:"field,omitempty"`
	Stored    string   `json:"stored,omitempty"`
	Computed  string   `json:"computed,omitempty"`
	Msg       string   `json:"message"`
}

// MarshalJSON writes Off as the unsigned number.
func (p Problem) MarshalJSON() ([]byte, error) {
	return json.Marshal(problemJSON{p.Severity, p.Path, uint64(p.Off), p.Structure, p.Field, p.Stored, p.Computed, p.Msg})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (p *Problem) UnmarshalJSON(b []byte) error {
	var q problemJSON
	if err := json.Unmarshal(b, &q); err != nil {
		return err
	}
	*p = Problem{q.Severity, q.Path, int64(q.Off), q.Structure, q.Field, q.Stored, q.Computed, q.Msg}
	return nil
}

func (p Problem) String() string {
	s := string(p.Severity) + ": "
	if p.Path != "" {
		s += p.Path + ": "
	}
	if p.Structure != "" {
		s += p.Structure
		if p.Field != "" {
			s += "." + p.Field
		}
		s += fmt.Sprintf(" at byte %d: ", uint64(p.Off))
	}
	s += p.Msg
	if p.Stored != "" || p.Computed != "" {
		s += fmt.Sprintf(" (stored %s, computed %s)", p.Stored, p.Computed)
	}
	return s
}

// problemFrom turns an error into a Problem, keeping a FormatError's detail.
// off is used for errors that carry no offset of their own.
func problemFrom(sev Severity, path string, off int64, err error) Problem {
	var fe *FormatError
	if errors.As(err, &fe) {
		return Problem{Severity: sev, Path: path, Off: fe.Off, Structure: fe.Structure, Field: fe.Field,
			Stored: fe.Stored, Computed: fe.Computed, Msg: fe.Msg}
	}
	return Problem{Severity: sev, Path: path, Off: off, Msg: err.Error()}
}
