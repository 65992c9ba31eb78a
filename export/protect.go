package export

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrEvidence is wrapped when an output would replace one of the inputs
// being read.
var ErrEvidence = errors.New("the output would replace an input")

// CheckProtected fails (wrapping ErrEvidence) when path names the same
// file as one of protect, following symbolic links and hard links: an
// export must never overwrite the evidence it reads, even with --force.
// An input that is a device backed by a file (a Linux loop device, or a
// device stacked on one, such as a partition of it or a device-mapper
// device over it) protects that file too, found by its device and inode
// (LOOP_GET_STATUS64, and the backing_file sysfs names): exporting from
// /dev/loop0 onto the image file it shows is refused. Paths that do not
// exist (yet) are fine.
func CheckProtected(path string, protect []string) error {
	if path == "" || path == "-" || len(protect) == 0 {
		return nil
	}
	out, err := os.Stat(path)
	if err != nil {
		return nil // nothing there to replace
	}
	for _, p := range protect {
		in, err := os.Stat(p)
		if err != nil {
			continue
		}
		if os.SameFile(in, out) {
			return fmt.Errorf("export: %s is the input %s: %w", path, p, ErrEvidence)
		}
		for _, b := range backingFiles(p, in) {
			if !b.same(out) {
				continue
			}
			if abs, err := filepath.Abs(path); err == nil && abs == b.name {
				return fmt.Errorf("export: %s is the file behind the input %s: %w", path, p, ErrEvidence)
			}
			return fmt.Errorf("export: %s is %s, the file behind the input %s: %w", path, b.name, p, ErrEvidence)
		}
	}
	return nil
}

// backing is a file behind a device: its device and inode numbers, and
// a name for messages.
type backing struct {
	dev, ino uint64
	name     string
}
