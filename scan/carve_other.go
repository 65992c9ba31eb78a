//go:build !linux

package scan

import "os"

// osExtents cannot ask the file system for holes here: every byte is read.
type osExtents struct{ f *os.File }

func (osExtents) dataAt(int64) (start, end int64, ok bool) { return 0, 0, false }
