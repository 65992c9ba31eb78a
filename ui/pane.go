package ui

import (
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// pane is one component of the inspector (the tree, and each view of the
// right side). It has its own key bindings and handles keys only when it
// has the focus; other messages reach every pane, which keeps those meant
// for it (a finished read, a diff). View draws the inner area of SetSize;
// it changes nothing.
type pane interface {
	Update(msg tea.Msg) tea.Cmd
	View() string
	SetSize(w, h int)
	Keys() keySet
	// actions is the pane's key table (for refreshing and tests).
	actions() []action
	Title() string
}

// rightPane is a view of the selection on the right side.
type rightPane interface {
	pane
	// show makes the pane show n. explicit is a key asking for this view
	// (then an error is said in the status line); otherwise the tree's
	// selection moved, and an error means the root falls back to the
	// details.
	show(n *node, explicit bool) (tea.Cmd, error)
}

// paneKind names the right-side panes.
type paneKind int

const (
	paneDetails paneKind = iota
	paneHex
	paneText
	paneHistory
	paneExport
	paneVerify
	paneUnlock
	nPanes
)

// host is what a pane may ask of the root: the root implements it, and
// panes get it when they are made (pug's helpers, soft-serve's common).
type host interface {
	// open shows pane k for n with the focus; an error goes to the status
	// line.
	open(k paneKind, n *node) tea.Cmd
	// back returns the right side to the details of the selection and
	// the focus to the tree.
	back() tea.Cmd
	// reveal shows pane k as it is (the history after a generation's
	// text), focused.
	reveal(k paneKind)
	// showText shows a generation's text; esc returns to the history.
	showText(title, text string)
	// blur gives the focus to the tree, the right pane staying as it is.
	blur()
	// moved tells the right pane that the tree's selection moved.
	moved() tea.Cmd
	// rebuild remakes the tree from the views (hidden LVs, time travel).
	rebuild() tea.Cmd
	setStatus(s string, l level)
	// ask puts a yes/no question; yes runs on y.
	ask(q string, yes func() tea.Cmd)
	// prompt asks for a line of text; done runs on enter.
	prompt(label, value string, done func(string) tea.Cmd)
	// capture gives every key to the export pane (its form or its run)
	// until called with modeBrowse.
	capture(m mode)
	// selected is the tree's selection.
	selected() *node
}

// borderize draws content in a box of outer size w×h with the title in
// the top border. The focused pane has a heavy border and a ● before its
// title, so focus shows without colour too.
func borderize(st *Styles, content string, w, h int, title string, focused bool) string {
	b := lipgloss.RoundedBorder()
	s := st.Pane.Blurred
	if focused {
		b = lipgloss.ThickBorder()
		s = st.Pane.Focused
		title = "● " + title
	} else {
		title = "  " + title
	}
	bs := lipgloss.NewStyle().Foreground(s.GetBorderTopForeground())
	iw, ih := max(w-2, 0), max(h-2, 0)
	title = ansi.Truncate(" "+title+" ", max(iw-2, 0), "…")
	top := b.TopLeft + b.Top + title + strings.Repeat(b.Top, max(iw-1-lipgloss.Width(title), 0)) + b.TopRight
	out := []string{bs.Render(top)}
	lines := strings.Split(content, "\n")
	for i := 0; i < ih; i++ {
		l := ""
		if i < len(lines) {
			l = ansi.Truncate(lines[i], iw, "…")
		}
		pad := iw - lipgloss.Width(l)
		out = append(out, bs.Render(b.Left)+l+strings.Repeat(" ", max(pad, 0))+bs.Render(b.Right))
	}
	out = append(out, bs.Render(b.BottomLeft+strings.Repeat(b.Bottom, iw)+b.BottomRight))
	return strings.Join(out, "\n")
}

// scroller is a list of lines that scrolls: the details pane, and the
// lines of other panes.
type scroller struct {
	lines  []string
	top    int
	height int
}

func (s *scroller) set(lines []string) { s.lines, s.top = lines, 0 }

func (s *scroller) scroll(d int) { s.top = max(min(s.top+d, len(s.lines)-s.height), 0) }

func (s *scroller) moves(k *MoveKeys) []action {
	return moveActions(k, func() int { return s.height }, s.scroll, func() { s.top = 0 }, func() { s.scroll(len(s.lines)) }, nil)
}
