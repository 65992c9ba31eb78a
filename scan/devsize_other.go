//go:build !linux

package scan

import (
	"errors"
	"io"
	"os"
)

// errNoDeviceSize is returned where the OS has no supported way to ask.
var errNoDeviceSize = errors.New("reading the size of a block device is not supported on this system")

// deviceSize falls back to seeking to the end of the device, which works
// for character and block devices on the BSDs and macOS.
func deviceSize(f *os.File) (int64, error) {
	n, err := f.Seek(0, io.SeekEnd)
	if err != nil || n <= 0 {
		return 0, errNoDeviceSize
	}
	return n, nil
}
