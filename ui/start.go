package ui

import (
	"fmt"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// Run opens the inspector full screen and returns when the user quits.
func Run(cfg Config, opts ...tea.ProgramOption) error {
	// Ask the terminal for its background before Bubble Tea owns stdin:
	// a late answer could hang the program or arrive as key presses
	// (bubbletea PR #1107).
	_ = lipgloss.HasDarkBackground()
	m := New(cfg)
	opts = append([]tea.ProgramOption{tea.WithAltScreen(), tea.WithMouseCellMotion()}, opts...)
	final, err := tea.NewProgram(m, opts...).Run()
	if err != nil {
		return fmt.Errorf("inspector: %w", err)
	}
	if fm, ok := final.(*Model); ok {
		// Quit while exporting (the program was killed): stop it and wait
		// for the engine to remove its temporary file.
		fm.exportPane().abandon()
		fm.verifyPane().stop()
		fm.s.closeFiles()
		fm.unlockP().wipe()
		if fm.s.ownKeys {
			fm.s.cfg.ScanOptions.Keys.Wipe()
		}
	}
	return nil
}
