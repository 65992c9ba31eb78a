package cache

import (
	"bytes"
	"errors"
	"testing"

	"github.com/lvminspect/lvminspect/export/cow"
)

// FuzzReadMetadata decodes arbitrary dm-cache metadata: it must not panic
// or hang, every error must be a *MetadataError, and accepted metadata
// must be consistent. With reseal set, the checksums are recomputed after
// mutation, so the fuzzer reaches the structural checks.
func FuzzReadMetadata(f *testing.F) {
	f.Add(buildMeta(2, 128, []int64{48, 49, -1, 7}, []int{1}), int64(12<<20), int64(4<<20), true)
	f.Add(buildMeta(1, 8, []int64{3, -1, 0}, []int{0, 2}), int64(1<<20), int64(1<<20), true)
	f.Add(buildMeta(2, 128, nil, nil), int64(12<<20), int64(4<<20), false)
	f.Fuzz(func(t *testing.T, data []byte, originBytes, dataBytes int64, reseal bool) {
		if reseal {
			data = append([]byte(nil), data...)
			seal(data)
		}
		p := MetadataParams{LV: "fuzz", Size: int64(len(data)), OriginBytes: originBytes, DataBytes: dataBytes}
		md, err := ReadMetadata(bytes.NewReader(data), p)
		if err != nil {
			var me *MetadataError
			if !errors.As(err, &me) || me.Error() == "" {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		bs := md.BlockBytes()
		n := uint64(md.Superblock.CacheBlocks)
		if uint64(len(md.Mappings)) > n || md.Dirty > len(md.Mappings) {
			t.Fatalf("%d mappings (%d dirty) for %d cache blocks", len(md.Mappings), md.Dirty, n)
		}
		for i, m := range md.Mappings {
			if m.Cache >= n || int64(m.Origin) >= (originBytes+bs-1)/bs || i > 0 && md.Mappings[i-1].Origin >= m.Origin {
				t.Fatalf("mapping %d out of range or order: %+v", i, m)
			}
		}
		if md.Superblock.CacheBlocks > 0 && int64(n)*bs > dataBytes {
			t.Fatalf("cache blocks beyond the data device")
		}
		ext, _, err := extents(md, originBytes, cow.Zero(dataBytes), ModeWriteback)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cow.NewOverlay(cow.Zero(originBytes), cow.Zero(dataBytes), ext); err != nil {
			t.Fatalf("accepted metadata gives no view: %v", err)
		}
	})
}

// FuzzReadWritecache decodes arbitrary writecache layouts.
func FuzzReadWritecache(f *testing.F) {
	free := ^uint64(0)
	f.Add(buildWritecache(4096, 5, [][2]uint64{{0, free}, {16, 2}, {16, 4}, {8, 7}, {24, 0}}), int64(1<<20), uint64(4096))
	f.Add(buildWritecache(512, 1, [][2]uint64{{3, 0}, {4, free}}), int64(4096), uint64(0))
	f.Fuzz(func(t *testing.T, data []byte, originBytes int64, blockSize uint64) {
		p := WCParams{LV: "fuzz", Size: int64(len(data)), OriginBytes: originBytes, BlockSize: blockSize}
		md, err := ReadWritecache(bytes.NewReader(data), p)
		if err != nil {
			var me *MetadataError
			if !errors.As(err, &me) || me.Error() == "" {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if uint64(len(md.Entries)+md.Free+md.Uncommitted+md.Superseded) != md.Superblock.NBlocks {
			t.Fatalf("entries do not add up: %+v", md)
		}
		if _, err := cow.NewOverlay(cow.Zero(max(0, originBytes)), cow.Zero(p.Size), md.Extents()); err != nil {
			t.Fatalf("accepted writecache gives no view: %v", err)
		}
	})
}
