// Package cache exports LVs cached by dm-cache (a "cache" segment over a
// cache pool or a cachevol) and by dm-writecache (a "writecache" segment
// over a cachevol).
//
// dm-cache: the cache metadata (cache pool's _cmeta sub-LV, or the
// cachevol from metadata_start) holds a superblock and persistent arrays:
// the mapping array (cache block -> origin block, valid and dirty flags)
// and, in metadata format 2, a dirty bitset. The cached LV is the origin
// (_corig) with the cache data blocks of every valid mapping copied over
// the origin blocks they cache, as the spec prescribes: in writeback mode
// dirty blocks exist only in the cache; in writethrough mode the overlay
// is harmless. Passthrough mode reads the origin only. Metadata that
// cannot be trusted (a checksum, magic or block number mismatch, the
// needs_check flag, unknown incompatible features, any structural fault
// of the arrays) refuses the export with a *MetadataError naming the block
// and field; the origin sub-LV stays exportable on its own.
//
// dm-writecache: the cachevol holds a 64-byte superblock, one 16-byte
// entry per cache block (original sector, sequence number) and the
// blocks. The LV is its origin (_wcorig) with every committed entry
// (sequence number below the superblock's) applied, the newest entry per
// origin block winning: these are the blocks not yet written back.
//
// Both register their openers with volume.Register in init; Info and
// WritecacheInfo describe a cache for the user interfaces.
//
// The formats are described in docs/format/segment-mapping.md, sections 7
// and 8.
package cache
