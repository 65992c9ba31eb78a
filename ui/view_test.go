package ui

import "testing"

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
