package ui

import (
	"math/rand"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/scan"
)

// allModels opens every fixture (with withheld images left out, as a
// degraded system would be), every corrupt variant, and containers.
func allModels(t *testing.T, w, h int) map[string]*Model {
	out := map[string]*Model{}
	for _, name := range fixture.Names() {
		if name == "corrupt" {
			continue
		}
		out[name] = fixtureModel(t, name, true, w, h)
	}
	// The md fixtures (fixture.Names leaves them out): md-raid5 without
	// its withheld member, degraded.
	for _, name := range []string{"md-raid5", "md-raid1", "md-090-raid1"} {
		out[name] = fixtureModel(t, name, true, w, h)
	}
	// The LUKS fixtures (fixture.Names leaves them out too): locked, as
	// the inspector opens them without a key, and unlocked.
	for _, name := range []string{"luks2-lvm", "luks1-lvm"} {
		out[name] = luksModel(t, name, false, w, h)
		out[name+" unlocked"] = luksModel(t, name, true, w, h)
	}
	f := fixture.Load(t, "corrupt")
	for _, v := range f.Manifest.Variants {
		b := f.Image(t, v.File)
		m := New(Config{Result: safeScan([]*scan.Input{scan.NewInput(v.File, bytesReaderAt(b), int64(len(b)))}, scan.Options{})})
		start(t, m, w, h)
		out["corrupt/"+v.File] = m
	}
	// Containers, opened through their readers as the command opens them.
	for _, name := range []string{"banana.E01", "banana-split.E01", "banana.vhd"} {
		out["containers/"+name] = containerModel(t, t.TempDir(), name, w, h)
	}
	return out
}

// TestRandomKeysNeverCrash presses random keys (with resizes and mouse
// events) on every fixture and damaged image. Update and View recover
// from panics into the status line; this test fails if one happened.
func TestRandomKeysNeverCrash(t *testing.T) {
	keys := []string{"j", "k", "l", "h", "enter", "x", "m", "v", "a", "n", "N", "]", "[", "}", "{", "g", "G",
		"tab", "esc", "b", "t", "c", "J", "K", "pgdown", "o", "/", "?", "e"}
	typed := []string{"0x200", "pv", "lv", "zz", "4k"}
	for name, m := range allModels(t, 80, 24) {
		r := rand.New(rand.NewSource(int64(len(name))))
		for i := 0; i < 250; i++ {
			switch m.mode {
			case modePrompt:
				if r.Intn(3) == 0 {
					press(t, m, "esc")
				} else {
					press(t, m, typed[r.Intn(len(typed))], "enter")
				}
			case modeConfirm:
				press(t, m, "n")
			case modeExporting:
				press(t, m, "esc")
			default:
				k := keys[r.Intn(len(keys))]
				if k == "e" {
					continue // exports are tested elsewhere; do not write files here
				}
				press(t, m, k)
			}
			if i%50 == 0 {
				m.Update(tea.WindowSizeMsg{Width: 80 + r.Intn(100), Height: 24 + r.Intn(40)})
				m.Update(tea.MouseMsg{X: r.Intn(80), Y: r.Intn(24), Button: tea.MouseButtonWheelDown})
				m.Update(tea.MouseMsg{X: r.Intn(80), Y: r.Intn(24), Button: tea.MouseButtonLeft, Action: tea.MouseActionPress})
			}
			v := m.View()
			if strings.Contains(m.status(), "internal error") || strings.Contains(v, "internal error") {
				t.Fatalf("%s: after %d keys: %s", name, i, m.status())
			}
		}
	}
}

// TestDamagedStructuresShownInPlace checks that each corrupt variant is
// shown, with its damage marked where it is.
func TestDamagedStructuresShownInPlace(t *testing.T) {
	ms := allModels(t, 160, 50)
	cases := map[string]string{
		"corrupt/bad-label-crc.img.gz":    "crc ✗",
		"corrupt/bad-mda-crc.img.gz":      "crc ✗",
		"corrupt/garbage-metadata.img.gz": "crc ✗",
		"corrupt/truncated.img.gz":        " !",
	}
	for name, mark := range cases {
		m := ms[name]
		if m == nil {
			t.Errorf("%s not loaded", name)
			continue
		}
		// Open every item so that the damage is in view.
		for _, n := range walkAll(m.tree.roots) {
			n.expanded = true
		}
		m.tree.refresh()
		m.tree.height = len(m.tree.rows)
		if v := plain(m.tree.View()); !strings.Contains(v, mark) {
			t.Errorf("%s: tree does not show %q:\n%s", name, mark, v)
		}
		if m.status() == "" {
			t.Errorf("%s: no warning in the status line", name)
		}
	}
}

func TestHexShowsBadChecksum(t *testing.T) {
	m := allModels(t, 160, 50)["corrupt/bad-label-crc.img.gz"]
	press(t, m, "g", "/label_header", "enter", "x", "n", "n")
	v := plain(m.View())
	if !strings.Contains(v, "✗ BAD checksum") || !strings.Contains(v, "computed") {
		t.Errorf("hex view of a bad label CRC:\n%s", v)
	}
}
