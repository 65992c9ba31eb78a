// Command lvminspect opens disks and disk images read-only and shows,
// verifies and exports everything LVM2 put on them.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/lvminspect/lvminspect/internal/termsafe"
)

// Exit statuses, the same for every command (see the README):
//
//	0   success: found, complete and exact
//	1   failed (nothing written), or nothing found
//	2   usage error, or an input that cannot be opened
//	3   done, but incomplete or uncertain (an image with zero-filled
//	    ranges, reused extents or legs that differ; a scan with
//	    error-level problems)
//	130 interrupted
const (
	exitFailed      = 1
	exitUsage       = 2
	exitIncomplete  = 3
	exitInterrupted = 130
)

// exitError carries an exit status through cobra, and a hint printed on
// the line after the error.
type exitError struct {
	code int
	err  error
	hint string
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError is an exit status 2 error.
func usageError(err error) error { return &exitError{code: exitUsage, err: err} }

// usageErrorOf is a usage error of cmd, with the hint to read its help.
func usageErrorOf(cmd *cobra.Command, err error) error {
	return &exitError{code: exitUsage, err: err, hint: fmt.Sprintf("Run '%s --help' for usage.", cmd.CommandPath())}
}

// usageArgs makes an argument check's failure a usage error (exit 2).
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usageErrorOf(cmd, err)
		}
		return nil
	}
}

// exitCode is the exit status for the error a command returned.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if errors.Is(err, context.Canceled) {
		return exitInterrupted
	}
	return exitFailed
}

// execute runs the command line and prints the error; it returns the
// exit status.
func execute(cmd *cobra.Command, stderr io.Writer) int {
	err := cmd.Execute()
	if err == nil {
		return 0
	}
	// Errors quote names and values read from the disks: a newline in
	// one is escaped too, so that it cannot forge a line.
	fmt.Fprintln(stderr, "lvminspect:", termsafe.Text(err.Error()))
	var ee *exitError
	if errors.As(err, &ee) && ee.hint != "" {
		fmt.Fprintln(stderr, ee.hint)
	}
	return exitCode(err)
}

func main() {
	os.Exit(execute(newRootCmd(), os.Stderr))
}
