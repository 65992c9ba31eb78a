package history

import (
	"bytes"
	"regexp"
	"strconv"
)

// sectionStart matches the first two lines of a PV or LV section as LVM
// writes them on disk (`name {` then `id = "..."`), indentation allowed.
var sectionStart = regexp.MustCompile(`(?m)^[ \t]*([A-Za-z0-9._+-]{1,127}) \{\n[ \t]*id = "([^"\n]{0,64})"`)

// topKeys match the document-level keys that follow the contents line.
var (
	descKey = regexp.MustCompile(`(?m)^description = "((?:[^"\\\n]|\\.)*)"`)
	hostKey = regexp.MustCompile(`(?m)^creation_host = "((?:[^"\\\n]|\\.)*)"`)
	timeKey = regexp.MustCompile(`(?m)^creation_time = ([0-9]{1,19})`)
)

// recoverInfo reads what it can from the text of a fragment (or of a copy
// that does not parse): the names of the LV sections and the UUIDs of the
// PV sections whose beginning is visible, and the top-level description,
// creation host and time when the end of the copy survives.
func recoverInfo(f *Fragment, text []byte) {
	locs := sectionStart.FindAllSubmatchIndex(text, -1)
	for i, l := range locs {
		end := len(text)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		body := text[l[1]:end]
		name := string(text[l[2]:l[3]])
		id := string(text[l[4]:l[5]])
		switch {
		case bytes.Contains(body, []byte("\nsegment_count = ")):
			f.LVs = append(f.LVs, name)
		case bytes.Contains(body, []byte("\ndev_size = ")) || bytes.Contains(body, []byte("\npe_start = ")):
			f.PVs = append(f.PVs, id)
		}
	}
	m := bytes.Index(text, contentsLine)
	if m < 0 {
		return
	}
	tail := text[m:]
	if s := descKey.FindSubmatch(tail); s != nil {
		f.Description = unescape(s[1])
	}
	if s := hostKey.FindSubmatch(tail); s != nil {
		f.CreationHost = unescape(s[1])
	}
	if s := timeKey.FindSubmatch(tail); s != nil {
		f.CreationTime, _ = strconv.ParseInt(string(s[1]), 10, 64)
	}
}

var contentsLine = []byte(`contents = "Text Format Volume Group"`)

// unescape decodes the two escapes LVM writes in strings (\" and \\).
func unescape(b []byte) string {
	if bytes.IndexByte(b, '\\') < 0 {
		return string(b)
	}
	var out []byte
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+1 < len(b) && (b[i+1] == '"' || b[i+1] == '\\') {
			i++
		}
		out = append(out, b[i])
	}
	return string(out)
}
