//go:build linux

package export

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// same reports whether fi is the backing file.
func (b backing) same(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && uint64(st.Dev) == b.dev && st.Ino == b.ino
}

// maxStack bounds how deep backingFiles follows devices stacked on
// devices (a partition of a device-mapper device over a loop device...).
const maxStack = 8

// backingFiles lists the files behind the block device at path: for a
// loop device, the file it reads (from the LOOP_GET_STATUS64 ioctl, and
// from sysfs's loop/backing_file); for a partition, its disk's; for a
// device stacked on others (device-mapper, md), theirs.
func backingFiles(path string, fi os.FileInfo) []backing {
	if fi.Mode()&os.ModeDevice == 0 || fi.Mode()&os.ModeCharDevice != 0 {
		return nil
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	var out []backing
	sys := fmt.Sprintf("/sys/dev/block/%d:%d", unix.Major(uint64(st.Rdev)), unix.Minor(uint64(st.Rdev)))
	if dir, err := filepath.EvalSymlinks(sys); err == nil {
		out = append(out, sysBacking(dir, 0)...)
	}
	// The ioctl names the file by device and inode, whatever became of
	// its name (renamed, or in another mount namespace).
	if f, err := os.Open(path); err == nil {
		if info, err := unix.IoctlLoopGetStatus64(int(f.Fd())); err == nil {
			name := unix.ByteSliceToString(info.File_name[:])
			if name == "" {
				name = "the file behind loop device " + path
			}
			out = append(out, backing{dev: info.Device, ino: info.Inode, name: name})
		}
		f.Close()
	}
	return out
}

// sysBacking lists the backing files of the block device whose sysfs
// directory is dir: its own (a loop device), its disk's (a partition),
// those of the devices under it (slaves).
func sysBacking(dir string, depth int) []backing {
	if depth > maxStack {
		return nil
	}
	var out []backing
	if _, err := os.Stat(filepath.Join(dir, "partition")); err == nil {
		out = append(out, sysBacking(filepath.Dir(dir), depth+1)...)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "loop", "backing_file")); err == nil {
		name := strings.TrimSuffix(strings.TrimSpace(string(b)), " (deleted)")
		if fi, err := os.Stat(name); err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				out = append(out, backing{dev: uint64(st.Dev), ino: st.Ino, name: name})
			}
		}
	}
	slaves, _ := os.ReadDir(filepath.Join(dir, "slaves"))
	for _, s := range slaves {
		if d, err := filepath.EvalSymlinks(filepath.Join(dir, "slaves", s.Name())); err == nil {
			out = append(out, sysBacking(d, depth+1)...)
		}
	}
	return out
}
