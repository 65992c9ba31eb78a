//go:build unix

package job

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

func sameFilesystem(out string, inputs []string) (bool, error) {
	dev, err := outputDev(out)
	if err != nil {
		return false, err
	}
	for _, p := range inputs {
		st, err := os.Stat(p)
		if err != nil {
			continue
		}
		s, ok := st.Sys().(*syscall.Stat_t)
		if !ok {
			continue
		}
		if st.Mode()&os.ModeDevice != 0 {
			// A block device input: the output's file system lives on it,
			// or on one of its partitions.
			if uint64(s.Rdev) == dev || onDisk(dev, uint64(s.Rdev)) {
				return true, nil
			}
			continue
		}
		if uint64(s.Dev) == dev {
			return true, nil
		}
	}
	return false, nil
}

// outputDev is the device number of the file system out is (or would be)
// created on: that of out, or of its nearest existing parent.
func outputDev(out string) (uint64, error) {
	for p := out; ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err == nil {
			s, ok := st.Sys().(*syscall.Stat_t)
			if !ok {
				return 0, errors.New("no device number for " + p)
			}
			return uint64(s.Dev), nil
		}
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return 0, err
		}
		if filepath.Dir(p) == p {
			return 0, err
		}
	}
}
