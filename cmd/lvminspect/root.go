package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

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

With PATHs it opens the interactive inspector on them; with none it opens a
built-in demo disk. Every view of the inspector is also a command below, with
--json for scripts.`,
		Version:       Version(),
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTUI(cmd, args, opt)
		},
	}
	addScanFlags(root.Flags(), &opt)
	root.SetVersionTemplate("lvminspect {{.Version}}\n")
	root.AddCommand(newScanCmd(), newExportCmd(), newHistoryCmd(), newDiffCmd())
	return root
}

// addScanFlags adds the flags that say where to look for PVs, shared by
// every command that reads inputs: a PV that only --carve finds can be
// inspected, exported and have its history read like any other.
func addScanFlags(fs *pflag.FlagSet, opt *scan.Options) {
	fs.BoolVar(&opt.Carve, "carve", false, "search every sector for PV labels (finds PVs at any offset; reads the whole input)")
	fs.BoolVar(&opt.NoPartitions, "no-partitions", false, "do not look for partition tables")
}

// scanInputs opens every path read-only and scans them; the returned
// function closes them.
func scanInputs(paths []string, opt scan.Options) (*scan.Result, func(), error) {
	ins, closeAll, err := openInputs(paths)
	if err != nil {
		return nil, nil, err
	}
	return scan.Scan(ins, opt), closeAll, nil
}

// openInputs opens every path read-only. It fails on the first path that
// cannot be opened, closing the others.
func openInputs(paths []string) ([]*scan.Input, func(), error) {
	fs := scan.ReadOnlyOSFs()
	var ins []*scan.Input
	closeAll := func() {
		for _, in := range ins {
			in.Close()
		}
	}
	for _, p := range paths {
		in, err := scan.Open(fs, p)
		if err != nil {
			closeAll()
			return nil, nil, &exitError{code: 2, err: fmt.Errorf("open %s: %w", p, err)}
		}
		ins = append(ins, in)
	}
	return ins, closeAll, nil
}
