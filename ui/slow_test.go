package ui

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/ui/demo"
)

// slowReaderAt is an input whose reads block, once blocking is on, until
// the gate opens: a disk that hangs.
type slowReaderAt struct {
	r     bytesReaderAt
	block atomic.Bool
	gate  chan struct{}
	reads atomic.Int64 // reads that blocked
}

func (s *slowReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if s.block.Load() {
		s.reads.Add(1)
		<-s.gate
	}
	return s.r.ReadAt(p, off)
}

// TestSlowSourceShowsSpinner opens the hex view of a PV and of an LV on
// an input whose reads hang: Update returns at once, the pane says it is
// reading with the spinner, keys still work; when the disk answers, the
// bytes show.
func TestSlowSourceShowsSpinner(t *testing.T) {
	img := demoImage(t)
	for _, target := range []string{"/pv_header", "/chocolate"} {
		in := &slowReaderAt{r: img, gate: make(chan struct{})}
		m := New(Config{Result: scan.Scan([]*scan.Input{scan.NewInput("pv.img", in, int64(len(img)))}, scan.Options{})})
		start(t, m, 100, 30)
		press(t, m, target, "enter")
		in.block.Store(true)
		t0 := time.Now()
		_, cmd := m.Update(keyMsgs("x")[0])
		if d := time.Since(t0); d > 500*time.Millisecond {
			t.Errorf("%s: x took %v in Update", target, d)
		}
		if m.right != paneHex || !m.s.tasks.busy() {
			t.Fatalf("%s: x did not open the hex view with a task running (pane %d)", target, m.right)
		}
		v := plain(m.View())
		if !strings.Contains(v, m.s.tasks.spin.View()+" reading…") && !strings.Contains(v, m.s.tasks.spin.View()+" opening LV banana/chocolate") {
			t.Errorf("%s: no spinner while reading:\n%s", target, v)
		}
		// The keyboard is not blocked: keys work while the read hangs.
		t0 = time.Now()
		m.Update(keyMsgs("tab")[0])
		m.Update(keyMsgs("?")[0])
		m.Update(keyMsgs("esc")[0])
		m.Update(keyMsgs("tab")[0])
		if d := time.Since(t0); d > 500*time.Millisecond || m.mode != modeBrowse || m.focus != focusRight {
			t.Errorf("%s: keys while reading took %v (mode %d, focus %d)", target, d, m.mode, m.focus)
		}
		done := make(chan tea.Cmd)
		go func() { done <- settle(t, m, cmd) }()
		select {
		case <-done:
			t.Fatalf("%s: the read did not wait for the disk", target)
		case <-time.After(100 * time.Millisecond):
		}
		if in.reads.Load() == 0 {
			t.Errorf("%s: nothing read from the disk", target)
		}
		close(in.gate)
		<-done
		if m.s.tasks.busy() || strings.Contains(plain(m.View()), "reading…") {
			t.Errorf("%s: still reading after the disk answered:\n%s", target, m.View())
		}
	}
}

// demoImage is the demo PV's bytes.
func demoImage(t *testing.T) bytesReaderAt {
	t.Helper()
	ins, err := demo.Inputs()
	if err != nil {
		t.Fatal(err)
	}
	in := ins[0]
	b := make([]byte, in.Size)
	if _, err := in.ReaderAt().ReadAt(b, 0); err != nil {
		t.Fatal(err)
	}
	return b
}
