// Package thin exports thin logical volumes: it reads the kernel's thin
// pool metadata from a pool's metadata sub-LV (the _tmeta LV: superblock,
// device details tree and the two-level data mapping tree) and presents
// each thin LV as an export.Source over the pool's data sub-LV (_tdata).
//
// Everything read from the metadata is checked before it is used:
// checksums, node types, entry counts, key order, block numbers within the
// metadata device and data blocks within the data device. A damaged or
// cyclic b-tree yields a *MetadataError naming the block and what is wrong,
// never a hang or a wrong image.
//
// The package registers its opener for thin segments with volume.Register
// in init; PoolInfo describes a pool (superblock, devices, problems such as
// a transaction id mismatch) for the user interfaces.
//
// The format is described in docs/format/segment-mapping.md, section 6.
package thin
