// Package termsafe keeps text that comes from a disk under examination
// from driving the terminal it is shown on.
//
// LVM2 metadata text is free to hold any byte in a quoted string (tags,
// descriptions, host names), as are GPT partition names and file names. A
// crafted disk could put escape sequences there that set the window title,
// clear the screen, move the cursor to overwrite a verdict, write to the
// clipboard (OSC 52) or ring the bell. Text prints them as visible escapes
// (\x1b, \u009b) instead; Frame does the same for a whole drawn screen,
// keeping only the colour sequences (SGR) the program draws itself.
package termsafe

import (
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text returns s with every control character (C0, DEL, C1, and line
// breaks and tabs too: the text is shown on one line), every bidirectional
// formatting character (U+202E and the like) and every invalid UTF-8 byte
// written as a visible escape. Other text is unchanged.
func Text(s string) string {
	return escape(s, "", false)
}

// Lines is Text for multi-line text: newlines stay, the rest is escaped.
func Lines(s string) string {
	return escape(s, "\n", false)
}

// escape writes every control character of s not in keep, and every
// invalid UTF-8 byte, as a visible escape; with sgr, SGR sequences stay.
func escape(s, keep string, sgr bool) string {
	if clean(s, keep, sgr) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		if n := sgrLen(s[i:]); sgr && n > 0 {
			b.WriteString(s[i : i+n])
			i += n
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case (unicode.IsControl(r) || isBidi(r)) && !strings.ContainsRune(keep, r):
			b.WriteString(controlName(r))
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// clean reports whether escape would leave s as it is.
func clean(s, keep string, sgr bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == 0x1b && sgr:
			n := sgrLen(s[i:])
			if n == 0 {
				return false
			}
			i += n - 1
		case c < 0x20 || c == 0x7f:
			if strings.IndexByte(keep, c) < 0 {
				return false
			}
		case c >= 0x80:
			// Multi-byte text needs the careful path only when it holds
			// a C1 control or invalid UTF-8.
			r, n := utf8.DecodeRuneInString(s[i:])
			if (r == utf8.RuneError && n == 1) || unicode.IsControl(r) || isBidi(r) {
				return false
			}
			i += n - 1
		}
	}
	return true
}

// isBidi reports whether r is a Unicode bidirectional formatting
// character: shown raw, a right-to-left override (U+202E) makes
// "gpj.exe" read as "exe.jpg" and reorders the rest of the line, so a name
// on a disk could make a verdict beside it read otherwise.
func isBidi(r rune) bool {
	switch {
	case r == 0x061c, r == 0x200e, r == 0x200f: // ALM, LRM, RLM
		return true
	case r >= 0x202a && r <= 0x202e: // LRE RLE PDF LRO RLO
		return true
	case r >= 0x2066 && r <= 0x2069: // LRI RLI FSI PDI
		return true
	}
	return false
}

func controlName(r rune) string {
	switch r {
	case '\n':
		return `\n`
	case '\r':
		return `\r`
	case '\t':
		return `\t`
	}
	if r < 0x80 {
		return fmt.Sprintf(`\x%02x`, r)
	}
	return fmt.Sprintf(`\u%04x`, r)
}

// Frame returns a drawn screen with every control character escaped as
// Lines does, except the newlines and the SGR sequences (ESC [ digits and
// semicolons m) that style it.
func Frame(s string) string {
	return escape(s, "\n", true)
}

// sgrLen is the length of the SGR sequence at the start of s, or 0.
func sgrLen(s string) int {
	if len(s) < 3 || s[0] != 0x1b || s[1] != '[' {
		return 0
	}
	for i := 2; i < len(s) && i < 64; i++ {
		c := s[i]
		switch {
		case c == 'm':
			return i + 1
		case c >= '0' && c <= '9', c == ';', c == ':':
		default:
			return 0
		}
	}
	return 0
}

// Writer escapes what is written to it as Lines does: for the plain-text
// output of the commands, which holds names and values read from disks.
// Each Write must hold whole characters (as fmt.Fprint* calls do).
type Writer struct {
	W io.Writer
}

func (w Writer) Write(p []byte) (int, error) {
	s := string(p)
	out := escape(s, "\n\t", false)
	if _, err := io.WriteString(w.W, out); err != nil {
		return 0, err
	}
	return len(p), nil
}
