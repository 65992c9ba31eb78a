package thin

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/lvminspect/lvminspect/export"
)

// FuzzParseSuperblock decodes arbitrary superblocks; with fix set the
// checksum is made valid first so that the field checks are reached.
func FuzzParseSuperblock(f *testing.F) {
	tf := loadThin(f)
	f.Add(tf.tmeta[:BlockSize], false)
	f.Add(tf.tmeta[:BlockSize], true)
	f.Add([]byte{}, true)
	f.Fuzz(func(t *testing.T, b []byte, fix bool) {
		if fix && len(b) >= BlockSize {
			b = append([]byte(nil), b...)
			binary.LittleEndian.PutUint32(b, blockChecksum(b, saltSuperblock))
		}
		sb, err := ParseSuperblock(b)
		if err != nil {
			if _, ok := err.(*MetadataError); !ok {
				t.Fatalf("error %T: %v", err, err)
			}
			return
		}
		if sb.MetadataBlockSize != 8 || sb.DataBlockSize == 0 || sb.DataMappingRoot >= sb.MetadataNrBlocks ||
			sb.DeviceDetailsRoot >= sb.MetadataNrBlocks || sb.DataMappingRoot == 0 {
			t.Fatalf("accepted an invalid superblock: %+v", sb)
		}
	})
}

// FuzzParseNode decodes arbitrary b-tree nodes and reads every key and
// value of an accepted one.
func FuzzParseNode(f *testing.F) {
	tf := loadThin(f)
	for blk := 1; blk < 72; blk++ {
		b := tf.tmeta[blk*BlockSize : (blk+1)*BlockSize]
		f.Add(b, uint64(blk), uint64(512), uint8(blk%3), false)
	}
	f.Add([]byte{1, 2, 3}, uint64(1), uint64(2), uint8(0), true)
	f.Fuzz(func(t *testing.T, b []byte, blk, nrBlocks uint64, vsSel uint8, fix bool) {
		vs := []int{8, 16, 24, 0, 4095}[int(vsSel)%5]
		if fix && len(b) >= BlockSize {
			b = append([]byte(nil), b...)
			binary.LittleEndian.PutUint32(b, blockChecksum(b, saltNode))
		}
		n, err := parseNode(b, blk, nrBlocks, vs, "fuzz")
		if err != nil {
			if _, ok := err.(*MetadataError); !ok {
				t.Fatalf("error %T: %v", err, err)
			}
			return
		}
		if n.nr > n.max || (!n.leaf && n.nr == 0) {
			t.Fatalf("accepted nr %d max %d leaf %v", n.nr, n.max, n.leaf)
		}
		var prev uint64
		for i := 0; i < n.nr; i++ {
			k := n.key(i)
			if i > 0 && k <= prev {
				t.Fatalf("keys not ascending at %d", i)
			}
			prev = k
			_ = n.value(i)
			if !n.leaf && (n.child(i) == 0 || n.child(i) >= nrBlocks) {
				t.Fatalf("accepted child %d of %d blocks", n.child(i), nrBlocks)
			}
		}
	})
}

// applyEdits applies fuzz edits to a copy of meta: records of 5 bytes,
// block (u16, bit 15 = leave the checksum wrong), offset in the block
// (u16) and a byte to XOR. Touched blocks are resealed as superblock
// (block 0) or b-tree node.
func applyEdits(meta, edits []byte) []byte {
	out := append([]byte(nil), meta...)
	nr := len(out) / BlockSize
	reseal := map[int]bool{}
	for ; len(edits) >= 5; edits = edits[5:] {
		blk16 := binary.LittleEndian.Uint16(edits)
		blk := int(blk16&0x7FFF) % nr
		off := int(binary.LittleEndian.Uint16(edits[2:])) % BlockSize
		out[blk*BlockSize+off] ^= edits[4]
		if blk16&0x8000 == 0 {
			reseal[blk] = true
		} else {
			delete(reseal, blk)
		}
	}
	for blk := range reseal {
		b := out[blk*BlockSize : (blk+1)*BlockSize]
		salt := uint32(saltNode)
		if blk == 0 {
			salt = saltSuperblock
		}
		binary.LittleEndian.PutUint32(b, blockChecksum(b, salt))
	}
	return out
}

// editRecord encodes one edit for the seed corpus.
func editRecord(blk uint16, off uint16, x byte) []byte {
	b := binary.LittleEndian.AppendUint16(nil, blk)
	b = binary.LittleEndian.AppendUint16(b, off)
	return append(b, x)
}

// FuzzWalkMetadata damages the fixture's real pool metadata and walks all
// of it: superblock, device details, the top-level tree, every device's
// mapping tree (whole and by ranges), PoolInfo, and the thin LVs' runs.
// Nothing may panic, hang, or take long.
func FuzzWalkMetadata(f *testing.F) {
	tf := loadThin(f)
	// The base is the fixture's metadata with vol1's leaf split under an
	// internal node, so that edits reach internal nodes too.
	e := newEditor(f, tf.tmeta)
	split, l1, l2 := splitLeaf(f, e, 1, 40)
	base := e.b
	top, _, root1 := e.topEntry(1)
	_, _, root2 := e.topEntry(2)
	f.Add([]byte{})
	f.Add(editRecord(uint16(split), 32+8*252+8, byte(split^l2))) // internal node -> itself
	f.Add(editRecord(uint16(split), 32+8, 30))                   // internal key
	f.Add(editRecord(uint16(l1), 32+8*39, 0x7F))                 // leaf key beyond its range
	f.Add(editRecord(uint16(split), 32+8*252, byte(l1^root2)))   // a child shared with vol2's leaf
	f.Add(editRecord(uint16(root1), 200, 1))                     // a key of vol1's leaf
	f.Add(editRecord(uint16(root1), 32+8*252+8*3+3, 0x10))       // a data block of vol1
	f.Add(editRecord(uint16(top), 32+8*252+8, byte(top^root2)))  // device 2's root -> the top-level root
	f.Add(editRecord(uint16(root2), 4, 3))                       // node type
	f.Add(editRecord(uint16(root2), 16, 0xFF))                   // nr_entries
	f.Add(editRecord(0, 320, 0x01))                              // data_mapping_root
	f.Add(editRecord(0, 328, 0x02))                              // device_details_root
	f.Add(append(editRecord(0x8000|uint16(root1), 100, 1), editRecord(0, 44, 1)...))
	f.Fuzz(func(t *testing.T, edits []byte) {
		if len(edits) > 5*64 {
			return
		}
		meta := applyEdits(base, edits)
		start := time.Now()
		walkEverything(t, tf, meta)
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("walking damaged metadata took %v", d)
		}
	})
}

func walkEverything(t *testing.T, tf *thinFixture, meta []byte) {
	m, err := OpenMetadata(bytes.NewReader(meta), int64(len(meta)))
	if err != nil {
		return
	}
	_, _ = m.Devices()
	ids, _, _ := m.DeviceIDs()
	for _, id := range ids {
		mp, st, _, err := m.loadDevice(id, 1<<20)
		if err != nil {
			continue
		}
		var n uint64
		_ = mp.each(0, 1<<20, func(e Extent) error { n += e.Len; return nil })
		var tn uint64
		err = treeMap{m: m, id: id}.each(0, 1<<20, func(e Extent) error { tn += e.Len; return nil })
		if err == nil && (n != st.Mapped-st.Beyond || tn != n) {
			t.Fatalf("device %d: extent list holds %d blocks, tree %d, stats %+v", id, n, tn, st)
		}
	}
	r := tf.resolver(meta)
	_, _ = PoolInfo(r, "pool")
	for _, name := range []string{"vol1", "vol2", "vol1snap"} {
		src, err := r.Open(name)
		if err != nil {
			continue
		}
		runs, err := src.Runs(0, src.Size())
		if err != nil {
			continue
		}
		pos := int64(0)
		for _, run := range runs {
			if run.Off != pos || run.Len <= 0 || (run.Kind != export.RunData && run.Kind != export.RunZero && run.Kind != export.RunMissing) {
				t.Fatalf("%s: bad run %+v at %d", name, run, pos)
			}
			pos = run.End()
		}
		if pos != src.Size() {
			t.Fatalf("%s: runs end at %d of %d", name, pos, src.Size())
		}
	}
}
