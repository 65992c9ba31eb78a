//go:build !linux && !freebsd && !darwin

package scan

import (
	"errors"
	"io"
	"os"
)

// errNoDeviceSize is returned where the OS has no supported way to ask.
var errNoDeviceSize = errors.New("reading the size of a block device is not supported on this system")

// deviceSize falls back to seeking to the end of the device, which works
// for the disk devices of most other systems.
func deviceSize(f *os.File) (int64, error) {
	return seekSize(f)
}

// seekSize is the size as the position of the end of f.
func seekSize(f *os.File) (int64, error) {
	n, err := f.Seek(0, io.SeekEnd)
	if err != nil || n <= 0 {
		return 0, errNoDeviceSize
	}
	return n, nil
}
