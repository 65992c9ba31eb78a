package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"sync"
	"syscall"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/spf13/cobra"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/ui"
	"github.com/lvminspect/lvminspect/ui/demo"
)

// runTUI opens the interactive inspector on the PATHs, read-only, or on
// the built-in demo disk when there are none.
func runTUI(cmd *cobra.Command, args []string, opt scan.Options) error {
	temps := &tempTracker{FS: export.OSFS{}}
	opt, wipe, err := withKeys(opt, false)
	if err != nil {
		return err
	}
	defer wipe()
	cfg := ui.Config{Version: Version(), ScanOptions: opt, ExportFS: temps}
	if len(args) == 0 {
		// Unpacked after the first frame is drawn.
		cfg.Open, cfg.Demo, cfg.Title = demo.Inputs, true, demo.Title
	} else {
		ins, closeAll, err := openInputs(args)
		if err != nil {
			return err
		}
		defer closeAll()
		cfg.Inputs = ins
	}
	// ^C is a key in the inspector. Bubble Tea ends the program on
	// SIGTERM and on an interrupt sent from elsewhere (seen here only
	// for the exit status: cancelling the program as well would race
	// with its own handling); SIGHUP (the terminal went away), which it
	// leaves to the default action, ends it here. An export that runs
	// then leaves no temporary file behind.
	seen := make(chan os.Signal, 1)
	signal.Notify(seen, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(seen)
	ctx, caught, stop := signalContext(cmd.Context(), syscall.SIGHUP)
	defer stop()
	err = ui.Run(cfg, tea.WithContext(ctx))
	// Whatever ended the program, a temporary file an export still had
	// is removed (and no export starts a new one).
	temps.removeAll()
	s := caught()
	select {
	case s = <-seen:
	default:
	}
	if s != nil {
		return &exitError{code: interruptedStatus(s), err: fmt.Errorf("inspector: interrupted (%s)", signalName(s))}
	}
	if errors.Is(err, tea.ErrInterrupted) {
		return &exitError{code: exitInterrupted, err: err}
	}
	return err
}

// tempTracker is the inspector's export file system: it remembers the
// files exports create until they are renamed into place or removed, so
// that whatever ends the program can remove what is left (an export
// goroutine may not get to it), and refuses new files after that.
type tempTracker struct {
	export.FS
	mu     sync.Mutex
	open   map[string]bool
	closed bool
}

func (t *tempTracker) CreateExcl(name string, perm fs.FileMode) (export.File, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, fmt.Errorf("creating %s: the inspector is ending", name)
	}
	f, err := t.FS.CreateExcl(name, perm)
	if err == nil {
		if t.open == nil {
			t.open = map[string]bool{}
		}
		t.open[name] = true
	}
	return f, err
}

func (t *tempTracker) Rename(oldpath, newpath string, replace bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return fmt.Errorf("renaming %s: the inspector is ending", oldpath)
	}
	err := t.FS.Rename(oldpath, newpath, replace)
	if err == nil {
		delete(t.open, oldpath)
	}
	return err
}

func (t *tempTracker) Remove(name string) error {
	err := t.FS.Remove(name)
	t.mu.Lock()
	delete(t.open, name)
	t.mu.Unlock()
	return err
}

// removeAll removes the files still open and refuses new ones.
func (t *tempTracker) removeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	for name := range t.open {
		_ = t.FS.Remove(name)
	}
	t.open = nil
}
