package ui

import tea "github.com/charmbracelet/bubbletea"

// mouse: the wheel scrolls the pane under the pointer, a click selects.
func (m *Model) mouse(msg tea.MouseMsg) tea.Cmd {
	if m.mode != modeBrowse {
		return nil
	}
	l := m.layoutInfo()
	inTree := msg.X < l.treeW
	switch msg.Button {
	case tea.MouseButtonWheelUp, tea.MouseButtonWheelDown:
		d := 3
		if msg.Button == tea.MouseButtonWheelUp {
			d = -3
		}
		if inTree {
			m.tree.move(d)
			m.syncRight()
			return nil
		}
		switch m.right {
		case viewHex:
			m.hex.scroll(d)
		case viewText:
			m.text.scroll(d)
		case viewHistory:
			m.hist.move(d)
			return m.histChanged()
		default:
			m.details.scroll(d)
		}
	case tea.MouseButtonLeft:
		if msg.Action != tea.MouseActionPress {
			return nil
		}
		row := msg.Y - l.bodyTop - 1
		if inTree {
			m.focus = focusTree
			if row >= 0 && row < m.tree.height {
				i := m.tree.offset + row
				if i < len(m.tree.rows) {
					if i == m.tree.cursor {
						m.tree.toggle()
					}
					m.tree.moveTo(i)
					m.syncRight()
				}
			}
			return nil
		}
		m.focus = focusRight
		if m.right == viewHistory && m.hist != nil {
			m.hist.click(row)
			return m.histChanged()
		}
	}
	return nil
}
