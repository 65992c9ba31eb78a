package ui

import (
	"errors"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/lvminspect/lvminspect/export"
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
		m.setResult(msg.res, msg.dur)
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
	case tea.MouseMsg:
		m.mouse(msg)
		return m, nil
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
		m.openHistory(n)
		return nil
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

func (m *Model) openPrompt(k promptKind, label, value string) {
	m.promptKind = k
	m.prompt.Prompt = label
	m.prompt.SetValue(value)
	m.prompt.CursorEnd()
	m.prompt.Focus()
	m.mode = modePrompt
}

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
	exists, err := outputExists(m.cfg.ExportFS, path)
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

// mouse: the wheel scrolls the pane under the pointer, a click selects.
func (m *Model) mouse(msg tea.MouseMsg) {
	if m.mode != modeBrowse {
		return
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
			return
		}
		switch m.right {
		case viewHex:
			m.hex.scroll(d)
		case viewText:
			m.text.scroll(d)
		case viewHistory:
			m.hist.move(d)
			m.histChanged()
		default:
			m.details.scroll(d)
		}
	case tea.MouseButtonLeft:
		if msg.Action != tea.MouseActionPress {
			return
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
			return
		}
		m.focus = focusRight
		if m.right == viewHistory && m.hist != nil {
			m.hist.click(row)
			m.histChanged()
		}
	}
}
