package main

import (
	"errors"
	"github.com/lvminspect/lvminspect/scan"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/spf13/cobra"

	"github.com/lvminspect/lvminspect/ui"
	"github.com/lvminspect/lvminspect/ui/demo"
)

// runTUI opens the interactive inspector on the PATHs, read-only, or on
// the built-in demo disk when there are none.
func runTUI(cmd *cobra.Command, args []string, opt scan.Options) error {
	cfg := ui.Config{Version: Version(), ScanOptions: opt}
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
	err := ui.Run(cfg, tea.WithContext(cmd.Context()))
	if errors.Is(err, tea.ErrInterrupted) {
		return &exitError{code: exitInterrupted, err: err}
	}
	return err
}
