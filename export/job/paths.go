package job

import (
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/lvminspect/lvminspect/export/record"
	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan"
)

// DefaultOutput is where an export goes when no path is given:
// "VG/LV.img", relative to the working directory, with the names made
// safe as file names (they come from the disk: anything but LVM's
// characters A-Z a-z 0-9 + _ . - becomes "_", and "." or ".." or a
// leading "-" cannot be a name).
func DefaultOutput(vg, lv string) string {
	return filepath.Join(safeName(vg), safeName(lv)+".img")
}

func safeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '_' || c == '.' || c == '-'
		if !ok {
			b[i] = '_'
		}
	}
	s = string(b)
	if s == "" || s == "." || s == ".." {
		return "_" + s
	}
	if s[0] == '-' {
		s = "_" + s[1:]
	}
	return s
}

// AbsOutput is the absolute, cleaned form of an output path, as the
// export prompt shows it so that the examiner sees where the image goes
// whatever the working directory ("-", stdout, stays "-").
func AbsOutput(path string) string {
	path = strings.TrimSpace(path)
	if path == "-" || path == "" {
		return path
	}
	if a, err := filepath.Abs(path); err == nil {
		return a
	}
	return filepath.Clean(path)
}

// SameFilesystem reports whether the output path out (which need not
// exist yet: its nearest existing parent directory is used) lies on the
// same file system as one of the inputs: an image file input on the same
// file system, or a file system on the disk or partition that is an
// input. Writing there may change the evidence's unallocated space or the
// very device read; the prompt warns.
func SameFilesystem(out string, inputs []string) (bool, error) {
	return sameFilesystem(AbsOutput(out), inputs)
}

// CommandFor is the export command line that does what req does:
// "lvminspect export [flags] -o OUT VG/LV INPUT...". A front end other
// than the command line (the inspector) records it as the provenance's
// CommandLine, so that the record says how to repeat the export.
func CommandFor(req *Request) []string {
	args := []string{"lvminspect", "export"}
	o := req.Options
	args = append(args, optionFlags(o, true)...)
	args = append(args, scanFlags(req.Result, req.Scan)...)
	if req.VG != nil && record.NeedsHistory(req.VG) {
		args = append(args, "--seqno", strconv.FormatUint(req.VG.Meta.Seqno, 10))
	}
	out := req.Output
	if out == "" && req.VG != nil && req.LV != nil {
		out = DefaultOutput(req.VG.Meta.Name, req.LV.Name)
	}
	args = append(args, "-o", out)
	if req.VG != nil && req.LV != nil {
		args = append(args, req.VG.Meta.Name+"/"+req.LV.Name)
	}
	return append(args, inputPaths(req.Result)...)
}

// CommandForDevice is the export command line that does what a device
// export does: "lvminspect export --device ID [flags] -o OUT INPUT...".
func CommandForDevice(req *DeviceRequest) []string {
	args := []string{"lvminspect", "export"}
	id := ""
	if req.Device != nil {
		id = req.Device.ID
	}
	args = append(args, "--device", id)
	args = append(args, optionFlags(req.Options, false)...)
	args = append(args, scanFlags(req.Result, req.Scan)...)
	out := req.Output
	if out == "" {
		out = DefaultDeviceOutput(id)
	}
	args = append(args, "-o", out)
	return append(args, inputPaths(req.Result)...)
}

// optionFlags are the export command's flags for o; lv adds those that
// apply to LVs only (--raw, --verify-legs).
func optionFlags(o Options, lv bool) []string {
	var args []string
	for _, f := range []struct {
		on   bool
		flag string
	}{{o.AllowPartial, "--allow-partial"}, {lv && o.Raw, "--raw"}, {o.MD5, "--md5"}, {lv && o.VerifyLegs, "--verify-legs"},
		{o.NoSparse, "--no-sparse"}, {o.NoProvenance, "--no-provenance"}, {o.Force, "--force"}, {o.HashInputs, "--hash-inputs"}} {
		if f.on {
			args = append(args, f.flag)
		}
	}
	return args
}

// scanFlags are the flags that scan the inputs as res was scanned.
func scanFlags(res *scan.Result, opt scan.Options) []string {
	var args []string
	carve := opt.Carve
	if res != nil {
		for _, pv := range res.PVs {
			carve = carve || pv.Carved
		}
	}
	if carve {
		args = append(args, "--carve")
	}
	if opt.NoPartitions {
		args = append(args, "--no-partitions")
	}
	var pvs []string
	for u, p := range opt.PVs {
		pvs = append(pvs, "--pv="+model.DashedUUID(u)+"="+p)
	}
	sort.Strings(pvs)
	return append(args, pvs...)
}

// inputPaths are the inputs given: the LVs, md arrays and LUKS volumes
// a layer above opened as disks of their own are found again from them
// (their paths, "md array md0", "LUKS volume in1.p2", are not files).
func inputPaths(res *scan.Result) []string {
	var out []string
	if res == nil {
		return nil
	}
	for _, in := range res.Given() {
		out = append(out, in.Path)
	}
	return out
}

// ShellJoin joins a command line for a POSIX shell, quoting every
// argument that holds anything but letters, digits and _@%+=:,./-, so
// that what is shown can be pasted as it is.
func ShellJoin(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = shellQuote(a)
	}
	return strings.Join(out, " ")
}

func shellQuote(a string) string {
	if a == "" {
		return "''"
	}
	for _, r := range a {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_@%+=:,./-", r)) {
			return "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return a
}
