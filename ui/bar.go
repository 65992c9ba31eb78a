package ui

import (
	"strings"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/lvminspect/lvminspect/internal/termsafe"
)

// level ranks a status message.
type level int

const (
	levelInfo level = iota
	levelGood
	levelWarn
	levelErr
)

// bottomBar is the line between the panes and the help line: the status
// message (it lasts until the next key), a one-line prompt, or a yes/no
// question.
type bottomBar struct {
	st   *Styles
	keys *KeyMaps

	status      string
	statusLevel level

	asking   bool // a question is open
	question string
	yes      func() tea.Cmd

	prompting bool // a prompt is open
	input     textinput.Model
	done      func(string) tea.Cmd

	returnTo mode // the mode to return to when the prompt or question ends
}

func newBottomBar(st *Styles, keys *KeyMaps) bottomBar {
	in := textinput.New()
	in.CharLimit = 4096
	in.Cursor.SetMode(cursor.CursorStatic) // no blink: no timer runs while typing
	return bottomBar{st: st, keys: keys, input: in}
}

// setStatus shows s (text from a disk in it is escaped).
func (b *bottomBar) setStatus(s string, l level) { b.status, b.statusLevel = termsafe.Text(s), l }

func (b *bottomBar) clear() { b.status, b.statusLevel = "", levelInfo }

func (b *bottomBar) ask(q string, yes func() tea.Cmd, from mode) {
	b.asking, b.question, b.yes, b.returnTo = true, termsafe.Text(q), yes, from
}

func (b *bottomBar) prompt(label, value string, done func(string) tea.Cmd, from mode) {
	b.prompting, b.done, b.returnTo = true, done, from
	b.input.Prompt = label
	b.input.SetValue(value)
	b.input.CursorEnd()
	b.input.Focus()
}

// dismiss closes the prompt or question without acting.
func (b *bottomBar) dismiss() {
	b.asking, b.prompting = false, false
	b.input.Blur()
}

// key handles a key of the prompt or question: done when it closed, then
// what to run after the root restored the mode.
func (b *bottomBar) key(msg tea.KeyMsg) (then func() tea.Cmd, done bool) {
	if b.asking {
		k := b.keys.Confirm
		switch {
		case key.Matches(msg, k.Yes):
			b.dismiss()
			return b.yes, true
		case key.Matches(msg, k.No):
			b.dismiss()
			return nil, true
		}
		return nil, false
	}
	k := b.keys.Prompt
	switch {
	case key.Matches(msg, k.Cancel):
		b.dismiss()
		return nil, true
	case key.Matches(msg, k.Confirm):
		b.dismiss()
		v, f := strings.TrimSpace(b.input.Value()), b.done
		return func() tea.Cmd { return f(v) }, true
	}
	var cmd tea.Cmd
	b.input, cmd = b.input.Update(msg)
	return func() tea.Cmd { return cmd }, false
}

// actions enables the prompt's or the question's bindings while open.
func (b *bottomBar) actions() []action {
	on := func(f func() bool) func() bool { return f }
	asking := on(func() bool { return b.asking })
	prompting := on(func() bool { return b.prompting })
	k, p := b.keys.Confirm, b.keys.Prompt
	return []action{{b: &k.Yes, on: asking}, {b: &k.No, on: asking}, {b: &p.Confirm, on: prompting}, {b: &p.Cancel, on: prompting}}
}

// setWidth fits the prompt's field to the terminal.
func (b *bottomBar) setWidth(w int) { b.input.Width = max(w-lipgloss.Width(b.input.Prompt)-2, 10) }

// lines are the rows the bar takes at width w.
func (b *bottomBar) lines(w int) []string {
	switch {
	case b.prompting:
		return []string{b.st.Prompt.Label.Render(b.input.Prompt) + ansi.Truncate(strings.TrimPrefix(b.input.View(), b.input.Prompt), w-lipgloss.Width(b.input.Prompt), "…")}
	case b.asking:
		return wrapText(b.st.Prompt.Question.Render("? "+b.question+" [y/N]"), w)
	case b.status == "":
		return []string{""}
	}
	st := b.st.Status.Info
	switch b.statusLevel {
	case levelGood:
		st = b.st.Status.Good
	case levelWarn:
		st = b.st.Status.Warn
	case levelErr:
		st = b.st.Status.Err
	}
	lines := wrapText(b.status, w)
	if len(lines) > 3 {
		lines = append(lines[:2], ansi.Truncate(lines[2], w-1, "")+"…")
	}
	for i, l := range lines {
		lines[i] = st.Render(l)
	}
	return lines
}

func (b *bottomBar) view(w int) string { return strings.Join(b.lines(w), "\n") }

// activeSet is the bar's bindings while it has the keyboard.
func (b *bottomBar) activeSet() keySet {
	if b.asking {
		return b.keys.Confirm
	}
	return b.keys.Prompt
}
