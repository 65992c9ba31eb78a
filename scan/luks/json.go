package luks

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
)

// Bounds on the LUKS2 JSON metadata (luks.md §7): the area itself is at
// most 4 MiB − 4 KiB (table 4.2).
const (
	maxJSONDepth   = 32      // nesting of objects and arrays
	maxJSONItems   = 1 << 17 // values, members and elements, in all
	maxObjects     = 256     // keyslots, digests, tokens or segments kept
	maxListItems   = 256     // ids in a digest's or token's lists
	maxBinaryBytes = 4096    // a decoded salt or digest
	maxID          = 1 << 20 // largest keyslot, digest, segment or token id
)

// meta is a JSON area split into its top-level objects (luks.md §4.6).
type meta struct {
	keyslots, tokens, segments, digests []member
	config                              jConfig
	warnings                            []string
}

// member is one numbered member of keyslots, tokens, segments or digests.
type member struct {
	id  int
	raw json.RawMessage
}

type jConfig struct {
	JSONSize     u64s            `json:"json_size"`
	KeyslotsSize u64s            `json:"keyslots_size"`
	Flags        []string        `json:"flags"`
	Requirements json.RawMessage `json:"requirements"`
}

type jType struct {
	Type *string `json:"type"`
}

type jKeyslot struct {
	Type     string `json:"type"`
	KeySize  int    `json:"key_size"`
	Priority *int   `json:"priority"`
	AF       struct {
		Type    string `json:"type"`
		Stripes int    `json:"stripes"`
		Hash    string `json:"hash"`
	} `json:"af"`
	Area struct {
		Type       string `json:"type"`
		Offset     u64s   `json:"offset"`
		Size       u64s   `json:"size"`
		Encryption string `json:"encryption"`
		KeySize    int    `json:"key_size"`
	} `json:"area"`
	KDF struct {
		Type       string `json:"type"`
		Hash       string `json:"hash"`
		Iterations uint32 `json:"iterations"`
		Time       uint32 `json:"time"`
		Memory     uint32 `json:"memory"`
		CPUs       uint32 `json:"cpus"`
		Salt       b64    `json:"salt"`
	} `json:"kdf"`
}

type jDigest struct {
	Type       string   `json:"type"`
	Keyslots   []string `json:"keyslots"`
	Segments   []string `json:"segments"`
	Hash       string   `json:"hash"`
	Iterations uint32   `json:"iterations"`
	Salt       b64      `json:"salt"`
	Digest     b64      `json:"digest"`
}

type jSegment struct {
	Type       string          `json:"type"`
	Offset     u64s            `json:"offset"`
	Size       segSize         `json:"size"`
	IVTweak    u64s            `json:"iv_tweak"`
	Encryption string          `json:"encryption"`
	SectorSize int             `json:"sector_size"`
	Integrity  json.RawMessage `json:"integrity"`
	Flags      []string        `json:"flags"`
}

type jToken struct {
	Type     string   `json:"type"`
	Keyslots []string `json:"keyslots"`
}

// u64s is a string-uint64: a JSON string of decimal digits (luks.md
// §4.6). Values above 2⁶² are refused so that sums of two stay in int64.
type u64s struct {
	v   int64
	set bool
}

func (u *u64s) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a string of decimal digits, got %s", clip(string(b)))
	}
	v, err := parseU64(s)
	if err != nil {
		return err
	}
	u.v, u.set = v, true
	return nil
}

func parseU64(s string) (int64, error) {
	if s == "" || len(s) > 20 {
		return 0, fmt.Errorf("bad number %q", clip(s))
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("bad number %q", clip(s))
		}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v > 1<<62 {
		return 0, fmt.Errorf("number %s out of range", clip(s))
	}
	return int64(v), nil
}

// segSize is a segment size: "dynamic" or a string-uint64.
type segSize struct {
	u64s
	dynamic bool
}

func (z *segSize) UnmarshalJSON(b []byte) error {
	if string(b) == `"dynamic"` {
		z.dynamic, z.set = true, true
		return nil
	}
	return z.u64s.UnmarshalJSON(b)
}

// b64 is base64 binary data (RFC 4648 standard alphabet with padding).
type b64 []byte

func (x *b64) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a base64 string, got %s", clip(string(b)))
	}
	if base64.StdEncoding.DecodedLen(len(s)) > maxBinaryBytes {
		return fmt.Errorf("base64 value of %d characters is too long", len(s))
	}
	v, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return fmt.Errorf("bad base64 %q", clip(s))
	}
	*x = v
	return nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// checkJSONBounds refuses a text nested deeper than maxJSONDepth or with
// more than maxJSONItems separators and values, before it is decoded.
func checkJSONBounds(b []byte) error {
	depth, items := 0, 0
	inStr, esc := false, false
	for _, c := range b {
		if inStr {
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '{', '[':
			depth++
			items++
			if depth > maxJSONDepth {
				return fmt.Errorf("nested deeper than %d levels", maxJSONDepth)
			}
		case '}', ']':
			depth--
		case ',', ':':
			items++
		}
		if items > maxJSONItems {
			return fmt.Errorf("more than %d members and elements", maxJSONItems)
		}
	}
	return nil
}

var topLevel = []string{"keyslots", "tokens", "segments", "digests", "config"}

// parseMeta splits a JSON text into its five top-level objects, the
// numbered members of the first four ordered by id (luks.md §4.6).
func parseMeta(text []byte) (*meta, error) {
	if err := checkJSONBounds(text); err != nil {
		return nil, err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(text, &top); err != nil {
		return nil, jsonErr(err)
	}
	if top == nil {
		return nil, errors.New("the text is not a JSON object")
	}
	for _, name := range topLevel {
		raw, ok := top[name]
		if !ok {
			return nil, fmt.Errorf("no %q object", name)
		}
		if !isObject(raw) {
			return nil, fmt.Errorf("%q is not an object", name)
		}
	}
	m := &meta{}
	var err error
	for _, x := range []struct {
		name string
		dst  *[]member
	}{{"keyslots", &m.keyslots}, {"tokens", &m.tokens}, {"segments", &m.segments}, {"digests", &m.digests}} {
		if *x.dst, err = m.members(x.name, top[x.name]); err != nil {
			return nil, err
		}
	}
	if err := json.Unmarshal(top["config"], &m.config); err != nil {
		return nil, fmt.Errorf("config: %w", jsonErr(err))
	}
	if !m.config.JSONSize.set {
		return nil, errors.New("config: no json_size")
	}
	return m, nil
}

func isObject(raw json.RawMessage) bool {
	for _, c := range raw {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c == '{'
	}
	return false
}

func (m *meta) warn(format string, a ...any) {
	if len(m.warnings) < maxMessages {
		m.warnings = append(m.warnings, fmt.Sprintf(format, a...))
	}
}

// members returns the numbered members of one top-level object, ordered
// by id; members whose name is not an id are reported and skipped.
func (m *meta) members(name string, raw json.RawMessage) ([]member, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("%s: %w", name, jsonErr(err))
	}
	var out []member
	for k, v := range obj {
		id, ok := parseID(k)
		if !ok {
			m.warn("%s: member %q is not a number, ignored", name, clip(k))
			continue
		}
		out = append(out, member{id: id, raw: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	if len(out) > maxObjects {
		m.warn("%s: %d members, only the first %d are read", name, len(out), maxObjects)
		out = out[:maxObjects]
	}
	return out, nil
}

// parseID reads an id: an unsigned decimal number without leading zeros.
func parseID(s string) (int, bool) {
	if s == "" || len(s) > 7 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n <= maxID
}

// parseIDs reads a list of ids given as strings.
func parseIDs(list []string) ([]int, error) {
	if len(list) > maxListItems {
		return nil, fmt.Errorf("%d ids, more than %d", len(list), maxListItems)
	}
	out := make([]int, 0, len(list))
	for _, s := range list {
		id, ok := parseID(s)
		if !ok {
			return nil, fmt.Errorf("id %q is not a number", clip(s))
		}
		out = append(out, id)
	}
	return out, nil
}

// memberType is a member's "type", and whether it has one.
func memberType(raw json.RawMessage) (string, bool) {
	var t jType
	if json.Unmarshal(raw, &t) != nil || t.Type == nil {
		return "", false
	}
	return *t.Type, true
}

// jsonErr shortens a decoding error to what an examiner needs.
func jsonErr(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("JSON syntax error at byte %d: %v", se.Offset, err)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		f := te.Field
		if f == "" {
			f = "value"
		}
		return fmt.Errorf("%s: JSON %s where %s was expected", f, te.Value, te.Type)
	}
	return err
}

// requirements reads config.requirements: an array of strings (the
// specification) or an object with an array "mandatory" (cryptsetup
// 2.x); luks.md §4.11. ok is false when it has neither form.
func (c *jConfig) requirements() (req []string, ok bool) {
	raw := c.Requirements
	if len(raw) == 0 || string(raw) == "null" {
		return nil, true
	}
	if json.Unmarshal(raw, &req) == nil {
		return req, true
	}
	var obj struct {
		Mandatory []string `json:"mandatory"`
	}
	if json.Unmarshal(raw, &obj) == nil && isObject(raw) {
		return obj.Mandatory, true
	}
	return nil, false
}
