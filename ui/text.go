package ui

import (
	"fmt"
	"github.com/lvminspect/lvminspect/internal/termsafe"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// textPane shows metadata text (highlighted) or a diff, scrollable and
// searchable. Lines are styled only when drawn, so a text of any length
// costs the same per frame.
type textPane struct {
	title  string
	lines  []string
	diff   bool // lines are a unified diff
	top    int
	width  int
	height int

	query   string
	matches []int // line numbers holding the query
	cur     int   // index into matches
}

func (t *textPane) setText(title, text string, diff bool) {
	t.title, t.diff = title, diff
	t.lines = strings.Split(strings.TrimRight(text, "\n"), "\n")
	for i, l := range t.lines {
		// The text comes from the disk: tabs become spaces (a tab has no
		// width in a pane) and control characters visible escapes.
		t.lines[i] = termsafe.Text(strings.ReplaceAll(l, "\t", "    "))
	}
	if !diff {
		t.lines = indentMeta(t.lines)
	}
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
	t.show()
}

// next moves to the next (d=1) or previous (d=-1) match, wrapping.
func (t *textPane) next(d int) {
	if len(t.matches) == 0 {
		return
	}
	t.cur = (t.cur + d + len(t.matches)) % len(t.matches)
	t.show()
}

func (t *textPane) show() {
	if len(t.matches) == 0 {
		return
	}
	l := t.matches[t.cur]
	if l < t.top || l >= t.top+t.rows() {
		t.top = l - t.rows()/3
	}
	t.clamp()
}

func (t *textPane) view(st *Styles) string {
	numW := len(fmt.Sprint(len(t.lines)))
	out := []string{ansi.Truncate(st.Pane.Title.Render(t.title)+st.Muted.Render(fmt.Sprintf("  %d lines", len(t.lines))), t.width, "…")}
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
		case t.diff:
			body = diffLine(st, t.lines[i])
		default:
			body = highlightMeta(st, t.lines[i])
		}
		out = append(out, gutter+" "+ansi.Truncate(body, room, "…"))
	}
	status := fmt.Sprintf("line %d–%d of %d", t.top+1, min(t.top+t.rows(), len(t.lines)), len(t.lines))
	if t.query != "" {
		if len(t.matches) == 0 {
			status += fmt.Sprintf(" · %q: no match", t.query)
		} else {
			status += fmt.Sprintf(" · %q: match %d/%d (› marks it)", t.query, t.cur+1, len(t.matches))
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

func diffLine(st *Styles, l string) string {
	switch {
	case strings.HasPrefix(l, "@@"):
		return st.Diff.Hunk.Render(l)
	case strings.HasPrefix(l, "+"):
		return st.Diff.Add.Render(l)
	case strings.HasPrefix(l, "-"):
		return st.Diff.Del.Render(l)
	}
	return l
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

// scrollPane is the details pane: plain lines that scroll.
type scrollPane struct {
	lines  []string
	top    int
	width  int
	height int
}

func (s *scrollPane) set(lines []string) {
	s.lines = lines
	s.top = 0
}

func (s *scrollPane) scroll(d int) {
	s.top = max(min(s.top+d, len(s.lines)-s.height), 0)
}

func (s *scrollPane) view() string {
	end := min(s.top+s.height, len(s.lines))
	var out []string
	for _, l := range s.lines[s.top:end] {
		out = append(out, ansi.Truncate(l, s.width, "…"))
	}
	if s.top > 0 || end < len(s.lines) {
		more := fmt.Sprintf("lines %d–%d of %d", s.top+1, end, len(s.lines))
		if len(out) > 0 && len(out) >= s.height {
			out[len(out)-1] = lipgloss.NewStyle().Faint(true).Render(more)
		}
	}
	return strings.Join(out, "\n")
}
