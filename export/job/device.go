package job

import (
	"context"
	"errors"
	"fmt"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/export/record"
	"github.com/lvminspect/lvminspect/internal/format"
	"github.com/lvminspect/lvminspect/scan"
)

// DeviceRequest is the export of a device of the graph: a partition, a
// container's virtual disk, an LV by its device id.
type DeviceRequest struct {
	Result *scan.Result
	Device *scan.Node
	Options
	// Output is the image path ("" for DefaultDeviceOutput), or "-" for
	// Stdout.
	Output      string
	Stdout      interface{ Write([]byte) (int, error) }
	FS          export.FS
	Protect     []string
	CommandLine []string
	ToolVersion string
	Progress    func(export.Progress)
	Stage       func(string)
	// Scan says how Result was scanned; CommandForDevice repeats it.
	Scan scan.Options
}

// DefaultDeviceOutput is ./ID.img, the id made a safe file name.
func DefaultDeviceOutput(id string) string { return safeName(id) + ".img" }

// RunDevice exports a device with the engine, hash and provenance of an
// LV's export: an input is never replaced, an existing file only with
// Force, unreadable ranges fail the export unless AllowPartial (then
// they are zeros, listed in Warnings and the record). The provenance
// record holds the chain of devices from the inputs to the one
// exported.
func RunDevice(ctx context.Context, req *DeviceRequest) (*Outcome, error) {
	if req == nil || req.Result == nil || req.Device == nil || req.Device.Device() == nil {
		return nil, errors.New("export: no device to export")
	}
	res, n, opt := req.Result, req.Device, req.Options
	t, err := prepare(res, req.Output, DefaultDeviceOutput(n.ID), req.FS, req.Protect, opt)
	if err != nil {
		return nil, err
	}
	out, pp, fsys, protect := t.out, t.pp, t.fsys, t.protect
	var hashes []string
	if opt.HashInputs {
		if req.Stage != nil {
			req.Stage("hashing inputs")
		}
		if hashes, err = hashInputs(ctx, res); err != nil {
			return nil, err
		}
	}
	if req.Stage != nil {
		req.Stage("exporting")
	}
	src := export.NewDeviceSource(n.Device(), n.ID)
	w := export.Options{Output: out, Force: opt.Force, AllowPartial: opt.AllowPartial, Sparse: !opt.NoSparse,
		MD5: opt.MD5, Progress: req.Progress, FS: fsys, Protect: protect}
	if req.Stdout != nil {
		w.Stdout = req.Stdout
	}
	r, err := export.Export(ctx, src, w)
	if err != nil {
		return nil, err
	}
	prov := &export.Provenance{Tool: "lvminspect", ToolVersion: req.ToolVersion, CommandLine: Redact(req.CommandLine),
		Device: record.DeviceChain(res, n)}
	prov.FillResult(r)
	notes, rebuilt := record.ChainNotes(res, prov.Device, true)
	prov.Notes = append(prov.Notes, notes...)
	prov.RebuiltRanges = append(prov.RebuiltRanges, rebuilt...)
	prov.Inputs = record.Inputs(res)
	for i := range prov.Inputs {
		if i < len(hashes) {
			prov.Inputs[i].SHA256 = hashes[i]
		}
	}
	oc := &Outcome{Result: r, Provenance: prov, Path: AbsOutput(r.Path)}
	oc.Warnings, oc.Notes = warnings(n.ID, 0, r, prov, nil)
	oc.Complete = len(oc.Warnings) == 0
	if pp != "" {
		if err := export.WriteProvenanceFS(fsys, pp, prov); err != nil {
			return oc, &ProvenanceError{Path: pp, Err: err}
		}
		oc.ProvenancePath = AbsOutput(pp)
	}
	return oc, nil
}

// CheckDevice says, before anything is written, whether the device n
// can be exported with opt, from its map (as RunDevice reads it): bytes
// no input holds make the export fail unless AllowPartial, which exports
// them as zeros. Bytes that turn out unreadable only when read (a
// container's chunk whose checksum fails) are not known before.
// The verdict's LV is the device's id.
func CheckDevice(ctx context.Context, n *scan.Node, opt Options) *Verdict {
	if n == nil || n.Device() == nil {
		err := errors.New("no device selected")
		return &Verdict{Reason: err.Error(), Err: err}
	}
	src := export.NewDeviceSource(n.Device(), n.ID)
	v := &Verdict{LV: n.ID, Size: src.Size()}
	miss, err := export.MissingRanges(ctx, src)
	if err != nil {
		v.Err, v.Reason = err, plainError(err)
		return v
	}
	v.Missing = miss
	for _, r := range miss {
		v.MissingBytes += r.Len
		if v.MissingWhy == "" {
			v.MissingWhy = rangeWhy(r)
		}
	}
	v.Exportable = true
	if v.MissingBytes > 0 && !opt.AllowPartial {
		v.Exportable = false
		v.Err = &export.MissingError{Ranges: miss}
		v.Reason = fmt.Sprintf("%s of %s have no source (%s); --allow-partial exports them as zeros",
			format.Size(v.MissingBytes), format.Size(v.Size), v.MissingWhy)
	}
	return v
}
