package export

import (
	"errors"
	"fmt"
	"os"
)

// ErrEvidence is wrapped when an output would replace one of the inputs
// being read.
var ErrEvidence = errors.New("the output would replace an input")

// CheckProtected fails (wrapping ErrEvidence) when path names the same
// file as one of protect, following symbolic links and hard links: an
// export must never overwrite the evidence it reads, even with --force.
// Paths that do not exist (yet) are fine.
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
		if err == nil && os.SameFile(in, out) {
			return fmt.Errorf("export: %s is the input %s: %w", path, p, ErrEvidence)
		}
	}
	return nil
}
