//go:build !linux

package device

import "os"

// probeExtent cannot tell data from holes here: all data.
func probeExtent(f *os.File, off int64) (data bool, end int64, ok bool) { return false, 0, false }

func adviseSequential(f *os.File, off, n int64) {}

func adviseWillNeed(f *os.File, off, n int64) {}
