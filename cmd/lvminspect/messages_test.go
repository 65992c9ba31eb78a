package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/internal/fixture"
)

// TestExitStatuses: one scheme for every command (README, --help).
func TestExitStatuses(t *testing.T) {
	f := fixture.Load(t, "banana")
	dir := t.TempDir()
	imgs := writeImages(t, f, dir, false)
	empty := filepath.Join(dir, "empty.img")
	if err := os.WriteFile(empty, make([]byte, 1<<20), 0o444); err != nil {
		t.Fatal(err)
	}
	nosuch := filepath.Join(dir, "nosuch.img")
	out := filepath.Join(dir, "o.img")
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"scan", imgs[0]}, 0},
		{[]string{"scan", empty}, 1},
		{[]string{"scan", nosuch}, 2},
		{[]string{"scan"}, 2},
		{[]string{"scan", "--nosuchflag", imgs[0]}, 2},
		{[]string{"export", "banana/chocolate"}, 2},
		{[]string{"export", "chocolate", imgs[0]}, 2},
		{[]string{"export", "--seqno", "-1", "banana/chocolate", imgs[0]}, 2},
		{[]string{"export", "-o", out, "banana/nosuch", imgs[0]}, 1},
		{[]string{"export", "-o", out, "banana/chocolate", nosuch}, 2},
		{[]string{"export", "--seqno", "999", "-o", out, "banana/chocolate", imgs[0]}, 1},
		{[]string{"history", imgs[0]}, 0},
		{[]string{"history", empty}, 1},
		{[]string{"history"}, 2},
		{[]string{"diff", "--vg", "banana", "x", "6", imgs[0]}, 2},
		{[]string{"diff", "6", "6", imgs[0]}, 2},
		{[]string{"diff", "--vg", "banana", "999", "6", imgs[0]}, 1},
		{[]string{"pvs", imgs[0]}, 0},
		{[]string{"vgs", "--json", imgs[0]}, 0},
		{[]string{"lvs", "--units", "b", "-o", "lv_name,lv_size", imgs[0]}, 0},
		{[]string{"lvs", empty}, 1},
		{[]string{"vgs", nosuch}, 2},
		{[]string{"pvs"}, 2},
		{[]string{"lvs", "--units", "x", imgs[0]}, 2},
		{[]string{"lvs", "-o", "nosuchfield", imgs[0]}, 2},
		{[]string{"version"}, 2},
		{[]string{"scna", imgs[0]}, 2},
		{[]string{nosuch}, 2},
	} {
		_, _, err := run(t, "", c.args...)
		if got := exitCode(err); got != c.code {
			t.Errorf("%q: exit %d (%v), want %d", c.args, got, err, c.code)
		}
	}
}

// TestHelpDocumentsExitStatus: every command's --help has an "Exit
// status:" section.
func TestHelpDocumentsExitStatus(t *testing.T) {
	for _, c := range newRootCmd().Commands() {
		if c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		if !strings.Contains(c.Long, "Exit status:") {
			t.Errorf("%s --help says nothing of its exit status", c.Name())
		}
	}
	if !strings.Contains(newRootCmd().Long, "Exit status") {
		t.Error("lvminspect --help says nothing of the exit status")
	}
}

// TestOpenMessages: the path once, and what a character device is.
func TestOpenMessages(t *testing.T) {
	nosuch := filepath.Join(t.TempDir(), "nosuch.img")
	_, _, err := run(t, "", "scan", nosuch)
	if err == nil || strings.Count(err.Error(), nosuch) != 1 || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
	if _, serr := os.Stat("/dev/null"); serr == nil {
		_, _, err = run(t, "", "scan", "/dev/null")
		if exitCode(err) != 2 || !strings.Contains(err.Error(), "/dev/null: a character device that is not a disk") {
			t.Errorf("/dev/null: %v", err)
		}
	}
}

// TestUnknownCommand: the root takes PATHs, but a word that is no file
// and looks like a command is an unknown command, with a suggestion.
func TestUnknownCommand(t *testing.T) {
	_, _, err := run(t, "", "scna", "x.img")
	if err == nil || !strings.Contains(err.Error(), `unknown command "scna"`) || !strings.Contains(err.Error(), "'scan'") {
		t.Errorf("scna: %v", err)
	}
	_, _, err = run(t, "", "version")
	if err == nil || !strings.Contains(err.Error(), `unknown command "version"`) || !strings.Contains(err.Error(), "--version") {
		t.Errorf("version: %v", err)
	}
	// A file of that name is opened as a PATH (and is no PV).
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "version"), []byte("x"), 0o444); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	if err := unknownCommand(newRootCmd(), []string{"version"}); err != nil {
		t.Errorf("an existing file named version: %v", err)
	}
	out, _, err := run(t, "", "--version")
	if err != nil || !strings.HasPrefix(out, "lvminspect ") || strings.Contains(out, "devel") {
		t.Errorf("--version: %q %v", out, err)
	}
}

// TestNothingFoundHint: --carve is suggested only when nothing else
// explains the input, in plain words.
func TestNothingFoundHint(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.img")
	if err := os.WriteFile(empty, make([]byte, 1<<20), 0o444); err != nil {
		t.Fatal(err)
	}
	_, _, err := run(t, "", "scan", empty)
	msg := err.Error()
	if !strings.Contains(msg, "no PV label at its start or the start of any of its partitions; --carve searches every sector") || strings.Contains(msg, "at their starts") {
		t.Errorf("empty image: %v", err)
	}
	// A gzip file: scan says what it is; carving it would find nothing.
	gz := filepath.Join(fixture.Root(), "banana", "pv0.img.gz")
	out, _, err := run(t, "", "scan", gz)
	if err == nil || strings.Contains(err.Error(), "--carve") || !strings.Contains(out, "gzip") {
		t.Errorf("gzip input: %v\n%s", err, out)
	}
}

// TestExportProvenanceRecordsCommandAndInputs: the command line, a tool
// version other than "devel", and with --hash-inputs each input's sha256;
// and a refused export says "--allow-partial" once.
func TestExportProvenanceRecordsCommandAndInputs(t *testing.T) {
	f := fixture.Load(t, "banana")
	dir := t.TempDir()
	imgs := writeImages(t, f, dir, false)
	out := filepath.Join(dir, "c.img")
	stdout, _, err := run(t, "", append([]string{"export", "--hash-inputs", "--md5", "-o", out, "banana/chocolate"}, imgs...)...)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 2 || !strings.HasSuffix(lines[0], "  "+out) || !strings.HasSuffix(lines[1], "  "+out) || len(strings.Fields(lines[1])[0]) != 32 {
		t.Errorf("stdout %q: want a sha256sum line and an md5sum line", stdout)
	}
	var p struct {
		ToolVersion string   `json:"tool_version"`
		CommandLine []string `json:"command_line"`
		Inputs      []struct {
			Path, SHA256 string
		}
		MD5 string
	}
	b, _ := os.ReadFile(out + ".json")
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if p.ToolVersion == "" || strings.Contains(p.ToolVersion, "devel") || len(p.CommandLine) == 0 {
		t.Errorf("tool_version %q, command_line %q", p.ToolVersion, p.CommandLine)
	}
	if len(p.Inputs) != 1 || p.Inputs[0].SHA256 != fileSHA(t, imgs[0]) || p.MD5 != strings.Fields(lines[1])[0] {
		t.Errorf("inputs %+v md5 %s", p.Inputs, p.MD5)
	}
}

// TestPartialHintOnce: an LV with missing bytes is refused with one hint.
func TestPartialHintOnce(t *testing.T) {
	f := fixture.Load(t, "multipv")
	dir := t.TempDir()
	imgs := writeImages(t, f, dir, false)
	_, stderr, err := run(t, "", "export", "-o", filepath.Join(dir, "s.img"), "multipv/span", imgs[0], imgs[2])
	if exitCode(err) != 1 || strings.Count(err.Error()+stderr, "as zeros") != 1 || !strings.Contains(err.Error(), "--allow-partial") {
		t.Errorf("exit %d: %v %s", exitCode(err), err, stderr)
	}
}

// TestExecutePrintsHint: main's error line, then the hint on its own.
func TestExecutePrintsHint(t *testing.T) {
	cmd := newRootCmd()
	cmd.SetArgs([]string{"scan", "--nosuchflag"})
	cmd.SetOut(io.Discard)
	var errb bytes.Buffer
	if code := execute(cmd, &errb); code != 2 {
		t.Errorf("exit %d", code)
	}
	if got := errb.String(); got != "lvminspect: unknown flag: --nosuchflag\nRun 'lvminspect scan --help' for usage.\n" {
		t.Errorf("stderr %q", got)
	}
}

// TestExportProvenanceFailure: the image is written but its record is
// not (a directory is in the way): the hashes are printed, exit 3.
func TestExportProvenanceFailure(t *testing.T) {
	f := fixture.Load(t, "banana")
	dir := t.TempDir()
	imgs := writeImages(t, f, dir, false)
	out := filepath.Join(dir, "c.img")
	if err := os.Mkdir(out+".json", 0o755); err != nil {
		t.Fatal(err)
	}
	stdout, _, err := run(t, "", append([]string{"export", "--force", "-o", out, "banana/chocolate"}, imgs...)...)
	if exitCode(err) != 3 || !strings.Contains(err.Error(), "provenance record") || !strings.HasSuffix(stdout, "  "+out+"\n") {
		t.Errorf("exit %d (%v), stdout %q", exitCode(err), err, stdout)
	}
	if got := fileSHA(t, out); !strings.HasPrefix(stdout, got) {
		t.Errorf("image %s, printed %q", got, stdout)
	}
}
