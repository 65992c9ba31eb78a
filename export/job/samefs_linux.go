//go:build linux

package job

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// onDisk reports whether device part is a partition of disk, from sysfs.
func onDisk(part, disk uint64) bool {
	dir := fmt.Sprintf("/sys/dev/block/%d:%d", unix.Major(part), unix.Minor(part))
	if _, err := os.Stat(dir + "/partition"); err != nil {
		return false
	}
	b, err := os.ReadFile(dir + "/../dev")
	if err != nil {
		return false
	}
	return strings.TrimSpace(string(b)) == fmt.Sprintf("%d:%d", unix.Major(disk), unix.Minor(disk))
}
