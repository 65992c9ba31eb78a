package termsafe

import (
	"bytes"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestText(t *testing.T) {
	for in, want := range map[string]string{
		"plain name":             "plain name",
		"ünïcödé ✓ 漢字":           "ünïcödé ✓ 漢字",
		"\x1b]0;title\x07":       `\x1b]0;title\x07`,
		"a\x1b[31mred":           `a\x1b[31mred`,
		"csi\u009b31m":           `csi\u009b31m`,
		"cr\rlf\ntab\tdel\x7f":   `cr\rlf\ntab\tdel\x7f`,
		"bad \xff\xfe utf8":      `bad \xff\xfe utf8`,
		"gpj\u202eexe.txt":       `gpj\u202eexe.txt`,
		"\u2066iso\u2069 \u200f": `\u2066iso\u2069 \u200f`,
		"":                       "",
	} {
		if got := Text(in); got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
	}
	if got := Frame("\x1b[1mname\u202e\x1b[0m"); got != "\x1b[1mname\\u202e\x1b[0m" {
		t.Errorf("Frame kept a bidi override: %q", got)
	}
	if got := Lines("a\nb\x1b"); got != "a\nb\\x1b" {
		t.Errorf("Lines kept %q", got)
	}
}

func TestFrameKeepsOwnColours(t *testing.T) {
	styled := "\x1b[1;38;2;200;100;50mbold\x1b[0m plain\n\x1b[38:5:1mx\x1b[m"
	if got := Frame(styled); got != styled {
		t.Errorf("Frame changed a styled frame: %q", got)
	}
	for in, want := range map[string]string{
		"ok \x1b]0;t\x07 then":                   `ok \x1b]0;t\x07 then`,
		"\x1b[2J\x1b[H":                          `\x1b[2J\x1b[H`,
		"\x1b[31mred\x1b[0m\x1b[5n":              "\x1b[31mred\x1b[0m\\x1b[5n",
		"trailing \x1b[":                         `trailing \x1b[`,
		"\x1b[" + strings.Repeat("1;", 40) + "m": `\x1b[` + strings.Repeat("1;", 40) + "m",
	} {
		if got := Frame(in); got != want {
			t.Errorf("Frame(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWriter(t *testing.T) {
	var b bytes.Buffer
	n, err := Writer{W: &b}.Write([]byte("name\t\x1b[2J\n"))
	if n != 10 || err != nil || b.String() != "name\t\\x1b[2J\n" {
		t.Errorf("%d %v %q", n, err, b.String())
	}
}

// controls reports whether s holds a control character other than those
// allowed, or invalid UTF-8.
func controls(s, allowed string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || ((unicode.IsControl(r) || isBidi(r)) && !strings.ContainsRune(allowed, r)) {
			return true
		}
		i += n
	}
	return false
}

func FuzzEscape(f *testing.F) {
	f.Add("\x1b]0;t\x07\x1b[31mx\u009b\xff\n")
	f.Add("\x1b[1;2m\x1b[")
	f.Add("a\u202eb\u2066c")
	f.Fuzz(func(t *testing.T, s string) {
		if got := Text(s); controls(got, "") {
			t.Fatalf("Text(%q) = %q keeps a control character", s, got)
		}
		if got := Lines(s); controls(got, "\n") {
			t.Fatalf("Lines(%q) = %q", s, got)
		}
		// Frame: what is left besides newlines are whole SGR sequences.
		got := Frame(s)
		for i := 0; i < len(got); {
			if n := sgrLen(got[i:]); n > 0 {
				i += n
				continue
			}
			r, n := utf8.DecodeRuneInString(got[i:])
			if (r == utf8.RuneError && n == 1) || ((unicode.IsControl(r) || isBidi(r)) && r != '\n') {
				t.Fatalf("Frame(%q) = %q keeps %q at %d", s, got, r, i)
			}
			i += n
		}
		if !controls(s, "\n") && !strings.Contains(s, "\x1b") && Frame(s) != s {
			t.Fatalf("Frame changed clean text %q", s)
		}
	})
}
