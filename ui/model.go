// Package ui is lvminspect's interactive inspector: a device tree (inputs,
// partitions, PVs with their label, PV header and metadata areas, VGs,
// LVs, segments, areas) beside a pane that shows the selection's details,
// its bytes in an annotated hex view, its metadata text, or the history
// of its VG; LVs export with one key.
//
// The root Model is small: a mode (what the keyboard is doing: browsing,
// typing into a prompt, answering a question, watching an export, reading
// the help) and a focus (tree or right pane) decide where each key goes.
// The panes are plain structs with their own view functions. Everything
// the inspector shows comes from scan, model and export; it never writes
// to an input.
package ui

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/internal/termsafe"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/history"
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
}

// mode decides how keys are routed.
type mode int

const (
	modeLoading mode = iota
	modeBrowse
	modePrompt
	modeConfirm
	modeExporting
	modeHelp
)

// focus says which pane gets the keys while browsing.
type focus int

const (
	focusTree focus = iota
	focusRight
)

// rightView is what the right pane shows.
type rightView int

const (
	viewDetails rightView = iota
	viewHex
	viewText
	viewHistory
)

// promptKind says what a prompt's text is for.
type promptKind int

const (
	promptSearch promptKind = iota
	promptTextSearch
	promptExportPath
	promptGoto
)

// confirmKind says what a yes/no question is about.
type confirmKind int

const (
	confirmOverwrite confirmKind = iota
	confirmQuit
)

// level ranks a status message.
type level int

const (
	levelInfo level = iota
	levelGood
	levelWarn
	levelErr
)

// Model is the inspector's root model.
type Model struct {
	cfg    Config
	st     *Styles
	keys   *KeyMaps
	help   help.Model
	width  int
	height int

	mode     mode
	helpFrom mode
	focus    focus
	right    rightView

	res      *scan.Result
	views    []*vgView
	history  *history.History // scanned when the history is first opened
	hist     *historyPane
	histText bool // the text pane was opened from the history view
	show     struct{ hidden bool }
	// shownLVs and hiddenLVs count the LVs of the views (computed by
	// rebuild: model.VG.Shown is quadratic in the number of LVs).
	shownLVs, hiddenLVs int

	tree    treePane
	details scrollPane
	hex     hexPane
	text    textPane

	prompt     textinput.Model
	promptKind promptKind
	lastSearch string

	confirm     confirmKind
	question    string
	plan        *exportPlan
	exportPath  string
	exp         *exportJob
	nextJob     int
	quitAfter   bool
	status      string
	statusLevel level
	fatal       error        // the inputs could not be opened
	pending     []tea.KeyMsg // typed while scanning, replayed after
}

// New builds the inspector for cfg.
func New(cfg Config) *Model {
	if cfg.ExportFS == nil {
		cfg.ExportFS = export.OSFS{}
	}
	m := &Model{cfg: cfg, st: DefaultStyles(), keys: DefaultKeyMaps(), help: help.New(), mode: modeLoading}
	hs := &m.help.Styles
	hs.ShortKey, hs.FullKey = m.st.Help.Key, m.st.Help.Key
	hs.ShortDesc, hs.FullDesc = m.st.Help.Desc, m.st.Help.Desc
	hs.ShortSeparator, hs.FullSeparator, hs.Ellipsis = m.st.Help.Sep, m.st.Help.Sep, m.st.Help.Sep
	m.prompt = textinput.New()
	m.prompt.CharLimit = 4096
	m.hex.field = -1
	m.width, m.height = 80, 24
	if cfg.Result != nil {
		m.setResult(cfg.Result)
	}
	m.layout()
	m.updateKeys()
	return m
}

// scanDoneMsg carries the result of the start-up scan.
type scanDoneMsg struct {
	res *scan.Result
	err error
}

// Init implements tea.Model: it scans the inputs unless a result was given.
func (m *Model) Init() tea.Cmd {
	if m.res != nil {
		return nil
	}
	ins, opt, open := m.cfg.Inputs, m.cfg.ScanOptions, m.cfg.Open
	return func() tea.Msg {
		if ins == nil && open != nil {
			var err error
			if ins, err = open(); err != nil {
				return scanDoneMsg{err: err}
			}
		}
		res := safeScan(ins, opt)
		return scanDoneMsg{res: res}
	}
}

// safeScan runs scan.Scan, turning a panic into a problem, so that a
// damaged input never takes the inspector down.
func safeScan(ins []*scan.Input, opt scan.Options) (res *scan.Result) {
	defer func() {
		if r := recover(); r != nil {
			res = &scan.Result{Problems: []scan.Problem{{Severity: scan.SevError, Msg: fmt.Sprintf("internal error while scanning: %v", r)}}}
		}
	}()
	return scan.Scan(ins, opt)
}

// setResult shows a scan result.
func (m *Model) setResult(res *scan.Result) {
	m.res = res
	m.history, m.hist = nil, nil
	m.views = nil
	for _, vg := range res.VGs {
		m.views = append(m.views, &vgView{vg: vg, current: vg})
	}
	m.mode = modeBrowse
	m.rebuild()
	if len(res.PVs) == 0 {
		msg := "no LVM2 physical volume found in the inputs"
		for _, in := range res.Inputs {
			if c := in.Content; c != nil {
				msg = fmt.Sprintf("no LVM2 PV found; %s is %s: see its details", filepath.Base(in.Path), c.Name)
				break
			}
		}
		if !m.cfg.ScanOptions.Carve && len(res.Inputs) > 0 && !strings.Contains(msg, ";") {
			msg = "no LVM2 PV found; lvminspect --carve searches every sector"
		}
		m.setStatus(msg, levelWarn)
	} else if n := countSerious(res.AllProblems()); n == 1 {
		m.setStatus("! 1 problem found: the item marked ! lists it in its details", levelWarn)
	} else if n > 1 {
		m.setStatus(fmt.Sprintf("! %d problems found: items marked ! list them in their details", n), levelWarn)
	}
	// Start on the first LV if there is one: that is what people look for.
	for i, r := range m.tree.rows {
		if r.kind == kLV {
			m.tree.moveTo(i)
			break
		}
	}
	m.syncRight()
}

// rebuild remakes the tree from the views (after toggling hidden LVs or
// choosing a generation), keeping the selection.
func (m *Model) rebuild() {
	m.tree.setRoots(buildTree(m.res, m.views, m.show.hidden))
	m.shownLVs, m.hiddenLVs = 0, 0
	for _, v := range m.views {
		for _, n := range v.shown() {
			if n {
				m.shownLVs++
			} else {
				m.hiddenLVs++
			}
		}
	}
}

func (m *Model) setStatus(s string, l level) { m.status, m.statusLevel = termsafe.Text(s), l }

// selected is the tree's selection.
func (m *Model) selected() *node { return m.tree.selected() }
