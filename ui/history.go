package ui

import tea "github.com/charmbracelet/bubbletea"

// historyPane lists the metadata generations of one VG with a diff.
type historyPane struct {
	vgName string
	width  int
	height int
}

func (h *historyPane) setSize(w, ht int) { h.width, h.height = w, ht }
func (h *historyPane) move(d int)        {}
func (h *historyPane) click(row int)     {}
func (h *historyPane) view(st *Styles) string {
	return st.Muted.Render("history: not available yet")
}

func (m *Model) histChanged()                      {}
func (m *Model) updateHistoryKeys()                {}
func (m *Model) historyKey(msg tea.KeyMsg) tea.Cmd { return nil }
func (m *Model) openHistory(n *node)               { m.setStatus("history: not available yet", levelWarn) }
func (m *Model) backToPresent(n *node)             {}
