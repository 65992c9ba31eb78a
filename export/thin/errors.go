package thin

import (
	"errors"
	"fmt"
)

// Sentinel errors wrapped by *MetadataError, for errors.Is.
var (
	// ErrChecksum: a block's stored checksum does not match its bytes.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrMagic: the superblock magic is not the thin pool's.
	ErrMagic = errors.New("not thin pool metadata (bad magic)")
	// ErrCycle: a b-tree node is reached twice in one walk (a node
	// pointing to itself or to an ancestor), or the tree is deeper than
	// any real tree.
	ErrCycle = errors.New("b-tree cycle")
	// ErrRange: a block number lies outside the metadata or data device.
	ErrRange = errors.New("block number out of range")
	// ErrCorrupt: a field holds a value the format does not allow.
	ErrCorrupt = errors.New("corrupt metadata")
	// ErrUnsupported: valid-looking metadata this reader cannot handle
	// (unknown incompatible features, other block sizes).
	ErrUnsupported = errors.New("unsupported metadata")
	// ErrNoDevice: the thin device id is not in the pool's metadata.
	ErrNoDevice = errors.New("thin device not in the pool metadata")
)

// MetadataError says what is wrong where in the thin pool metadata.
type MetadataError struct {
	Block     uint64 // metadata block number (4096-byte blocks)
	Structure string // "superblock", "b-tree node", ...
	Tree      string // which tree, e.g. "mapping tree of device 1"; "" if none
	Field     string // the field at fault, "" if none
	Problem   string // what is wrong, in words
	Err       error  // one of the sentinel errors above
}

func (e *MetadataError) Error() string {
	s := fmt.Sprintf("thin metadata block %d (%s", e.Block, e.Structure)
	if e.Tree != "" {
		s += ", " + e.Tree
	}
	s += ")"
	if e.Field != "" {
		s += " field " + e.Field
	}
	return s + ": " + e.Problem + ": " + e.Err.Error()
}

// Unwrap returns the sentinel error.
func (e *MetadataError) Unwrap() error { return e.Err }

// ReadError is a failure to read a metadata block from the metadata LV.
type ReadError struct {
	Block uint64
	Err   error
}

func (e *ReadError) Error() string {
	return fmt.Sprintf("thin metadata block %d: read failed: %v", e.Block, e.Err)
}

// Unwrap returns the underlying read error.
func (e *ReadError) Unwrap() error { return e.Err }
