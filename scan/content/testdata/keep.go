//go:build ignore

// keep writes to standard output the parts of an image that
// content.Identify reads, for TestIdentifyRealFiles: make.sh runs it on
// the images the real tools make, so that a 320 MiB file system is kept
// as the few KiB that name it.
//
// Usage: go run keep.go IMAGE [BYTES] | gzip -9n >FORMAT.VARIANT.pieces.gz
//
// With BYTES, only what is read of the first BYTES is kept (a LUKS
// header's key material is random and large, and not read for its
// label).
//
// The output ("pieces"): the 8 bytes "LVMIPCS1", the image size (uint64
// little-endian), then for each part read, merged and widened to 512-byte
// sectors, its offset and length (uint64 little-endian each) and its
// bytes. Everything else reads as zeros.
package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"sort"
	"strconv"

	"github.com/lvminspect/lvminspect/scan/content"
)

type span struct{ off, end int64 }

type recorder struct {
	f     *os.File
	spans []span
}

func (r *recorder) ReadAt(b []byte, off int64) (int, error) {
	n, err := r.f.ReadAt(b, off)
	if n > 0 {
		r.spans = append(r.spans, span{off, off + int64(n)})
	}
	return n, err
}

func main() {
	limit := int64(-1)
	if len(os.Args) == 3 {
		n, err := strconv.ParseInt(os.Args[2], 0, 64)
		if err != nil || n <= 0 {
			fmt.Fprintln(os.Stderr, "keep: bad BYTES:", os.Args[2])
			os.Exit(2)
		}
		limit = n
	} else if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run keep.go IMAGE [BYTES]")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	st, err := f.Stat()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	size := st.Size()
	keepEnd := size
	if limit > 0 {
		keepEnd = min(limit, size)
	}
	rec := &recorder{f: f}
	if _, ok := content.Identify(rec, size); !ok {
		fmt.Fprintf(os.Stderr, "%s: not identified\n", os.Args[1])
		os.Exit(1)
	}
	sort.Slice(rec.spans, func(i, j int) bool { return rec.spans[i].off < rec.spans[j].off })
	var merged []span
	for _, s := range rec.spans {
		s.off &^= 511
		s.end = min((s.end+511)&^511, keepEnd)
		if s.off >= s.end {
			continue
		}
		if k := len(merged) - 1; k >= 0 && s.off <= merged[k].end {
			merged[k].end = max(merged[k].end, s.end)
			continue
		}
		merged = append(merged, s)
	}
	w := bufio.NewWriter(os.Stdout)
	w.WriteString("LVMIPCS1")
	binary.Write(w, binary.LittleEndian, uint64(size))
	for _, s := range merged {
		b := make([]byte, s.end-s.off)
		if _, err := f.ReadAt(b, s.off); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		binary.Write(w, binary.LittleEndian, [2]uint64{uint64(s.off), uint64(len(b))})
		w.Write(b)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
