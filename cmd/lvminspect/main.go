// Command lvminspect opens disks and disk images read-only and shows,
// verifies and exports everything LVM2 put on them.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/lvminspect/lvminspect/internal/termsafe"
)

// exitError carries an exit status through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func main() {
	cmd := newRootCmd()
	err := cmd.Execute()
	if err == nil {
		return
	}
	code := 1
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	}
	// Errors quote names and values read from the disks.
	fmt.Fprintln(os.Stderr, "lvminspect:", termsafe.Lines(err.Error()))
	os.Exit(code)
}
