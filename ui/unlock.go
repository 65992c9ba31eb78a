package ui

import (
	"fmt"
	"strings"
	"unicode/utf8"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/lvminspect/lvminspect/internal/format"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/luks"
)

// Unlocking a LUKS volume in the inspector: u on a locked volume opens a
// small form that asks for its passphrase. What is typed goes into a
// buffer of fixed capacity that this pane owns (not a text field, whose
// value would be copied into strings that cannot be cleared); the form
// shows a dot per character, never a character; the key messages' runes
// are cleared once read. Enter adds the bytes to the scan's keyring for
// that LUKS device (cfg.ScanOptions.Keys, made if there is none), clears
// the buffer and scans the inputs again as the first scan did (headers
// only: cheap, but a key slot's KDF may take seconds), in a command. The
// new result replaces the tree, the selection kept on the volume; a
// volume still locked says why in the form, for another try.
//
// The keyring keeps what was added until the inspector ends (the
// command line wipes it then): a wrong passphrase stays in it too, and
// is tried again, first, at every later scan (the keyring has no way to
// forget one).

// unlockState is what the unlock pane shows.
type unlockState int

const (
	unlockIdle     unlockState = iota
	unlockForm                 // asking for the passphrase
	unlockDeriving             // the scan runs with it
)

// maxSecret is the most bytes the form takes (cryptsetup's interactive
// passphrases are at most 512 characters).
const maxSecret = 2048

// secretSource is how the keyring names what the form adds (it shows in
// messages, never the bytes).
const secretSource = "the passphrase typed in the inspector"

// unlockPane is the form that asks for a LUKS volume's passphrase.
type unlockPane struct {
	s    *session
	h    host
	keys *UnlockKeys
	acts []action

	state  unlockState
	vol    *scan.Node // the volume, in the result shown
	enc    string     // the id of the device holding its header: the keyring's id
	secret []byte     // typed; its capacity never grows, it is cleared after use
	tries  int
	why    string // why the last try did not open it
	width  int
	height int
}

// unlockDoneMsg carries the result of the scan run with a passphrase.
type unlockDoneMsg struct {
	id  string // the volume's id
	res *scan.Result
}

func newUnlockPane(s *session, h host, k *UnlockKeys) *unlockPane {
	u := &unlockPane{s: s, h: h, keys: k, secret: make([]byte, 0, maxSecret)}
	form := func() bool { return u.state == unlockForm }
	u.acts = []action{
		{b: &k.Submit, on: form, do: u.submit},
		{b: &k.Cancel, on: form, do: func() tea.Cmd {
			u.wipe()
			u.state = unlockIdle
			u.h.capture(modeBrowse)
			u.h.setStatus("unlock cancelled: "+u.vol.ID+" stays locked", levelInfo)
			return u.h.back()
		}},
	}
	return u
}

func (u *unlockPane) Title() string     { return "Unlock" }
func (u *unlockPane) Keys() keySet      { return u.keys }
func (u *unlockPane) actions() []action { return u.acts }

func (u *unlockPane) SetSize(w, h int) { u.width, u.height = w, h }

// show implements rightPane: the form for a locked volume. It does not
// follow the tree.
func (u *unlockPane) show(n *node, explicit bool) (tea.Cmd, error) {
	switch {
	case !explicit:
		return nil, fmt.Errorf("the unlock form does not follow the tree")
	case n == nil || n.luks == nil:
		return nil, fmt.Errorf("select a LUKS volume to unlock")
	case luksUnlocked(n.luks):
		return nil, fmt.Errorf("%s is unlocked already", n.luks.ID)
	case !u.s.canUnlock(n):
		return nil, fmt.Errorf("%s cannot be unlocked here: %s", n.luks.ID, lockedWhy(n.luks))
	}
	u.wipe()
	u.vol, u.enc, u.state, u.tries, u.why = n.luks, n.luks.Parents[0], unlockForm, 0, ""
	u.h.capture(modeUnlock)
	return nil, nil
}

// Update implements pane: the form's keys, and what is typed.
func (u *unlockPane) Update(msg tea.Msg) tea.Cmd {
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return nil
	}
	if cmd, ok := dispatch(k, u.acts); ok {
		return cmd
	}
	if u.state == unlockForm {
		u.typed(k)
	}
	if k.Type == tea.KeyRunes {
		// The typed characters are kept nowhere else. (Bubble Tea decodes
		// each run of characters into runes of its own; a space comes as
		// KeySpace with runes it shares between all spaces: never cleared.)
		clear(k.Runes)
	}
	return nil
}

// typed edits the passphrase: characters (a paste too) are added,
// backspace removes the last, ctrl+u clears it.
func (u *unlockPane) typed(k tea.KeyMsg) {
	switch k.Type {
	case tea.KeyRunes, tea.KeySpace:
		if k.Alt {
			return
		}
		rs := k.Runes
		if k.Type == tea.KeySpace && len(rs) == 0 {
			rs = []rune{' '}
		}
		for _, r := range rs {
			if len(u.secret)+utf8.RuneLen(r) > cap(u.secret) {
				u.why = fmt.Sprintf("at most %d bytes", maxSecret)
				return
			}
			u.secret = utf8.AppendRune(u.secret, r) // within its capacity: never copied
		}
	case tea.KeyBackspace:
		if _, n := utf8.DecodeLastRune(u.secret); n > 0 {
			clear(u.secret[len(u.secret)-n:])
			u.secret = u.secret[:len(u.secret)-n]
		}
	case tea.KeyCtrlU:
		u.wipe()
	}
}

// wipe clears what was typed.
func (u *unlockPane) wipe() {
	clear(u.secret[:cap(u.secret)])
	u.secret = u.secret[:0]
}

// submit adds the passphrase to the keyring for the volume's device,
// clears it, and scans again.
func (u *unlockPane) submit() tea.Cmd {
	if len(u.secret) == 0 {
		u.why = "type the passphrase first"
		return nil
	}
	u.s.keyring().AddSecret(u.enc, u.secret, secretSource) // the keyring keeps a copy
	u.wipe()
	u.state, u.why = unlockDeriving, ""
	u.tries++
	return u.s.rescan(u.vol.ID)
}

// done shows the outcome of the scan with the passphrase: the volume of
// the new result, nil when it is not in it.
func (u *unlockPane) done(v *scan.Node) (opened bool) {
	if v != nil && luksUnlocked(v) {
		u.state, u.vol = unlockIdle, v
		return true
	}
	u.state = unlockForm
	// What was typed opened nothing: not derived again at every scan.
	u.s.keyring().Forget(u.enc, secretSource)
	if v == nil {
		u.why = "the volume is not found any more"
		return false
	}
	u.vol, u.why = v, lockedWhy(v)
	return false
}

// View implements pane.
func (u *unlockPane) View() string {
	if u.vol == nil || u.state == unlockIdle {
		return ""
	}
	st := u.s.st
	w := max(u.width, 20)
	v := u.vol
	h := v.LUKS
	var out []string
	out = append(out, string(paint(st.Pane.Title, fmt.Sprintf("Unlock LUKS%d volume %s", h.Version, v.ID))))
	what := fmt.Sprintf("on %s · %s", u.enc, h.Cipher)
	if v.Size > 0 {
		what += " · " + format.Size(v.Size)
	}
	out = append(out, wrapMuted(u.s, what, w)...)
	var slots []string
	for _, ks := range h.Keyslots {
		if ks.Usable() {
			slots = append(slots, fmt.Sprintf("%d (%s)", ks.Index, kdfCost(&ks.KDF)))
		}
	}
	if len(slots) > 0 {
		out = append(out, wrapMuted(u.s, "key slots tried: "+strings.Join(slots, "; "), w)...)
	}
	out = append(out, "", string(paint(st.Bold, "Passphrase")))
	n := utf8.RuneCount(u.secret)
	field := strings.Repeat("•", n)
	if u.state == unlockForm {
		field += "▏"
	}
	if ansi.StringWidth(field) > w-2 {
		field = "…" + strings.Repeat("•", w-4) + "▏"
	}
	out = append(out, "  "+field)
	if u.state == unlockForm && n == 0 {
		out = append(out, "  "+string(paint(st.Muted, "type it: a dot shows for each character, never the character")))
	}
	out = append(out, "")
	switch {
	case u.state == unlockDeriving:
		kdf := "the key slots' KDF"
		for _, ks := range h.Keyslots {
			if ks.Usable() {
				kdf = ks.KDF.Type
				break
			}
		}
		out = append(out, u.s.waiting(fmt.Sprintf("deriving the key (%s: may take seconds per slot) and reading the volume…", kdf)))
	case u.why != "":
		for _, l := range wrapWords("✗ "+u.why, w) {
			out = append(out, string(paint(st.Check.Bad, l)))
		}
		if u.tries > 0 {
			out = append(out, string(paint(st.Muted, "try again, or esc")))
		}
	}
	out = append(out, "")
	out = append(out, wrapMuted(u.s, "What is typed is never shown, logged or written. A passphrase that opens the volume is kept in memory, for "+u.enc+
		" only, until the inspector ends, and tried again whenever the inputs are scanned; one that does not is wiped.", w)...)
	for i, l := range out {
		out[i] = ansi.Truncate(l, u.width, "…")
	}
	return strings.Join(out, "\n")
}

// wrapMuted wraps text at spaces in the muted style.
func wrapMuted(s *session, text string, w int) []string {
	var out []string
	for _, l := range wrapWords(text, w) {
		out = append(out, string(paint(s.st.Muted, l)))
	}
	return out
}

// keyring is the scan's keyring, made when there is none (it is wiped
// when the inspector ends).
func (s *session) keyring() *luks.Keyring {
	if s.cfg.ScanOptions.Keys == nil {
		s.cfg.ScanOptions.Keys = luks.NewKeyring()
		s.ownKeys = true
	}
	return s.cfg.ScanOptions.Keys
}

// inputSnap is an input as it was before the first scan: the scan sets
// fields of its device (what it holds, a LUKS header, an md superblock,
// their structures), so scanning again starts from fresh copies, which
// also leaves the result shown untouched while the new one is made.
type inputSnap struct {
	in   scan.Input
	node scan.Node
	file *scan.Node
}

// snapshotInputs copies the inputs before they are scanned.
func snapshotInputs(ins []*scan.Input) []inputSnap {
	out := make([]inputSnap, 0, len(ins))
	for _, in := range ins {
		s := inputSnap{in: *in, node: *in.Node}
		if in.File != nil {
			f := *in.File
			s.file = &f
		}
		out = append(out, s)
	}
	return out
}

// fresh is a new input as the snapshot was: its own device nodes, their
// lists clipped so that appending to them never writes into the copies'.
func (s *inputSnap) fresh() *scan.Input {
	in := s.in
	n := s.node
	clipNode(&n)
	in.Node = &n
	if s.file != nil {
		f := *s.file
		clipNode(&f)
		in.File = &f
	}
	return &in
}

func clipNode(n *scan.Node) {
	n.Parents = n.Parents[:len(n.Parents):len(n.Parents)]
	n.Structures = n.Structures[:len(n.Structures):len(n.Structures)]
	n.Problems = n.Problems[:len(n.Problems):len(n.Problems)]
	n.LVKeys = n.LVKeys[:len(n.LVKeys):len(n.LVKeys)]
}

// rescan scans fresh copies of the inputs, as the first scan did, with
// the keyring as it is now; the result comes as an unlockDoneMsg.
func (s *session) rescan(id string) tea.Cmd {
	ins := make([]*scan.Input, len(s.snaps))
	for i := range s.snaps {
		ins[i] = s.snaps[i].fresh()
	}
	opt := s.cfg.ScanOptions
	return s.tasks.run(func() tea.Msg { return unlockDoneMsg{id: id, res: safeScan(ins, opt)} })
}

// unlocked shows the result of a scan with a passphrase: the tree is
// rebuilt from it, the selection kept; an opened volume closes the form,
// one still locked leaves it open with the reason.
func (m *Model) unlocked(msg unlockDoneMsg) tea.Cmd {
	u := m.unlockP()
	m.s.setResult(msg.res)
	m.tree.setRoots(buildTree(m.s.res, m.s.views, m.s.showHidden))
	m.s.countLVs()
	var v *scan.Node
	for _, n := range msg.res.LUKSNodes {
		if n.ID == msg.id {
			v = n
		}
	}
	if !u.done(v) {
		m.capture(modeUnlock)
		return m.s.prefetch()
	}
	m.capture(modeBrowse)
	m.setStatus(openedText(m.s.res, v), levelGood)
	return tea.Batch(m.back(), m.s.prefetch())
}

// openedText is the status line after a volume was opened: what opened
// it and what it holds.
func openedText(res *scan.Result, v *scan.Node) string {
	s := "✓ " + v.ID + " " + luksOpenedBy(v)
	var in *scan.InputResult
	for _, i := range res.Inputs {
		if i.Node == v {
			in = i
		}
	}
	if in == nil {
		return s
	}
	var vgs []string
	for _, vg := range res.VGs {
		for _, p := range vg.PVs {
			if p.PV != nil && p.PV.Input == in.Input && vg.Meta != nil {
				vgs = append(vgs, "VG "+vg.Meta.Name)
				break
			}
		}
	}
	switch {
	case len(vgs) > 0:
		return s + ": it holds " + format.Count(len(in.PVs), "PV", "PVs") + " of " + strings.Join(vgs, ", ")
	case in.Content != nil:
		return s + ": it holds " + in.Content.Name
	case len(in.PVs) > 0:
		return s + ": it holds " + format.Count(len(in.PVs), "PV", "PVs")
	}
	return s + ": nothing recognised inside"
}

func (m *Model) unlockP() *unlockPane { return m.panes[paneUnlock].(*unlockPane) }
