package export

import (
	"math"

	"github.com/lvminspect/lvminspect/scan/device"
)

// extentWindow is the range one Map call of a PV's device describes.
const extentWindow = 64 << 20

// extentCache remembers the extents a PV's device last described, so
// that a sequential export asks the device once per window rather than
// once per block.
type extentCache struct {
	d        device.Device
	ext      []device.Extent
	disabled bool // the device cannot tell: all data
}

func newExtentCache(d device.Device) *extentCache {
	_, ok := d.(device.Mapper)
	return &extentCache{d: d, disabled: !ok}
}

// lookup says what PV offset off is (data, a hole, unreadable and why)
// and where that extent ends.
func (c *extentCache) lookup(off int64) (kind RunKind, end int64, why string) {
	if c.disabled {
		return RunData, math.MaxInt64, ""
	}
	for _, e := range c.ext {
		if off >= e.Off && off < e.Off+e.Len {
			return runKind(e)
		}
	}
	ext, err := device.MapAll(c.d, off, extentWindow)
	if err != nil || len(ext) == 0 || ext[0].Off != off {
		// Past the device's end (the caller clips to the PV's size), or
		// a device that cannot say: read it.
		return RunData, math.MaxInt64, ""
	}
	c.ext = ext
	return runKind(ext[0])
}

func runKind(e device.Extent) (RunKind, int64, string) {
	switch e.Kind {
	case device.Hole:
		return RunZero, e.Off + e.Len, ""
	case device.Unreadable:
		return RunMissing, e.Off + e.Len, e.Why
	}
	return RunData, e.Off + e.Len, ""
}
