package main

import (
	"bufio"
	"io"
	"strings"

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
