package cache

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/lvminspect/lvminspect/export"
)

const (
	cmeta   = "cpool_cpool_cmeta"
	cdata   = "cpool_cpool_cdata"
	cvol    = "wfast_cvol"
	mapRoot = 15 // the fixture's mapping array root (a leaf)
	mapArr  = 13 // its only array block
)

// metaBlock returns a copy of block b of the fixture's cmeta.
func metaBlock(t *testing.T, b uint64) []byte {
	t.Helper()
	f, vg := scanCache(t, nil)
	img, off := imageOffset(t, vg, cmeta, int64(b)*BlockSize)
	return append([]byte(nil), f.Image(t, img)[off:off+BlockSize]...)
}

// blockPatch rewrites block b of cmeta with edit applied, re-sealing its
// checksum with salt unless salt is 0.
func blockPatch(t *testing.T, b uint64, salt uint32, edit func([]byte)) patch {
	t.Helper()
	buf := metaBlock(t, b)
	edit(buf)
	if salt != 0 {
		binary.LittleEndian.PutUint32(buf, checksum(buf, salt))
	}
	_, vg := scanCache(t, nil)
	img, off := imageOffset(t, vg, cmeta, int64(b)*BlockSize)
	return patch{Image: img, Off: off, B: buf}
}

func lvPatch(t *testing.T, lv string, at int64, b []byte) patch {
	t.Helper()
	_, vg := scanCache(t, nil)
	img, off := imageOffset(t, vg, lv, at)
	return patch{Image: img, Off: off, B: b}
}

func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

// TestFixtureCacheMetadata checks the decoded dm-cache metadata against
// the scenario: 64 KiB blocks, 64 cache blocks caching origin blocks
// 48-111 (the bytes written last), writethrough, no dirty block.
func TestFixtureCacheMetadata(t *testing.T) {
	_, vg := scanCache(t, nil)
	c, err := OpenCache(resolver(vg), vg.Meta.LV("data"), 0)
	if err != nil {
		t.Fatal(err)
	}
	sb := c.Metadata.Superblock
	if sb.Version != 2 || sb.PolicyName != "smq" || sb.DataBlockSize != 128 || sb.CacheBlocks != 64 || !sb.CleanShutdown() || sb.NeedsCheck() {
		t.Errorf("superblock %+v", sb)
	}
	if c.Mode != ModeWritethrough || c.CacheVol || c.MetadataLV != cmeta || c.DataLV != cdata || c.Metadata.Dirty != 0 {
		t.Errorf("cache %+v", c)
	}
	if len(c.Metadata.Mappings) != 64 || c.Applied != 64 {
		t.Fatalf("%d mappings, %d applied", len(c.Metadata.Mappings), c.Applied)
	}
	for i, m := range c.Metadata.Mappings {
		if m.Origin != uint64(48+i) || m.Cache != uint64(i) || m.Dirty {
			t.Errorf("mapping %d: %+v", i, m)
		}
	}
}

// TestFixtureCacheOverlay shows that valid cache blocks are read from the
// cache data: a marker written into cache block 0 appears at origin
// block 48 of data (writethrough and writeback), but not in passthrough
// mode, and not in the origin sub-LV.
func TestFixtureCacheOverlay(t *testing.T) {
	marker := []byte("MARKER written into cache block 0")
	for _, mode := range []string{ModeWritethrough, ModeWriteback, ModePassthrough} {
		t.Run(mode, func(t *testing.T) {
			f, vg := scanCache(t, nil, lvPatch(t, cdata, 0, marker))
			for _, lv := range vg.Meta.LVs {
				for _, s := range lv.Segments {
					if s.CachePool != nil {
						s.CachePool.CacheMode = mode
					}
				}
			}
			r := resolver(vg)
			src, err := r.Open("data")
			if err != nil {
				t.Fatal(err)
			}
			b := make([]byte, len(marker))
			if _, err := src.ReadAt(b, 48<<16); err != nil {
				t.Fatal(err)
			}
			if got := string(b) == string(marker); got != (mode != ModePassthrough) {
				t.Errorf("data at origin block 48 reads %q", b)
			}
			if mode == ModePassthrough {
				if got, _ := hashSource(t, src); got != manifestLV(t, f, "data_corig").SHA256 {
					t.Errorf("passthrough view differs from the origin")
				}
			}
		})
	}
}

// TestFixtureWritecache checks the decoded writecache: 4 KiB blocks, 1020
// entries, 256 committed ones for origin sectors 2048-4095 (the second
// MiB written), the others free.
func TestFixtureWritecache(t *testing.T) {
	_, vg := scanCache(t, nil)
	w, err := OpenWritecache(resolver(vg), vg.Meta.LV("wdata"), 0)
	if err != nil {
		t.Fatal(err)
	}
	md := w.Metadata
	if md.Superblock.BlockSize != 4096 || md.Superblock.NBlocks != 1020 || md.DataOffset != 16384 || md.Free != 764 || md.Uncommitted != 0 || md.Superseded != 0 {
		t.Errorf("writecache %+v", md)
	}
	if len(md.Entries) != 256 {
		t.Fatalf("%d entries", len(md.Entries))
	}
	for i, e := range md.Entries {
		if e.Sector != uint64(2048+8*i) {
			t.Errorf("entry %d: %+v", i, e)
		}
	}
}

// TestFixtureWritecacheSequence: an entry committed later for the same
// origin block wins; entries at or after the superblock's seq_count are
// not committed and are ignored.
func TestFixtureWritecacheSequence(t *testing.T) {
	ent := func(i int64) int64 { return 64 + 16*i }
	// Entry 0 (free, its block holds sector 0's stamp) now holds sector
	// 2048 at sequence 3; seq_count 5 commits it.
	f, vg := scanCache(t, nil,
		lvPatch(t, cvol, 24, le64(5)),
		lvPatch(t, cvol, ent(0), append(le64(2048), le64(3)...)))
	src, err := resolver(vg).Open("wdata")
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 40)
	if _, err := src.ReadAt(b, 2048*512); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "LVMI vg=cache lv=wdata gen=1 sector=0\n") {
		t.Errorf("origin sector 2048 reads %q, want cache block 0", b)
	}
	// seq_count 0: nothing is committed, wdata reads as its origin.
	_, vg = scanCache(t, nil, lvPatch(t, cvol, 24, le64(0)))
	src, err = resolver(vg).Open("wdata")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := hashSource(t, src); got != manifestLV(t, f, "wdata_wcorig").SHA256 {
		t.Errorf("with nothing committed wdata should read as wdata_wcorig")
	}
}

// TestFixtureCorruptMetadata edits the real metadata and checks that the
// cached LV is refused with the structure and field at fault, while its
// origin sub-LV still opens.
func TestFixtureCorruptMetadata(t *testing.T) {
	type tc struct {
		name      string
		lv        string // LV to open
		patch     func(t *testing.T) patch
		sent      error
		offset    int64
		structure string
		field     string
	}
	sbEdit := func(off int, v []byte) func(t *testing.T) patch {
		return func(t *testing.T) patch {
			return blockPatch(t, 0, saltSuperblock, func(b []byte) { copy(b[off:], v) })
		}
	}
	cases := []tc{
		{"superblock checksum", "data", func(t *testing.T) patch {
			return blockPatch(t, 0, 0, func(b []byte) { b[256] ^= 1 })
		}, ErrChecksum, 0, "superblock", "csum"},
		{"magic", "data", sbEdit(32, le64(0x18C404)), ErrMagic, 0, "superblock", "magic"},
		{"needs_check", "data", sbEdit(4, []byte{3}), ErrUntrusted, 0, "superblock", "flags"},
		{"version 3", "data", sbEdit(40, []byte{3}), ErrUnsupported, 0, "superblock", "version"},
		{"incompat", "data", sbEdit(252, []byte{1}), ErrUnsupported, 0, "superblock", "incompat_flags"},
		{"cache blocks beyond cdata", "data", sbEdit(240, []byte{0x41}), ErrRange, 0, "superblock", "cache_blocks"},
		{"mapping root beyond cmeta", "data", sbEdit(192, le64(5000)), ErrRange, 5000 * BlockSize, "b-tree node of the mapping array", "blocknr"},
		{"mapping root is the superblock", "data", sbEdit(192, le64(0)), ErrChecksum, 0, "b-tree node of the mapping array", "csum"},
		{"btree cycle", "data", func(t *testing.T) patch {
			return blockPatch(t, mapRoot, saltNode, func(b []byte) {
				b[4] = flagNode
				copy(b[32+8*252:], le64(mapRoot))
			})
		}, ErrCycle, mapRoot * BlockSize, "b-tree node of the mapping array", ""},
		{"origin block beyond origin", "data", func(t *testing.T) patch {
			return blockPatch(t, mapArr, saltArray, func(b []byte) { copy(b[24+8*5:], le64(192<<16|1)) })
		}, ErrRange, mapArr * BlockSize, "mapping of cache block 5", "origin_block"},
		{"origin block twice", "data", func(t *testing.T) patch {
			return blockPatch(t, mapArr, saltArray, func(b []byte) { copy(b[24+8*5:], le64(48<<16|1)) })
		}, ErrCorrupt, mapArr * BlockSize, "mapping of cache block 5", "origin_block"},
		{"array block checksum", "data", func(t *testing.T) patch {
			return blockPatch(t, mapArr, 0, func(b []byte) { b[100] ^= 0x80 })
		}, ErrChecksum, mapArr * BlockSize, "array block of the mapping array", "csum"},
		{"array short", "data", func(t *testing.T) patch {
			return blockPatch(t, mapArr, saltArray, func(b []byte) { b[8] = 60 })
		}, ErrCorrupt, mapArr * BlockSize, "array block of the mapping array", "nr_entries"},
		{"writecache magic", "wdata", func(t *testing.T) patch { return lvPatch(t, cvol, 0, []byte{0}) }, ErrMagic, 0, "superblock", "magic"},
		{"writecache version", "wdata", func(t *testing.T) patch { return lvPatch(t, cvol, 4, []byte{2}) }, ErrUnsupported, 4, "superblock", "version"},
		{"writecache block size", "wdata", func(t *testing.T) patch { return lvPatch(t, cvol, 8, []byte{0, 2}) }, ErrCorrupt, 8, "superblock", "block_size"},
		{"writecache n_blocks", "wdata", func(t *testing.T) patch { return lvPatch(t, cvol, 16, le64(1021)) }, ErrRange, 16, "superblock", "n_blocks"},
		{"writecache sector beyond origin", "wdata", func(t *testing.T) patch { return lvPatch(t, cvol, 64+16*300, le64(16384)) }, ErrRange, 64 + 16*300, "entry 300", "original_sector"},
		{"writecache unaligned sector", "wdata", func(t *testing.T) patch { return lvPatch(t, cvol, 64+16*300, le64(2049)) }, ErrCorrupt, 64 + 16*300, "entry 300", "original_sector"},
		{"writecache same sequence", "wdata", func(t *testing.T) patch { return lvPatch(t, cvol, 64+16*300, le64(2048)) }, ErrCorrupt, 64 + 16*300 + 8, "entry 300", "seq_count"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, vg := scanCache(t, nil, c.patch(t))
			r := resolver(vg)
			_, err := r.Open(c.lv)
			var me *MetadataError
			if !errors.As(err, &me) {
				t.Fatalf("%v, want a *MetadataError", err)
			}
			if !errors.Is(err, c.sent) || me.Offset != c.offset || me.Structure != c.structure || me.Field != c.field {
				t.Errorf("%+v (%v)", me, err)
			}
			origin := map[string]string{"data": "data_corig", "wdata": "wdata_wcorig"}[c.lv]
			if _, err := r.Open(origin); err != nil {
				t.Errorf("origin %s: %v", origin, err)
			}
		})
	}
}

// TestFixtureUncleanShutdown: without the clean shutdown flag the cache
// still exports (the mappings are those of the last commit) with a note.
func TestFixtureUncleanShutdown(t *testing.T) {
	f, vg := scanCache(t, nil, blockPatch(t, 0, saltSuperblock, func(b []byte) { b[4] = 0 }))
	r := resolver(vg)
	c, err := OpenCache(r, vg.Meta.LV("data"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(c.Notes, "\n"), "not shut down cleanly") {
		t.Errorf("notes %q", c.Notes)
	}
	src, err := r.Open("data")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := hashSource(t, src); got != manifestLV(t, f, "data").SHA256 {
		t.Errorf("data differs from the manifest")
	}
}

// TestFixtureMissingCachePV withholds the fast PV that holds the cache
// pool and the cachevol: the cached LVs are refused because their cache
// metadata cannot be read; the origins still export.
func TestFixtureMissingCachePV(t *testing.T) {
	f, vg := scanCache(t, []string{"pv1"})
	r := resolver(vg)
	for _, lv := range []string{"data", "wdata"} {
		_, err := r.Open(lv)
		var me *MetadataError
		if !errors.As(err, &me) || !errors.Is(err, ErrRead) {
			t.Errorf("%s: %v, want a *MetadataError wrapping ErrRead", lv, err)
		}
	}
	for _, lv := range []string{"data_corig", "wdata_wcorig"} {
		src, err := r.Open(lv)
		if err != nil {
			t.Fatal(err)
		}
		if got, miss := hashSource(t, src); got != manifestLV(t, f, lv).SHA256 || len(miss) > 0 {
			t.Errorf("%s differs from the manifest", lv)
		}
	}
}

// TestFixtureMissingCacheData cuts the fast PV right after the cache
// metadata, so the cache data and the cachevol are missing: in
// writethrough mode the clean blocks come from the origin and data still
// exports whole; in writeback mode exactly the cached origin blocks
// (48-111) are reported missing.
func TestFixtureMissingCacheData(t *testing.T) {
	for _, mode := range []string{ModeWritethrough, ModeWriteback} {
		t.Run(mode, func(t *testing.T) {
			f, vg := scanCache(t, nil)
			_, cut := imageOffset(t, vg, cdata, 0)
			for _, lv := range vg.Meta.LVs {
				for _, s := range lv.Segments {
					if s.CachePool != nil {
						s.CachePool.CacheMode = mode
					}
				}
			}
			r := resolver(vg)
			for uuid, pv := range r.PVs {
				if pv.Name == "pv1" {
					pv.Size = cut
					r.PVs[uuid] = pv
				}
			}
			c, err := OpenCache(r, vg.Meta.LV("data"), 0)
			if err != nil {
				t.Fatal(err)
			}
			got, miss := hashSource(t, c.View)
			if mode == ModeWritethrough {
				if got != manifestLV(t, f, "data").SHA256 || len(miss) > 0 || c.Applied != 0 {
					t.Errorf("writethrough: %d blocks applied, missing %v", c.Applied, miss)
				}
				return
			}
			var merged []export.Run
			for _, r := range miss {
				if k := len(merged); k > 0 && merged[k-1].End() == r.Off && merged[k-1].Reason == r.Reason {
					merged[k-1].Len += r.Len
					continue
				}
				merged = append(merged, r)
			}
			if len(merged) != 1 || merged[0].Off != 48<<16 || merged[0].Len != 64<<16 || !strings.Contains(merged[0].Reason, "cache data "+cdata) {
				t.Errorf("writeback: missing %v, want origin blocks 48-111", miss)
			}
		})
	}
}
