package ui

import (
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/lvminspect/lvminspect/ui/demo"
)

// TestStartupTime measures, in process, what stands between starting the
// program on the demo and its two first frames: the "Scanning" frame
// (New and View) and the tree (unpacking the demo, scanning it, View).
// It only logs the times; they depend on the machine.
func TestStartupTime(t *testing.T) {
	for i := 0; i < 3; i++ {
		t0 := time.Now()
		m := New(Config{Open: demo.Inputs, Demo: true, Title: demo.Title})
		m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
		first := m.View()
		t1 := time.Now()
		m.Update(m.Init()())
		tree := m.View()
		t2 := time.Now()
		if !strings.Contains(first, "Scanning") || !strings.Contains(tree, "chocolate") {
			t.Fatalf("frames:\n%s\n%s", first, tree)
		}
		t.Logf("first frame after %v, tree after %v (unpack, scan, draw)", t1.Sub(t0), t2.Sub(t0))
	}
}
