// Package cow exports old-style (copy-on-write) LVM snapshots: it reads
// the kernel's persistent exception store from the snapshot's COW LV
// (header, then metadata areas of (origin chunk, COW chunk) pairs) and
// presents the snapshot as its user sees it: the origin as it was when the
// snapshot was taken, plus the snapshot's own writes. Chunks listed in the
// exception table read from the COW LV, the others from the origin.
//
// Presentation follows LVM. In the metadata a snapshot is two LVs: the
// COW store (e.g. base_snap, a plain linear LV) and a hidden snapshotN LV
// whose "snapshot" segment names origin, cow_store and chunk_size. LVM
// lists the COW LV under the snapshot's name and does not list snapshotN.
// So this package registers a volume.Redirect: opening base_snap (with
// Resolver.Open or OpenLV) gives the snapshot view, the content of the
// snap-base_snap device (origin size). Opening snapshotN gives the same
// view (a "snapshot" segment opener). The raw COW store (exception table
// and copied chunks, the snap-base_snap-cow device) stays reachable with
// Resolver.OpenRaw(base_snap), and ReadStore decodes its table for
// display. The origin exports as it is now; only while a merge is in
// progress (the segment names a merging_store) does the origin read as
// the snapshot view, as the kernel shows it.
//
// A damaged store never yields a silently wrong image: every field of the
// header and every exception is checked (magic, valid flag, version, chunk
// size, chunk numbers within the COW LV and the origin, duplicates), the
// number of exceptions is bounded by the COW LV's size, and faults come
// back as a *StoreError naming the LV, the metadata area and the byte
// offset in the COW LV.
//
// The package also holds the generic pieces the cache package builds on:
// Overlay (a Source whose byte ranges are replaced by ranges of another
// Source), Window (a byte range of a Source), Zero, and SourceReader.
// It registers an opener for "zero" segments, which LVM uses as the
// virtual origin of sparse snapshots.
//
// The format is described in docs/format/segment-mapping.md, section 5.
package cow
