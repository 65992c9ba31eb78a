// Package ui is lvminspect's interactive inspector: a device tree (inputs,
// partitions, PVs with their label, PV header and metadata areas, VGs,
// LVs, segments, areas) beside a pane that shows the selection's details,
// its bytes in an annotated hex view, its metadata text, the history of
// its VG, or the export of an LV.
//
// The root Model is small: a mode (what the keyboard is doing: browsing,
// typing into a prompt, answering a question, filling the export form,
// watching an export, typing a LUKS passphrase, reading the help) and a focus (tree or right pane)
// decide where each key goes. Each pane is a component (pane.go) with its
// own keys, update, view and size; they share a session (session.go) that
// holds the scan result and the results of slow work, which always runs
// in commands. Everything the inspector shows comes from scan, model,
// export, export/job and internal/format, as the commands use them; it
// never writes to an input.
package ui

import (
	"fmt"
	"runtime/debug"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/spf13/afero"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/scan"
)

// Config says what the inspector opens.
type Config struct {
	// Inputs are scanned when the program starts (Init).
	Inputs []*scan.Input
	// Open, when set and Inputs is nil, opens the inputs in Init, after
	// the first frame is drawn (the demo disk is unpacked this way).
	Open func() ([]*scan.Input, error)
	// Result, when set, is shown as is instead of scanning Inputs.
	Result *scan.Result
	// ScanOptions tune the scan of Inputs.
	ScanOptions scan.Options
	// Title is shown in the header (the demo says it is the demo).
	Title string
	// Demo marks the built-in demo disk.
	Demo bool
	// ExportFS is where exports are written (default: the OS).
	ExportFS export.FS
	// Version is the program version recorded in export provenance
	// records.
	Version string
	// FS is the file system the inputs were opened from: the hex view
	// opens the other files of a container there (segment and extent
	// files), read-only whatever it is. Default: the operating system's.
	FS afero.Fs
}

// mode decides how keys are routed.
type mode int

const (
	modeLoading   mode = iota
	modeBrowse         // keys go to the global bindings, then the focused pane
	modePrompt         // a one-line text field
	modeConfirm        // a yes/no question
	modeForm           // the export form has every key
	modeExporting      // an export runs: its pane has the keys, q asks
	modeVerifying      // a container is verified: its pane has the keys
	modeUnlock         // the passphrase form has every key (it types q and ?)
	modeHelp
)

// focus says which side gets the keys while browsing.
type focus int

const (
	focusTree focus = iota
	focusRight
)

// Model is the inspector's root model.
type Model struct {
	s        *session
	keys     *KeyMaps
	width    int
	height   int
	mode     mode
	helpFrom mode
	focus    focus
	tree     *treePane
	panes    [nPanes]rightPane
	right    paneKind // the pane shown on the right
	bar      bottomBar
	pending  []tea.KeyMsg // typed while scanning, replayed after
	fatal    error        // the inputs could not be opened
}

// New builds the inspector for cfg.
func New(cfg Config) *Model {
	if cfg.ExportFS == nil {
		cfg.ExportFS = export.OSFS{}
	}
	if cfg.FS == nil {
		cfg.FS = scan.ReadOnlyOSFs()
	} else {
		cfg.FS = afero.NewReadOnlyFs(cfg.FS)
	}
	s := newSession(cfg)
	m := &Model{s: s, keys: DefaultKeyMaps(), mode: modeLoading, width: 80, height: 24}
	m.bar = newBottomBar(s.st, m.keys)
	m.tree = newTreePane(s, m, m.keys.Tree)
	m.panes = [nPanes]rightPane{
		paneDetails: newDetailsPane(s, m, m.keys.Details),
		paneHex:     newHexPane(s, m, m.keys.Hex),
		paneText:    newTextPane(s, m, m.keys.Text),
		paneHistory: newHistoryPane(s, m, m.keys.History),
		paneExport:  newExportPane(s, m, m.keys.Export),
		paneVerify:  newVerifyPane(s, m, m.keys.Verify),
		paneUnlock:  newUnlockPane(s, m, m.keys.Unlock),
	}
	if cfg.Result != nil {
		m.setResult(cfg.Result) // its commands are issued by Init
	}
	m.after()
	return m
}

// scanDoneMsg carries the result of the start-up scan, and the inputs
// as they were before it.
type scanDoneMsg struct {
	res   *scan.Result
	snaps []inputSnap
	err   error
}

// Init implements tea.Model: it scans the inputs unless a result was
// given; then it starts the slow work the first screen needs.
func (m *Model) Init() tea.Cmd {
	if m.s.res != nil {
		return m.started()
	}
	ins, opt, open := m.s.cfg.Inputs, m.s.cfg.ScanOptions, m.s.cfg.Open
	return func() tea.Msg {
		if ins == nil && open != nil {
			var err error
			if ins, err = open(); err != nil {
				return scanDoneMsg{err: err}
			}
		}
		snaps := snapshotInputs(ins) // before the scan changes them
		return scanDoneMsg{res: safeScan(ins, opt), snaps: snaps}
	}
}

// setResult shows a scan result, starting on the first LV.
func (m *Model) setResult(res *scan.Result) {
	m.s.setResult(res)
	m.mode = modeBrowse
	m.tree.setRoots(buildTree(m.s.res, m.s.views, m.s.showHidden))
	m.s.countLVs()
	m.setStatus(startupStatus(res, m.s.cfg.ScanOptions, m.s.snaps != nil))
	m.tree.selectFirstLV()
}

// started is the slow work of the first screen: the details of the
// selection, and the facts of every LV the tree shows.
func (m *Model) started() tea.Cmd { return tea.Batch(m.moved(), m.s.prefetch()) }

// Update implements tea.Model. A panic in any handler is caught and shown
// in the status line: the inspector must not die on a damaged disk.
func (m *Model) Update(msg tea.Msg) (_ tea.Model, cmd tea.Cmd) {
	defer func() {
		if r := recover(); r != nil {
			s := fmt.Sprintf("✗ internal error (please report): %v", r)
			if debugPanics {
				s += "\n" + string(debug.Stack())
			}
			m.setStatus(s, levelErr)
			m.mode, cmd = modeBrowse, nil
		}
		m.after()
	}()
	return m, m.route(msg)
}

// debugPanics adds stack traces to internal errors (tests set it).
var debugPanics = false

// maxPending bounds the keys kept while the inputs are scanned.
const maxPending = 256

func (m *Model) route(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
		var cmds []tea.Cmd // the hex view reads what the larger view shows
		for _, p := range m.panes {
			cmds = append(cmds, p.Update(msg))
		}
		return tea.Batch(cmds...)
	case scanDoneMsg:
		if msg.err != nil {
			m.fatal = msg.err
			return nil
		}
		m.s.snaps = msg.snaps
		m.setResult(msg.res)
		cmds := []tea.Cmd{m.started()} // keys typed while scanning are not lost
		for _, k := range m.pending {
			m.after()
			cmds = append(cmds, m.key(k))
		}
		m.pending = nil
		return tea.Batch(cmds...)
	case taskDoneMsg:
		m.s.tasks.done()
		return m.route(msg.msg)
	case panicMsg:
		m.setStatus("✗ internal error (please report): "+msg.what, levelErr)
		if m.mode == modeUnlock && m.unlockP().state == unlockDeriving {
			m.unlockP().state, m.unlockP().why = unlockForm, "the scan failed: "+msg.what
		}
		return nil
	case unlockDoneMsg:
		return m.unlocked(msg)
	case spinner.TickMsg:
		return m.s.tasks.tick(msg)
	case tea.KeyMsg:
		return m.key(msg)
	case tea.MouseMsg:
		return m.mouse(msg)
	}
	// Results of slow work: kept in the session, then shown by the panes
	// that asked for them.
	m.s.store(msg)
	cmds := []tea.Cmd{m.tree.Update(msg)}
	for _, p := range m.panes {
		cmds = append(cmds, p.Update(msg))
	}
	return tea.Batch(cmds...)
}

// key routes a key by mode, then by focus.
func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste && m.mode != modePrompt && m.mode != modeForm && m.mode != modeUnlock {
		// Fast typing (or a terminal multiplexer) delivers several runes
		// in one message: "/cream" is "/" then "cream" into the prompt.
		var cmds []tea.Cmd
		for _, r := range msg.Runes {
			m.after()
			cmds = append(cmds, m.key(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: msg.Alt}))
		}
		return tea.Batch(cmds...)
	}
	g := m.keys.Global
	if m.mode == modeLoading {
		if key.Matches(msg, g.Interrupt) || m.fatal != nil {
			return tea.Quit
		}
		if len(m.pending) < maxPending {
			m.pending = append(m.pending, msg)
		}
		return nil
	}
	m.bar.clear() // a status message lasts until the next key
	switch m.mode {
	case modeHelp:
		if key.Matches(msg, m.keys.HelpKey.Close) {
			m.mode = m.helpFrom
		} else if key.Matches(msg, g.Quit, g.Interrupt) {
			return m.quit()
		}
		return nil
	case modePrompt, modeConfirm:
		if key.Matches(msg, g.Interrupt) {
			m.bar.dismiss()
			m.mode = m.bar.returnTo
			return m.quit()
		}
		then, done := m.bar.key(msg)
		if done {
			m.mode = m.bar.returnTo
		}
		if then != nil {
			return then()
		}
		return nil
	case modeForm, modeExporting:
		if key.Matches(msg, g.Interrupt) || (m.mode == modeExporting && key.Matches(msg, g.Quit)) {
			return m.quit()
		}
		if m.mode == modeExporting && key.Matches(msg, g.Help) {
			m.openHelp()
			return nil
		}
		return m.panes[paneExport].Update(msg)
	case modeVerifying:
		switch {
		case key.Matches(msg, g.Interrupt, g.Quit):
			return m.quit()
		case key.Matches(msg, g.Help):
			m.openHelp()
			return nil
		}
		return m.panes[paneVerify].Update(msg)
	case modeUnlock:
		if key.Matches(msg, g.Interrupt) {
			m.unlockP().wipe()
			return m.quit()
		}
		return m.panes[paneUnlock].Update(msg)
	}
	switch {
	case key.Matches(msg, g.Quit, g.Interrupt):
		return m.quit()
	case key.Matches(msg, g.Help):
		m.openHelp()
		return nil
	case key.Matches(msg, g.Focus):
		m.focus = 1 - m.focus
		return nil
	}
	return m.focused().Update(msg)
}

// focused is the pane that gets the keys.
func (m *Model) focused() pane {
	if m.focus == focusTree {
		return m.tree
	}
	return m.panes[m.right]
}

func (m *Model) openHelp() { m.helpFrom, m.mode = m.mode, modeHelp }

// quit quits, asking first while an export runs; a verification is
// stopped.
func (m *Model) quit() tea.Cmd {
	m.verifyPane().stop()
	if e := m.exportPane(); e.running() {
		m.ask(e.quitQuestion(), func() tea.Cmd {
			if !e.running() {
				return tea.Quit // it ended while the question was open
			}
			e.stop(true)
			return nil
		})
		return nil
	}
	return tea.Quit
}

func (m *Model) exportPane() *exportPane { return m.panes[paneExport].(*exportPane) }

func (m *Model) verifyPane() *verifyPane { return m.panes[paneVerify].(*verifyPane) }

// after runs after every message: the bindings follow the new state, and
// the panes get their sizes (the bottom bar may have grown).
func (m *Model) after() {
	refresh(m.tree.actions())
	for _, p := range m.panes {
		refresh(p.actions())
	}
	m.refreshGlobal()
	m.layout()
}

// refreshGlobal enables the global bindings that work in the mode.
func (m *Model) refreshGlobal() {
	g := m.keys.Global
	browse := m.mode == modeBrowse
	g.Focus.SetEnabled(browse)
	g.Help.SetEnabled(browse || m.mode == modeExporting || m.mode == modeVerifying)
	g.Quit.SetEnabled(browse || m.mode == modeExporting || m.mode == modeVerifying || m.mode == modeLoading || m.mode == modeHelp)
	g.Interrupt.SetEnabled(true)
	refresh(m.bar.actions())
	k := m.keys.HelpKey
	k.Close.SetEnabled(m.mode == modeHelp)
}

// View implements tea.Model. It only draws: every state it shows was
// settled in Update.
func (m *Model) View() (out string) {
	defer func() {
		if r := recover(); r != nil {
			out = fmt.Sprintf("internal error while drawing (please report): %v\npress q to quit", r)
		}
		out = safeFrame(out)
	}()
	if m.tooSmall() {
		return fmt.Sprintf("lvminspect needs a terminal of at least %d×%d; this one is %d×%d.\nEnlarge it, or press q to quit.",
			MinWidth, MinHeight, m.width, m.height)
	}
	if m.mode == modeLoading {
		return m.loadingView()
	}
	l := m.layoutInfo()
	var body string
	if m.mode == modeHelp {
		body = m.fullHelp(m.width, l.bodyH)
	} else {
		tree := borderize(m.s.st, m.tree.View(), l.treeW, l.bodyH, m.tree.Title(), m.focus == focusTree)
		p := m.panes[m.right]
		right := borderize(m.s.st, p.View(), l.rightW, l.bodyH, p.Title(), m.focus == focusRight)
		body = lipgloss.JoinHorizontal(lipgloss.Top, tree, right)
	}
	return m.header() + "\n" + body + "\n" + m.bar.view(m.width) + "\n" + m.helpLine()
}
