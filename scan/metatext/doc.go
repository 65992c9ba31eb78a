// Package metatext parses the LVM2 metadata text: the VG description that
// LVM stores in the metadata areas of its PVs and in its backup and archive
// files (/etc/lvm/backup, /etc/lvm/archive).
//
// Parsing happens in two steps. [ParseTree] reads LVM's configuration
// syntax into a generic, ordered [Document] of [Node]s (sections and
// key/value pairs, file order and duplicates kept, line numbers kept).
// [Build] turns such a document into a [model.VG]. [Parse] does both.
//
// The parser follows LVM's lexical quirks (comments anywhere, optional
// commas, bare words, octal numbers with a leading zero, first duplicate
// wins on lookup...) and records every oddity it accepts as an anomaly
// instead of failing. It never panics, its recursion is bounded by
// [MaxDepth], and its running time is linear in the size of the input.
// Its memory is too: a document keeps 24 bytes per key or section
// (offsets into the text, which it re-reads for names and values), at
// most [MaxItems] of them, nothing per comment beyond [MaxComments] and
// nothing per array element; Build keeps at most [MaxLVs], [MaxPVs],
// [MaxSegments], [MaxArrayItems] and [MaxParams] of what it converts.
//
// The format is described in the project's format notes,
// metadata-text.md; section numbers in comments refer to it.
package metatext
