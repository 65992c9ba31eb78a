package ui

import (
	"sort"
	"strings"
	"testing"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

func TestEveryBindingHasHelp(t *testing.T) {
	for _, s := range DefaultKeyMaps().sets() {
		for _, b := range s.all() {
			h := b.Help()
			if h.Key == "" || h.Desc == "" || len(b.Keys()) == 0 {
				t.Errorf("%T: binding %v has no help text (%q, %q)", s, b.Keys(), h.Key, h.Desc)
			}
		}
	}
}

// activeBindings are the bindings a key can reach now: the global ones
// and those of the context the help line shows.
func (m *Model) activeBindings() []*key.Binding {
	var out []*key.Binding
	for _, b := range m.keys.Global.all() {
		if b.Enabled() {
			out = append(out, b)
		}
	}
	for _, b := range m.activeSet().all() {
		if b.Enabled() {
			out = append(out, b)
		}
	}
	return out
}

// checkKeys fails if two reachable bindings share a key, or if the help
// of the context (the line and ?) and what works differ.
func checkKeys(t *testing.T, state string, m *Model) {
	t.Helper()
	owner := map[string]string{}
	for _, b := range m.activeBindings() {
		for _, k := range b.Keys() {
			if o, ok := owner[k]; ok {
				t.Errorf("%s: key %q is bound to both %q and %q", state, k, o, b.Help().Desc)
			}
			owner[k] = b.Help().Desc
		}
	}
	if len(owner) == 0 {
		t.Errorf("%s: no key is active", state)
	}
	set := m.activeSet()
	var full, on []string
	for _, g := range set.FullHelp() {
		for _, b := range g {
			full = append(full, b.Help().Key)
		}
	}
	for _, b := range set.all() {
		if b.Enabled() {
			on = append(on, b.Help().Key)
		}
	}
	sort.Strings(full)
	sort.Strings(on)
	if strings.Join(full, " ") != strings.Join(on, " ") {
		t.Errorf("%s: ? lists %v but %v work", state, full, on)
	}
	for _, b := range set.ShortHelp() {
		if !b.Enabled() {
			t.Errorf("%s: the help line shows %v, which does nothing", state, b.Keys())
		}
	}
}

// TestKeyTablesMatchKeyMaps checks, from the key maps, that every binding
// of a pane's key set has an action in the pane's key table and that the
// table holds no binding the set (and so the help) does not list.
func TestKeyTablesMatchKeyMaps(t *testing.T) {
	m := demoModel(t, 80, 24)
	panes := []pane{m.tree}
	for _, p := range m.panes {
		panes = append(panes, p)
	}
	for _, p := range panes {
		inTable := map[*key.Binding]bool{}
		for _, a := range p.actions() {
			if inTable[a.b] {
				t.Errorf("%T: binding %v twice in the key table", p, a.b.Keys())
			}
			inTable[a.b] = true
		}
		for _, b := range p.Keys().all() {
			if !inTable[b] {
				t.Errorf("%T: %q (%s) is in the help but does nothing", p, b.Help().Key, b.Help().Desc)
			}
			delete(inTable, b)
		}
		for b := range inTable {
			t.Errorf("%T: %q works but is not in its key set (nor in ?)", p, b.Help().Key)
		}
	}
}

// TestNoTwoActiveBindingsShareAKey walks the inspector through every mode,
// focus and right-pane view, on every kind of tree item, and checks the
// reachable bindings and the help each time.
func TestNoTwoActiveBindingsShareAKey(t *testing.T) {
	m := demoModel(t, 80, 24)
	for i := range m.tree.rows {
		m.tree.moveTo(i)
		settle(t, m, m.moved())
		m.after()
		n := m.selected()
		checkKeys(t, "tree on "+n.name, m)
		for _, k := range []string{"x", "m", "v", "e"} {
			mm := demoModel(t, 80, 24)
			mm.tree.moveTo(i)
			settle(t, mm, mm.moved())
			press(t, mm, k)
			checkKeys(t, k+" on "+n.name, mm)
			press(t, mm, "tab")
			checkKeys(t, "tab after "+k+" on "+n.name, mm)
			press(t, mm, "/")
			checkKeys(t, "/ after "+k+" on "+n.name, mm)
			press(t, mm, "esc", "?")
			checkKeys(t, "help after "+k+" on "+n.name, mm)
		}
	}
	press(t, m, "g", "/chocolate", "enter", "e")
	checkKeys(t, "export form", m)
	if m.mode != modeForm || m.keys.Global.Quit.Enabled() {
		t.Error("in the export form, q must type a q, not quit")
	}
}

// TestEveryShownKeyWorks presses, in many states of every fixture, each
// key the help line or ? shows, and checks that none answers with an
// error: a key shown where it cannot work is a defect.
func TestEveryShownKeyWorks(t *testing.T) {
	for name, m0 := range allModels(t, 100, 30) {
		_ = m0
		rows := len(m0.tree.rows)
		for i := 0; i < rows; i += max(rows/12, 1) {
			for _, open := range []string{"", "x", "m", "v"} {
				m := m0
				m.tree.moveTo(i)
				settle(t, m, m.moved())
				m.after()
				if open != "" {
					if !enabledKey(m, open) {
						continue
					}
					press(t, m, open)
				}
				m.after()
				if strings.HasPrefix(m.status(), "✗") {
					t.Errorf("%s: %q on row %d (%s): %s", name, open, i, m.selected().name, m.status())
				}
				for _, b := range m.activeSet().all() {
					if !b.Enabled() || b == &m.keys.Tree.Export || b == &m.keys.Tree.Search || b == &m.keys.History.Search ||
						b == &m.keys.Text.Search || b == &m.keys.Hex.Goto {
						continue // these open a prompt or a form: tested elsewhere
					}
					st := m.mode
					k := keyName(b.Keys())
					press(t, m, k)
					if s := m.status(); strings.HasPrefix(s, "✗") || strings.Contains(s, "internal error") {
						t.Errorf("%s: %q after %q on %s: %s", name, k, open, m.selected().name, s)
					}
					if m.mode != st && m.mode != modeBrowse {
						press(t, m, "esc")
					}
				}
				press(t, m, "esc", "esc")
				m.focus = focusTree
			}
		}
	}
}

// keyName is a key of a binding as keyMsgs spells it: a single rune if
// it has one.
func keyName(keys []string) string {
	for _, k := range keys {
		if len([]rune(k)) == 1 && k != " " {
			return k
		}
	}
	if keys[0] == " " {
		return "space"
	}
	return keys[0]
}

// TestHelpShowsOnlyLiveKeys checks that the help line lists no disabled
// binding and that export is offered only on an LV.
func TestHelpShowsOnlyLiveKeys(t *testing.T) {
	m := demoModel(t, 80, 24)
	press(t, m, "g")
	if strings.Contains(m.helpLine(), "export") {
		t.Errorf("help offers export on an input: %q", m.helpLine())
	}
	press(t, m, "/chocolate", "enter")
	if !strings.Contains(m.helpLine(), "e export") {
		t.Errorf("help does not offer export on an LV: %q", m.helpLine())
	}
	checkKeys(t, "tree on chocolate", m)
}

// The full help at 80 columns keeps every column (the global keys were
// cut off), and lists J/K in the history.
func TestFullHelpFitsAndListsHistoryKeys(t *testing.T) {
	m := demoModel(t, 80, 24)
	press(t, m, "/VG", "enter", "v", "?")
	v := plain(m.View())
	for _, want := range []string{"J", "scroll diff down", "K", "scroll diff up", "tab", "switch pane", "q", "quit", "esc/?"} {
		if !strings.Contains(v, want) {
			t.Errorf("? in the history lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "generation  …") || strings.Contains(v, "closes…") {
		t.Errorf("? cut a column or a line:\n%s", v)
	}
	_ = tea.KeyMsg{}
}

// enabledKey reports whether k is bound to an enabled binding of the
// active context.
func enabledKey(m *Model, k string) bool {
	for _, b := range m.activeSet().all() {
		for _, bk := range b.Keys() {
			if bk == k && b.Enabled() {
				return true
			}
		}
	}
	return false
}
