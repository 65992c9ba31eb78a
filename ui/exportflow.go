package ui

import (
	"errors"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/lvminspect/lvminspect/export"
)

// confirmKey answers the open question (overwrite, or quit during an
// export); ctrl+c means yes to quitting and no to overwriting.
func (m *Model) confirmKey(msg tea.KeyMsg) tea.Cmd {
	k := m.keys.Confirm
	yes := key.Matches(msg, k.Yes)
	no := key.Matches(msg, k.No)
	if key.Matches(msg, m.keys.Global.Interrupt) {
		if m.confirm == confirmQuit {
			yes = true
		} else {
			no = true
		}
	}
	if !yes && !no {
		return nil
	}
	switch m.confirm {
	case confirmOverwrite:
		m.mode = modeBrowse
		if no {
			m.setStatus("not overwritten; export cancelled", levelInfo)
			m.plan = nil
			return nil
		}
		m.plan.force = true
		return m.runExport()
	case confirmQuit:
		m.mode = modeExporting
		if no {
			return nil
		}
		m.quitAfter = true
		m.exp.stopped = true
		m.exp.cancel()
	}
	return nil
}

// beginExport checks the LV can be exported and asks for the path.
func (m *Model) beginExport(n *node) tea.Cmd {
	p, err := planExport(n)
	if err != nil {
		m.setStatus("✗ "+err.Error(), levelErr)
		return nil
	}
	p.res, p.toolV = m.res, m.cfg.Version
	m.plan = p
	m.openPrompt(promptExportPath, "export to: ", defaultExportPath(p.vg, p.lv))
	return nil
}

// choosePath asks before overwriting, then starts.
func (m *Model) choosePath(path string) tea.Cmd {
	if path == "" || m.plan == nil {
		m.setStatus("export cancelled: no path", levelInfo)
		return nil
	}
	m.exportPath = path
	for _, p := range []string{path, export.ProvenancePath(path)} {
		if err := export.CheckProtected(strings.TrimSpace(p), m.plan.inputPaths()); err != nil {
			m.setStatus("✗ "+err.Error(), levelErr)
			return nil
		}
	}
	exists, err := outputExists(m.cfg.ExportFS, path)
	if err == nil && !exists {
		// The provenance record written beside the image counts too.
		exists, err = outputExists(m.cfg.ExportFS, export.ProvenancePath(strings.TrimSpace(path)))
	}
	if err != nil {
		m.setStatus("✗ "+err.Error(), levelErr)
		return nil
	}
	if exists {
		m.ask(confirmOverwrite, fmt.Sprintf("%s exists. Overwrite it with %s/%s?", path, m.plan.vg, m.plan.lv))
		return nil
	}
	return m.runExport()
}

// runExport starts the planned export and shows its progress.
func (m *Model) runExport() tea.Cmd {
	m.nextJob++
	j, cmd := startExport(m.nextJob, m.plan, m.exportPath, m.cfg.ExportFS)
	m.exp = j
	m.plan = nil
	m.mode = modeExporting
	m.setStatus("", levelInfo)
	return cmd
}

// exportDone ends an export: status line, and quitting if asked to.
func (m *Model) exportDone(d exportDoneMsg) tea.Cmd {
	if m.exp == nil || d.id != m.exp.id {
		return nil
	}
	j := m.exp
	m.exp = nil
	if m.mode == modeExporting || m.mode == modeConfirm {
		m.mode = modeBrowse
	}
	if m.mode == modeHelp && m.helpFrom == modeExporting {
		m.helpFrom = modeBrowse
	}
	var ee *export.ExistsError
	if errors.As(d.err, &ee) {
		m.setStatus("✗ "+ee.Path+" appeared while exporting; nothing was overwritten", levelErr)
	} else {
		m.setStatus(exportDoneText(j, d))
	}
	if m.quitAfter {
		return tea.Quit
	}
	return nil
}
