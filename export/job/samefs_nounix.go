//go:build !unix

package job

import "errors"

func sameFilesystem(out string, inputs []string) (bool, error) {
	return false, errors.New("cannot tell file systems apart on this system")
}
