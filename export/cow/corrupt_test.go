package cow

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// cowPatch returns a patch of the snapshot fixture's COW LV (base_snap)
// at byte off.
func cowPatch(t *testing.T, off int64, b []byte) patch {
	t.Helper()
	_, vg, _ := scanFixture(t, "snapshot", "snap")
	return patch{Image: "pv0", Off: pvOffset(t, vg, "base_snap", off), B: b}
}

func u64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
func u32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

// TestFixtureStore checks the decoded exception table against what the
// scenario wrote: base was rewritten at 1-1.5 MiB and 6-6.25 MiB after the
// snapshot, the snapshot itself at 7-7.125 MiB; 4 KiB chunks.
func TestFixtureStore(t *testing.T) {
	_, vg, _ := scanFixture(t, "snapshot", "snap")
	r := resolver(vg)
	s, err := OpenSnapshot(r, vg.Meta.LV("snapshot0"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if s.Origin != "base" || s.COW != "base_snap" || s.Merging {
		t.Errorf("snapshot %+v", s)
	}
	st := s.Store
	if st.ChunkBytes != 4096 || st.Header.Valid != 1 || st.Areas != 1 || st.Full {
		t.Errorf("store header %+v chunk %d areas %d full %v", st.Header, st.ChunkBytes, st.Areas, st.Full)
	}
	want := map[uint64]bool{}
	for _, rg := range [][2]int64{{1 << 20, 1<<20 + 512<<10}, {6 << 20, 6<<20 + 256<<10}, {7 << 20, 7<<20 + 128<<10}} {
		for o := rg[0]; o < rg[1]; o += 4096 {
			want[uint64(o/4096)] = true
		}
	}
	if len(st.Exceptions) != len(want) {
		t.Errorf("%d exceptions, want %d", len(st.Exceptions), len(want))
	}
	for i, e := range st.Exceptions {
		if !want[e.Old] {
			t.Errorf("exception for origin chunk %d, which nothing wrote", e.Old)
		}
		if i > 0 && st.Exceptions[i-1].Old >= e.Old {
			t.Errorf("exceptions not sorted at %d", i)
		}
	}
	// The stamps show through: old base data at 1 MiB, the snapshot's own
	// writes at 7 MiB, base's current data at 2 MiB.
	for _, c := range []struct {
		off  int64
		want string
	}{
		{1 << 20, "lv=base gen=1 sector=2048\n"},
		{6<<20 + 4096, "lv=base gen=1 sector=12296\n"},
		{7 << 20, "lv=base_snap gen=3 sector=14336\n"},
		{2 << 20, "lv=base gen=1 sector=4096\n"},
	} {
		b := make([]byte, 64)
		if _, err := s.View.ReadAt(b, c.off); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), c.want) {
			t.Errorf("view at %d reads %q, want %q", c.off, b, c.want)
		}
	}
}

// TestFixtureCorruptStore edits the real store and checks that opening the
// snapshot is refused with the area, offset and field at fault, while the
// origin and the raw COW LV still open.
func TestFixtureCorruptStore(t *testing.T) {
	const area0 = 4096 // chunk 1
	cases := []struct {
		name   string
		off    int64
		b      []byte
		sent   error
		area   int
		at     int64
		field  string
		reason string
	}{
		{"bad magic", 0, []byte("SnAq"), ErrCorrupt, HeaderArea, 0, "magic", "not the exception store magic"},
		{"invalidated", 4, u32(0), ErrInvalidated, HeaderArea, 4, "valid", "marked this snapshot invalid"},
		{"valid 7", 4, u32(7), ErrCorrupt, HeaderArea, 4, "valid", "neither 0 nor 1"},
		{"version 2", 8, u32(2), ErrUnsupported, HeaderArea, 8, "version", "only 1"},
		{"chunk size 3", 12, u32(3), ErrCorrupt, HeaderArea, 12, "chunk_size", "power of two"},
		{"chunk size beyond LV", 12, u32(1 << 14), ErrCorrupt, HeaderArea, 12, "chunk_size", "no room"},
		{"new chunk beyond COW LV", area0 + 5*16 + 8, u64(768), ErrCorrupt, 0, area0 + 5*16 + 8, "new_chunk", "beyond the COW LV's 768 chunks"},
		{"new chunk is the area", area0 + 16 + 8, u64(1), ErrCorrupt, 0, area0 + 16 + 8, "new_chunk", "metadata area"},
		{"old chunk beyond origin", area0 + 3*16, u64(2048), ErrCorrupt, 0, area0 + 3*16, "old_chunk", "beyond the origin's 2048 chunks"},
		{"duplicate old chunk", area0 + 16, u64(256), ErrCorrupt, 0, area0 + 16, "old_chunk", "two exceptions"},
		{"duplicate new chunk", area0 + 16 + 8, u64(2), ErrCorrupt, 0, area0 + 16 + 8, "new_chunk", "two origin chunks"},
		{"zeroed header over a used table", 0, make([]byte, 16), ErrCorrupt, 0, area0, "magic", "header is zeroed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, vg, _ := scanFixture(t, "snapshot", "snap", cowPatch(t, c.off, c.b))
			r := resolver(vg)
			for _, name := range []string{"base_snap", "snapshot0"} {
				_, err := r.Open(name)
				var se *StoreError
				if !errors.As(err, &se) {
					t.Fatalf("open %s: %v, want a *StoreError", name, err)
				}
				if !errors.Is(err, c.sent) || se.LV != "base_snap" || se.Area != c.area || se.Offset != c.at || se.Field != c.field ||
					!strings.Contains(se.Reason, c.reason) {
					t.Errorf("open %s: %+v (%v)", name, se, err)
				}
			}
			if _, err := r.Open("base"); err != nil {
				t.Errorf("origin: %v", err)
			}
			if _, err := r.OpenRaw(vg.Meta.LV("base_snap")); err != nil {
				t.Errorf("raw COW store: %v", err)
			}
		})
	}
}

// TestFixtureUninitialisedStore: a COW LV whose header and first area are
// zero (never activated) reads as the origin.
func TestFixtureUninitialisedStore(t *testing.T) {
	f, vg, _ := scanFixture(t, "snapshot", "snap", cowPatch(t, 0, make([]byte, 8192)))
	src, err := resolver(vg).Open("base_snap")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := hashSource(t, src), manifestLV(t, f.Manifest.LVs, "base").SHA256; got != want {
		t.Errorf("uninitialised snapshot sha256 %s, want the origin's %s", got, want)
	}
}

// TestBadSnapshotMetadata checks references the LVM metadata gets wrong.
func TestBadSnapshotMetadata(t *testing.T) {
	cases := []struct {
		name, origin, cow, merging, field string
		sent                              error
	}{
		{"cow is origin", "base", "base", "", "cow_store", ErrMetadata},
		{"origin is the snapshot", "snapshot0", "base_snap", "", "cow_store", ErrMetadata},
		{"no such cow", "base", "nothing", "", "cow_store", ErrMetadata},
		{"no such origin", "nothing", "base_snap", "", "origin", ErrMetadata},
		{"merging differs", "base", "base_snap", "base", "merging_store", ErrMetadata},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, vg, _ := scanFixture(t, "snapshot", "snap")
			p := vg.Meta.LV("snapshot0").Segments[0].Snapshot
			p.Origin, p.CowStore, p.MergingStore = c.origin, c.cow, c.merging
			_, err := resolver(vg).Open("snapshot0")
			var se *SnapshotError
			if !errors.As(err, &se) || se.Field != c.field || !errors.Is(err, c.sent) {
				t.Errorf("%v, want a *SnapshotError on %s", err, c.field)
			}
		})
	}
	t.Run("two snapshots on one COW LV", func(t *testing.T) {
		_, vg, _ := scanFixture(t, "snapshot", "snap")
		s0 := vg.Meta.LV("snapshot0")
		dup := *s0
		dup.Name = "snapshot1"
		vg.Meta.LVs = append(vg.Meta.LVs, &dup)
		_, err := resolver(vg).Open("base_snap")
		if !errors.Is(err, ErrMetadata) || !strings.Contains(err.Error(), "snapshot1") {
			t.Errorf("%v", err)
		}
	})
	t.Run("merging snapshot", func(t *testing.T) {
		f, vg, _ := scanFixture(t, "snapshot", "snap")
		p := vg.Meta.LV("snapshot0").Segments[0].Snapshot
		p.MergingStore, p.CowStore = p.CowStore, ""
		r := resolver(vg)
		src, err := r.Open("base")
		if err != nil {
			t.Fatal(err)
		}
		// While merging, the origin reads as the snapshot view.
		if got, want := hashSource(t, src), manifestLV(t, f.Manifest.LVs, "base_snap").SHA256; got != want {
			t.Errorf("merging origin sha256 %s, want the snapshot view %s", got, want)
		}
		raw, err := r.OpenRaw(vg.Meta.LV("base"))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := hashSource(t, raw), manifestLV(t, f.Manifest.LVs, "base").SHA256; got != want {
			t.Errorf("raw origin sha256 %s, want %s", got, want)
		}
	})
}

// buildStore makes an exception store of chunk size cs sectors in n
// chunks holding the given exceptions in order.
func buildStore(cs uint32, n int, ex []Exception) []byte {
	cb := int(cs) * 512
	b := make([]byte, n*cb)
	copy(b, u32(Magic))
	copy(b[4:], u32(1))
	copy(b[8:], u32(1))
	copy(b[12:], u32(cs))
	per := cb / 16
	for i, e := range ex {
		a, k := i/per, i%per
		off := (1+a*(per+1))*cb + k*16
		copy(b[off:], u64(e.Old))
		copy(b[off+8:], u64(e.New))
	}
	return b
}

// TestStoreAreas reads a store spread over several metadata areas, up to
// a full store.
func TestStoreAreas(t *testing.T) {
	const per = 32 // 512-byte chunks
	dataChunk := func(i int) uint64 { return uint64(2 + i/per*(per+1) + i%per) }
	for _, c := range []struct {
		name  string
		count int
		n     int // chunks in the COW LV
		areas int
		full  bool
	}{
		{"one area partly used", 5, 100, 1, false},
		{"first area full", per, 100, 2, false},
		{"two and a bit", 2*per + 3, 100, 3, false},
		{"full store", 2 * per, 1 + 2*(per+1), 2, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var ex []Exception
			for i := 0; i < c.count; i++ {
				ex = append(ex, Exception{Old: uint64(1000 - i), New: dataChunk(i)})
			}
			b := buildStore(1, c.n, ex)
			st, err := ReadStore(bytes.NewReader(b), StoreParams{LV: "t", Size: int64(len(b)), OriginSize: 1 << 20, ChunkSectors: 8})
			if err != nil {
				t.Fatal(err)
			}
			if len(st.Exceptions) != c.count || st.Areas != c.areas || st.Full != c.full {
				t.Errorf("%d exceptions, %d areas, full %v; want %d, %d, %v", len(st.Exceptions), st.Areas, st.Full, c.count, c.areas, c.full)
			}
			if len(st.Notes) == 0 {
				t.Errorf("no note about the chunk size override")
			}
			for i := 1; i < len(st.Exceptions); i++ {
				if st.Exceptions[i-1].Old >= st.Exceptions[i].Old {
					t.Fatalf("not sorted")
				}
			}
		})
	}
}
