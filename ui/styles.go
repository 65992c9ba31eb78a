package ui

import "github.com/charmbracelet/lipgloss"

// Named colours. AdaptiveColor picks the light or dark variant from the
// terminal background; with NO_COLOR (or a test's Ascii profile) lipgloss
// drops them all, so nothing in the UI relies on colour alone: selection
// has a cursor glyph, checks have ✓/✗, states have words.
var (
	colAccent = lipgloss.AdaptiveColor{Light: "#5A3FC0", Dark: "#A98BFF"}
	colMuted  = lipgloss.AdaptiveColor{Light: "#6B6B6B", Dark: "#8A8A8A"}
	colGood   = lipgloss.AdaptiveColor{Light: "#1A7F37", Dark: "#5FD37A"}
	colWarn   = lipgloss.AdaptiveColor{Light: "#9A6700", Dark: "#E3B341"}
	colBad    = lipgloss.AdaptiveColor{Light: "#CF222E", Dark: "#FF6B6B"}
	colSelBg  = lipgloss.AdaptiveColor{Light: "#DDD6FE", Dark: "#3B2F66"}
	colField1 = lipgloss.AdaptiveColor{Light: "#0550AE", Dark: "#79C0FF"}
	colField2 = lipgloss.AdaptiveColor{Light: "#8250DF", Dark: "#D2A8FF"}
	colString = lipgloss.AdaptiveColor{Light: "#0A3069", Dark: "#A5D6FF"}
	colNumber = lipgloss.AdaptiveColor{Light: "#953800", Dark: "#FFA657"}
	colTravel = lipgloss.AdaptiveColor{Light: "#B35900", Dark: "#FFB86C"}
)

// Styles is every style of the inspector, built once by DefaultStyles and
// passed by pointer; nothing reads or writes package-level styles.
type Styles struct {
	App struct {
		Header, Demo, Travel, Title lipgloss.Style
	}
	Pane struct {
		Focused, Blurred lipgloss.Style // borders
		Title            lipgloss.Style
	}
	Tree struct {
		Normal, Selected, Cursor, Expander, Muted, Hidden, Removed lipgloss.Style
	}
	Details struct {
		Key, Value, Section lipgloss.Style
	}
	Hex struct {
		Offset, Byte, Zero, Field1, Field2, Current, Bad, Ascii, Missing, Note lipgloss.Style
	}
	Text struct {
		LineNo, Key, String, Number, Comment, Brace, Match, Current lipgloss.Style
	}
	Diff struct {
		Add, Del, Hunk lipgloss.Style
	}
	Status struct {
		Info, Good, Warn, Err lipgloss.Style
	}
	Check struct {
		Good, Bad, Warn lipgloss.Style
	}
	Prompt struct {
		Label, Question lipgloss.Style
	}
	Help struct {
		Key, Desc, Sep lipgloss.Style
	}
	Muted lipgloss.Style
	Bold  lipgloss.Style
}

// DefaultStyles builds the inspector's styles.
func DefaultStyles() *Styles {
	s := &Styles{}
	base := lipgloss.NewStyle()
	s.Muted = base.Foreground(colMuted)
	s.Bold = base.Bold(true)

	s.App.Header = base.Bold(true)
	s.App.Title = base.Bold(true).Foreground(colAccent)
	s.App.Demo = base.Bold(true).Foreground(colWarn)
	s.App.Travel = base.Bold(true).Foreground(colTravel)

	s.Pane.Blurred = base.Border(lipgloss.RoundedBorder()).BorderForeground(colMuted)
	s.Pane.Focused = s.Pane.Blurred.BorderForeground(colAccent)
	s.Pane.Title = base.Bold(true)

	s.Tree.Normal = base
	s.Tree.Selected = base.Background(colSelBg).Bold(true)
	s.Tree.Cursor = base.Foreground(colAccent).Bold(true)
	s.Tree.Expander = base.Foreground(colMuted)
	s.Tree.Muted = s.Muted
	s.Tree.Hidden = s.Muted.Italic(true)
	s.Tree.Removed = base.Foreground(colTravel).Strikethrough(true)

	s.Details.Key = s.Muted
	s.Details.Value = base
	s.Details.Section = base.Bold(true).Foreground(colAccent)

	s.Hex.Offset = s.Muted
	s.Hex.Byte = base
	s.Hex.Zero = s.Muted
	s.Hex.Field1 = base.Foreground(colField1)
	s.Hex.Field2 = base.Foreground(colField2)
	s.Hex.Current = base.Background(colSelBg).Bold(true)
	s.Hex.Bad = base.Foreground(colBad).Bold(true)
	s.Hex.Ascii = s.Muted
	s.Hex.Missing = base.Foreground(colBad)
	s.Hex.Note = s.Muted

	s.Text.LineNo = s.Muted
	s.Text.Key = base.Foreground(colField1)
	s.Text.String = base.Foreground(colString)
	s.Text.Number = base.Foreground(colNumber)
	s.Text.Comment = s.Muted.Italic(true)
	s.Text.Brace = base.Foreground(colAccent)
	s.Text.Match = base.Reverse(true)
	s.Text.Current = base.Foreground(colAccent).Bold(true)

	s.Diff.Add = base.Foreground(colGood)
	s.Diff.Del = base.Foreground(colBad)
	s.Diff.Hunk = base.Foreground(colAccent)

	s.Status.Info = base
	s.Status.Good = base.Foreground(colGood)
	s.Status.Warn = base.Foreground(colWarn)
	s.Status.Err = base.Foreground(colBad).Bold(true)

	s.Check.Good = base.Foreground(colGood)
	s.Check.Bad = base.Foreground(colBad).Bold(true)
	s.Check.Warn = base.Foreground(colWarn)

	s.Help.Key = base.Bold(true)
	s.Help.Desc = s.Muted
	s.Help.Sep = base.Foreground(lipgloss.AdaptiveColor{Light: "#BBBBBB", Dark: "#555555"})

	s.Prompt.Label = base.Bold(true).Foreground(colAccent)
	s.Prompt.Question = base.Bold(true).Foreground(colWarn)
	return s
}
