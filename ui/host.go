package ui

import tea "github.com/charmbracelet/bubbletea"

// The root implements host: what the panes ask of it.

func (m *Model) open(k paneKind, n *node) tea.Cmd {
	if n == nil {
		return nil
	}
	cmd, err := m.panes[k].show(n, true)
	if err != nil {
		m.setStatus("✗ "+err.Error(), levelErr)
		return cmd
	}
	m.right, m.focus = k, focusRight
	return cmd
}

func (m *Model) back() tea.Cmd {
	m.focus = focusTree
	m.right = paneDetails
	cmd, _ := m.panes[paneDetails].show(m.selected(), false)
	return cmd
}

func (m *Model) reveal(k paneKind) { m.right, m.focus = k, focusRight }

func (m *Model) blur() { m.focus = focusTree }

func (m *Model) showText(title, text string) {
	m.panes[paneText].(*textPane).showGeneration(title, text)
	m.reveal(paneText)
}

// moved makes the right pane follow the tree's selection: the hex and
// text views retarget to the new item when they can show it, and the
// right side falls back to the details otherwise.
func (m *Model) moved() tea.Cmd {
	n := m.selected()
	if m.right != paneDetails {
		if cmd, err := m.panes[m.right].show(n, false); err == nil {
			return cmd
		}
	}
	m.right = paneDetails
	cmd, _ := m.panes[paneDetails].show(n, false)
	return cmd
}

func (m *Model) rebuild() tea.Cmd {
	m.tree.setRoots(buildTree(m.s.res, m.s.views, m.s.showHidden))
	m.s.countLVs()
	return m.moved()
}

func (m *Model) setStatus(s string, l level) { m.bar.setStatus(s, l) }

func (m *Model) ask(q string, yes func() tea.Cmd) {
	m.bar.ask(q, yes, m.mode)
	m.mode = modeConfirm
}

func (m *Model) prompt(label, value string, done func(string) tea.Cmd) {
	m.bar.prompt(label, value, done, m.mode)
	m.mode = modePrompt
}

func (m *Model) capture(md mode) {
	switch m.mode {
	case modeHelp:
		m.helpFrom = md
	case modeConfirm, modePrompt:
		m.bar.returnTo = md
	default:
		m.mode = md
	}
}

func (m *Model) selected() *node { return m.tree.selected() }
