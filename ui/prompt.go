package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// openPrompt gives the keyboard to a one-line text field.
func (m *Model) openPrompt(k promptKind, label, value string) {
	m.promptKind = k
	m.prompt.Prompt = label
	m.prompt.SetValue(value)
	m.prompt.CursorEnd()
	m.prompt.Focus()
	m.mode = modePrompt
}

// promptKey edits, confirms or cancels the prompt.
func (m *Model) promptKey(msg tea.KeyMsg) tea.Cmd {
	k := m.keys.Prompt
	switch {
	case key.Matches(msg, m.keys.Global.Interrupt):
		m.prompt.Blur()
		m.mode = modeBrowse
		return m.quit()
	case key.Matches(msg, k.Cancel):
		m.prompt.Blur()
		m.mode = modeBrowse
		if m.promptKind == promptExportPath {
			m.plan = nil
			m.setStatus("export cancelled", levelInfo)
		}
		return nil
	case key.Matches(msg, k.Confirm):
		m.prompt.Blur()
		m.mode = modeBrowse
		return m.submitPrompt(strings.TrimSpace(m.prompt.Value()))
	}
	var cmd tea.Cmd
	m.prompt, cmd = m.prompt.Update(msg)
	return cmd
}

// submitPrompt acts on the text entered: a search, an offset, a path.
func (m *Model) submitPrompt(v string) tea.Cmd {
	switch m.promptKind {
	case promptSearch:
		m.search(v)
		m.syncRight()
	case promptTextSearch:
		m.text.setQuery(v)
		if v != "" && len(m.text.matches) == 0 {
			m.setStatus(fmt.Sprintf("%q is not in the text", v), levelWarn)
		}
	case promptGoto:
		off, err := parseOffset(v)
		if err != nil {
			m.setStatus("✗ "+err.Error(), levelErr)
			return nil
		}
		if off < m.hex.src.start || off >= m.hex.src.end {
			m.setStatus(fmt.Sprintf("✗ offset %s is outside %s (%#x–%#x)", offText(off), m.hex.src.title, m.hex.src.start, m.hex.src.end), levelErr)
			return nil
		}
		m.hex.jump(off)
	case promptExportPath:
		return m.choosePath(v)
	}
	return nil
}
