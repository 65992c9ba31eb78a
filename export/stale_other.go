//go:build !unix

package export

import "os"

// lockFile does nothing where flock is not available.
func lockFile(f *os.File) {}

// heldByExport cannot tell here: every temporary is listed.
func heldByExport(path string) bool { return false }
