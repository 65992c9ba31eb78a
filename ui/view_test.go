package ui

import (
	"errors"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/ui/demo"
)

func TestDemoScreens(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {160, 50}} {
		m := demoModel(t, sz[0], sz[1])
		dump(t, m.View())
		press(t, m, "k", "k", "k", "k", "k", "x")
		dump(t, m.View())
		press(t, m, "n", "n")
		dump(t, m.View())
		press(t, m, "esc", "m")
		dump(t, m.View())
		press(t, m, "/", "seqno", "enter")
		dump(t, m.View())
		press(t, m, "?")
		dump(t, m.View())
		press(t, m, "esc", "esc", "/chocolate", "enter", "e")
		dump(t, m.View())
	}
}

func TestKeysTypedWhileScanningAreKept(t *testing.T) {
	ins, err := demo.Inputs()
	if err != nil {
		t.Fatal(err)
	}
	m := New(Config{Inputs: ins})
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	if !strings.Contains(m.View(), "Scanning") {
		t.Fatalf("no loading frame:\n%s", m.View())
	}
	cmd := m.Init()
	press(t, m, "/split", "enter", "q") // q is kept too, and quits after
	msgs := drain(t, m, cmd, nil)
	if n := m.selected(); n == nil || n.kind != kLV || n.lv.Name != "split" {
		t.Errorf("search typed while scanning was lost: %v", m.selected())
	}
	if _, ok := msgs[len(msgs)-1].(tea.QuitMsg); !ok {
		t.Errorf("q typed while scanning did not quit")
	}
}

func TestDemoOpensLazilyAndFailsCleanly(t *testing.T) {
	m := New(Config{Open: func() ([]*scan.Input, error) { return nil, errors.New("cannot unpack") }})
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	drain(t, m, m.Init(), nil)
	if v := m.View(); !strings.Contains(v, "cannot unpack") || !strings.Contains(v, "press any key") {
		t.Fatalf("open error not shown:\n%s", v)
	}
	if _, c := m.Update(keyMsgs("x")[0]); c == nil {
		t.Fatal("a key after a fatal error does not quit")
	}
}
