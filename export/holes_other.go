//go:build !linux

package export

import "os"

// probeExtent reports that holes cannot be detected here: every byte is
// read as data.
func probeExtent(f *os.File, off int64) (data bool, end int64, ok bool) {
	return false, 0, false
}

// adviseSequential does nothing where posix_fadvise is not used.
func adviseSequential(f *os.File, off, n int64) {}

// adviseWillNeed does nothing where posix_fadvise is not used.
func adviseWillNeed(f *os.File, off, n int64) {}
