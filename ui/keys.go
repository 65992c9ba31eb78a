package ui

import (
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
)

// keySet is a group of bindings for one context. Every context implements
// help.KeyMap; its bindings are enabled or disabled by Model.updateKeys so
// that help never shows a key that does nothing right now.
type keySet interface {
	help.KeyMap
	all() []*key.Binding
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

func newGlobalKeys() GlobalKeys {
	return GlobalKeys{
		Help:      kb([]string{"?"}, "?", "help"),
		Quit:      kb([]string{"q"}, "q", "quit"),
		Interrupt: kb([]string{"ctrl+c"}, "ctrl+c", "quit"),
		Focus:     kb([]string{"tab", "shift+tab"}, "tab", "switch pane"),
	}
}

func (k *GlobalKeys) all() []*key.Binding {
	return []*key.Binding{&k.Focus, &k.Help, &k.Quit, &k.Interrupt}
}

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

// TreeKeys act on the device tree.
type TreeKeys struct {
	MoveKeys
	Expand, Collapse, Toggle, Hex, Text, History, Hidden, Export, Search, Next, Present key.Binding
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
		Search:   kb([]string{"/"}, "/", "search"),
		Next:     kb([]string{"n"}, "n", "next match"),
		Present:  kb([]string{"c"}, "c", "back to current metadata"),
	}
}

func (k *TreeKeys) all() []*key.Binding {
	return append(k.list(), &k.Expand, &k.Collapse, &k.Toggle, &k.Hex, &k.Text, &k.History,
		&k.Hidden, &k.Export, &k.Search, &k.Next, &k.Present)
}

// ShortHelp implements help.KeyMap.
func (k *TreeKeys) ShortHelp() []key.Binding {
	return enabled(&k.Export, &k.Hex, &k.Text, &k.History, &k.Search, &k.Present)
}

// FullHelp implements help.KeyMap.
func (k *TreeKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		enabled(append(k.list(), &k.Expand, &k.Collapse, &k.Toggle)...),
		enabled(&k.Hex, &k.Text, &k.History, &k.Export, &k.Hidden, &k.Search, &k.Next, &k.Present),
	}
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

// ShortHelp implements help.KeyMap.
func (k *HexKeys) ShortHelp() []key.Binding {
	return enabled(&k.NextField, &k.PrevField, &k.Goto, &k.Back)
}

// FullHelp implements help.KeyMap.
func (k *HexKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{enabled(k.list()...), enabled(&k.NextField, &k.PrevField, &k.NextSector, &k.PrevSector, &k.Goto, &k.Back)}
}

// TextKeys act on the metadata text view and the details pane.
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

// ShortHelp implements help.KeyMap.
func (k *TextKeys) ShortHelp() []key.Binding { return enabled(&k.Search, &k.Next, &k.Prev, &k.Back) }

// FullHelp implements help.KeyMap.
func (k *TextKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{enabled(k.list()...), enabled(&k.Search, &k.Next, &k.Prev, &k.Back)}
}

// HistoryKeys act on the history view of a VG.
type HistoryKeys struct {
	MoveKeys
	Base, Travel, Present, Text, DiffDown, DiffUp, Back key.Binding
}

func newHistoryKeys() *HistoryKeys {
	return &HistoryKeys{
		MoveKeys: newMoveKeys(),
		Base:     kb([]string{"b"}, "b", "diff base (again: previous)"),
		Travel:   kb([]string{"t"}, "t", "tree as of this generation"),
		Present:  kb([]string{"c"}, "c", "back to current metadata"),
		Text:     kb([]string{"m"}, "m", "metadata text"),
		DiffDown: kb([]string{"J", "shift+down"}, "J", "scroll diff down"),
		DiffUp:   kb([]string{"K", "shift+up"}, "K", "scroll diff up"),
		Back:     kb([]string{"esc"}, "esc", "back"),
	}
}

func (k *HistoryKeys) all() []*key.Binding {
	return append(k.list(), &k.Base, &k.Travel, &k.Present, &k.Text, &k.DiffDown, &k.DiffUp, &k.Back)
}

// ShortHelp implements help.KeyMap.
func (k *HistoryKeys) ShortHelp() []key.Binding {
	return enabled(&k.Travel, &k.Present, &k.Base, &k.Text, &k.DiffDown, &k.Back)
}

// FullHelp implements help.KeyMap.
func (k *HistoryKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{enabled(k.list()...), enabled(&k.Travel, &k.Present, &k.Base, &k.Text, &k.DiffDown, &k.DiffUp, &k.Back)}
}

// PromptKeys act while a text field (search, path, offset) has the keyboard.
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

// ShortHelp implements help.KeyMap.
func (k *ConfirmKeys) ShortHelp() []key.Binding { return enabled(k.all()...) }

// FullHelp implements help.KeyMap.
func (k *ConfirmKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// ExportKeys act while an export runs.
type ExportKeys struct {
	Cancel key.Binding
}

func newExportKeys() *ExportKeys {
	return &ExportKeys{Cancel: kb([]string{"esc"}, "esc", "cancel export")}
}

func (k *ExportKeys) all() []*key.Binding { return []*key.Binding{&k.Cancel} }

// ShortHelp implements help.KeyMap.
func (k *ExportKeys) ShortHelp() []key.Binding { return enabled(&k.Cancel) }

// FullHelp implements help.KeyMap.
func (k *ExportKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// HelpKeys act while the full help is shown.
type HelpKeys struct {
	Close key.Binding
}

func newHelpKeys() *HelpKeys {
	return &HelpKeys{Close: kb([]string{"esc"}, "esc/?", "close help")}
}

func (k *HelpKeys) all() []*key.Binding { return []*key.Binding{&k.Close} }

// ShortHelp implements help.KeyMap.
func (k *HelpKeys) ShortHelp() []key.Binding { return enabled(&k.Close) }

// FullHelp implements help.KeyMap.
func (k *HelpKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// KeyMaps holds the bindings of every context.
type KeyMaps struct {
	Global  GlobalKeys
	Tree    *TreeKeys
	Hex     *HexKeys
	Text    *TextKeys
	History *HistoryKeys
	Prompt  *PromptKeys
	Confirm *ConfirmKeys
	Export  *ExportKeys
	HelpKey *HelpKeys
}

// DefaultKeyMaps returns the inspector's key bindings.
func DefaultKeyMaps() *KeyMaps {
	return &KeyMaps{
		Global: newGlobalKeys(), Tree: newTreeKeys(), Hex: newHexKeys(), Text: newTextKeys(),
		History: newHistoryKeys(), Prompt: newPromptKeys(), Confirm: newConfirmKeys(),
		Export: newExportKeys(), HelpKey: newHelpKeys(),
	}
}

// sets lists every context (for tests and enabling).
func (k *KeyMaps) sets() []keySet {
	return []keySet{&k.Global, k.Tree, k.Hex, k.Text, k.History, k.Prompt, k.Confirm, k.Export, k.HelpKey}
}
