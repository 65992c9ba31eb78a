package volume

import (
	"runtime"
	"sync"
	"unsafe"
	"weak"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/scan"
)

// PVReaders maps the dashed UUIDs of the PVs present in an assembled VG to
// readers over them.
func PVReaders(vg *scan.VG) map[string]export.PVReader {
	out := map[string]export.PVReader{}
	for _, p := range vg.PVs {
		if p.PV == nil {
			continue
		}
		out[p.Meta.UUID] = export.PVReader{R: p.PV.R, Size: p.PV.Size, Name: p.PV.Path, Dev: p.PV.Dev}
	}
	return out
}

// FromScan returns a Resolver over an assembled VG's current generation,
// with a PV reader map of its own (the caller may change it).
func FromScan(vg *scan.VG) *Resolver { return New(vg.Meta, PVReaders(vg)) }

// ForScan is FromScan for callers that open the LVs of a VG one by one
// (a verdict or the facts of every LV): the resolvers of one VG share one
// PV reader map, built once, which no one may change. Each call returns
// a resolver of its own, so they may be used at the same time.
func ForScan(vg *scan.VG) *Resolver { return New(vg.Meta, sharedReaders(vg)) }

type readersEntry struct {
	pvs  unsafe.Pointer // vg.PVs's backing array when built
	n    int
	meta unsafe.Pointer // vg.Meta when built
	m    map[string]export.PVReader
}

var (
	readersMu sync.Mutex
	readers   = map[weak.Pointer[scan.VG]]*readersEntry{}
)

// sharedReaders is PVReaders(vg), built again only when vg's PV list or
// generation changed.
func sharedReaders(vg *scan.VG) map[string]export.PVReader {
	wp := weak.Make(vg)
	pvs, meta := unsafe.Pointer(unsafe.SliceData(vg.PVs)), unsafe.Pointer(vg.Meta)
	readersMu.Lock()
	e, known := readers[wp]
	readersMu.Unlock()
	if e != nil && e.pvs == pvs && e.n == len(vg.PVs) && e.meta == meta {
		return e.m
	}
	e = &readersEntry{pvs: pvs, n: len(vg.PVs), meta: meta, m: PVReaders(vg)}
	readersMu.Lock()
	readers[wp] = e
	readersMu.Unlock()
	if !known {
		runtime.AddCleanup(vg, func(wp weak.Pointer[scan.VG]) {
			readersMu.Lock()
			delete(readers, wp)
			readersMu.Unlock()
		}, wp)
	}
	return e.m
}
