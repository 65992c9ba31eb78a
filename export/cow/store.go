package cow

import (
	"encoding/binary"
	"fmt"
	"io"
	"sort"
)

// Magic is the exception store header's magic ("SnAp" on disk).
const Magic = 0x70416E53

// MaxChunkSectors bounds the chunk size accepted from a header (16 MiB;
// LVM creates chunks of 4 KiB to 512 KiB).
const MaxChunkSectors = 1 << 15

const (
	headerSize = 16
	entrySize  = 16
)

// Header is chunk 0 of the COW LV.
type Header struct {
	Magic     uint32 `json:"magic"`
	Valid     uint32 `json:"valid"`
	Version   uint32 `json:"version"`
	ChunkSize uint32 `json:"chunk_size_sectors"`
}

// Exception maps origin chunk Old to COW chunk New.
type Exception struct {
	Old uint64 `json:"old_chunk"`
	New uint64 `json:"new_chunk"`
}

// Store is a decoded exception store.
type Store struct {
	Header Header `json:"header"`
	// ChunkBytes is the chunk size in bytes (0 for a never initialised
	// store).
	ChunkBytes int64 `json:"chunk_bytes"`
	// Exceptions are sorted by Old.
	Exceptions []Exception `json:"exceptions"`
	// Areas is the number of metadata areas read.
	Areas int `json:"areas"`
	// Full is set when every area up to the end of the COW LV is full:
	// the store has no room left (the kernel then invalidates it on the
	// next copy).
	Full bool `json:"full"`
	// Notes are remarks worth showing (chunk size differences, an
	// uninitialised store).
	Notes []string `json:"notes,omitempty"`
}

// StoreParams describe the COW LV whose store ReadStore decodes.
type StoreParams struct {
	LV           string // COW LV name, for messages
	Size         int64  // COW LV size in bytes
	OriginSize   int64  // origin size in bytes: exceptions must lie within it
	ChunkSectors uint64 // chunk_size from the LVM metadata (0 if unknown)
}

type entryPos struct {
	Exception
	area int
	off  int64
}

// ReadStore decodes the exception store read through r. An invalidated
// snapshot gives the decoded store and a *StoreError wrapping
// ErrInvalidated; every other fault gives a nil Store.
func ReadStore(r io.ReaderAt, p StoreParams) (*Store, error) {
	fail := func(area int, off int64, field string, err error, format string, args ...any) error {
		return &StoreError{LV: p.LV, Area: area, Offset: off, Field: field, Reason: fmt.Sprintf(format, args...), Err: err}
	}
	if p.Size < headerSize {
		return nil, fail(HeaderArea, 0, "size", ErrCorrupt, "the COW LV holds %d bytes, less than a header", p.Size)
	}
	var hb [headerSize]byte
	if _, err := r.ReadAt(hb[:], 0); err != nil {
		return nil, fail(HeaderArea, 0, "header", ErrRead, "%v", err)
	}
	h := Header{
		Magic:     binary.LittleEndian.Uint32(hb[0:]),
		Valid:     binary.LittleEndian.Uint32(hb[4:]),
		Version:   binary.LittleEndian.Uint32(hb[8:]),
		ChunkSize: binary.LittleEndian.Uint32(hb[12:]),
	}
	st := &Store{Header: h}
	if h.Magic == 0 {
		return uninitialised(r, p, st, fail)
	}
	if h.Magic != Magic {
		return nil, fail(HeaderArea, 0, "magic", ErrCorrupt, "0x%08X is not the exception store magic 0x%08X", h.Magic, uint32(Magic))
	}
	if h.Valid > 1 {
		return nil, fail(HeaderArea, 4, "valid", ErrCorrupt, "%d is neither 0 nor 1", h.Valid)
	}
	if h.Version != 1 {
		return nil, fail(HeaderArea, 8, "version", ErrUnsupported, "version %d (only 1 is known)", h.Version)
	}
	cs := uint64(h.ChunkSize)
	if cs == 0 || cs&(cs-1) != 0 || cs > MaxChunkSectors {
		return nil, fail(HeaderArea, 12, "chunk_size", ErrCorrupt, "%d sectors is not a power of two up to %d", cs, MaxChunkSectors)
	}
	if p.ChunkSectors != 0 && p.ChunkSectors != cs {
		st.Notes = append(st.Notes, fmt.Sprintf("the store's chunk size (%d sectors) overrides the metadata's chunk_size (%d sectors)", cs, p.ChunkSectors))
	}
	st.ChunkBytes = int64(cs) * 512
	if err := readAreas(r, p, st, fail); err != nil {
		return nil, err
	}
	if h.Valid == 0 {
		return st, fail(HeaderArea, 4, "valid", ErrInvalidated,
			"the kernel marked this snapshot invalid (typically its COW store overflowed); its content cannot be trusted")
	}
	return st, nil
}

type failFunc func(area int, off int64, field string, err error, format string, args ...any) error

// uninitialised accepts a store whose header was never written (the
// snapshot was never activated) if its first exception area is empty.
func uninitialised(r io.ReaderAt, p StoreParams, st *Store, fail failFunc) (*Store, error) {
	if st.Header != (Header{}) {
		return nil, fail(HeaderArea, 0, "magic", ErrCorrupt, "the magic is 0 but the header holds values (valid %d, version %d, chunk_size %d)",
			st.Header.Valid, st.Header.Version, st.Header.ChunkSize)
	}
	cs := p.ChunkSectors
	if cs != 0 && cs&(cs-1) == 0 && cs <= MaxChunkSectors && int64(cs)*512*2 <= p.Size {
		var e [entrySize]byte
		if _, err := r.ReadAt(e[:], int64(cs)*512); err != nil {
			return nil, fail(0, int64(cs)*512, "area", ErrRead, "%v", err)
		}
		if e != ([entrySize]byte{}) {
			return nil, fail(0, int64(cs)*512, "magic", ErrCorrupt, "the header is zeroed but the first exception area holds entries")
		}
	}
	st.Notes = append(st.Notes, "the exception store was never initialised (the snapshot was never active): the snapshot reads as its origin")
	return st, nil
}

// readAreas reads the metadata areas into st.Exceptions.
func readAreas(r io.ReaderAt, p StoreParams, st *Store, fail failFunc) error {
	cb := st.ChunkBytes
	nChunks := uint64(p.Size / cb)
	if nChunks < 2 {
		return fail(HeaderArea, 12, "chunk_size", ErrCorrupt, "the COW LV (%d bytes) has no room for an exception area after the header with %d-byte chunks", p.Size, cb)
	}
	originChunks := uint64((p.OriginSize + cb - 1) / cb)
	perArea := uint64(cb / entrySize)
	buf := make([]byte, cb)
	var all []entryPos
	for a := uint64(0); ; a++ {
		chunk := 1 + a*(perArea+1) // a < nChunks, perArea <= 2^19: no overflow
		if chunk >= nChunks {
			st.Full = true
			break
		}
		base := int64(chunk) * cb
		if _, err := r.ReadAt(buf, base); err != nil {
			return fail(int(a), base, "area", ErrRead, "%v", err)
		}
		st.Areas++
		used := uint64(0)
		for i := uint64(0); i < perArea; i++ {
			off := base + int64(i*entrySize)
			e := Exception{
				Old: binary.LittleEndian.Uint64(buf[i*entrySize:]),
				New: binary.LittleEndian.Uint64(buf[i*entrySize+8:]),
			}
			if e.New == 0 {
				break
			}
			if e.New >= nChunks {
				return fail(int(a), off+8, "new_chunk", ErrCorrupt, "exception %d: COW chunk %d is beyond the COW LV's %d chunks", i, e.New, nChunks)
			}
			if (e.New-1)%(perArea+1) == 0 {
				return fail(int(a), off+8, "new_chunk", ErrCorrupt, "exception %d: COW chunk %d is a metadata area, not a data chunk", i, e.New)
			}
			if e.Old >= originChunks {
				return fail(int(a), off, "old_chunk", ErrCorrupt, "exception %d: origin chunk %d is beyond the origin's %d chunks", i, e.Old, originChunks)
			}
			all = append(all, entryPos{Exception: e, area: int(a), off: off})
			used++
		}
		if used < perArea {
			break
		}
	}
	if err := checkDuplicates(all, fail); err != nil {
		return err
	}
	st.Exceptions = make([]Exception, len(all))
	for i, e := range all {
		st.Exceptions[i] = e.Exception
	}
	return nil
}

// checkDuplicates rejects two exceptions for one origin chunk or one COW
// chunk, naming the later entry; it leaves all sorted by Old.
func checkDuplicates(all []entryPos, fail failFunc) error {
	sort.Slice(all, func(i, j int) bool {
		return all[i].New < all[j].New || all[i].New == all[j].New && all[i].off < all[j].off
	})
	for i := 1; i < len(all); i++ {
		if all[i].New == all[i-1].New {
			e := all[i]
			return fail(e.area, e.off+8, "new_chunk", ErrCorrupt, "COW chunk %d holds two origin chunks (%d and %d)", e.New, all[i-1].Old, e.Old)
		}
	}
	sort.Slice(all, func(i, j int) bool {
		return all[i].Old < all[j].Old || all[i].Old == all[j].Old && all[i].off < all[j].off
	})
	for i := 1; i < len(all); i++ {
		if all[i].Old == all[i-1].Old {
			e := all[i]
			return fail(e.area, e.off, "old_chunk", ErrCorrupt, "origin chunk %d has two exceptions (COW chunks %d and %d)", e.Old, all[i-1].New, e.New)
		}
	}
	return nil
}

// Extents turns the store into Overlay extents over an origin of
// originSize bytes (the last chunk is cut at the origin's end).
func (st *Store) Extents(originSize int64) []Extent {
	out := make([]Extent, 0, len(st.Exceptions))
	cb := st.ChunkBytes
	for _, e := range st.Exceptions {
		off := int64(e.Old) * cb
		if off >= originSize {
			continue
		}
		out = append(out, Extent{Off: off, Len: min(cb, originSize-off), SrcOff: int64(e.New) * cb})
	}
	return out
}
