// Package history recovers the metadata history of LVM2 volume groups:
// every metadata text copy still present in the circular buffers of the
// metadata areas (metadata-area.md §4-§8), grouped into generations, the
// differences between two generations, and read-only "time travel": the
// VG as an older generation described it, with a check of whether later
// generations gave an old LV's extents to another LV.
//
// [Scan] walks every metadata area of every PV of a [scan.Result] (mda1 and
// mda2, ignored areas, areas whose slots were zeroed, areas with a damaged
// header) and, unless told not to, searches inputs and partitions without
// a PV label for metadata-area headers. Each place where a copy was found
// is a [Copy]; partly overwritten copies are kept as fragments. Copies
// with the same VG UUID, seqno and checksum form one [Generation].
//
// [OpenGeneration] assembles a [scan.VG] from one generation, so that
// showing and exporting work on the past exactly as on the present.
// [ReusedExtents] tells which extents of an LV of an old generation later
// generations gave to other LVs. [Diff] compares two generations.
//
// Everything is read-only and bounded: an area is walked through a fixed
// window, a copy is at most scan.MaxTextSize bytes, and a walk records at
// most scan.DefaultMaxRingRecords copies and fragments.
package history
