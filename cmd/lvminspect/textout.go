package main

import (
	"bufio"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/lvminspect/lvminspect/internal/termsafe"
)

// lineWriter is the plain-text output of a command (scan's tree, the
// report tables, export's messages): what it prints quotes names and
// values read from disks, which may hold any byte. Each Write is one line
// the program composes (as one fmt.Fprint* call), possibly after blank
// lines: the newlines it starts and ends with stay, every other control
// character, a newline inside the line included, is written as a visible
// escape (termsafe.Text), so a tag or name holding "\n├─ LV …" cannot
// forge a line of the tree, and an escape sequence cannot drive the
// terminal. Output is buffered: Flush writes it.
type lineWriter struct {
	b *bufio.Writer
}

func newLineWriter(w io.Writer) *lineWriter {
	return &lineWriter{b: bufio.NewWriterSize(w, 64<<10)}
}

func (l *lineWriter) Write(p []byte) (int, error) {
	s := string(p)
	body := strings.TrimLeft(s, "\n")
	lead := len(s) - len(body)
	nl := strings.HasSuffix(body, "\n")
	body = strings.TrimSuffix(body, "\n")
	l.b.WriteString(s[:lead])
	_, err := l.b.WriteString(termsafe.Text(body))
	if nl && err == nil {
		err = l.b.WriteByte('\n')
	}
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush writes what is buffered.
func (l *lineWriter) Flush() error { return l.b.Flush() }

// runeWriter passes to w only whole UTF-8 characters: a writer that
// buffers (history's text) may cut a character between two Writes, and
// termsafe.Writer would show each half as an invalid byte. Flush writes
// what is held back.
type runeWriter struct {
	w    io.Writer
	tail []byte
}

func (r *runeWriter) Write(p []byte) (int, error) {
	b := append(r.tail, p...)
	cut := len(b)
	// Hold back an incomplete character at the end (at most 3 bytes).
	for i := len(b) - 1; i >= 0 && i >= len(b)-3; i-- {
		if !utf8.RuneStart(b[i]) {
			continue
		}
		if !utf8.FullRune(b[i:]) {
			cut = i
		}
		break
	}
	r.tail = append(r.tail[:0:0], b[cut:]...)
	if cut > 0 {
		if _, err := r.w.Write(b[:cut]); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Flush writes a held-back incomplete character (an invalid one, then).
func (r *runeWriter) Flush() error {
	if len(r.tail) == 0 {
		return nil
	}
	_, err := r.w.Write(r.tail)
	r.tail = nil
	return err
}
