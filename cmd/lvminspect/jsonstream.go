package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
)

// The LVs of a scan are written one at a time: a VG of 290,000 LVs makes
// a document of about 470 MB, which neither its values nor its text
// should have to fit in memory at once.

// jsonStream is an array of a document written one element at a time:
// each(i) computes element i when it is written (the "lvs" of a VG in the
// scan document, the locations of history --json).
type jsonStream struct {
	n     int
	each  func(i int) any
	token string // set by writeJSONStream
}

// lvStream is the "lvs" array of a VG in the scan document.
type lvStream = jsonStream

// MarshalJSON writes the placeholder writeJSONStream replaces.
func (s *jsonStream) MarshalJSON() ([]byte, error) {
	if s.token == "" {
		// Marshalled outside writeJSONStream: the whole array.
		out := make([]any, s.n)
		for i := range out {
			out[i] = s.each(i)
		}
		return json.Marshal(out)
	}
	return json.Marshal(s.token)
}

// writeJSONStream writes v as json.Encoder with SetIndent("", "  ") does,
// byte for byte, with the arrays of streams written element by element:
// v is marshalled with a placeholder string for each stream (a random
// token no disk can hold), and each placeholder is replaced by its array.
func writeJSONStream(w io.Writer, v any, streams []*lvStream) error {
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	prefix := "lvminspect-stream-" + hex.EncodeToString(nonce[:]) + "-"
	for i, s := range streams {
		s.token = prefix + strconv.Itoa(i)
	}
	defer func() {
		for _, s := range streams {
			s.token = ""
		}
	}()
	doc, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	doc = append(doc, '\n')
	re := regexp.MustCompile(`(?m)^( *)(.*)"` + regexp.QuoteMeta(prefix) + `([0-9]+)"`)
	for len(doc) > 0 {
		m := re.FindSubmatchIndex(doc)
		if m == nil {
			_, err := w.Write(doc)
			return err
		}
		// Everything up to the placeholder, its quotes left out.
		indent := string(doc[m[2]:m[3]])
		i, _ := strconv.Atoi(string(doc[m[6]:m[7]]))
		if _, err := w.Write(doc[:m[5]]); err != nil {
			return err
		}
		if i < 0 || i >= len(streams) {
			return fmt.Errorf("JSON stream %d unknown", i)
		}
		if err := writeArray(w, streams[i], indent); err != nil {
			return err
		}
		doc = doc[m[1]:]
	}
	return nil
}

// writeArray writes the elements of s as an indented array whose closing
// bracket is at indent.
func writeArray(w io.Writer, s *lvStream, indent string) error {
	if s.n == 0 {
		_, err := io.WriteString(w, "[]")
		return err
	}
	var b, el bytes.Buffer
	enc := json.NewEncoder(&el)
	b.WriteString("[\n")
	for i := 0; i < s.n; i++ {
		el.Reset()
		if err := enc.Encode(s.each(i)); err != nil {
			return err
		}
		b.WriteString(indent + "  ")
		if err := json.Indent(&b, bytes.TrimSuffix(el.Bytes(), []byte("\n")), indent+"  ", "  "); err != nil {
			return err
		}
		if i < s.n-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
		if b.Len() >= 64<<10 {
			if _, err := w.Write(b.Bytes()); err != nil {
				return err
			}
			b.Reset()
		}
	}
	b.WriteString(indent + "]")
	_, err := w.Write(b.Bytes())
	return err
}
