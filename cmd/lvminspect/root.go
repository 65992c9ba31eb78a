package main

import (
	"errors"
	"fmt"
	"github.com/lvminspect/lvminspect/export/graph"
	"io/fs"
	"os"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan"
)

func newRootCmd() *cobra.Command {
	var opt scan.Options
	root := &cobra.Command{
		Use:   "lvminspect [PATH...]",
		Short: "Inspect, verify and export LVM2 volumes from disks and disk images, read-only",
		Long: `lvminspect opens disks and disk images read-only and shows everything LVM2
put on them: labels, PV headers, metadata areas and every metadata generation
still in them, volume groups and logical volumes, and exports LVs to image files.
Evidence and virtual-disk containers (E01, qcow2, VMDK, VHD, VHDX, VDI, split
raw) are read directly, and an LV holding a disk (a virtual machine's, on a
virtualisation host) is opened like any disk.

With PATHs it opens the interactive inspector on them; with none it opens a
built-in demo disk. Every view of the inspector is also a command below, with
--json for scripts.

Exit status (every command; see each command's --help):
  0   success
  1   failed (nothing written), or nothing found
  2   usage error, or an input could not be opened
  3   done, but incomplete or uncertain (export: an image that is not an
      exact copy; scan: error-level problems)
  130 interrupted`,
		Version:       Version(),
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := unknownCommand(cmd, args); err != nil {
				return err
			}
			return runTUI(cmd, args, opt)
		},
	}
	addScanFlags(root.Flags(), &opt)
	root.SetVersionTemplate("lvminspect {{.Version}}\n")
	root.SuggestionsMinimumDistance = 2
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageErrorOf(cmd, err)
	})
	root.AddCommand(newScanCmd(), newExportCmd(), newHistoryCmd(), newDiffCmd(), newVerifyCmd(), newServeCmd())
	root.AddCommand(newReportCmd(reportPV), newReportCmd(reportVG), newReportCmd(reportLV))
	return root
}

// commandLike matches what a user types as a command name.
var commandLike = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

// unknownCommand: the root takes PATHs for the inspector, so a mistyped
// command ("scna") would be opened as a file. When the first argument
// looks like a command name and no file has that name, it is an unknown
// command (exit 2), with the nearest commands.
func unknownCommand(root *cobra.Command, args []string) error {
	if len(args) == 0 || !commandLike.MatchString(args[0]) {
		return nil
	}
	if _, err := os.Lstat(args[0]); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	name := args[0]
	msg := fmt.Sprintf("unknown command %q (and no file of that name)", name)
	switch sugg := root.SuggestionsFor(name); {
	case name == "version":
		msg += "; the version is shown by 'lvminspect --version'"
	case len(sugg) > 0:
		msg += "; did you mean " + strings.Join(quoteAll(sugg), " or ") + "?"
	}
	return &exitError{code: exitUsage, err: errors.New(msg), hint: "Run 'lvminspect --help' for the commands."}
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = "'" + v + "'"
	}
	return out
}

// addScanFlags adds the flags that say where to look for PVs, shared by
// every command that reads inputs: a PV that only --carve finds can be
// inspected, exported and have its history read like any other.
func addScanFlags(fs *pflag.FlagSet, opt *scan.Options) {
	fs.BoolVar(&opt.Carve, "carve", false, "search every sector for PV labels (finds PVs at any offset; reads the whole input)")
	fs.BoolVar(&opt.NoPartitions, "no-partitions", false, "do not look for partition tables")
	addLUKSFlags(fs)
	fs.Var(&pvChoices{opt: opt}, "pv", "`UUID=PATH`: read the PV of that UUID from PATH when it is on more than one input (a cloned disk; PATH@OFFSET: the PV at that byte of PATH); repeatable")
}

// pvChoices is --pv: each UUID=PATH goes into scan.Options.PVs.
type pvChoices struct {
	opt  *scan.Options
	vals []string
}

func (p *pvChoices) String() string { return strings.Join(p.vals, ",") }
func (p *pvChoices) Type() string   { return "UUID=PATH" }

func (p *pvChoices) Set(s string) error {
	u, path, err := scan.ParsePVChoice(s)
	if err != nil {
		return err
	}
	if p.opt.PVs == nil {
		p.opt.PVs = map[string]string{}
	}
	if old, ok := p.opt.PVs[u]; ok && old != path {
		return fmt.Errorf("--pv: PV %s is given twice (%s and %s)", model.DashedUUID(u), old, path)
	}
	p.opt.PVs[u] = path
	p.vals = append(p.vals, s)
	return nil
}

// scanInputs opens every path read-only and scans them; the returned
// function closes them.
func scanInputs(paths []string, opt scan.Options) (*scan.Result, func(), error) {
	ins, closeAll, err := openInputs(paths)
	if err != nil {
		return nil, nil, err
	}
	opt, wipe, err := withKeys(opt, true)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	res := graph.Scan(ins, opt)
	wipe()
	return res, closeAll, nil
}

// openInputs opens every path read-only. It fails on the first path that
// cannot be opened (exit status 2), closing the others.
func openInputs(paths []string) ([]*scan.Input, func(), error) {
	fsys := scan.ReadOnlyOSFs()
	var ins []*scan.Input
	closeAll := func() {
		for _, in := range ins {
			in.Close()
		}
	}
	for _, p := range paths {
		in, err := scan.Open(fsys, p)
		if err != nil {
			closeAll()
			return nil, nil, usageError(openError(p, err))
		}
		ins = append(ins, in)
	}
	return ins, closeAll, nil
}

// openError says why path could not be opened, naming it once.
func openError(path string, err error) error {
	if st, serr := os.Stat(path); serr == nil && st.Mode()&os.ModeCharDevice != 0 {
		// /dev/null, a terminal: no size to read. (Disks of FreeBSD and
		// macOS are character devices too, and open.)
		return fmt.Errorf("cannot open %s: a character device that is not a disk (%v); give a disk or partition device or an image file", path, unwrapPath(err))
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("cannot open %s: %v", path, pe.Err)
	}
	msg := strings.TrimPrefix(err.Error(), path+": ")
	return fmt.Errorf("cannot open %s: %s", path, msg)
}

// unwrapPath is the cause of an error about a path, without the path.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
		err = e
	}
	return err
}
