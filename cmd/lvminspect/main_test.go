package main

import (
	"os"
	"testing"
)

// The test binary runs the command itself when asked (the re-exec
// pattern): the signal tests start it as a real process.
func TestMain(m *testing.M) {
	if os.Getenv("LVMINSPECT_RUN_MAIN") == "1" {
		os.Exit(execute(newRootCmd(), os.Stderr))
	}
	os.Exit(m.Run())
}
