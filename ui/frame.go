package ui

import (
	"fmt"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/lvminspect/lvminspect/export/graph"
	"github.com/lvminspect/lvminspect/internal/format"
	"github.com/lvminspect/lvminspect/internal/termsafe"
	"github.com/lvminspect/lvminspect/scan"
)

// safeScan runs scan.Scan, turning a panic into a problem, so that a
// damaged input never takes the inspector down.
func safeScan(ins []*scan.Input, opt scan.Options) (res *scan.Result) {
	defer func() {
		if r := recover(); r != nil {
			res = &scan.Result{Problems: []scan.Problem{{Severity: scan.SevError, Msg: fmt.Sprintf("internal error while scanning: %v", r)}}}
		}
	}()
	return graph.Scan(ins, opt)
}

// safeFrame is the last pass over a drawn frame: whatever text from a
// disk was missed on its way to the screen, it cannot drive the terminal
// (only the program's own colours pass).
func safeFrame(s string) string { return termsafe.Frame(s) }

// startupStatus is the first status line: what was found, or not, and a
// LUKS volume left locked (canUnlock: u can open it).
func startupStatus(res *scan.Result, opt scan.Options, canUnlock bool) (string, level) {
	var locked []string
	for _, v := range res.LUKSNodes {
		if !luksUnlocked(v) && v.LUKS != nil && v.LUKS.Refused == "" {
			locked = append(locked, v.ID)
		}
	}
	lockedText := ""
	if len(locked) > 0 {
		lockedText = fmt.Sprintf("LUKS volume %s is locked", strings.Join(locked, ", "))
		if len(locked) > 1 {
			lockedText = fmt.Sprintf("LUKS volumes %s are locked", strings.Join(locked, ", "))
		}
		if canUnlock {
			lockedText += ": select it and press u to type its passphrase"
		} else {
			lockedText += ": lvminspect --key-file opens it"
		}
	}
	if len(res.PVs) == 0 && lockedText != "" {
		return "no LVM2 PV found; " + lockedText, levelWarn
	}
	if len(res.PVs) == 0 {
		for _, in := range res.Inputs {
			if c := in.Content; c != nil {
				return fmt.Sprintf("no LVM2 PV found; %s is %s: see its details", filepath.Base(in.Path), c.Name), levelWarn
			}
		}
		if !opt.Carve && len(topInputs(res)) > 0 {
			return "no LVM2 PV found; lvminspect --carve searches every sector", levelWarn
		}
		return "no LVM2 physical volume found in the inputs", levelWarn
	}
	switch n := countSerious(res.AllProblems()); {
	case n == 1:
		return "! 1 problem found: the item marked ! lists it in its details", levelWarn
	case n > 1:
		return fmt.Sprintf("! %d problems found: items marked ! list them in their details", n), levelWarn
	case lockedText != "":
		return lockedText, levelWarn
	}
	return "", levelInfo
}

func (m *Model) loadingView() string {
	if m.fatal != nil {
		return m.header() + "\n\n  " + m.s.st.Status.Err.Render("✗ "+termsafe.Text(m.fatal.Error())) + "\n\n  press any key to exit"
	}
	what := format.Count(len(m.s.cfg.Inputs), "input", "inputs")
	if m.s.cfg.Inputs == nil {
		what = "the inputs"
	}
	return m.header() + "\n\n  Scanning " + what + " read-only…"
}

func (m *Model) header() string {
	st := m.s.st
	left := st.App.Title.Render("lvminspect")
	if m.s.cfg.Demo {
		left += " " + st.App.Demo.Render("DEMO")
	}
	var parts []string
	res := m.s.res
	if m.s.cfg.Title != "" {
		parts = append(parts, termsafe.Text(m.s.cfg.Title))
	} else if res != nil {
		if ins := topInputs(res); len(ins) == 1 {
			parts = append(parts, termsafe.Text(ins[0].Path))
		} else {
			parts = append(parts, format.Count(len(ins), "input", "inputs"))
		}
	}
	if res != nil {
		parts = append(parts, fmt.Sprintf("%s · %s · %s", format.Count(len(res.PVs), "PV", "PVs"),
			format.Count(len(m.s.views), "VG", "VGs"), format.Count(m.s.shownLVs, "LV", "LVs")))
	}
	info := strings.Join(parts, " · ")
	for _, v := range m.s.views {
		if v.travelling() {
			info = st.App.Travel.Render(termsafe.Text(fmt.Sprintf("⏪ VG %s AS OF seqno %d (now %d) · c: back", v.vg.Meta.Name, v.asOf.Seqno, v.current.Meta.Seqno))) + " · " + info
		}
	}
	return ansi.Truncate(left+"  "+info, m.width, "…")
}

// activeSet is the context whose keys the help line shows.
func (m *Model) activeSet() keySet {
	switch m.mode {
	case modePrompt, modeConfirm:
		return m.bar.activeSet()
	case modeForm, modeExporting:
		return m.keys.Export
	case modeVerifying:
		return m.keys.Verify
	case modeUnlock:
		return m.keys.Unlock
	case modeHelp:
		return m.keys.HelpKey
	}
	return m.focused().Keys()
}

// helpLine is the short help of what works right now, with the global
// keys ("? help", "q quit") always shown at the end.
func (m *Model) helpLine() string {
	var tail []key.Binding
	g := m.keys.Global
	for _, b := range []*key.Binding{&g.Focus, &g.Help, &g.Quit} {
		if b.Enabled() {
			tail = append(tail, *b)
		}
	}
	if m.mode == modePrompt || m.mode == modeConfirm || m.mode == modeForm || m.mode == modeUnlock {
		tail = append(tail, g.Interrupt)
	}
	right := m.shortHelp(tail, m.width)
	left := m.shortHelp(m.activeSet().ShortHelp(), m.width-lipgloss.Width(right)-3)
	if left == "" {
		return right
	}
	return left + m.s.st.Help.Sep.Render(" • ") + right
}

// shortHelp renders as many bindings as fit in width, then "…".
func (m *Model) shortHelp(bs []key.Binding, width int) string {
	st := m.s.st
	sep := st.Help.Sep.Render(" • ")
	var b strings.Builder
	w := 0
	for i, kb := range bs {
		item := st.Help.Key.Render(kb.Help().Key) + " " + st.Help.Desc.Render(kb.Help().Desc)
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
				b.WriteString(st.Help.Sep.Render(" …"))
			}
			break
		}
		b.WriteString(item)
		w += iw
	}
	return b.String()
}

// helpSet is the context the full help describes: the one it was opened
// from.
func (m *Model) helpSet() keySet {
	if m.helpFrom == modeExporting || m.helpFrom == modeForm {
		return m.keys.Export
	}
	if m.helpFrom == modeVerifying {
		return m.keys.Verify
	}
	return m.focused().Keys()
}

// fullHelp shows every key of the context help was opened from, the
// global keys, and what the marks mean. Columns that do not fit beside
// each other go below, so none is lost on a narrow terminal.
func (m *Model) fullHelp(w, h int) string {
	st := m.s.st
	set := m.helpSet()
	groups := set.FullHelp()
	global := []key.Binding{m.keys.Global.Focus, m.keys.Global.Help, m.keys.Global.Quit, m.keys.Global.Interrupt}
	if m.helpFrom == modeExporting || m.helpFrom == modeVerifying {
		global = global[1:]
	}
	groups = append(groups, global)
	keys := helpColumns(st, groups, w-2)
	legend := []string{
		"",
		st.Bold.Render("Marks"),
		"›  selected item       ▸/▾  closed/open item    ● focused pane (heavy border)",
		"✓  check passed        ✗  check failed          !  problems: see the details",
		"[name]  hidden sub-LV   MISSING  PV not in any input   ⏪  a past generation",
		"hex: [ ] brackets the current field, ?? marks bytes that could not be read",
		"history: A is the generation compared with, B the selected one",
		"attr: lvs's lv_attr; what only the running kernel knows (active, open) is -",
		"",
	}
	var lines []string
	lines = append(lines, st.Bold.Render("Keys")+" "+st.Muted.Render("("+set.name()+")"))
	lines = append(lines, keys...)
	for _, l := range legend {
		if lipgloss.Width(l) <= w-2 {
			lines = append(lines, l)
		} else {
			lines = append(lines, wrapWords(l, w-2)...)
		}
	}
	for _, l := range wrapWords("Everything is read-only: lvminspect never writes to an input. esc or ? closes this help.", w-2) {
		lines = append(lines, st.Muted.Render(l))
	}
	return borderize(st, strings.Join(lines, "\n"), w, h, "Help", true)
}

// helpColumns lays out groups of bindings as columns, as many side by
// side as fit in width, the rest in rows below.
func helpColumns(st *Styles, groups [][]key.Binding, width int) []string {
	var cols [][]string
	for _, g := range groups {
		if len(g) == 0 {
			continue
		}
		kw := 0
		for _, b := range g {
			kw = max(kw, lipgloss.Width(b.Help().Key))
		}
		var col []string
		for _, b := range g {
			col = append(col, st.Help.Key.Render(fmt.Sprintf("%-*s", kw, b.Help().Key))+" "+st.Help.Desc.Render(b.Help().Desc))
		}
		cols = append(cols, col)
	}
	const gap = 3
	var out []string
	for len(cols) > 0 {
		n, used := 1, colWidth(cols[0])
		for n < len(cols) && used+gap+colWidth(cols[n]) <= width {
			used += gap + colWidth(cols[n])
			n++
		}
		rows := 0
		for _, col := range cols[:n] {
			rows = max(rows, len(col))
		}
		for i := 0; i < rows; i++ {
			var b strings.Builder
			for j, col := range cols[:n] {
				cell := ""
				if i < len(col) {
					cell = col[i]
				}
				if j < n-1 {
					cell += strings.Repeat(" ", colWidth(col)-lipgloss.Width(cell)+gap)
				}
				b.WriteString(cell)
			}
			out = append(out, ansi.Truncate(strings.TrimRight(b.String(), " "), width, "…"))
		}
		cols = cols[n:]
		if len(cols) > 0 {
			out = append(out, "")
		}
	}
	return out
}

func colWidth(col []string) int {
	w := 0
	for _, l := range col {
		w = max(w, lipgloss.Width(l))
	}
	return w
}

// wrapText wraps plain text to width, breaking long words (paths, hashes).
func wrapText(s string, width int) []string {
	width = max(width, 10)
	lines := strings.Split(ansi.Wrap(s, width, " /"), "\n")
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, width, "") // ansi.Wrap may leave a space past the width
	}
	return lines
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
