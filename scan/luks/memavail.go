package luks

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
)

// availableMemoryKiB is the memory the system reports available
// (Linux's MemAvailable), 0 when unknown.
func availableMemoryKiB() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) >= 2 && string(f[0]) == "MemAvailable:" {
			n, err := strconv.ParseInt(string(f[1]), 10, 64)
			if err == nil && n > 0 {
				return n
			}
		}
	}
	return 0
}
