package blockdev

import (
	"io"

	"github.com/lvminspect/lvminspect/scan/device"
)

// ReadParent fills q with the bytes at off of a differencing disk's
// parent: zeros without a parent, and zeros for the part past the
// parent's end (a child larger than its parent). A short read of the
// parent is an error (io.ErrUnexpectedEOF if the parent gave none).
func ReadParent(parent device.Device, q []byte, off int64) error {
	if parent == nil {
		clear(q)
		return nil
	}
	k := 0
	if ps := parent.Size(); off < ps {
		k = int(min(int64(len(q)), ps-off))
		n, err := parent.ReadAt(q[:k], off)
		if n < k {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	clear(q[k:])
	return nil
}
