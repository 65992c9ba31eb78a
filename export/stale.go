package export

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
)

// A temporary file is locked (flock) while an export writes it, where
// the OS has file locks: the lock goes with the process, even one killed
// with SIGKILL, so a temporary nobody holds is a leftover of an export
// that was interrupted before it could remove it.

// tempName matches the temporary names of output.create (images and
// provenance records alike): ".NAME.tmp-" and 12 hex digits.
var tempName = regexp.MustCompile(`^\..+\.tmp-[0-9a-f]{12}$`)

// StaleTemporaries lists the temporary files of exports in dir that no
// running export holds: what an export killed without warning (SIGKILL,
// a power cut) left beside its output. It never removes them (they may
// hold hours of work to look at). Where the OS cannot tell whether a
// file is held, every temporary is listed.
func StaleTemporaries(dir string) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if !e.Type().IsRegular() || !tempName.MatchString(e.Name()) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if !heldByExport(p) {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// lockTemporary marks f, a temporary being written, as held (see
// StaleTemporaries); errors are ignored.
func lockTemporary(f File) {
	if of, ok := f.(*os.File); ok {
		lockFile(of)
	}
}
