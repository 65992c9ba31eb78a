package export

import (
	"math"
	"os"
)

// extentCache remembers the last data or hole extent found in a file, so
// that a sequential export probes the file once per extent rather than
// once per block.
type extentCache struct {
	f          *os.File
	start, end int64
	data       bool
	valid      bool
	disabled   bool // the file or OS cannot tell holes: all data
}

// lookup says whether file offset off is in data or in a hole, and where
// that extent ends.
func (c *extentCache) lookup(off int64) (data bool, end int64) {
	if c.disabled {
		return true, math.MaxInt64
	}
	if c.valid && off >= c.start && off < c.end {
		return c.data, c.end
	}
	data, end, ok := probeExtent(c.f, off)
	if !ok {
		c.disabled = true
		return true, math.MaxInt64
	}
	c.start, c.end, c.data, c.valid = off, end, data, true
	return data, end
}
