package ui

import (
	"bytes"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"
)

// screens are the main screens, each reached by keys from the start, and
// a text that shows once it is drawn.
var screens = []struct {
	name string
	keys []string
	want string
}{
	{"tree", nil, "can be exported"},
	{"hex-pv-header", []string{"/pv_header", "enter", "x", "n"}, "4c 56 4d 32"},
	{"hex-mda-header", []string{"/mda_header", "enter", "x"}, "20 4c 56 4d"},
	{"metadata-text", []string{"/VG banana", "enter", "m", "/", "chocolate", "enter"}, "match 1/"},
	{"help", []string{"?"}, "Marks"},
	{"export-prompt", []string{"/chocolate", "enter", "e"}, "can be exported"},
	{"history", []string{"/VG banana", "enter", "v"}, "  B: seqno"},
}

// TestGoldenScreens drives the real program loop (teatest) to each main
// screen at 80×24 and 160×50 and compares the final frame with
// testdata/TestGoldenScreens/<screen>-<w>x<h>.golden (go test ./ui -update
// rewrites them).
func TestGoldenScreens(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {160, 50}} {
		for _, sc := range screens {
			t.Run(fmt.Sprintf("%s-%dx%d", sc.name, sz[0], sz[1]), func(t *testing.T) {
				// The export form shows the absolute output path: drawn
				// from the root directory it is the same on every machine,
				// and so is the layout around it. (The golden files are
				// found from the package directory, so it is left again
				// before comparing.)
				wd, err := os.Getwd()
				if err != nil {
					t.Fatal(err)
				}
				t.Chdir("/")
				m := demoModel(t, sz[0], sz[1])
				tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(sz[0], sz[1]))
				for _, k := range keyMsgs(sc.keys...) {
					tm.Send(k)
				}
				teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(sc.want)) },
					teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
				// Stop the program without a key, so that the final model
				// is the screen as the user saw it.
				if err := tm.Quit(); err != nil {
					t.Fatal(err)
				}
				fm := tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(*Model)
				frame := plain(fm.View())
				if err := os.Chdir(wd); err != nil {
					t.Fatal(err)
				}
				golden.RequireEqual(t, []byte(frame))
			})
		}
	}
}
