package cache

import "encoding/binary"

// buildMeta makes a small dm-cache metadata device: superblock (block 0),
// mapping array root leaf (1) and array block (2), dirty bitset root leaf
// (3) and array block (4). maps[c] = origin block of cache block c (or -1
// for unmapped); dirty lists dirty cache blocks.
func buildMeta(version uint32, blockSectors uint32, maps []int64, dirty []int) []byte {
	le := binary.LittleEndian
	b := make([]byte, 5*BlockSize)
	blk := func(i int) []byte { return b[i*BlockSize : (i+1)*BlockSize] }
	sb := blk(0)
	le.PutUint32(sb[4:], FlagCleanShutdown)
	le.PutUint64(sb[32:], Magic)
	le.PutUint32(sb[40:], version)
	copy(sb[44:], "smq")
	le.PutUint64(sb[192:], 1)
	le.PutUint32(sb[232:], blockSectors)
	le.PutUint32(sb[236:], 8)
	le.PutUint32(sb[240:], uint32(len(maps)))
	le.PutUint64(sb[284:], 3)
	leaf := func(i int, child uint64) {
		n := blk(i)
		le.PutUint32(n[4:], flagLeaf)
		le.PutUint64(n[8:], uint64(i))
		le.PutUint32(n[16:], 1)
		le.PutUint32(n[20:], maxNodeEntries(8))
		le.PutUint32(n[24:], 8)
		le.PutUint64(n[32+8*maxNodeEntries(8):], child)
	}
	array := func(i int, vals []uint64) {
		a := blk(i)
		le.PutUint32(a[4:], arrayEntries(8))
		le.PutUint32(a[8:], uint32(len(vals)))
		le.PutUint32(a[12:], 8)
		le.PutUint64(a[16:], uint64(i))
		for k, v := range vals {
			le.PutUint64(a[24+8*k:], v)
		}
	}
	leaf(1, 2)
	leaf(3, 4)
	var mv []uint64
	isDirty := map[int]bool{}
	for _, c := range dirty {
		isDirty[c] = true
	}
	for c, ob := range maps {
		if ob < 0 {
			mv = append(mv, 0)
			continue
		}
		v := uint64(ob)<<16 | MappingValid
		if version == 1 && isDirty[c] {
			v |= MappingDirty
		}
		mv = append(mv, v)
	}
	array(2, mv)
	words := make([]uint64, (len(maps)+63)/64)
	for _, c := range dirty {
		words[c/64] |= 1 << (c % 64)
	}
	array(4, words)
	seal(b)
	return b
}

// seal recomputes the checksum of every block: block 0 as a superblock,
// the others as b-tree nodes or array blocks by their look.
func seal(b []byte) {
	for i := 0; (i+1)*BlockSize <= len(b); i++ {
		blk := b[i*BlockSize : (i+1)*BlockSize]
		salt := uint32(saltArray)
		switch {
		case i == 0:
			salt = saltSuperblock
		case binary.LittleEndian.Uint32(blk[4:]) <= flagLeaf && binary.LittleEndian.Uint64(blk[8:]) == uint64(i):
			salt = saltNode
		}
		binary.LittleEndian.PutUint32(blk, checksum(blk, salt))
	}
}

// buildWritecache makes a writecache layout with block size w and the
// given entries (original sector, seq; seq all ones = free).
func buildWritecache(w uint32, seq uint64, entries [][2]uint64) []byte {
	le := binary.LittleEndian
	n := uint64(len(entries))
	data := (64 + 16*n + uint64(w) - 1) / uint64(w) * uint64(w)
	b := make([]byte, data+n*uint64(w))
	le.PutUint32(b[0:], WritecacheMagic)
	le.PutUint32(b[4:], 1)
	le.PutUint32(b[8:], w)
	le.PutUint64(b[16:], n)
	le.PutUint64(b[24:], seq)
	for i, e := range entries {
		le.PutUint64(b[64+16*i:], e[0])
		le.PutUint64(b[64+16*i+8:], e[1])
	}
	return b
}
