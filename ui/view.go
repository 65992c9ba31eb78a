package ui

import (
	"fmt"
	"github.com/lvminspect/lvminspect/internal/termsafe"
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// View implements tea.Model.
func (m *Model) View() (out string) {
	defer func() {
		if r := recover(); r != nil {
			out = fmt.Sprintf("internal error while drawing (please report): %v\npress q to quit", r)
		}
		// Whatever text from a disk was missed on its way to the screen,
		// it cannot drive the terminal: only the program's own colours
		// pass.
		out = termsafe.Frame(out)
	}()
	if m.tooSmall() {
		return fmt.Sprintf("lvminspect needs a terminal of at least %d×%d; this one is %d×%d.\nEnlarge it, or press q to quit.",
			MinWidth, MinHeight, m.width, m.height)
	}
	if m.mode == modeLoading {
		if m.fatal != nil {
			return m.header() + "\n\n  " + m.st.Status.Err.Render("✗ "+m.fatal.Error()) + "\n\n  press any key to exit"
		}
		what := fmt.Sprintf("%d input(s)", len(m.cfg.Inputs))
		if m.cfg.Inputs == nil {
			what = "the inputs"
		}
		return m.header() + "\n\n  Scanning " + what + " read-only…"
	}
	l := m.layoutInfo()
	var body string
	if m.mode == modeHelp {
		body = m.fullHelp(m.width, l.bodyH)
	} else {
		tree := borderize(m.st, m.tree.view(m.st), l.treeW, l.bodyH, m.treeTitle(), m.focus == focusTree)
		right := borderize(m.st, m.rightView(), l.rightW, l.bodyH, m.rightTitle(), m.focus == focusRight)
		body = lipgloss.JoinHorizontal(lipgloss.Top, tree, right)
	}
	return strings.Join([]string{m.header(), body, m.bottom(), m.helpLine()}, "\n")
}

func (m *Model) header() string {
	left := m.st.App.Title.Render("lvminspect")
	if m.cfg.Demo {
		left += " " + m.st.App.Demo.Render("DEMO")
	}
	var parts []string
	if m.cfg.Title != "" {
		parts = append(parts, m.cfg.Title)
	} else if m.res != nil {
		if len(m.res.Inputs) == 1 {
			parts = append(parts, m.res.Inputs[0].Path)
		} else {
			parts = append(parts, fmt.Sprintf("%d inputs", len(m.res.Inputs)))
		}
	}
	if m.res != nil {
		parts = append(parts, fmt.Sprintf("%d PV · %d VG · %d LV", len(m.res.PVs), len(m.views), m.shownLVs))
	}
	info := strings.Join(parts, " · ")
	for _, v := range m.views {
		if v.travelling() {
			info = m.st.App.Travel.Render(fmt.Sprintf("⏪ VG %s AS OF seqno %d (now %d) · c: back", v.vg.Meta.Name, v.asOf.Seqno, v.current.Meta.Seqno)) + " · " + info
		}
	}
	return ansi.Truncate(left+"  "+info, m.width, "…")
}

func (m *Model) treeTitle() string { return "Devices" }

func (m *Model) rightTitle() string {
	switch m.right {
	case viewHex:
		return "Hex"
	case viewText:
		if m.text.diff {
			return "Diff"
		}
		return "Metadata text"
	case viewHistory:
		return "History"
	}
	return "Details"
}

func (m *Model) rightView() string {
	switch m.right {
	case viewHex:
		return m.hex.view(m.st)
	case viewText:
		return m.text.view(m.st)
	case viewHistory:
		if m.hist != nil {
			return m.hist.view(m.st, m.viewOf(m.hist.vgUUID))
		}
	}
	return m.details.view()
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

// bottomLines is what shows between the panes and the help line: the
// prompt, the question, the export progress, or the status.
func (m *Model) bottomLines() []string {
	w := m.width
	switch m.mode {
	case modePrompt:
		m.prompt.Width = max(w-lipgloss.Width(m.prompt.Prompt)-2, 10)
		return []string{m.st.Prompt.Label.Render(m.prompt.Prompt) + ansi.Truncate(strings.TrimPrefix(m.prompt.View(), m.prompt.Prompt), w-lipgloss.Width(m.prompt.Prompt), "…")}
	case modeConfirm:
		return wrapText(m.st.Prompt.Question.Render("? "+m.question+" [y/N]"), w)
	}
	var out []string
	if m.exp != nil {
		out = append(out, strings.Split(m.exp.view(m.st, w), "\n")...)
	}
	if m.status != "" && m.exp == nil {
		st := m.st.Status.Info
		switch m.statusLevel {
		case levelGood:
			st = m.st.Status.Good
		case levelWarn:
			st = m.st.Status.Warn
		case levelErr:
			st = m.st.Status.Err
		}
		lines := wrapText(m.status, w)
		if len(lines) > 3 {
			lines = append(lines[:2], ansi.Truncate(lines[2], w-1, "")+"…")
		}
		for _, l := range lines {
			out = append(out, st.Render(l))
		}
	}
	if len(out) == 0 {
		out = []string{""}
	}
	return out
}

func (m *Model) bottomHeight() int {
	if m.tooSmall() || m.mode == modeLoading {
		return 1
	}
	return len(m.bottomLines())
}

func (m *Model) bottom() string { return strings.Join(m.bottomLines(), "\n") }

// wrapText wraps plain text to width, breaking long words (paths, hashes).
func wrapText(s string, width int) []string {
	return strings.Split(ansi.Wrap(s, max(width, 10), " /"), "\n")
}

// cutWidth is how many bytes of s fit in width columns, at least one
// character's.
func cutWidth(s string, width int) int {
	used, i := 0, 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		rw := ansi.StringWidth(string(r))
		if used+rw > width && i > 0 {
			break
		}
		used += rw
		i += n
	}
	return i
}

// wrapWords wraps plain text at spaces only, so that a command line such
// as "cryptsetup open --readonly" is never split inside an option (ansi.Wrap
// also breaks after hyphens); a word longer than the width is cut.
func wrapWords(s string, width int) []string {
	width = max(width, 10)
	var lines []string
	line, lineW := "", 0
	flush := func() {
		if line != "" {
			lines = append(lines, line)
		}
		line, lineW = "", 0
	}
	for _, w := range strings.Fields(s) {
		ww := ansi.StringWidth(w)
		if ww > width {
			// Too long for any line: cut it, the rest starts a line.
			flush()
			for {
				cut := cutWidth(w, width)
				if cut == len(w) {
					line, lineW = w, ansi.StringWidth(w)
					break
				}
				lines = append(lines, w[:cut])
				w = w[cut:]
			}
			continue
		}
		switch {
		case line == "":
			line, lineW = w, ww
		case lineW+1+ww <= width:
			line, lineW = line+" "+w, lineW+1+ww
		default:
			flush()
			line, lineW = w, ww
		}
	}
	flush()
	if len(lines) == 0 {
		lines = []string{""}
	}
	return lines
}

// helpLine is the short help of what works right now, with the global
// keys ("? help", "q quit") always shown at the end.
func (m *Model) helpLine() string {
	var tail []key.Binding
	g := &m.keys.Global
	for _, b := range []*key.Binding{&g.Focus, &g.Help, &g.Quit} {
		if b.Enabled() {
			tail = append(tail, *b)
		}
	}
	if m.mode == modePrompt || m.mode == modeConfirm {
		tail = append(tail, g.Interrupt)
	}
	right := m.shortHelp(tail, m.width)
	left := m.shortHelp(m.activeSet().ShortHelp(), m.width-lipgloss.Width(right)-3)
	if left == "" {
		return right
	}
	return left + m.help.Styles.ShortSeparator.Render(" • ") + right
}

// shortHelp renders as many bindings as fit in width, then "…".
func (m *Model) shortHelp(bs []key.Binding, width int) string {
	hs := m.help.Styles
	sep := hs.ShortSeparator.Render(" • ")
	var b strings.Builder
	w := 0
	for i, kb := range bs {
		item := hs.ShortKey.Render(kb.Help().Key) + " " + hs.ShortDesc.Render(kb.Help().Desc)
		if i > 0 {
			item = sep + item
		}
		iw := lipgloss.Width(item)
		rest := 0
		if i < len(bs)-1 {
			rest = 2 // room for " …"
		}
		if w+iw+rest > width {
			if w+2 <= width {
				b.WriteString(hs.Ellipsis.Render(" …"))
			}
			break
		}
		b.WriteString(item)
		w += iw
	}
	return b.String()
}

// activeSet is the context whose keys the help line shows.
func (m *Model) activeSet() keySet {
	switch m.mode {
	case modePrompt:
		return m.keys.Prompt
	case modeConfirm:
		return m.keys.Confirm
	case modeExporting:
		return m.keys.Export
	case modeHelp:
		return m.keys.HelpKey
	}
	if m.focus == focusTree {
		return m.keys.Tree
	}
	switch m.right {
	case viewHex:
		return m.keys.Hex
	case viewHistory:
		return m.keys.History
	}
	return m.keys.Text
}

// fullHelp shows every key of the context help was opened from, the
// global keys, and what the marks mean.
func (m *Model) fullHelp(w, h int) string {
	saved := m.mode
	m.mode = m.helpFrom
	m.updateKeys()
	set := m.activeSet()
	groups := append(set.FullHelp(), m.keys.Global.FullHelp()...)
	hm := m.help
	hm.Width = w - 4
	hm.ShowAll = true
	keys := hm.FullHelpView(groups)
	m.mode = saved
	m.updateKeys()
	legend := []string{
		"",
		m.st.Bold.Render("Marks"),
		"›  selected item       ▸/▾  closed/open item    ● focused pane (heavy border)",
		"✓  check passed        ✗  check failed          !  problems: see the details ",
		"[name]  hidden sub-LV   MISSING  PV not in any input   ⏪  a past generation",
		"hex: [ ] brackets the current field, ?? marks bytes that could not be read",
		"",
		m.st.Muted.Render("Everything is read-only: lvminspect never writes to an input. esc or ? closes this help."),
	}
	content := m.st.Bold.Render("Keys") + " " + m.st.Muted.Render("("+contextName(set)+")") + "\n" + keys + "\n" + strings.Join(legend, "\n")
	return borderize(m.st, content, w, h, "Help", true)
}

func contextName(s keySet) string {
	switch s.(type) {
	case *TreeKeys:
		return "device tree"
	case *HexKeys:
		return "hex view"
	case *TextKeys:
		return "text and details"
	case *HistoryKeys:
		return "history"
	case *ExportKeys:
		return "export running"
	}
	return "prompt"
}
