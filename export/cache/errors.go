package cache

import (
	"errors"
	"fmt"

	"github.com/lvminspect/lvminspect/model"
)

// Sentinel errors wrapped by *MetadataError, for errors.Is.
var (
	// ErrChecksum: a block's stored checksum does not match its bytes.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrMagic: the superblock magic is not dm-cache's or dm-writecache's.
	ErrMagic = errors.New("bad magic")
	// ErrCorrupt: a field holds a value the format does not allow.
	ErrCorrupt = errors.New("corrupt cache metadata")
	// ErrRange: a block number lies outside the metadata device, or a
	// mapping outside the origin or cache device.
	ErrRange = errors.New("out of range")
	// ErrCycle: a b-tree node is reached twice, or the tree is deeper
	// than any real tree.
	ErrCycle = errors.New("b-tree cycle")
	// ErrUntrusted: the metadata is intact but flagged as not to be
	// trusted (needs_check).
	ErrUntrusted = errors.New("cache metadata not trustworthy")
	// ErrUnsupported: valid-looking metadata this reader cannot handle
	// (unknown version, incompatible features, cache mode).
	ErrUnsupported = errors.New("unsupported cache metadata")
	// ErrRead: the metadata could not be read (missing PV, read error).
	ErrRead = errors.New("cache metadata unreadable")
	// ErrLVM: the LVM metadata of the cache is inconsistent (missing
	// sub-LV, sizes that do not fit).
	ErrLVM = errors.New("inconsistent cache LV metadata")
)

// MetadataError says what is wrong where in a cache's metadata.
type MetadataError struct {
	LV        string // the LV holding the metadata (cmeta sub-LV or cachevol)
	Offset    int64  // byte offset in that LV of the structure at fault
	Structure string // "superblock", "b-tree node", "array block", "entry 5"...
	Field     string // field at fault, "" if none
	Reason    string
	Err       error // one of the sentinel errors
	// Hint says what can still be exported, "" if nothing is known.
	Hint string
}

func (e *MetadataError) Error() string {
	s := fmt.Sprintf("cache metadata %s at byte %d (%s)", e.LV, e.Offset, e.Structure)
	if e.Field != "" {
		s += " field " + e.Field
	}
	s += ": " + e.Reason + ": " + e.Err.Error()
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// withHint sets the hint of a *MetadataError.
func withHint(err error, hint string) error {
	var me *MetadataError
	if errors.As(err, &me) && me.Hint == "" {
		me.Hint = hint
	}
	return err
}

// Unwrap returns the sentinel error.
func (e *MetadataError) Unwrap() error { return e.Err }

// LVError says that the LVM metadata of a cached LV cannot be used, or
// why the cache cannot be exported. It wraps ErrLVM or another sentinel.
type LVError struct {
	LV      string
	Segment int
	Type    string // segment type
	Field   string
	Reason  string
	Err     error
}

func (e *LVError) Error() string {
	return fmt.Sprintf("lv %s: %s (%s): %s: %s: %v", e.LV, model.SegmentName(e.Segment), e.Type, e.Field, e.Reason, e.Err)
}

// Unwrap returns the sentinel error.
func (e *LVError) Unwrap() error { return e.Err }
