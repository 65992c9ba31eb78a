package ui

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/lvminspect/lvminspect/internal/termsafe"
)

// textPane shows metadata text (highlighted), searchable: the text of the
// selection's VG or metadata copy, or of a generation opened from the
// history (esc returns there). Lines are styled only when drawn, so a text
// of any length costs the same per frame.
type textPane struct {
	s    *session
	h    host
	keys *TextKeys
	acts []action

	title       string
	lines       []string
	fromHistory bool // a generation's text, opened from the history
	top         int
	width       int
	height      int

	query   string
	matches []int // line numbers holding the query
	cur     int   // index into matches
}

func newTextPane(s *session, h host, k *TextKeys) *textPane {
	t := &textPane{s: s, h: h, keys: k}
	has := func() bool { return len(t.matches) > 0 }
	do := func(f func()) func() tea.Cmd { return func() tea.Cmd { f(); return nil } }
	t.acts = append(moveActions(&k.MoveKeys, t.rows, t.scroll, func() { t.top = 0 }, func() { t.scroll(len(t.lines)) }, nil),
		action{b: &k.Search, do: func() tea.Cmd {
			t.h.prompt("search text: ", t.query, func(q string) tea.Cmd {
				t.setQuery(q)
				if q != "" && len(t.matches) == 0 {
					t.h.setStatus(fmt.Sprintf("%q is not in the text", q), levelWarn)
				}
				return nil
			})
			return nil
		}},
		action{b: &k.Next, on: has, do: do(func() { t.next(1) })},
		action{b: &k.Prev, on: has, do: do(func() { t.next(-1) })},
		action{b: &k.Back, do: func() tea.Cmd {
			if t.fromHistory {
				t.h.reveal(paneHistory)
				return nil
			}
			return t.h.back()
		}},
	)
	return t
}

func (t *textPane) Title() string     { return "Metadata text" }
func (t *textPane) Keys() keySet      { return t.keys }
func (t *textPane) actions() []action { return t.acts }

func (t *textPane) SetSize(w, h int) {
	t.width, t.height = w, h
	t.clamp()
}

// show implements rightPane: the metadata text of the selection.
func (t *textPane) show(n *node, explicit bool) (tea.Cmd, error) {
	title, text, ok := textOf(n)
	if !ok {
		return nil, fmt.Errorf("no metadata text here: select a VG, an LV or a metadata copy")
	}
	if !explicit && t.fromHistory {
		return nil, fmt.Errorf("the text of a generation does not follow the tree")
	}
	if title != t.title || t.fromHistory || explicit {
		t.setText(title, text)
	}
	t.fromHistory = false
	return nil, nil
}

// showGeneration shows the text of a history generation.
func (t *textPane) showGeneration(title, text string) {
	t.setText(title, text)
	t.fromHistory = true
}

func (t *textPane) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		cmd, _ := dispatch(msg, t.acts)
		return cmd
	case tea.MouseMsg:
		t.scroll(wheel(msg))
	}
	return nil
}

func (t *textPane) setText(title, text string) {
	t.title = title
	t.lines = strings.Split(strings.TrimRight(text, "\n"), "\n")
	for i, l := range t.lines {
		// The text comes from the disk: tabs become spaces (a tab has no
		// width in a pane) and control characters visible escapes.
		t.lines[i] = termsafe.Text(strings.ReplaceAll(l, "\t", "    "))
	}
	t.lines = indentMeta(t.lines)
	t.top = 0
	t.setQuery(t.query)
}

func (t *textPane) rows() int { return max(t.height-2, 1) }

func (t *textPane) scroll(d int) {
	t.top += d
	t.clamp()
}

func (t *textPane) clamp() {
	t.top = min(t.top, len(t.lines)-t.rows())
	t.top = max(t.top, 0)
}

// setQuery finds the lines holding q (case-insensitive) and shows the
// first match at or after the top.
func (t *textPane) setQuery(q string) {
	t.query = q
	t.matches = t.matches[:0]
	t.cur = 0
	if q == "" {
		return
	}
	lq := strings.ToLower(q)
	for i, l := range t.lines {
		if strings.Contains(strings.ToLower(l), lq) {
			t.matches = append(t.matches, i)
		}
	}
	for i, m := range t.matches {
		if m >= t.top {
			t.cur = i
			break
		}
	}
	t.showMatch()
}

// next moves to the next (d=1) or previous (d=-1) match, wrapping.
func (t *textPane) next(d int) {
	if len(t.matches) == 0 {
		return
	}
	t.cur = (t.cur + d + len(t.matches)) % len(t.matches)
	t.showMatch()
}

func (t *textPane) showMatch() {
	if len(t.matches) == 0 {
		return
	}
	l := t.matches[t.cur]
	if l < t.top || l >= t.top+t.rows() {
		t.top = l - t.rows()/3
	}
	t.clamp()
}

// View implements pane.
func (t *textPane) View() string {
	st := t.s.st
	numW := len(fmt.Sprint(len(t.lines)))
	out := []string{ansi.Truncate(st.Pane.Title.Render(termsafe.Text(t.title))+st.Muted.Render(fmt.Sprintf("  %d lines", len(t.lines))), t.width, "…")}
	curLine := -1
	if len(t.matches) > 0 {
		curLine = t.matches[t.cur]
	}
	isMatch := map[int]bool{}
	for _, m := range t.matches {
		if m >= t.top && m < t.top+t.rows() {
			isMatch[m] = true
		}
	}
	for r := 0; r < t.rows(); r++ {
		i := t.top + r
		if i >= len(t.lines) {
			out = append(out, "")
			continue
		}
		mark := " "
		switch {
		case i == curLine:
			mark = st.Text.Current.Render("›")
		case isMatch[i]:
			mark = "•"
		}
		gutter := st.Text.LineNo.Render(fmt.Sprintf("%*d", numW, i+1)) + mark
		room := max(t.width-numW-2, 1)
		var body string
		switch {
		case isMatch[i]:
			body = markMatches(st, t.lines[i], t.query)
		default:
			body = highlightMeta(st, t.lines[i])
		}
		out = append(out, gutter+" "+ansi.Truncate(body, room, "…"))
	}
	status := fmt.Sprintf("line %d–%d of %d", t.top+1, min(t.top+t.rows(), len(t.lines)), len(t.lines))
	if t.query != "" {
		if len(t.matches) == 0 {
			status += fmt.Sprintf(" · %s: no match", termsafe.Text(strconv.Quote(t.query)))
		} else {
			status += fmt.Sprintf(" · %s: match %d/%d (› marks it)", termsafe.Text(strconv.Quote(t.query)), t.cur+1, len(t.matches))
		}
	}
	out = append(out, ansi.Truncate(st.Muted.Render(status), t.width, "…"))
	return strings.Join(out, "\n")
}

// indentMeta indents metadata text by nesting, as vgcfgbackup writes it:
// LVM writes the copies in metadata areas without indentation. Lines that
// are indented already are left alone.
func indentMeta(lines []string) []string {
	depth := 0
	out := make([]string, len(lines))
	for i, l := range lines {
		if strings.HasPrefix(l, "\t") || strings.HasPrefix(l, " ") {
			out[i] = l
			continue
		}
		t := strings.TrimSpace(l)
		d := depth
		if strings.HasPrefix(t, "}") || strings.HasPrefix(t, "]") {
			d--
		}
		if !strings.HasPrefix(t, "#") {
			depth += strings.Count(t, "{") + strings.Count(t, "[") - strings.Count(t, "}") - strings.Count(t, "]")
		}
		depth = max(min(depth, 32), 0)
		out[i] = strings.Repeat("  ", max(min(d, 32), 0)) + l
	}
	return out
}

// markMatches shows every occurrence of q in l reversed.
func markMatches(st *Styles, l, q string) string {
	if q == "" {
		return l
	}
	ll, lq := strings.ToLower(l), strings.ToLower(q)
	var b strings.Builder
	for {
		i := strings.Index(ll, lq)
		if i < 0 || len(ll) != len(l) {
			b.WriteString(l)
			return b.String()
		}
		b.WriteString(l[:i])
		b.WriteString(st.Text.Match.Render(l[i : i+len(q)]))
		l, ll = l[i+len(q):], ll[i+len(q):]
	}
}

// highlightMeta styles one line of LVM metadata text: comments, strings,
// numbers, keys (before "="), section names (before "{") and brackets.
func highlightMeta(st *Styles, l string) string {
	var b strings.Builder
	i := 0
	for i < len(l) {
		c := l[i]
		switch {
		case c == '#':
			b.WriteString(st.Text.Comment.Render(l[i:]))
			return b.String()
		case c == '"':
			j := i + 1
			for j < len(l) && l[j] != '"' {
				if l[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j+1, len(l))
			b.WriteString(st.Text.String.Render(l[i:j]))
			i = j
		case c >= '0' && c <= '9' || c == '-' && i+1 < len(l) && l[i+1] >= '0' && l[i+1] <= '9':
			j := i + 1
			for j < len(l) && (l[j] >= '0' && l[j] <= '9' || l[j] == '.') {
				j++
			}
			b.WriteString(st.Text.Number.Render(l[i:j]))
			i = j
		case isIdent(c):
			j := i
			for j < len(l) && isIdent(l[j]) {
				j++
			}
			rest := strings.TrimLeft(l[j:], " \t")
			switch {
			case strings.HasPrefix(rest, "="):
				b.WriteString(st.Text.Key.Render(l[i:j]))
			case strings.HasPrefix(rest, "{"):
				b.WriteString(st.Text.Brace.Bold(true).Render(l[i:j]))
			default:
				b.WriteString(l[i:j])
			}
			i = j
		case c == '{' || c == '}' || c == '[' || c == ']':
			b.WriteString(st.Text.Brace.Render(string(c)))
			i++
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '+' || c == '-'
}

// textOf finds the metadata text an item shows with m: a copy's own
// text, the text of the generation its VG is viewed at, or a LUKS2
// header's JSON area.
func textOf(n *node) (string, string, bool) {
	if n == nil {
		return "", "", false
	}
	if n.kind == kLUKS || n.kind == kLUKSHeader || n.kind == kLUKSSlot {
		return luksText(n)
	}
	if n.kind == kCopy && n.cp.TextCopy != nil {
		c := n.cp
		title := fmt.Sprintf("%s mda%d raw_locn[%d] @%#x", filepath.Base(c.PV.Path), c.MDA.Index, c.Slot, c.Off)
		if c.VG != nil {
			title = fmt.Sprintf("%s seqno %d · ", c.VG.Name, c.VG.Seqno) + title
		}
		return title, string(c.Text), true
	}
	if n.vg != nil && n.vg.vg.Source != nil && n.vg.vg.Source.TextCopy != nil {
		v := n.vg.vg
		title := fmt.Sprintf("%s seqno %d", v.Meta.Name, v.Meta.Seqno)
		if n.vg.travelling() {
			title = "⏪ " + title + " (a past generation)"
		}
		return title + fmt.Sprintf(" · %s @%#x", filepath.Base(v.Source.PV.Path), v.Source.Off), string(v.Source.Text), true
	}
	return "", "", false
}
