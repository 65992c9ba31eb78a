package ui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/bubbles/key"
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

// checkNoDuplicateKeys fails if two enabled bindings share a key.
func checkNoDuplicateKeys(t *testing.T, state string, m *Model) {
	t.Helper()
	owner := map[string]string{}
	for _, b := range m.bindingsActive() {
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
}

// TestNoTwoActiveBindingsShareAKey walks the inspector through every mode,
// focus and right-pane view, on every kind of tree item, and checks the
// active bindings each time.
func TestNoTwoActiveBindingsShareAKey(t *testing.T) {
	m := demoModel(t, 80, 24)
	press(t, m, "a") // hidden LVs: none in banana; harmless
	for i := range m.tree.rows {
		m.tree.moveTo(i)
		m.syncRight()
		m.updateKeys()
		n := m.selected()
		checkNoDuplicateKeys(t, "tree on "+n.name, m)
		for _, k := range []string{"x", "m", "v"} {
			mm := demoModel(t, 80, 24)
			mm.tree.moveTo(i)
			mm.syncRight()
			press(t, mm, k)
			checkNoDuplicateKeys(t, k+" on "+n.name, mm)
			press(t, mm, "tab")
			checkNoDuplicateKeys(t, "tab after "+k+" on "+n.name, mm)
			press(t, mm, "/")
			checkNoDuplicateKeys(t, "/ after "+k+" on "+n.name, mm)
			press(t, mm, "esc", "?")
			checkNoDuplicateKeys(t, "help after "+k+" on "+n.name, mm)
		}
	}
	press(t, m, "g", "/chocolate", "enter", "e")
	checkNoDuplicateKeys(t, "export prompt", m)
	if m.mode != modePrompt || !m.keys.Prompt.Confirm.Enabled() || m.keys.Global.Quit.Enabled() {
		t.Error("in a prompt, q must type a q, not quit")
	}
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
	for _, s := range m.keys.sets() {
		for _, b := range s.ShortHelp() {
			if !b.Enabled() {
				t.Errorf("%T.ShortHelp lists disabled %v", s, b.Keys())
			}
		}
	}
	var dead []key.Binding
	for _, g := range m.activeSet().FullHelp() {
		for _, b := range g {
			if !b.Enabled() {
				dead = append(dead, b)
			}
		}
	}
	if len(dead) > 0 {
		t.Errorf("full help lists disabled bindings %v", dead)
	}
}
