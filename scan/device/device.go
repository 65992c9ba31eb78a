// Package device defines the block devices of lvminspect's device graph.
//
// Every input is a device, and so is everything a layer finds on a device:
// the virtual disk inside an evidence container, a partition, an md array
// assembled from several members, a LUKS mapping, an LV. A device is a
// size and an io.ReaderAt; what else it can do it says through small
// optional interfaces, so that a layer above (sparse export, --carve,
// serving) works through every layer below without knowing what is there.
package device

import (
	"errors"
	"fmt"
	"io"
)

// Device is a read-only block device: Size bytes readable with ReadAt.
// ReadAt follows io.ReaderAt; a read that starts or ends past Size
// returns io.EOF for the part past the end. A range that cannot be read
// (a bad container chunk, a missing segment file, a missing member)
// fails with an error that wraps *UnreadableError, never with zeros.
type Device interface {
	io.ReaderAt
	Size() int64
}

// Mapper is implemented by devices that know where their data is.
type Mapper interface {
	// Map describes [off, off+length) as consecutive extents, in order,
	// covering the range exactly (clipped to Size). Holes read as zeros
	// and are stored nowhere (unallocated clusters, grains, blocks); a
	// layer may skip them without reading.
	Map(off, length int64) ([]Extent, error)
}

// Kind says what an extent of a device is.
type Kind uint8

const (
	// Data is stored and must be read.
	Data Kind = iota
	// Hole reads as zeros and is stored nowhere.
	Hole
	// Unreadable cannot be read: ReadAt fails there; Why says why.
	Unreadable
)

func (k Kind) String() string {
	switch k {
	case Data:
		return "data"
	case Hole:
		return "hole"
	case Unreadable:
		return "unreadable"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Extent is a run of bytes of one kind.
type Extent struct {
	Off, Len int64
	Kind     Kind
	Why      string // for Unreadable
}

// UnreadableError is a range of a device that cannot be read.
type UnreadableError struct {
	Device string // the device's name, e.g. "disk.E01"
	Off    int64  // byte offset in the device
	Len    int64
	Why    string // what is wrong, where: "chunk 17 at byte 0x1f000 of disk.E02: adler32 stored 0x… computed 0x…"
}

func (e *UnreadableError) Error() string {
	return fmt.Sprintf("%s: bytes [%d, %d) cannot be read: %s", e.Device, e.Off, e.Off+e.Len, e.Why)
}

// ErrUnreadable matches every *UnreadableError with errors.Is.
var ErrUnreadable = errors.New("unreadable range")

// Is makes errors.Is(err, ErrUnreadable) true.
func (e *UnreadableError) Is(target error) bool { return target == ErrUnreadable }

// Concurrent is implemented by devices whose ReadAt may be called from
// several goroutines at once (most are; a device that serialises its
// reads says false).
type Concurrent interface {
	ConcurrentReads() bool
}

// Closer is implemented by devices that hold files open.
type Closer interface {
	Close() error
}

// MapAll is Map for any device: a Mapper's answer, or one Data extent
// covering the range for a device that does not know.
func MapAll(d Device, off, length int64) ([]Extent, error) {
	if off < 0 || length < 0 {
		return nil, fmt.Errorf("device: map of [%d, +%d): negative", off, length)
	}
	if end := d.Size(); off+length > end || off+length < off {
		length = max(end-off, 0)
	}
	if length == 0 {
		return nil, nil
	}
	if m, ok := d.(Mapper); ok {
		return m.Map(off, length)
	}
	return []Extent{{Off: off, Len: length, Kind: Data}}, nil
}
