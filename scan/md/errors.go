// Package md decodes Linux md RAID superblocks (metadata 0.90, 1.0, 1.1
// and 1.2) of array members and groups members into arrays, read-only
// (docs/format/md-raid.md). It does not read array data.
package md

import (
	"errors"
	"fmt"
)

// Sentinel errors, usable with errors.Is.
var (
	// ErrNoSuperblock means no candidate location holds the md magic.
	ErrNoSuperblock = errors.New("no md superblock")
	// ErrBadChecksum is wrapped by every checksum mismatch.
	ErrBadChecksum = errors.New("checksum mismatch")
	// ErrTruncated means a structure lies beyond the end of the member.
	ErrTruncated = errors.New("beyond the end of the member")
	// ErrInvalid is wrapped by every other failed sanity check.
	ErrInvalid = errors.New("invalid md superblock")
)

// FormatError says that an md superblock is not valid at a given place.
type FormatError struct {
	Structure string // "md_superblock_1.2", "md_superblock_0.90"...
	Field     string // the field at fault, if one is
	Off       int64  // byte offset in the member (of the field when known)
	Msg       string
	Stored    string // stored value, where a comparison failed
	Computed  string // computed or expected value
	Err       error  // wrapped sentinel
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
