package ui

import (
	"io"
	"os"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/ui/demo"
)

func init() {
	// Golden frames must not depend on the terminal running the tests.
	lipgloss.SetColorProfile(termenv.Ascii)
	lipgloss.SetHasDarkBackground(true)
	debugPanics = true
	animate = false // running a key's commands never waits for the spinner's timer
}

// demoModel is the inspector on the built-in demo disk, scanned, sized.
func demoModel(t testing.TB, w, h int) *Model {
	t.Helper()
	ins, err := demo.Inputs()
	if err != nil {
		t.Fatal(err)
	}
	m := New(Config{Result: safeScan(ins, scan.Options{}), Demo: true, Title: demo.Title})
	start(t, m, w, h)
	return m
}

// fixtureModel is the inspector on a fixture's images (withheld ones left
// out when withhold is true).
func fixtureModel(t testing.TB, name string, withhold bool, w, h int) *Model {
	t.Helper()
	return fixtureModelImages(t, name, fixture.Load(t, name).ImageNames(withhold), w, h)
}

// fixtureModelImages is the inspector on some images of a fixture.
func fixtureModelImages(t testing.TB, name string, images []string, w, h int) *Model {
	t.Helper()
	f := fixture.Load(t, name)
	var ins []*scan.Input
	for _, img := range images {
		b := f.Image(t, img)
		ins = append(ins, scan.NewInput(img+".img", bytesReaderAt(b), int64(len(b))))
	}
	m := New(Config{Result: safeScan(ins, scan.Options{})})
	start(t, m, w, h)
	return m
}

type bytesReaderAt []byte

func (b bytesReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(b)) {
		return 0, io.EOF
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// keys turns "j", "enter", "/chocolate" (typed) into key messages.
func keyMsgs(keys ...string) []tea.KeyMsg {
	var out []tea.KeyMsg
	for _, k := range keys {
		switch k {
		case "enter":
			out = append(out, tea.KeyMsg{Type: tea.KeyEnter})
		case "esc":
			out = append(out, tea.KeyMsg{Type: tea.KeyEsc})
		case "tab":
			out = append(out, tea.KeyMsg{Type: tea.KeyTab})
		case "up":
			out = append(out, tea.KeyMsg{Type: tea.KeyUp})
		case "down":
			out = append(out, tea.KeyMsg{Type: tea.KeyDown})
		case "ctrl+c":
			out = append(out, tea.KeyMsg{Type: tea.KeyCtrlC})
		case "pgdown":
			out = append(out, tea.KeyMsg{Type: tea.KeyPgDown})
		case "pgup":
			out = append(out, tea.KeyMsg{Type: tea.KeyPgUp})
		case "home":
			out = append(out, tea.KeyMsg{Type: tea.KeyHome})
		case "end":
			out = append(out, tea.KeyMsg{Type: tea.KeyEnd})
		case "left":
			out = append(out, tea.KeyMsg{Type: tea.KeyLeft})
		case "right":
			out = append(out, tea.KeyMsg{Type: tea.KeyRight})
		case "shift+tab":
			out = append(out, tea.KeyMsg{Type: tea.KeyShiftTab})
		case "shift+down":
			out = append(out, tea.KeyMsg{Type: tea.KeyShiftDown})
		case "shift+up":
			out = append(out, tea.KeyMsg{Type: tea.KeyShiftUp})
		case "space":
			out = append(out, tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}})
		default:
			for _, r := range k {
				out = append(out, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
			}
		}
	}
	return out
}

// press sends keys, running the commands each returns (the slow work in
// the background) to their end, so that the model is as the user sees it
// once the spinner stopped. Once an export runs, its commands are kept
// and returned for drain.
func press(t testing.TB, m *Model, keys ...string) tea.Cmd {
	t.Helper()
	var held []tea.Cmd
	for _, k := range keyMsgs(keys...) {
		_, cmd := m.Update(k)
		if c := settle(t, m, cmd); c != nil {
			held = append(held, c)
		}
	}
	return tea.Batch(held...)
}

// settle runs cmd and the commands its messages return, feeding every
// message to Update, until none is left; while an export runs (its
// commands block on it) or after a quit, the rest is returned.
func settle(t testing.TB, m *Model, cmd tea.Cmd) tea.Cmd {
	t.Helper()
	var held []tea.Cmd
	queue := []tea.Cmd{cmd}
	deadline := time.Now().Add(60 * time.Second)
	for len(queue) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("commands did not finish in time")
		}
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		if m.mode == modeExporting {
			held = append(held, c)
			continue
		}
		msg := c()
		switch msg := msg.(type) {
		case nil:
			continue
		case tea.BatchMsg:
			queue = append(queue, msg...)
			continue
		case tea.QuitMsg:
			held = append(held, tea.Quit)
			continue
		}
		_, next := m.Update(msg)
		queue = append(queue, next)
	}
	return tea.Batch(held...)
}

// start sizes a new model and runs its Init to the end, as the program
// does before the first key.
func start(t testing.TB, m *Model, w, h int) {
	t.Helper()
	run(t, m, tea.WindowSizeMsg{Width: w, Height: h})
	settle(t, m, m.Init())
}

// run settles a model after a message sent by hand.
func run(t testing.TB, m *Model, msg tea.Msg) {
	t.Helper()
	_, cmd := m.Update(msg)
	settle(t, m, cmd)
}

func (m *Model) detailsP() *detailsPane { return m.panes[paneDetails].(*detailsPane) }
func (m *Model) hexP() *hexPane         { return m.panes[paneHex].(*hexPane) }
func (m *Model) textP() *textPane       { return m.panes[paneText].(*textPane) }
func (m *Model) histP() *historyPane    { return m.panes[paneHistory].(*historyPane) }
func (m *Model) status() string         { return m.bar.status }

// drain runs cmd and the commands its messages return until none is left
// or a quit, with a deadline; it returns the messages seen.
func drain(t testing.TB, m *Model, cmd tea.Cmd, each func(tea.Msg)) []tea.Msg {
	t.Helper()
	var seen []tea.Msg
	deadline := time.Now().Add(60 * time.Second)
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("commands did not finish in time")
		}
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		msg := c()
		if msg == nil {
			continue
		}
		if b, ok := msg.(tea.BatchMsg); ok {
			queue = append(queue, b...)
			continue
		}
		seen = append(seen, msg)
		if each != nil {
			each(msg)
		}
		if _, ok := msg.(tea.QuitMsg); ok {
			return seen
		}
		_, next := m.Update(msg)
		queue = append(queue, next)
	}
	return seen
}

// plain strips nothing (Ascii profile) but normalises trailing spaces.
func plain(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

func dump(t testing.TB, s string) {
	if os.Getenv("DUMP") != "" {
		t.Log("\n" + s)
	}
}
