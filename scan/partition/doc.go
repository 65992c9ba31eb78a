// Package partition reads MBR (DOS) and GPT partition tables from a
// whole-disk image, read-only, so that each partition can be probed for an
// LVM2 physical volume.
//
// Read returns the partitions (MBR primaries, the extended container and
// the logical partitions of its EBR chain, or the used GPT entries), the
// anomalies found (Table.Problems) and every decoded structure with the
// absolute byte range and decoded value of each field (Table.Fields), with
// the stored and computed values of the GPT CRC32 fields.
//
// The reader is strict about what counts as an MBR: the 0x55AA signature,
// status bytes of 0x00 or 0x80, non-empty entries with a non-zero start and
// size and no overlap, and no filesystem boot sector (FAT, exFAT, NTFS) in
// sector 0. Anything else gives ErrNoTable, so that an LVM2 label or a
// filesystem at offset 0 is not taken for a partition table. GPT is tried
// with 512- and 4096-byte logical sectors; a damaged primary header or
// entry array is replaced by the backup at the end of the disk. Sizes read
// from the disk are bounded before any allocation (at most 1 MiB of GPT
// entries, at most 256 EBRs), and damaged input yields partial results and
// an error wrapping ErrDamaged rather than a panic.
//
// Why not github.com/diskfs/go-diskfs (v1.9.4): its MBR reader returns only
// the four primary entries and never follows the EBR chain, so a PV in a
// logical partition (the mbr-disk fixture) could not be found, and neither
// reader exposes field byte ranges or the stored and computed CRCs needed
// for the annotated hex view. It also wants a backend.File (with Seek and
// Close) rather than an io.ReaderAt, allocates the GPT entry array from the
// unchecked entry count times entry size, and discards the whole table when
// an entry-array CRC is bad, where a forensic tool needs the partial result.
package partition
