package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lvminspect/lvminspect/internal/termsafe"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/history"
)

// jsonHistory is `history --json` (docs/history-json.md).
type jsonHistory struct {
	Tool    string `json:"tool"`
	Version string `json:"version"`
	*history.Report
}

// jsonHistoryStream is jsonHistory with its two long arrays written one
// element at a time: a metadata area of 65,535 copies makes a document of
// hundreds of megabytes, which need not be in memory at once.
type jsonHistoryStream struct {
	Tool        string                `json:"tool"`
	Version     string                `json:"version"`
	Generations *jsonStream           `json:"generations"`
	Distinct    *jsonStream           `json:"distinct_generations"`
	Areas       []history.AreaSummary `json:"areas"`
	Problems    []scan.Problem        `json:"problems"`
}

// writeHistoryJSON writes the history document as jsonHistory encodes
// it, byte for byte.
func writeHistoryJSON(w io.Writer, r *history.Report) error {
	doc := jsonHistoryStream{Tool: "lvminspect", Version: Version(),
		Generations: &jsonStream{n: len(r.Generations), each: func(i int) any { return r.Generations[i] }},
		Distinct:    &jsonStream{n: len(r.Distinct), each: func(i int) any { return r.Distinct[i] }},
		Areas:       r.Areas, Problems: r.Problems}
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := writeJSONStream(bw, doc, []*jsonStream{doc.Generations, doc.Distinct}); err != nil {
		return err
	}
	return bw.Flush()
}

func newHistoryCmd() *cobra.Command {
	var asJSON, noSearch bool
	var opt scan.Options
	var vgName string
	cmd := &cobra.Command{
		Use:   "history [--json] [--vg NAME] PATH...",
		Short: "List every metadata generation still present in the metadata areas",
		Long: `history walks the circular buffer of every metadata area of every PV on the
PATHs (both areas of a PV, ignored areas, areas whose slots were zeroed by
vgremove or pvremove, areas with a damaged header, and areas found by their
header where the PV label is gone) and lists every copy of the metadata text
still there: where it lies, its checksum, whether a slot records it as the
committed or precommitted copy, whether it parses. The same text found in
several places is one generation. Partly overwritten copies are listed as
fragments with what could be recovered from them (LV names, description).

Older generations show what the VG looked like before an LV was removed,
shrunk, moved or renamed: see 'lvminspect diff' and 'scan --seqno'.

With --json it prints the schema documented in docs/history-json.md.

Exit status:
  0  at least one metadata copy was found (of VG NAME, with --vg)
  1  none was
  2  usage error, or an input could not be opened`,
		Args: usageArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, closeAll, err := scanInputs(args, opt)
			if err != nil {
				return err
			}
			defer closeAll()
			h := history.Scan(res, history.Options{NoSearch: noSearch})
			if vgName != "" && len(h.VG(vgName)) == 0 {
				return &exitError{code: exitFailed, err: fmt.Errorf("no metadata of VG %s found in %s", vgName, strings.Join(args, ", "))}
			}
			w := cmd.OutOrStdout()
			if asJSON {
				if err := writeHistoryJSON(w, h.Report(vgName)); err != nil {
					return err
				}
			} else {
				rw := &runeWriter{w: termsafe.Writer{W: w}}
				if err := h.WriteText(rw, vgName); err != nil {
					return err
				}
				if err := rw.Flush(); err != nil {
					return err
				}
			}
			if len(h.Copies) == 0 {
				return &exitError{code: exitFailed, err: errors.New("no metadata copy found in " + strings.Join(args, ", "))}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON (schema: docs/history-json.md)")
	cmd.Flags().StringVar(&vgName, "vg", "", "show only the VG of this name or UUID")
	cmd.Flags().BoolVar(&noSearch, "no-search", false, "do not search unlabelled inputs and partitions for metadata areas")
	addScanFlags(cmd.Flags(), &opt)
	return cmd
}
