package vmdk

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// descriptor is a decoded disk descriptor: a text of "key = value"
// lines and extent lines ("RW 8192 SPARSE "disk.vmdk"", "RW 8192 FLAT
// "disk-flat.vmdk" 0", "RW 2048 ZERO"), comments starting with '#'.
type descriptor struct {
	file string // the file holding it
	off  int64  // its byte offset in that file
	text []byte // up to the first NUL
	// synthetic is true for a sparse extent without an embedded
	// descriptor: one extent, the file itself.
	synthetic bool

	entries      []entry
	version      int
	cid          uint32
	hasCID       bool
	parentCID    uint32
	hasParentCID bool
	createType   string
	parentHint   string
	extents      []*extent
}

// entry is one line of the descriptor that says something.
type entry struct {
	key, value string // an extent line: key "", value the line
	off, n     int    // the line's byte range in text
	line       int    // 1-based
	ext        int    // the extent's index for an extent line, -1 otherwise
}

// extent is one extent of the disk: as the descriptor describes it, and
// what was opened for it.
type extent struct {
	Access  string // RW, RDONLY, NOACCESS
	Sectors int64
	Type    string // SPARSE, FLAT, ZERO (upper case)
	File    string // as the descriptor names it
	Offset  int64  // FLAT: sector of the file where the extent starts
	line    int

	start int64   // byte offset in the virtual disk
	size  int64   // bytes
	f     *file   // FLAT and SPARSE: the file
	sp    *sparse // SPARSE: the sparse extent
	bad   string  // why the extent cannot be read at all
}

func containsFold(b []byte, lower string) bool {
	return bytes.Contains(bytes.ToLower(b), []byte(lower))
}

// parseDescriptor decodes the descriptor text found at byte off of file.
// Lines it does not understand are returned as problems; a text that is
// not a descriptor (binary, or no extent) is an error.
func parseDescriptor(text []byte, file string, off int64) (*descriptor, []error, error) {
	if i := bytes.IndexByte(text, 0); i >= 0 {
		text = text[:i]
	}
	d := &descriptor{file: file, off: off, text: text, parentCID: cidNone}
	if !utf8.Valid(text) {
		return nil, nil, formatErr("%s: descriptor at byte %d: not UTF-8 text", file, off)
	}
	for i, c := range text {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return nil, nil, formatErr("%s: descriptor at byte %d: control byte %#02x at byte %d: not text", file, off, c, off+int64(i))
		}
	}
	var problems []error
	bad := func(line int, format string, a ...any) {
		if len(problems) < maxProblems {
			problems = append(problems, formatErr("%s: descriptor line %d: %s", file, line, fmt.Sprintf(format, a...)))
		}
	}
	hasVersion := false
	at := 0
	for line := 1; at < len(text); line++ {
		end := bytes.IndexByte(text[at:], '\n')
		if end < 0 {
			end = len(text)
		} else {
			end += at
		}
		raw := string(text[at:end])
		lineOff := at
		at = end + 1
		s := strings.TrimSpace(raw)
		if s == "" || s[0] == '#' {
			continue
		}
		// The byte range of the line without its surrounding space.
		lead := len(raw) - len(strings.TrimLeft(raw, " \t\r"))
		lineOff += lead
		lineLen := len(strings.TrimRight(raw[lead:], " \t\r"))
		if tok, _, _ := strings.Cut(s, " "); isAccess(tok) {
			x, err := parseExtent(s)
			if err != nil {
				return nil, nil, formatErr("%s: descriptor line %d: %q: %v", file, line, s, err)
			}
			if len(d.extents) >= maxExtents {
				return nil, nil, formatErr("%s: descriptor line %d: more than %d extents", file, line, maxExtents)
			}
			x.line = line
			d.entries = append(d.entries, entry{value: s, off: lineOff, n: lineLen, line: line, ext: len(d.extents)})
			d.extents = append(d.extents, x)
			continue
		}
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			bad(line, "%q: neither an extent nor key=value", s)
			continue
		}
		k = strings.TrimSpace(k)
		v = strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		d.entries = append(d.entries, entry{key: k, value: v, off: lineOff, n: lineLen, line: line, ext: -1})
		switch strings.ToLower(k) {
		case "version":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 3 {
				bad(line, "version %q (1, 2 or 3 expected)", v)
			}
			d.version = n
			hasVersion = true
		case "cid":
			c, err := strconv.ParseUint(v, 16, 32)
			if err != nil {
				bad(line, "CID %q: not 8 hexadecimal digits", v)
				continue
			}
			d.cid, d.hasCID = uint32(c), true
		case "parentcid":
			c, err := strconv.ParseUint(v, 16, 32)
			if err != nil {
				bad(line, "parentCID %q: not 8 hexadecimal digits", v)
				continue
			}
			d.parentCID, d.hasParentCID = uint32(c), true
		case "createtype":
			d.createType = v
		case "parentfilenamehint":
			d.parentHint = v
		}
	}
	if len(d.extents) == 0 {
		return nil, nil, formatErr("%s: descriptor at byte %d: no extent line", file, off)
	}
	if !hasVersion && d.createType == "" {
		return nil, nil, formatErr("%s: descriptor at byte %d: neither version= nor createType=", file, off)
	}
	return d, problems, nil
}

func isAccess(s string) bool {
	switch strings.ToUpper(s) {
	case "RW", "RDONLY", "NOACCESS":
		return true
	}
	return false
}

// parseExtent decodes an extent line: access, size in sectors, type,
// then for all types but ZERO the file name in quotes and, for FLAT,
// the offset in sectors (0 if absent).
func parseExtent(s string) (*extent, error) {
	x := &extent{}
	next := func() string {
		s = strings.TrimLeft(s, " \t")
		i := strings.IndexAny(s, " \t")
		if i < 0 {
			i = len(s)
		}
		t := s[:i]
		s = s[i:]
		return t
	}
	x.Access = strings.ToUpper(next())
	n, err := strconv.ParseInt(next(), 10, 64)
	if err != nil || n < 0 || n > maxSectors {
		return nil, fmt.Errorf("size in sectors not a number between 0 and %d", int64(maxSectors))
	}
	x.Sectors = n
	x.Type = strings.ToUpper(next())
	if x.Type == "" {
		return nil, fmt.Errorf("no extent type")
	}
	s = strings.TrimLeft(s, " \t")
	if s == "" {
		return x, nil
	}
	if s[0] == '"' {
		end := strings.IndexByte(s[1:], '"')
		if end < 0 {
			return nil, fmt.Errorf("file name without its closing quote")
		}
		x.File = s[1 : 1+end]
		s = s[2+end:]
	} else {
		x.File = next()
	}
	if t := next(); t != "" {
		o, err := strconv.ParseInt(t, 10, 64)
		if err != nil || o < 0 || o > maxSectors {
			return nil, fmt.Errorf("offset %q not a number between 0 and %d", t, int64(maxSectors))
		}
		x.Offset = o
	}
	return x, nil
}

// unsupportedCreateType says why a createType is refused ("" if it is
// not).
func unsupportedCreateType(t string) string {
	l := strings.ToLower(t)
	switch {
	case strings.HasPrefix(l, "vmfs"):
		return "an ESX disk on VMFS"
	case l == "sesparse":
		return "an ESX space-efficient sparse snapshot"
	case l == "vsansparse":
		return "a vSAN sparse snapshot"
	}
	return ""
}

// extentTypeSupported says whether an extent type is read, and if not
// why.
func extentTypeSupported(t string) (bool, string) {
	switch t {
	case "SPARSE", "FLAT", "ZERO":
		return true, ""
	case "VMFS":
		return false, "a flat extent on VMFS (ESX)"
	case "VMFSSPARSE":
		return false, "an ESX sparse extent (COWD)"
	case "VMFSRDM", "VMFSRAW":
		return false, "an ESX raw device mapping"
	case "SESPARSE":
		return false, "an ESX space-efficient sparse extent"
	case "VSANSPARSE":
		return false, "a vSAN sparse extent"
	}
	return false, "not a known extent type"
}
