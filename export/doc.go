// Package export copies one logical volume to a raw image file, exact to
// the byte, with bounded memory, streaming SHA-256 (and optionally MD5),
// sparse output, and a provenance record.
//
// The engine is generic: it reads LV bytes through the Source interface,
// which describes the LV as runs of data, known zeros and missing bytes.
// PieceSource implements it for linear and striped LVs mapped onto PVs;
// other segment types (raid, thin) can implement Source themselves.
//
// Export never leaves a partially written file under the final name: it
// writes a temporary file beside the target, syncs it, and renames it into
// place only when everything succeeded. The package has no UI
// dependencies; progress is reported through a callback.
package export
