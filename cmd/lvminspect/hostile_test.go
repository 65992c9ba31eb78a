package main

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/scan"
)

// hostilePV writes the banana PV with its committed metadata text changed
// so that the VG's creation host holds a window-title escape and a bell
// (checksums recomputed: the metadata is valid), and returns its path.
func hostilePV(t *testing.T) string {
	t.Helper()
	b := fixture.Load(t, "banana").Image(t, "pv0")
	res := scan.Scan([]*scan.Input{scan.NewInput("pv0", bytes.NewReader(b), int64(len(b)))}, scan.Options{})
	m := res.PVs[0].MDAs[0]
	c := m.Committed
	if c == nil || c.Wrapped {
		t.Fatal("no plain committed copy in the fixture")
	}
	text := b[c.Off : c.Off+int64(c.Size)]
	i := bytes.LastIndex(text, []byte(`creation_host = "fixtures"`)) // the one of the whole text
	if i < 0 {
		t.Fatal("no creation_host in the committed text")
	}
	copy(text[i+len(`creation_host = "`):], "\x1b]0;XY\x07Z") // as long as "fixtures"
	hdr := b[m.AbsOff : m.AbsOff+512]
	binary.LittleEndian.PutUint32(hdr[56:], scan.CRC(scan.InitialCRC, text)) // raw_locn[0].checksum
	binary.LittleEndian.PutUint32(hdr[0:], scan.CRC(scan.InitialCRC, hdr[4:]))
	p := filepath.Join(t.TempDir(), "hostile.img")
	if err := os.WriteFile(p, b, 0o444); err != nil {
		t.Fatal(err)
	}
	return p
}

// The text output of the commands shows what a disk holds, control
// characters as visible escapes: a crafted disk cannot retitle, clear or
// ring the examiner's terminal. JSON keeps the exact value.
func TestTextOutputEscapesDiskText(t *testing.T) {
	p := hostilePV(t)
	js, _, err := run(t, "", "scan", "--json", p)
	if err != nil || !strings.Contains(js, `\u001b]0;XY\u0007Z`) {
		t.Fatalf("the JSON does not carry the exact value (%v)", err)
	}
	for _, args := range [][]string{
		{"scan", p},
		{"history", p},
		{"diff", "--vg", "banana", "1", "6", p},
	} {
		out, errOut, err := run(t, "", args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if strings.ContainsAny(out+errOut, "\x1b\x07") {
			t.Errorf("%v prints a control character:\n%q", args, out)
		}
		if args[0] == "history" && !strings.Contains(out, `\x1b]0;XY\x07Z`) {
			t.Errorf("history does not show the host escaped:\n%s", out)
		}
	}
}
