package volume

import (
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
		out[p.Meta.UUID] = export.PVReader{R: p.PV.R, Size: p.PV.Size, Name: p.PV.Path,
			File: p.PV.Input.OSFile(), FileOffset: p.PV.Offset}
	}
	return out
}

// FromScan returns a Resolver over an assembled VG's current generation.
func FromScan(vg *scan.VG) *Resolver { return New(vg.Meta, PVReaders(vg)) }
