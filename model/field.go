package model

// Field is one named field of an on-disk structure, with its absolute byte
// range in the input and its decoded value. The hex view and the JSON
// output are built from these.
type Field struct {
	Name  string `json:"name"`
	Off   int64  `json:"offset"` // absolute byte offset in the input
	Len   int    `json:"length"`
	Value string `json:"value"` // decoded, human-readable
	// Check is set on fields that hold a checksum or a value that was
	// verified; nil otherwise.
	Check *Check `json:"check,omitempty"`
}

// Check is the result of verifying a stored value against the one computed
// from the data.
type Check struct {
	OK       bool   `json:"ok"`
	Stored   string `json:"stored"`
	Computed string `json:"computed"`
}

// Structure is a decoded on-disk structure: a name, its absolute range and
// its fields in byte order.
type Structure struct {
	Name   string  `json:"name"`
	Off    int64   `json:"offset"`
	Len    int     `json:"length"`
	Fields []Field `json:"fields"`
}
