package job

import (
	"path/filepath"
	"strings"
)

// DefaultOutput is where an export goes when no path is given:
// "VG/LV.img", relative to the working directory, with the names made
// safe as file names (they come from the disk: anything but LVM's
// characters A-Z a-z 0-9 + _ . - becomes "_", and "." or ".." or a
// leading "-" cannot be a name).
func DefaultOutput(vg, lv string) string {
	return filepath.Join(safeName(vg), safeName(lv)+".img")
}

func safeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '_' || c == '.' || c == '-'
		if !ok {
			b[i] = '_'
		}
	}
	s = string(b)
	if s == "" || s == "." || s == ".." {
		return "_" + s
	}
	if s[0] == '-' {
		s = "_" + s[1:]
	}
	return s
}

// AbsOutput is the absolute, cleaned form of an output path, as the
// export prompt shows it so that the examiner sees where the image goes
// whatever the working directory ("-", stdout, stays "-").
func AbsOutput(path string) string {
	path = strings.TrimSpace(path)
	if path == "-" || path == "" {
		return path
	}
	if a, err := filepath.Abs(path); err == nil {
		return a
	}
	return filepath.Clean(path)
}

// SameFilesystem reports whether the output path out (which need not
// exist yet: its nearest existing parent directory is used) lies on the
// same file system as one of the inputs: an image file input on the same
// file system, or a file system on the disk or partition that is an
// input. Writing there may change the evidence's unallocated space or the
// very device read; the prompt warns.
func SameFilesystem(out string, inputs []string) (bool, error) {
	return sameFilesystem(AbsOutput(out), inputs)
}
