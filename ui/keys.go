package ui

import (
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// keySet is the bindings of one context (a pane, the prompt, a question).
// Every context implements help.KeyMap; a binding is enabled exactly when
// it does something (see action), so neither the help line nor the full
// help (?) ever shows a dead key.
type keySet interface {
	help.KeyMap
	all() []*key.Binding
	name() string // what the full help calls the context
}

// action is what one binding does in a component: the component's key
// handling is a table of actions, so that what works and what the help
// lists are the same list.
type action struct {
	b  *key.Binding
	on func() bool    // whether it does something now; nil: always
	do func() tea.Cmd // what it does
}

// dispatch runs the first enabled action whose binding matches msg.
func dispatch(msg tea.KeyMsg, acts []action) (tea.Cmd, bool) {
	for _, a := range acts {
		if a.b.Enabled() && key.Matches(msg, *a.b) {
			return a.do(), true
		}
	}
	return nil, false
}

// refresh enables the bindings of acts whose action works now.
func refresh(acts []action) {
	for _, a := range acts {
		a.b.SetEnabled(a.on == nil || a.on())
	}
}

func kb(keys []string, k, desc string) key.Binding {
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
}

// enabled keeps the enabled bindings of a list.
func enabled(bs ...*key.Binding) []key.Binding {
	var out []key.Binding
	for _, b := range bs {
		if b.Enabled() {
			out = append(out, *b)
		}
	}
	return out
}

// GlobalKeys work in every context (unless a text field has the keyboard).
type GlobalKeys struct {
	Help, Quit, Interrupt, Focus key.Binding
}

func newGlobalKeys() *GlobalKeys {
	return &GlobalKeys{
		Help:      kb([]string{"?"}, "?", "help"),
		Quit:      kb([]string{"q"}, "q", "quit"),
		Interrupt: kb([]string{"ctrl+c"}, "ctrl+c", "quit"),
		Focus:     kb([]string{"tab", "shift+tab"}, "tab", "switch pane"),
	}
}

func (k *GlobalKeys) all() []*key.Binding {
	return []*key.Binding{&k.Focus, &k.Help, &k.Quit, &k.Interrupt}
}

func (k *GlobalKeys) name() string { return "global" }

// ShortHelp implements help.KeyMap.
func (k *GlobalKeys) ShortHelp() []key.Binding { return enabled(&k.Focus, &k.Help, &k.Quit) }

// FullHelp implements help.KeyMap.
func (k *GlobalKeys) FullHelp() [][]key.Binding { return [][]key.Binding{enabled(k.all()...)} }

// MoveKeys move a cursor or scroll, shared by every pane.
type MoveKeys struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
}

func newMoveKeys() MoveKeys {
	return MoveKeys{
		Up:       kb([]string{"up", "k"}, "↑/k", "up"),
		Down:     kb([]string{"down", "j"}, "↓/j", "down"),
		PageUp:   kb([]string{"pgup", "ctrl+b", "ctrl+u"}, "pgup/ctrl+u", "page up"),
		PageDown: kb([]string{"pgdown", "ctrl+f", "ctrl+d"}, "pgdn/ctrl+d", "page down"),
		Top:      kb([]string{"home", "g"}, "g/home", "top"),
		Bottom:   kb([]string{"end", "G"}, "G/end", "bottom"),
	}
}

func (k *MoveKeys) list() []*key.Binding {
	return []*key.Binding{&k.Up, &k.Down, &k.PageUp, &k.PageDown, &k.Top, &k.Bottom}
}

// moveActions are the movement actions of a pane: f moves by rows, page is
// the page size, top and bottom jump; after (if set) runs after each and
// returns the command of what follows the move.
func moveActions(k *MoveKeys, page func() int, f func(d int), top, bottom func(), after func() tea.Cmd) []action {
	do := func(g func()) func() tea.Cmd {
		return func() tea.Cmd {
			g()
			if after != nil {
				return after()
			}
			return nil
		}
	}
	return []action{
		{b: &k.Up, do: do(func() { f(-1) })},
		{b: &k.Down, do: do(func() { f(1) })},
		{b: &k.PageUp, do: do(func() { f(-max(page()-1, 1)) })},
		{b: &k.PageDown, do: do(func() { f(max(page()-1, 1)) })},
		{b: &k.Top, do: do(top)},
		{b: &k.Bottom, do: do(bottom)},
	}
}

// TreeKeys act on the device tree.
type TreeKeys struct {
	MoveKeys
	Expand, Collapse, Toggle, Hex, Text, History, Hidden, Export, Verify, Unlock, Search, Next, Present key.Binding
}

func newTreeKeys() *TreeKeys {
	return &TreeKeys{
		MoveKeys: newMoveKeys(),
		Expand:   kb([]string{"right", "l"}, "→/l", "expand"),
		Collapse: kb([]string{"left", "h"}, "←/h", "collapse/parent"),
		Toggle:   kb([]string{"enter", " "}, "enter", "open/close"),
		Hex:      kb([]string{"x"}, "x", "hex view"),
		Text:     kb([]string{"m"}, "m", "metadata text"),
		History:  kb([]string{"v"}, "v", "history"),
		Hidden:   kb([]string{"a"}, "a", "show hidden LVs"),
		Export:   kb([]string{"e"}, "e", "export LV"),
		Verify:   kb([]string{"V"}, "V", "verify container"),
		Unlock:   kb([]string{"u"}, "u", "unlock (passphrase)"),
		Search:   kb([]string{"/"}, "/", "search names, UUIDs, tags"),
		Next:     kb([]string{"n"}, "n", "next match"),
		Present:  kb([]string{"c"}, "c", "back to current metadata"),
	}
}

func (k *TreeKeys) all() []*key.Binding {
	return append(k.list(), &k.Expand, &k.Collapse, &k.Toggle, &k.Hex, &k.Text, &k.History,
		&k.Hidden, &k.Export, &k.Verify, &k.Unlock, &k.Search, &k.Next, &k.Present)
}

func (k *TreeKeys) name() string { return "device tree" }

// ShortHelp implements help.KeyMap.
func (k *TreeKeys) ShortHelp() []key.Binding {
	return enabled(&k.Unlock, &k.Export, &k.Verify, &k.Hex, &k.Text, &k.History, &k.Search, &k.Present)
}

// FullHelp implements help.KeyMap.
func (k *TreeKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		enabled(append(k.list(), &k.Expand, &k.Collapse, &k.Toggle)...),
		enabled(&k.Hex, &k.Text, &k.History, &k.Export, &k.Verify, &k.Unlock, &k.Hidden, &k.Search, &k.Next, &k.Present),
	}
}

// DetailsKeys act on the details pane.
type DetailsKeys struct {
	MoveKeys
	Back key.Binding
}

func newDetailsKeys() *DetailsKeys {
	return &DetailsKeys{MoveKeys: newMoveKeys(), Back: kb([]string{"esc"}, "esc", "back to the tree")}
}

func (k *DetailsKeys) all() []*key.Binding { return append(k.list(), &k.Back) }

func (k *DetailsKeys) name() string { return "details" }

// ShortHelp implements help.KeyMap.
func (k *DetailsKeys) ShortHelp() []key.Binding { return enabled(&k.Down, &k.PageDown, &k.Back) }

// FullHelp implements help.KeyMap.
func (k *DetailsKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{enabled(k.list()...), enabled(&k.Back)}
}

// HexKeys act on the hex view.
type HexKeys struct {
	MoveKeys
	NextField, PrevField, NextSector, PrevSector, Goto, Back key.Binding
}

func newHexKeys() *HexKeys {
	return &HexKeys{
		MoveKeys:   newMoveKeys(),
		NextField:  kb([]string{"]", "n"}, "]/n", "next field"),
		PrevField:  kb([]string{"[", "N"}, "[/N", "previous field"),
		NextSector: kb([]string{"}"}, "}", "next 512 bytes"),
		PrevSector: kb([]string{"{"}, "{", "previous 512 bytes"),
		Goto:       kb([]string{"o", ":"}, "o", "go to offset"),
		Back:       kb([]string{"esc"}, "esc", "back"),
	}
}

func (k *HexKeys) all() []*key.Binding {
	return append(k.list(), &k.NextField, &k.PrevField, &k.NextSector, &k.PrevSector, &k.Goto, &k.Back)
}

func (k *HexKeys) name() string { return "hex view" }

// ShortHelp implements help.KeyMap.
func (k *HexKeys) ShortHelp() []key.Binding {
	return enabled(&k.NextField, &k.PrevField, &k.Goto, &k.Back)
}

// FullHelp implements help.KeyMap.
func (k *HexKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{enabled(k.list()...), enabled(&k.NextField, &k.PrevField, &k.NextSector, &k.PrevSector, &k.Goto, &k.Back)}
}

// TextKeys act on the metadata text view.
type TextKeys struct {
	MoveKeys
	Search, Next, Prev, Back key.Binding
}

func newTextKeys() *TextKeys {
	return &TextKeys{
		MoveKeys: newMoveKeys(),
		Search:   kb([]string{"/"}, "/", "search text"),
		Next:     kb([]string{"n"}, "n", "next match"),
		Prev:     kb([]string{"N"}, "N", "previous match"),
		Back:     kb([]string{"esc"}, "esc", "back"),
	}
}

func (k *TextKeys) all() []*key.Binding {
	return append(k.list(), &k.Search, &k.Next, &k.Prev, &k.Back)
}

func (k *TextKeys) name() string { return "metadata text" }

// ShortHelp implements help.KeyMap.
func (k *TextKeys) ShortHelp() []key.Binding { return enabled(&k.Search, &k.Next, &k.Prev, &k.Back) }

// FullHelp implements help.KeyMap.
func (k *TextKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{enabled(k.list()...), enabled(&k.Search, &k.Next, &k.Prev, &k.Back)}
}

// HistoryKeys act on the history view of a VG.
type HistoryKeys struct {
	MoveKeys
	Base, Travel, Present, Text, DiffDown, DiffUp, Search, Next, Back key.Binding
}

func newHistoryKeys() *HistoryKeys {
	return &HistoryKeys{
		MoveKeys: newMoveKeys(),
		Base:     kb([]string{"b"}, "b", "compare with (A)"),
		Travel:   kb([]string{"t"}, "t", "tree as of this"),
		Present:  kb([]string{"c"}, "c", "back to current metadata"),
		Text:     kb([]string{"m"}, "m", "metadata text"),
		DiffDown: kb([]string{"J", "shift+down"}, "J", "scroll diff down"),
		DiffUp:   kb([]string{"K", "shift+up"}, "K", "scroll diff up"),
		Search:   kb([]string{"/"}, "/", "search names, UUIDs, tags"),
		Next:     kb([]string{"n"}, "n", "next match"),
		Back:     kb([]string{"esc"}, "esc", "back"),
	}
}

func (k *HistoryKeys) all() []*key.Binding {
	return append(k.list(), &k.Base, &k.Travel, &k.Present, &k.Text, &k.DiffDown, &k.DiffUp, &k.Search, &k.Next, &k.Back)
}

func (k *HistoryKeys) name() string { return "history" }

// ShortHelp implements help.KeyMap.
func (k *HistoryKeys) ShortHelp() []key.Binding {
	return enabled(&k.Travel, &k.Present, &k.Base, &k.Text, &k.DiffDown, &k.DiffUp, &k.Back)
}

// FullHelp implements help.KeyMap.
func (k *HistoryKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{enabled(k.list()...), enabled(&k.Travel, &k.Present, &k.Base, &k.Text, &k.DiffDown, &k.DiffUp, &k.Search, &k.Next, &k.Back)}
}

// ExportKeys act on the export pane: the form that asks how to export,
// and the export while it runs.
type ExportKeys struct {
	NextField, PrevField, Toggle, Start, Cancel, Stop, Close key.Binding
}

func newExportKeys() *ExportKeys {
	return &ExportKeys{
		NextField: kb([]string{"tab", "down"}, "tab/↓", "next"),
		PrevField: kb([]string{"shift+tab", "up"}, "shift+tab/↑", "previous"),
		Toggle:    kb([]string{" ", "x"}, "space", "toggle"),
		Start:     kb([]string{"enter"}, "enter", "export"),
		Cancel:    kb([]string{"esc"}, "esc", "cancel"),
		Stop:      kb([]string{"esc"}, "esc", "stop the export"),
		Close:     kb([]string{"esc"}, "esc", "close"),
	}
}

func (k *ExportKeys) all() []*key.Binding {
	return []*key.Binding{&k.NextField, &k.PrevField, &k.Toggle, &k.Start, &k.Cancel, &k.Stop, &k.Close}
}

func (k *ExportKeys) name() string { return "export" }

// ShortHelp implements help.KeyMap.
func (k *ExportKeys) ShortHelp() []key.Binding {
	return enabled(&k.Start, &k.Cancel, &k.Stop, &k.Close, &k.Toggle, &k.NextField, &k.PrevField)
}

// FullHelp implements help.KeyMap.
func (k *ExportKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// VerifyKeys act while a container is verified.
type VerifyKeys struct {
	Stop key.Binding
}

func newVerifyKeys() *VerifyKeys {
	return &VerifyKeys{Stop: kb([]string{"esc"}, "esc", "stop verifying")}
}

func (k *VerifyKeys) all() []*key.Binding { return []*key.Binding{&k.Stop} }

func (k *VerifyKeys) name() string { return "verification" }

// ShortHelp implements help.KeyMap.
func (k *VerifyKeys) ShortHelp() []key.Binding { return enabled(&k.Stop) }

// FullHelp implements help.KeyMap.
func (k *VerifyKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// UnlockKeys act on the form that asks for a LUKS volume's passphrase:
// every other key is typed into it (q and ? too).
type UnlockKeys struct {
	Submit, Cancel key.Binding
}

func newUnlockKeys() *UnlockKeys {
	return &UnlockKeys{
		Submit: kb([]string{"enter"}, "enter", "unlock"),
		Cancel: kb([]string{"esc"}, "esc", "cancel"),
	}
}

func (k *UnlockKeys) all() []*key.Binding { return []*key.Binding{&k.Submit, &k.Cancel} }

func (k *UnlockKeys) name() string { return "unlock" }

// ShortHelp implements help.KeyMap.
func (k *UnlockKeys) ShortHelp() []key.Binding { return enabled(k.all()...) }

// FullHelp implements help.KeyMap.
func (k *UnlockKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// PromptKeys act while a text field (search, offset) has the keyboard.
type PromptKeys struct {
	Confirm, Cancel key.Binding
}

func newPromptKeys() *PromptKeys {
	return &PromptKeys{
		Confirm: kb([]string{"enter"}, "enter", "confirm"),
		Cancel:  kb([]string{"esc"}, "esc", "cancel"),
	}
}

func (k *PromptKeys) all() []*key.Binding { return []*key.Binding{&k.Confirm, &k.Cancel} }

func (k *PromptKeys) name() string { return "prompt" }

// ShortHelp implements help.KeyMap.
func (k *PromptKeys) ShortHelp() []key.Binding { return enabled(k.all()...) }

// FullHelp implements help.KeyMap.
func (k *PromptKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// ConfirmKeys answer a yes/no question.
type ConfirmKeys struct {
	Yes, No key.Binding
}

func newConfirmKeys() *ConfirmKeys {
	return &ConfirmKeys{
		Yes: kb([]string{"y", "Y"}, "y", "yes"),
		No:  kb([]string{"n", "N", "esc"}, "n/esc", "no"),
	}
}

func (k *ConfirmKeys) all() []*key.Binding { return []*key.Binding{&k.Yes, &k.No} }

func (k *ConfirmKeys) name() string { return "question" }

// ShortHelp implements help.KeyMap.
func (k *ConfirmKeys) ShortHelp() []key.Binding { return enabled(k.all()...) }

// FullHelp implements help.KeyMap.
func (k *ConfirmKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// HelpKeys act while the full help is shown.
type HelpKeys struct {
	Close key.Binding
}

func newHelpKeys() *HelpKeys {
	return &HelpKeys{Close: kb([]string{"esc", "?"}, "esc/?", "close help")}
}

func (k *HelpKeys) all() []*key.Binding { return []*key.Binding{&k.Close} }

func (k *HelpKeys) name() string { return "help" }

// ShortHelp implements help.KeyMap.
func (k *HelpKeys) ShortHelp() []key.Binding { return enabled(&k.Close) }

// FullHelp implements help.KeyMap.
func (k *HelpKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// KeyMaps holds the bindings of every context.
type KeyMaps struct {
	Global  *GlobalKeys
	Tree    *TreeKeys
	Details *DetailsKeys
	Hex     *HexKeys
	Text    *TextKeys
	History *HistoryKeys
	Export  *ExportKeys
	Verify  *VerifyKeys
	Unlock  *UnlockKeys
	Prompt  *PromptKeys
	Confirm *ConfirmKeys
	HelpKey *HelpKeys
}

// DefaultKeyMaps returns the inspector's key bindings.
func DefaultKeyMaps() *KeyMaps {
	return &KeyMaps{
		Global: newGlobalKeys(), Tree: newTreeKeys(), Details: newDetailsKeys(), Hex: newHexKeys(), Text: newTextKeys(),
		History: newHistoryKeys(), Export: newExportKeys(), Verify: newVerifyKeys(), Unlock: newUnlockKeys(), Prompt: newPromptKeys(),
		Confirm: newConfirmKeys(),
		HelpKey: newHelpKeys(),
	}
}

// sets lists every context (for tests).
func (k *KeyMaps) sets() []keySet {
	return []keySet{k.Global, k.Tree, k.Details, k.Hex, k.Text, k.History, k.Export, k.Verify, k.Unlock, k.Prompt, k.Confirm, k.HelpKey}
}
