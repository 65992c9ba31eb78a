package ui

import tea "github.com/charmbracelet/bubbletea"

// mouse: the wheel scrolls the pane under the pointer, a click selects a
// tree row or a row of the pane (given to it in its own coordinates).
func (m *Model) mouse(msg tea.MouseMsg) tea.Cmd {
	if m.mode != modeBrowse {
		return nil
	}
	l := m.layoutInfo()
	row := msg.Y - l.bodyTop - 1
	if msg.X < l.treeW {
		if d := wheel(msg); d != 0 {
			m.tree.move(d)
			return m.moved()
		}
		if msg.Button != tea.MouseButtonLeft || msg.Action != tea.MouseActionPress {
			return nil
		}
		m.focus = focusTree
		if i := m.tree.offset + row; row >= 0 && row < m.tree.height && i < len(m.tree.rows) {
			if i == m.tree.cursor {
				m.tree.toggle()
			}
			m.tree.moveTo(i)
			return m.moved()
		}
		return nil
	}
	if msg.Button == tea.MouseButtonLeft && msg.Action == tea.MouseActionPress {
		m.focus = focusRight
	}
	msg.X, msg.Y = msg.X-l.treeW-1, row
	return m.panes[m.right].Update(msg)
}
