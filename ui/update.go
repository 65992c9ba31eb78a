package ui

import (
	"fmt"
	"runtime/debug"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// Update implements tea.Model. A panic in any handler is caught and shown
// in the status line: the inspector must not die on a damaged disk.
func (m *Model) Update(msg tea.Msg) (_ tea.Model, cmd tea.Cmd) {
	defer func() {
		if r := recover(); r != nil {
			m.setStatus(fmt.Sprintf("✗ internal error (please report): %v", r), levelErr)
			if debugPanics {
				m.status += "\n" + string(debug.Stack())
			}
			m.mode = modeBrowse
			if m.exp != nil {
				m.mode = modeExporting
			}
			cmd = nil
		}
		m.updateKeys()
		m.hex.ensure()
	}()
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
		return m, nil
	case scanDoneMsg:
		if msg.err != nil {
			m.fatal = msg.err
			return m, nil
		}
		m.setResult(msg.res)
		// Keys typed while scanning are not lost.
		var cmds []tea.Cmd
		for _, k := range m.pending {
			m.updateKeys()
			cmds = append(cmds, m.key(k))
		}
		m.pending = nil
		return m, tea.Batch(cmds...)
	case exportProgressMsg:
		if m.exp == nil || msg.id != m.exp.id {
			return m, nil
		}
		m.exp.last = msg.p
		return m, m.exp.listen()
	case exportDoneMsg:
		return m, m.exportDone(msg)
	case diffDoneMsg:
		msg.pane.setDiff(msg.key, msg.lines)
		return m, nil
	case tea.MouseMsg:
		return m, m.mouse(msg)
	case tea.KeyMsg:
		return m, m.key(msg)
	}
	return m, nil
}

// maxPending bounds the keys kept while the inputs are scanned.
const maxPending = 256

// debugPanics adds stack traces to internal errors (tests set it).
var debugPanics = false

// key routes a key by mode, then by focus.
func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste && m.mode != modePrompt {
		// Fast typing (or a terminal multiplexer) delivers several runes
		// in one message: "/cream" is "/" then "cream" into the prompt.
		var cmds []tea.Cmd
		for _, r := range msg.Runes {
			m.updateKeys()
			cmds = append(cmds, m.key(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: msg.Alt}))
		}
		return tea.Batch(cmds...)
	}
	g := &m.keys.Global
	switch m.mode {
	case modeLoading:
		if key.Matches(msg, g.Interrupt) || m.fatal != nil {
			return tea.Quit
		}
		if len(m.pending) < maxPending {
			m.pending = append(m.pending, msg)
		}
		return nil
	case modeHelp:
		switch {
		case key.Matches(msg, m.keys.HelpKey.Close):
			m.mode = m.helpFrom
		case key.Matches(msg, g.Quit, g.Interrupt):
			return m.quit()
		}
		return nil
	case modePrompt:
		return m.promptKey(msg)
	case modeConfirm:
		return m.confirmKey(msg)
	case modeExporting:
		switch {
		case key.Matches(msg, m.keys.Export.Cancel):
			m.exp.stopped = true
			m.exp.cancel()
		case key.Matches(msg, g.Quit, g.Interrupt):
			return m.quit()
		case key.Matches(msg, g.Help):
			m.openHelp()
		}
		return nil
	}
	switch {
	case key.Matches(msg, g.Quit, g.Interrupt):
		return m.quit()
	case key.Matches(msg, g.Help):
		m.openHelp()
		return nil
	case key.Matches(msg, g.Focus):
		if m.focus == focusTree {
			m.focus = focusRight
		} else {
			m.focus = focusTree
		}
		return nil
	}
	if m.focus == focusTree {
		return m.treeKey(msg)
	}
	switch m.right {
	case viewHex:
		return m.hexKey(msg)
	case viewHistory:
		return m.historyKey(msg)
	}
	return m.textKey(msg)
}

func (m *Model) openHelp() {
	m.helpFrom = m.mode
	m.mode = modeHelp
}

// quit quits, asking first while an export runs.
func (m *Model) quit() tea.Cmd {
	if m.exp != nil {
		m.ask(confirmQuit, fmt.Sprintf("An export of %s/%s is running. Stop it (nothing is left at %s) and quit?", m.exp.vg, m.exp.lv, m.exp.path))
		return nil
	}
	return tea.Quit
}

func (m *Model) ask(k confirmKind, q string) {
	m.confirm, m.question = k, q
	m.mode = modeConfirm
}

// moveKeys applies the shared movement bindings through f (rows), page
// being the page size; it reports whether the key was one of them.
func moveKeys(msg tea.KeyMsg, k *MoveKeys, page int, f func(d int), top, bottom func()) bool {
	switch {
	case key.Matches(msg, k.Up):
		f(-1)
	case key.Matches(msg, k.Down):
		f(1)
	case key.Matches(msg, k.PageUp):
		f(-max(page-1, 1))
	case key.Matches(msg, k.PageDown):
		f(max(page-1, 1))
	case key.Matches(msg, k.Top):
		top()
	case key.Matches(msg, k.Bottom):
		bottom()
	default:
		return false
	}
	return true
}

func (m *Model) treeKey(msg tea.KeyMsg) tea.Cmd {
	k := m.keys.Tree
	t := &m.tree
	moved := moveKeys(msg, &k.MoveKeys, t.height, t.move, func() { t.moveTo(0) }, func() { t.moveTo(len(t.rows) - 1) })
	if moved {
		m.syncRight()
		return nil
	}
	n := t.selected()
	switch {
	case key.Matches(msg, k.Expand):
		t.expand()
	case key.Matches(msg, k.Collapse):
		t.collapse()
	case key.Matches(msg, k.Toggle):
		if n != nil && len(n.children) == 0 {
			m.openDefault(n)
			return nil
		}
		t.toggle()
	case key.Matches(msg, k.Hex):
		m.openHex(n)
		return nil
	case key.Matches(msg, k.Text):
		m.openText(n)
		return nil
	case key.Matches(msg, k.History):
		return m.openHistory(n)
	case key.Matches(msg, k.Hidden):
		m.show.hidden = !m.show.hidden
		m.rebuild()
		if m.show.hidden {
			m.setStatus("showing hidden sub-LVs (in [brackets])", levelInfo)
		} else {
			m.setStatus("hidden sub-LVs are not shown", levelInfo)
		}
	case key.Matches(msg, k.Export):
		return m.beginExport(n)
	case key.Matches(msg, k.Search):
		m.openPrompt(promptSearch, "search tree: ", "")
		return nil
	case key.Matches(msg, k.Next):
		m.search(m.lastSearch)
	case key.Matches(msg, k.Present):
		m.backToPresent(n)
	default:
		return nil
	}
	m.syncRight()
	return nil
}

// search selects the next tree item matching q.
func (m *Model) search(q string) {
	m.lastSearch = q
	if q == "" {
		return
	}
	if !m.tree.find(q) {
		m.setStatus(fmt.Sprintf("no item's name contains %q", q), levelWarn)
		return
	}
	m.setStatus(fmt.Sprintf("found %q · n: next match", q), levelInfo)
}

func (m *Model) hexKey(msg tea.KeyMsg) tea.Cmd {
	k := m.keys.Hex
	h := &m.hex
	if moveKeys(msg, &k.MoveKeys, h.rows(), h.scroll, h.home, h.end) {
		return nil
	}
	switch {
	case key.Matches(msg, k.NextField):
		h.stepField(1)
	case key.Matches(msg, k.PrevField):
		h.stepField(-1)
	case key.Matches(msg, k.NextSector):
		h.scroll(512 / h.bpr())
	case key.Matches(msg, k.PrevSector):
		h.scroll(-512 / h.bpr())
	case key.Matches(msg, k.Goto):
		m.openPrompt(promptGoto, fmt.Sprintf("go to %s offset: ", h.src.unit), "")
	case key.Matches(msg, k.Back):
		m.back()
	}
	return nil
}

func (m *Model) textKey(msg tea.KeyMsg) tea.Cmd {
	k := m.keys.Text
	if m.right == viewDetails {
		d := &m.details
		if moveKeys(msg, &k.MoveKeys, d.height, d.scroll, func() { d.top = 0 }, func() { d.scroll(len(d.lines)) }) {
			return nil
		}
		if key.Matches(msg, k.Back) {
			m.back()
		}
		return nil
	}
	t := &m.text
	if moveKeys(msg, &k.MoveKeys, t.rows(), t.scroll, func() { t.top = 0 }, func() { t.scroll(len(t.lines)) }) {
		return nil
	}
	switch {
	case key.Matches(msg, k.Search):
		m.openPrompt(promptTextSearch, "search text: ", t.query)
	case key.Matches(msg, k.Next):
		t.next(1)
	case key.Matches(msg, k.Prev):
		t.next(-1)
	case key.Matches(msg, k.Back):
		m.back()
	}
	return nil
}

// back returns the right pane to the details and the focus to the tree.
func (m *Model) back() {
	if m.right == viewText && m.hist != nil && m.histText {
		m.histText = false
		m.right = viewHistory
		return
	}
	m.right = viewDetails
	m.focus = focusTree
	m.syncRight()
}
