package blockdev

import (
	"fmt"

	"github.com/lvminspect/lvminspect/scan/device"
)

// ReadDisk is the ReadAt of a device of size bytes that prefix names in
// errors ("vhd: disk.vhd", or only the format): a negative off is an
// error ("prefix: negative offset off"); any other read is framed by
// ReadAt.
func ReadDisk(prefix string, p []byte, off, size int64, read func(q []byte) (int, error)) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("%s: negative offset %d", prefix, off)
	}
	return ReadAt(p, off, size, read)
}

// MapBounds frames the Map of [off, off+length) of a device of size
// bytes that prefix names in errors: a negative off or length is an
// error ("prefix: map of [off, +length): negative"); at or past the end
// ok is false (Map returns no extent); otherwise it returns length cut
// at the end of the device.
func MapBounds(prefix string, off, length, size int64) (n int64, ok bool, err error) {
	if off < 0 || length < 0 {
		return 0, false, fmt.Errorf("%s: map of [%d, +%d): negative", prefix, off, length)
	}
	if off >= size {
		return 0, false, nil
	}
	return min(length, size-off), true, nil
}

// MapDisk is the Map of a virtual disk of size bytes resolved into
// pieces, framed by MapBounds and described by MapPieces (through
// parent, nil without one).
func MapDisk(prefix string, off, length, size int64, pieces Pieces, parent device.Device) ([]device.Extent, error) {
	n, ok, err := MapBounds(prefix, off, length, size)
	if !ok {
		return nil, err
	}
	return MapPieces(off, n, pieces, parent)
}

// ParentReader is the parent reader ReadPieces takes for a disk whose
// InParent pieces are read from parent with ReadParent.
func ParentReader(parent device.Device) func(q []byte, off int64) error {
	return func(q []byte, off int64) error { return ReadParent(parent, q, off) }
}
