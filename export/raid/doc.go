// Package raid exports LVs of the legacy mirror type and of every LVM RAID
// type: raid1, raid0 (and raid0_meta), raid10 (near layout), raid4, raid5
// (ls, la, rs, ra, n) and raid6 (zr, nr, nc, n_6, ls_6, la_6, rs_6, ra_6).
// With the same engine, OpenMD reads a Linux md array (mdadm) from its
// members: linear, raid0 (zones), raid1, raid4/5/6 (every md layout),
// raid10 (near, far and offset copies), docs/format/md-raid.md §6.
//
// Its init function registers openers for model.KindMirror and
// model.KindRAID with export/volume, so importing it (usually through
// export/segtypes) is enough for volume.Resolver to open such LVs.
//
// Every image (raid rimage, mirror leg) is opened through the resolver as
// its own export.Source. Where an image reports RunMissing, the segment's
// redundancy is used: another mirror leg or raid10 copy, or a rebuild from
// parity (one missing image for raid4/5, two for raid6). Only where the
// redundancy is exhausted are LV bytes reported as RunMissing, with a
// reason naming the images; bytes are never guessed.
//
// The on-disk structures read here are the dm-raid superblock at sector 0
// of each rmeta sub-LV (ParseSuperblock) and the mirror disk log
// (ParseMirrorLog), as described in docs/format/segment-mapping.md §3, §4.
package raid
