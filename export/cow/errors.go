package cow

import (
	"errors"
	"fmt"

	"github.com/lvminspect/lvminspect/model"
)

// Sentinel errors wrapped by *StoreError and *SnapshotError, for errors.Is.
var (
	// ErrCorrupt: a field of the exception store holds a value the format
	// does not allow, or an exception points outside the COW LV or the
	// origin.
	ErrCorrupt = errors.New("corrupt exception store")
	// ErrInvalidated: the kernel marked the snapshot invalid (its COW
	// store overflowed, or an I/O error hit it); its content cannot be
	// trusted and the kernel refuses to read it.
	ErrInvalidated = errors.New("snapshot invalidated")
	// ErrUnsupported: a store version this reader does not know.
	ErrUnsupported = errors.New("unsupported exception store")
	// ErrRead: the COW LV could not be read (missing PV, read error).
	ErrRead = errors.New("exception store unreadable")
	// ErrMetadata: the LVM metadata of the snapshot is inconsistent
	// (missing origin or COW LV, several snapshots on one COW LV...).
	ErrMetadata = errors.New("inconsistent snapshot metadata")
)

// HeaderArea is StoreError.Area for faults in the header (chunk 0).
const HeaderArea = -1

// StoreError says what is wrong where in a COW LV's exception store.
type StoreError struct {
	LV     string // the COW LV
	Area   int    // metadata area index, or HeaderArea
	Offset int64  // byte offset in the COW LV of the field at fault
	Field  string // "magic", "valid", "version", "chunk_size", "old_chunk", "new_chunk", ...
	Reason string
	Err    error // one of the sentinel errors
}

func (e *StoreError) Error() string {
	where := "header"
	if e.Area != HeaderArea {
		where = fmt.Sprintf("exception area %d", e.Area)
	}
	return fmt.Sprintf("snapshot COW store %s: %s at byte %d, %s: %s: %v", e.LV, where, e.Offset, e.Field, e.Reason, e.Err)
}

// Unwrap returns the sentinel error.
func (e *StoreError) Unwrap() error { return e.Err }

// SnapshotError says that the LVM metadata of a snapshot cannot be used.
type SnapshotError struct {
	LV      string // the LV being opened
	Segment int    // segment index, -1 where none
	Field   string // metadata key at fault
	Reason  string
	Err     error // ErrMetadata, or another sentinel
}

func (e *SnapshotError) Error() string {
	seg := ""
	if e.Segment >= 0 {
		seg = " " + model.SegmentName(e.Segment)
	}
	return fmt.Sprintf("snapshot lv %s%s: %s: %s: %v", e.LV, seg, e.Field, e.Reason, e.Err)
}

// Unwrap returns the sentinel error.
func (e *SnapshotError) Unwrap() error { return e.Err }
