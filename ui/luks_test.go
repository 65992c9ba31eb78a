package ui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/luks"
)

// luksManifest is the part of a LUKS fixture's manifest about its
// volume.
type luksManifest struct {
	LUKS []struct {
		UUID       string `json:"uuid"`
		Version    int    `json:"version"`
		Cipher     string `json:"cipher"`
		KeyBits    int    `json:"key_size_bits"`
		Payload    int64  `json:"payload_offset_bytes"`
		MappingSHA string `json:"mapping_sha256"`
		MappingLen int64  `json:"mapping_size_bytes"`
		Keyslots   []struct {
			Slot       int    `json:"slot"`
			Passphrase string `json:"passphrase"`
		} `json:"keyslots"`
		Dump map[string]string `json:"luks_dump"`
	} `json:"luks"`
}

func loadLUKSManifest(t testing.TB, name string) luksManifest {
	t.Helper()
	var m luksManifest
	if err := json.Unmarshal(fixture.Load(t, name).ReadFile(t, "manifest.json"), &m); err != nil || len(m.LUKS) != 1 {
		t.Fatalf("%s: manifest: %v", name, err)
	}
	return m
}

// passphrase is a LUKS fixture's passphrase for its slot 0.
func passphrase(t testing.TB, name string) string {
	t.Helper()
	return loadLUKSManifest(t, name).LUKS[0].Keyslots[0].Passphrase
}

// luksModel is the inspector on a LUKS fixture's images, scanned by the
// inspector itself (as the command opens it, so that it can scan them
// again), with the fixture's passphrase in the keyring when unlock is
// true.
func luksModel(t testing.TB, name string, unlock bool, w, h int) *Model {
	t.Helper()
	f := fixture.Load(t, name)
	var ins []*scan.Input
	for _, img := range f.ImageNames(false) {
		b := f.Image(t, img)
		ins = append(ins, scan.NewInput(img+".img", bytesReaderAt(b), int64(len(b))))
	}
	opt := scan.Options{}
	if unlock {
		opt.Keys = luks.NewKeyring()
		opt.Keys.AddSecret("", []byte(passphrase(t, name)), "the test's passphrase")
	}
	m := New(Config{Inputs: ins, ScanOptions: opt})
	start(t, m, w, h)
	return m
}

func rootNames(m *Model) string {
	var out []string
	for _, r := range m.tree.roots {
		out = append(out, r.name)
	}
	return strings.Join(out, ", ")
}

// noSecret fails when a frame holds the passphrase or any word of it.
func noSecret(t *testing.T, what, frame, pass string) {
	t.Helper()
	for _, s := range append([]string{pass}, strings.Fields(pass)...) {
		if len(s) >= 3 && strings.Contains(frame, s) {
			t.Fatalf("%s shows %q of the passphrase:\n%s", what, s, frame)
		}
	}
}

// luks2-lvm without a key: the disk, its partition 2 with a row naming
// the volume, the volume as a root with its key slot, locked, selected at
// start; nothing inside is seen. The rows and details say what scan
// --json says (version, UUID, cipher, key size, sector size, payload
// offset, the slot's KDF and its parameters) and what the manifest says.
func TestLUKS2Locked(t *testing.T) {
	mf := loadLUKSManifest(t, "luks2-lvm").LUKS[0]
	m := luksModel(t, "luks2-lvm", false, 140, 60)
	if got := rootNames(m); got != "disk0.img, in1.p2.luks" {
		t.Fatalf("roots: %s", got)
	}
	v := m.tree.roots[1]
	if v.kind != kLUKS || v.dev.ID != "in1.p2.luks" || v.in != nil || m.selected() != v {
		t.Fatalf("the volume's row: kind %d, device %v, read %v, selected %q", v.kind, v.dev.ID, v.in != nil, m.selected().name)
	}
	if got := rowLine(v); got != "in1.p2.luks LUKS2 locked 26.98 MiB aes-xts-plain64" {
		t.Errorf("volume row %q", got)
	}
	if v.damaged {
		t.Error("a volume locked for want of a key is marked damaged")
	}
	if kids := childLines(v); strings.Join(kids, "|") != "key slot 0 active · argon2id, time 4, 64.00 MiB, 2 threads" {
		t.Errorf("volume's rows: %q", kids)
	}
	hdr := kindNodes(m, kLUKSHeader)
	if len(hdr) != 1 || hdr[0].parent.kind != kPartition || hdr[0].parent.part.Index != 2 || rowLine(hdr[0]) != "LUKS2 volume → in1.p2.luks locked · csum ✓" {
		t.Fatalf("the header's row: %v", hdr)
	}
	wantAll(t, "the first screen", plain(m.View()), "0 PVs · 0 VGs", "LUKS volume in1.p2.luks is locked: select it and press u to type its passphrase",
		"u unlock (passphrase)")
	if !enabledKey(m, "u") || enabledKey(m, "e") {
		t.Errorf("on a locked volume: u %v, e %v", enabledKey(m, "u"), enabledKey(m, "e"))
	}
	d := plain(m.View())
	wantAll(t, "the volume's details", d, "LUKS2 volume in1.p2.luks", "device         in1.p2.luks", "on             in1.p2 (partition 2 of disk0.img)",
		"state          locked: no passphrase, key file or volume key given", "decrypted      26.98 MiB (28294656 bytes)",
		"version        2", "UUID           "+mf.UUID, "cipher         "+mf.Cipher, fmt.Sprintf("key size       %d bits", mf.KeyBits),
		"sector size    512 bytes", fmt.Sprintf("payload offset %d (%#x) of the LUKS device", mf.Payload, mf.Payload),
		"epoch          "+mf.Dump["Epoch"], "Header copies (2)", "copy       at     seqid  checksum  used",
		"primary    0      3      ✓ sha256  yes", "secondary  16384  3      ✓ sha256  no", "Key slots (1 of 1 active)",
		"slot  state   type   KDF       cost                          priority",
		"0     active  luks2  argon2id  time "+mf.Dump["Time cost"]+", 64.00 MiB, "+mf.Dump["Threads"]+" threads  normal",
		"u: unlock: type its passphrase (never shown)", "m: the JSON area as text")
	if mf.Dump["Memory"] != "65536" || mf.Dump["PBKDF"] != "argon2id" {
		t.Errorf("the manifest's slot: %v", mf.Dump)
	}
	if mf.MappingLen != v.dev.Size {
		t.Errorf("decrypted size %d, the manifest's mapping %d", v.dev.Size, mf.MappingLen)
	}

	pick(t, m, v.children[0])
	wantAll(t, "the slot's details", plain(m.View()), "Key slot 0 of in1.p2.luks", "state          active", "priority       1 (normal)",
		"KDF            argon2id", "time           4 passes", "memory         64.00 MiB (65536 in the header, counted in KiB)", "threads        2",
		"key material   258048 bytes at 32768 (0x8000) of the LUKS device", "stripes        4000", "x: hex view of the key material")
	pick(t, m, hdr[0])
	wantAll(t, "the header row's details", plain(m.View()), "LUKS2 header of in1.p2", "volume         in1.p2.luks (locked)",
		"UUID           "+mf.UUID, "u: unlock")
	pick(t, m, hdr[0].parent)
	wantAll(t, "partition 2's details", plain(m.View()), "Partition 2", "holds          LUKS2 encrypted volume", "LUKS2 header",
		"volume         in1.p2.luks (locked)", "checksums      ✓ ok (2 header copies)")
	// Search finds the volume by its UUID and its id.
	press(t, m, "g", "/"+mf.UUID[:8], "enter")
	if n := m.selected(); n.kind != kLUKSHeader {
		t.Errorf("search by UUID found %s", ancestry(n))
	}
	press(t, m, "n")
	if n := m.selected(); n != v {
		t.Errorf("search by UUID found next %s", ancestry(n))
	}
}

// luks2-lvm with its passphrase: the volume says what opened it, holds
// the PV of VG cryptvg (a root after it), and offers its export.
func TestLUKS2Unlocked(t *testing.T) {
	m := luksModel(t, "luks2-lvm", true, 140, 60)
	if got := rootNames(m); got != "disk0.img, in1.p2.luks, VG cryptvg" {
		t.Fatalf("roots: %s", got)
	}
	v := m.tree.roots[1]
	if got := rowLine(v); got != "in1.p2.luks LUKS2 unlocked (slot 0) 26.98 MiB aes-xts-plain64" {
		t.Errorf("volume row %q", got)
	}
	kids := childLines(v)
	if len(kids) != 2 || kids[0] != "key slot 0 active (opened it) · argon2id, time 4, 64.00 MiB, 2 threads" || !strings.HasPrefix(kids[1], "PV VolyN0") {
		t.Errorf("volume's rows: %q", kids)
	}
	if rowOf(m, "VG cryptvg", "home") < 0 {
		t.Errorf("no LV home under VG cryptvg:\n%s", plain(m.tree.View()))
	}
	pick(t, m, v)
	wantAll(t, "the volume's details", plain(m.View()), "state          ✓ unlocked by key slot 0 (argon2id)", "PVs found      1",
		"0     active, opened it  luks2  argon2id", "e: export the decrypted volume as a device")
	if enabledKey(m, "u") || !enabledKey(m, "e") || !enabledKey(m, "x") {
		t.Errorf("on an unlocked volume: u %v, e %v, x %v", enabledKey(m, "u"), enabledKey(m, "e"), enabledKey(m, "x"))
	}
	wantAll(t, "the help line", m.helpLine(), "e export decrypted volume")
	// x shows the decrypted bytes: the PV label in sector 1.
	press(t, m, "x", "n")
	wantAll(t, "hex of the volume", plain(m.View()), "LUKS volume in1.p2 (in1.p2.luks, decrypted)  volume offsets", "[4c 41 42 45 4c 4f 4e 45]",
		"LABELONE")
}

// luks1-lvm: a whole-disk LUKS1 volume; its eight slots in the table (one
// active, pbkdf2), no JSON area; unlocked, VG oldcrypt inside.
func TestLUKS1(t *testing.T) {
	mf := loadLUKSManifest(t, "luks1-lvm").LUKS[0]
	m := luksModel(t, "luks1-lvm", false, 120, 40)
	if got := rootNames(m); got != "disk0.img, in1.luks" {
		t.Fatalf("roots: %s", got)
	}
	if kids := childLines(m.tree.roots[0]); strings.Join(kids, "|") != "LUKS1 volume → in1.luks locked" {
		t.Errorf("disk0.img's rows: %q", kids)
	}
	v := m.tree.roots[1]
	if got := rowLine(v); got != "in1.luks LUKS1 locked 22.00 MiB aes-xts-plain64" {
		t.Errorf("volume row %q", got)
	}
	if kids := childLines(v); strings.Join(kids, "|") != "key slot 0 active · pbkdf2 sha256, "+mf.Dump["Iterations"]+" iterations" {
		t.Errorf("volume's rows: %q", kids)
	}
	d := plain(m.View())
	wantAll(t, "the volume's details", d, "LUKS1 volume in1.luks", "on             in1 (disk0.img)", "UUID           "+mf.UUID,
		"hash           sha256", "Key slots (1 of 8 active)", "slot  state     type   KDF     cost", "0     active    luks1  pbkdf2  sha256, 3632 iterations",
		"7     inactive  luks1  -       -")
	if strings.Contains(d, "JSON") || strings.Contains(d, "priority") || enabledKey(m, "m") {
		t.Errorf("LUKS1 shows a JSON area or priorities:\n%s", d)
	}
	pick(t, m, m.tree.roots[0])
	wantAll(t, "disk0.img's details", plain(m.View()), "Input disk0.img", "LUKS1 header", "volume         in1.luks (locked)")
	if strings.Contains(plain(m.View()), "checksums") {
		t.Error("LUKS1 has no header checksum")
	}

	m = luksModel(t, "luks1-lvm", true, 120, 40)
	if got := rootNames(m); got != "disk0.img, in1.luks, VG oldcrypt" {
		t.Fatalf("roots: %s", got)
	}
	pick(t, m, m.tree.roots[1])
	wantAll(t, "the unlocked volume", plain(m.View()), "state          ✓ unlocked by key slot 0 (pbkdf2)", "0     active, opened it  luks1  pbkdf2")
}

// typeInto sends text one key at a time, checking every frame.
func typeInto(t *testing.T, m *Model, text, pass string) {
	t.Helper()
	for _, k := range keyMsgs(text) {
		runes := k.Runes
		run(t, m, k)
		noSecret(t, "a frame while typing", m.View(), pass)
		for _, r := range runes {
			if r != 0 {
				t.Fatalf("the key message still holds %q", string(runes))
			}
		}
	}
}

// The scenario: luks2-lvm opened without a key, u on the volume,
// the passphrase typed (a dot per character on screen, never a
// character, in no frame), enter: "deriving the key…" while the scan
// runs, then VG cryptvg is in the tree, the selection still on the
// volume. The keyring holds the passphrase for in1.p2 under the
// inspector's name for it; the form's buffer is cleared.
func TestLUKSUnlockFlow(t *testing.T) {
	pass := passphrase(t, "luks2-lvm")
	m := luksModel(t, "luks2-lvm", false, 120, 40)
	v := m.selected()
	if v.kind != kLUKS {
		t.Fatalf("selected at start: %s", ancestry(v))
	}
	press(t, m, "u")
	if m.mode != modeUnlock || m.right != paneUnlock {
		t.Fatalf("u: mode %d, pane %d, status %q", m.mode, m.right, m.status())
	}
	checkKeys(t, "the unlock form", m)
	f := plain(m.View())
	wantAll(t, "the form", f, "Unlock LUKS2 volume in1.p2.luks", "on in1.p2 · aes-xts-plain64 · 26.98 MiB",
		"key slots tried: 0 (argon2id, time 4, 64.00 MiB, 2 threads)", "Passphrase", "a dot shows for each character",
		"never shown, logged or written", "enter unlock • esc cancel • ctrl+c quit")
	typeInto(t, m, pass, pass)
	u := m.unlockP()
	if string(u.secret) != pass {
		t.Fatal("the form did not get what was typed")
	}
	wantAll(t, "the form after typing", plain(m.View()), "  "+strings.Repeat("•", len(pass))+"▏")
	buf := u.secret[:cap(u.secret)]
	_, cmd := m.Update(tea.KeyMsg{Type: tea.KeyEnter})
	d := plain(m.View())
	wantAll(t, "the form while deriving", d, "deriving the key (argon2id: may take seconds per slot) and reading the volume…")
	noSecret(t, "the frame while deriving", d, pass)
	if !bytes.Equal(buf, make([]byte, len(buf))) {
		t.Error("the form's buffer is not cleared after enter")
	}
	settle(t, m, cmd)
	frame := plain(m.View())
	noSecret(t, "the frame after unlocking", frame, pass)
	if m.mode != modeBrowse || m.right != paneDetails {
		t.Fatalf("after unlocking: mode %d pane %d status %q\n%s", m.mode, m.right, m.status(), frame)
	}
	if got := rootNames(m); got != "disk0.img, in1.p2.luks, VG cryptvg" {
		t.Errorf("roots after unlocking: %s", got)
	}
	if n := m.selected(); n.kind != kLUKS || n.name != "in1.p2.luks" {
		t.Errorf("selected after unlocking: %s", ancestry(n))
	}
	wantAll(t, "the screen after unlocking", frame, "✓ in1.p2.luks unlocked by key slot 0 (argon2id): it holds 1 PV of VG cryptvg",
		"1 PV · 1 VG · 3 LVs", "VG cryptvg", "state          ✓ unlocked by key slot 0 (argon2id)")
	cands := m.s.cfg.ScanOptions.Keys.For("in1.p2")
	defer luks.WipeCandidates(cands)
	if len(cands) != 1 || string(cands[0].Bytes) != pass || cands[0].Source != "the passphrase typed in the inspector" {
		t.Errorf("the keyring holds %d candidates for in1.p2", len(cands))
	}
	if c := m.s.cfg.ScanOptions.Keys.For("in1.p3"); len(c) != 0 {
		t.Error("the passphrase was added for every device")
	}
	// The LVs inside are read: home's ext2 is named.
	if rowOf(m, "VG cryptvg", "home") < 0 || !strings.Contains(plain(m.tree.View()), "home 4.00 MiB ext2") {
		t.Errorf("LV home:\n%s", plain(m.tree.View()))
	}
	for _, n := range walkAll(m.tree.roots) {
		pick(t, m, n)
		noSecret(t, "the details of "+ancestry(n), plain(m.View()), pass)
	}
}

// A wrong passphrase leaves the volume locked: the form says why, as the
// graph does ("no key slot opened (tried 1)"), and takes another try; q
// and ? are typed into it, backspace and ctrl+u edit it; esc cancels.
// A paste (one message) is typed as a whole.
func TestLUKSUnlockWrongPassphrase(t *testing.T) {
	pass := passphrase(t, "luks2-lvm")
	m := luksModel(t, "luks2-lvm", false, 120, 40)
	press(t, m, "u")
	typeInto(t, m, "q?xyz", pass)
	if m.mode != modeUnlock || string(m.unlockP().secret) != "q?xyz" {
		t.Fatalf("q and ? were not typed: mode %d", m.mode)
	}
	press(t, m, "enter")
	f := plain(m.View())
	if m.mode != modeUnlock || m.right != paneUnlock {
		t.Fatalf("after a wrong passphrase: mode %d pane %d\n%s", m.mode, m.right, f)
	}
	wantAll(t, "the form after a wrong passphrase", f, "✗ no key slot opened (tried 1) with 1 secret given", "try again, or esc",
		"in1.p2.luks LUKS2 locked")
	if v := kindNodes(m, kLUKS)[0]; luksUnlocked(v.luks) || !v.damaged {
		t.Errorf("after a wrong passphrase: unlocked %v, marked %v", luksUnlocked(v.luks), v.damaged)
	}
	if got := rootNames(m); got != "disk0.img, in1.p2.luks" {
		t.Errorf("roots: %s", got)
	}
	if !m.s.cfg.ScanOptions.Keys.Empty() {
		t.Error("the keyring keeps a passphrase that opened nothing")
	}
	// Editing: backspace, ctrl+u.
	typeInto(t, m, "ab", pass)
	run(t, m, tea.KeyMsg{Type: tea.KeyBackspace})
	if string(m.unlockP().secret) != "a" {
		t.Errorf("after backspace: %d bytes", len(m.unlockP().secret))
	}
	run(t, m, tea.KeyMsg{Type: tea.KeyCtrlU})
	if len(m.unlockP().secret) != 0 {
		t.Error("ctrl+u did not clear the field")
	}
	// A space arrives as KeySpace, with runes Bubble Tea shares between
	// every space: typed, and left as they are.
	space := []rune{' '}
	run(t, m, tea.KeyMsg{Type: tea.KeySpace, Runes: space})
	run(t, m, tea.KeyMsg{Type: tea.KeySpace, Runes: space})
	if string(m.unlockP().secret) != "  " || space[0] != ' ' {
		t.Errorf("two spaces typed %q, the shared runes %q", m.unlockP().secret, string(space))
	}
	run(t, m, tea.KeyMsg{Type: tea.KeyCtrlU})
	// A paste arrives as one message.
	paste := tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(pass), Paste: true}
	run(t, m, paste)
	noSecret(t, "the frame after a paste", plain(m.View()), pass)
	press(t, m, "enter")
	if m.mode != modeBrowse || rootNames(m) != "disk0.img, in1.p2.luks, VG cryptvg" {
		t.Fatalf("the second try: mode %d roots %s status %q", m.mode, rootNames(m), m.status())
	}
	if v := kindNodes(m, kLUKS)[0]; v.damaged {
		t.Error("the volume is still marked after it was opened")
	}

	// esc cancels, and leaves the volume locked.
	m = luksModel(t, "luks2-lvm", false, 120, 40)
	press(t, m, "u", "a", "esc")
	if m.mode != modeBrowse || m.right != paneDetails || !strings.Contains(m.status(), "unlock cancelled: in1.p2.luks stays locked") {
		t.Errorf("esc: mode %d pane %d status %q", m.mode, m.right, m.status())
	}
	if len(m.unlockP().secret) != 0 || !m.s.cfg.ScanOptions.Keys.Empty() {
		t.Error("esc kept what was typed")
	}
	// enter with nothing typed tries nothing.
	press(t, m, "u", "enter")
	wantAll(t, "enter with nothing typed", plain(m.View()), "✗ type the passphrase first")
	if m.s.cfg.ScanOptions.Keys != nil && !m.s.cfg.ScanOptions.Keys.Empty() {
		t.Error("an empty passphrase was added")
	}
}

// u works on the header's row too (the selection stays there); it is not
// offered on an unlocked volume, nor when the inspector was given a
// scanned result (it cannot scan again).
func TestLUKSUnlockFromHeaderRow(t *testing.T) {
	pass := passphrase(t, "luks2-lvm")
	m := luksModel(t, "luks2-lvm", false, 120, 40)
	pick(t, m, kindNodes(m, kLUKSHeader)[0])
	press(t, m, "u")
	typeInto(t, m, pass, pass)
	press(t, m, "enter")
	if n := m.selected(); n.kind != kLUKSHeader || rowLine(n) != "LUKS2 volume → in1.p2.luks unlocked (slot 0) · csum ✓" {
		t.Errorf("selected after unlocking: %s (%s)", ancestry(n), rowLine(n))
	}
	if enabledKey(m, "u") {
		t.Error("u is offered on an unlocked volume")
	}

	f := fixture.Load(t, "luks2-lvm")
	b := f.Image(t, "disk0")
	res := safeScan([]*scan.Input{scan.NewInput("disk0.img", bytesReaderAt(b), int64(len(b)))}, scan.Options{})
	m = New(Config{Result: res})
	start(t, m, 120, 40)
	if m.selected().kind != kLUKS || enabledKey(m, "u") {
		t.Errorf("given a result: selected %s, u %v", ancestry(m.selected()), enabledKey(m, "u"))
	}
	wantAll(t, "given a result", plain(m.View()), "lvminspect --key-file opens it")
}

// x on the header's row shows the LUKS device (partition 2) from its
// start: the binary header's fields named, the checksum checked, the
// JSON area as a field; on the key slot, its key material; on the disk,
// the same fields at the partition's offset.
func TestLUKSHeaderHex(t *testing.T) {
	m := luksModel(t, "luks2-lvm", false, 120, 40)
	pick(t, m, kindNodes(m, kLUKSHeader)[0])
	press(t, m, "x")
	x := m.hexP()
	if m.right != paneHex || x.src == nil {
		t.Fatalf("x on the header row: no hex view (%q)", m.status())
	}
	wantAll(t, "hex of the header", plain(m.View()), "LUKS2 header of in1.p2 (partition 2 of disk0.img)  LUKS device offsets",
		"00000000 [4c 55 4b 53 ba be]", `▶ magic @0x0+6 = 4c554b53babe ("LUKS\xba\xbe", primary)`)
	names := map[string]bool{}
	for _, f := range x.src.fields {
		names[f.Name] = true
	}
	for _, f := range []string{"magic", "version", "hdr_size", "seqid", "label", "csum_alg", "salt", "uuid", "hdr_offset", "csum", "json"} {
		if !names[f] {
			t.Errorf("hex of the header: no field %s", f)
		}
	}
	for i := 0; i < 20 && !strings.Contains(plain(m.View()), "▶ csum @"); i++ {
		press(t, m, "n")
	}
	wantAll(t, "hex at csum", plain(m.View()), "▶ csum @0x1c0+64", "✓ checksum ok")
	for i := 0; i < 20 && !strings.Contains(plain(m.View()), "▶ json"); i++ {
		press(t, m, "n")
	}
	wantAll(t, "hex at the JSON area", plain(m.View()), `▶ json @0x1000+730 = {"keyslots":{"0":{"type":"luks2"`)
	press(t, m, "esc")

	pick(t, m, kindNodes(m, kLUKSSlot)[0])
	press(t, m, "x")
	wantAll(t, "hex of the key slot", plain(m.View()), "▶ key_material @0x8000+256000 = 4000 stripes of 64 bytes, AF-split")
	press(t, m, "esc")

	pick(t, m, m.tree.roots[0])
	press(t, m, "x", "o", "5242880", "enter")
	wantAll(t, "hex of the disk at partition 2", plain(m.View()), "disk0.img  input offsets", "▶ magic @0x500000+6 = 4c554b53babe")
}

// m on a LUKS2 row shows the JSON area as text, indented, searchable.
func TestLUKSJSONText(t *testing.T) {
	m := luksModel(t, "luks2-lvm", false, 120, 40)
	press(t, m, "m")
	if m.right != paneText {
		t.Fatalf("m on the volume: %q", m.status())
	}
	wantAll(t, "the JSON text", plain(m.View()), "LUKS2 JSON area of in1.p2 (primary copy, 730 bytes, indented)", `"keyslots": {`,
		`"type": "argon2id",`)
	press(t, m, "/", "iterations", "enter")
	wantAll(t, "search in the JSON", plain(m.View()), `"iterations": 4729`, "match 1/1")
}

// e on the unlocked volume exports the decrypted payload, as export
// --device in1.p2.luks does: the manifest's mapping sha256.
func TestLUKSExport(t *testing.T) {
	mf := loadLUKSManifest(t, "luks2-lvm").LUKS[0]
	t.Chdir(t.TempDir())
	m := luksModel(t, "luks2-lvm", true, 120, 40)
	pick(t, m, kindNodes(m, kLUKS)[0])
	press(t, m, "e")
	if m.mode != modeForm {
		t.Fatalf("no export form (status %q)", m.status())
	}
	form := strings.ReplaceAll(plain(m.View()), "\n", " ")
	wantAll(t, "the export form", form, "Export device in1.p2.luks", "same as: lvminspect export --device in1.p2.luks -o",
		"the decrypted payload of the LUKS volume on in1.p2")
	if !strings.Contains(form, "-o in1.p2.luks.img disk0.img ") || strings.Contains(form, "'LUKS volume") {
		t.Errorf("the form's command names an input that is not a file:\n%s", form)
	}
	out := m.exportP().path.Value()
	drain(t, m, press(t, m, "enter"), nil)
	if m.mode != modeBrowse || !strings.Contains(m.status(), mf.MappingSHA) {
		t.Fatalf("mode %d status %q", m.mode, m.status())
	}
	if got := fileSHA(t, out); got != mf.MappingSHA {
		t.Errorf("in1.p2.luks exported to sha256 %s, the manifest's mapping is %s", got, mf.MappingSHA)
	}
}

// On every row of the LUKS fixtures, locked and unlocked, and in the
// views x, m, e and u open, no two bindings share a key, the help lists
// what works, and nothing fails.
func TestLUKSRowsKeys(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, name := range []string{"luks2-lvm", "luks1-lvm"} {
		for _, unlock := range []bool{false, true} {
			m := luksModel(t, name, unlock, 100, 30)
			what := fmt.Sprintf("%s unlocked %v", name, unlock)
			for i := range m.tree.rows {
				m.tree.moveTo(i)
				settle(t, m, m.moved())
				m.after()
				n := m.selected()
				checkKeys(t, what+": tree on "+ancestry(n), m)
				for _, k := range []string{"x", "m", "e", "u"} {
					if !enabledKey(m, k) {
						continue
					}
					press(t, m, k)
					if strings.HasPrefix(m.status(), "✗") {
						t.Errorf("%s: %s on %s: %s", what, k, ancestry(n), m.status())
					}
					checkKeys(t, what+": "+k+" on "+ancestry(n), m)
					press(t, m, "esc")
					m.focus = focusTree
					settle(t, m, m.moved())
				}
			}
		}
	}
}

// TestLUKSGolden compares the screens of the LUKS layer with
// testdata/TestLUKSGolden/*.golden (go test ./ui -run TestLUKSGolden
// -update rewrites them): luks2-lvm locked and unlocked with the volume,
// a key slot and the header's row selected, the header in the hex view,
// the JSON area, the unlock form and a wrong passphrase; luks1-lvm locked
// and unlocked.
func TestLUKSGolden(t *testing.T) {
	at := func(k nodeKind) func(m *Model) *node { return func(m *Model) *node { return kindNodes(m, k)[0] } }
	for _, c := range []struct {
		name   string
		fix    string
		unlock bool
		w, h   int
		sel    func(m *Model) *node
		keys   []string
	}{
		{"luks2-locked-volume", "luks2-lvm", false, 120, 40, at(kLUKS), nil},
		{"luks2-locked-volume-80x24", "luks2-lvm", false, 80, 24, at(kLUKS), nil},
		{"luks2-unlocked-volume", "luks2-lvm", true, 120, 40, at(kLUKS), nil},
		{"luks2-unlocked-slot", "luks2-lvm", true, 120, 40, at(kLUKSSlot), nil},
		{"luks2-header-row", "luks2-lvm", false, 120, 40, at(kLUKSHeader), nil},
		{"luks2-header-hex", "luks2-lvm", false, 120, 40, at(kLUKSHeader), []string{"x"}},
		{"luks2-header-hex-csum", "luks2-lvm", false, 120, 40, at(kLUKSHeader), []string{"x", "nnnnnnnnnnn"}},
		{"luks2-json", "luks2-lvm", false, 120, 40, at(kLUKS), []string{"m"}},
		{"luks2-unlock-form", "luks2-lvm", false, 120, 40, at(kLUKS), []string{"u", "secret"}},
		{"luks2-unlock-wrong", "luks2-lvm", false, 120, 40, at(kLUKS), []string{"u", "wrong", "enter"}},
		{"luks1-locked-volume", "luks1-lvm", false, 120, 40, at(kLUKS), nil},
		{"luks1-unlocked-volume", "luks1-lvm", true, 120, 40, at(kLUKS), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := luksModel(t, c.fix, c.unlock, c.w, c.h)
			pick(t, m, c.sel(m))
			press(t, m, c.keys...)
			m.after()
			golden.RequireEqual(t, []byte(plain(m.View())))
		})
	}
}

// The unlock in the real program loop (teatest): the scan with the
// passphrase runs in a command while frames are drawn; the whole output
// the terminal received never holds the passphrase, and ends with VG
// cryptvg in the tree.
func TestLUKSUnlockInProgram(t *testing.T) {
	pass := passphrase(t, "luks2-lvm")
	f := fixture.Load(t, "luks2-lvm")
	b := f.Image(t, "disk0")
	m := New(Config{Inputs: []*scan.Input{scan.NewInput("disk0.img", bytesReaderAt(b), int64(len(b)))}})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(120, 40))
	var out bytes.Buffer
	wait := func(what string) {
		t.Helper()
		teatest.WaitFor(t, io.TeeReader(tm.Output(), &out), func(b []byte) bool { return bytes.Contains(out.Bytes(), []byte(what)) },
			teatest.WithDuration(30*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
	}
	wait("select it and press u")
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("u")})
	wait("Unlock LUKS2 volume in1.p2.luks")
	for _, r := range pass {
		tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
	wait(strings.Repeat("•", len(pass)))
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	wait("unlocked by key slot 0 (argon2id)")
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second)).(*Model)
	rest, _ := io.ReadAll(tm.Output())
	out.Write(rest)
	for _, s := range append([]string{pass}, strings.Fields(pass)...) {
		if bytes.Contains(out.Bytes(), []byte(s)) {
			t.Errorf("the terminal received %q of the passphrase", s)
		}
	}
	if got := rootNames(fm); got != "disk0.img, in1.p2.luks, VG cryptvg" {
		t.Errorf("roots: %s", got)
	}
}

// luks2-lvm with a byte of its primary binary header changed (its
// label): the primary copy fails its checksum, the secondary is used and
// the volume still opens with the passphrase. The header's row, the
// copies table and the hex view say which copy failed.
func TestLUKS2DamagedPrimary(t *testing.T) {
	pass := passphrase(t, "luks2-lvm")
	img := bytes.Clone(fixture.Load(t, "luks2-lvm").Image(t, "disk0"))
	const part2 = 5242880
	img[part2+24] ^= 'X' // the label, under the primary copy's checksum
	opt := scan.Options{Keys: luks.NewKeyring()}
	opt.Keys.AddSecret("", []byte(pass), "the test's passphrase")
	m := New(Config{Inputs: []*scan.Input{scan.NewInput("disk0.img", bytesReaderAt(img), int64(len(img)))}, ScanOptions: opt})
	start(t, m, 140, 50)
	if got := rootNames(m); got != "disk0.img, in1.p2.luks, VG cryptvg" {
		t.Fatalf("roots: %s", got)
	}
	hdr := kindNodes(m, kLUKSHeader)[0]
	if got := rowLine(hdr); got != "LUKS2 volume → in1.p2.luks unlocked (slot 0) · csum ✗ !" || !hdr.damaged {
		t.Errorf("the header's row %q (marked %v)", got, hdr.damaged)
	}
	v := kindNodes(m, kLUKS)[0]
	pick(t, m, v)
	wantAll(t, "the volume's details", plain(m.View()), "primary    0      3      ✗ BAD sha256  no", "secondary  16384  3      ✓ sha256      yes",
		"✗ primary copy: checksum stored", "✗ primary LUKS2 header damaged")
	pick(t, m, hdr)
	press(t, m, "x")
	for i := 0; i < 20 && !strings.Contains(plain(m.View()), "▶ csum @"); i++ {
		press(t, m, "n")
	}
	wantAll(t, "hex at the primary's csum", plain(m.View()), "▶ csum @0x1c0+64", "✗ BAD checksum")
}
