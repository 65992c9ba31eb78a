//go:build unix

package main

import "golang.org/x/sys/unix"

// noCoreDumps stops the process from leaving a core dump, which would hold
// the secrets it was given (passphrases, key files, volume keys).
func noCoreDumps() {
	_ = unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: 0, Max: 0})
}
