package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/internal/format"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/container/ewf"
)

// jsonVerify is verify --json's document (docs/json.md).
type jsonVerify struct {
	Tool    string             `json:"tool"`
	Version string             `json:"version"`
	Devices []jsonVerifyDevice `json:"devices"`
	OK      bool               `json:"ok"`
}

// jsonVerifyDevice is one container verified.
type jsonVerifyDevice struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	Path string `json:"path"`
	// Checksums are the container's header checksums, as read when it was
	// opened (every one of the hex view's fields that has a check).
	Checksums []jsonFieldCheck `json:"checksums"`
	// Report is the reader's own verification, for the formats that hold
	// integrity data of the media (E01: every chunk's checksum, the
	// stored MD5 and SHA-1 recomputed); null for the others.
	Report any `json:"report"`
	// Verified says whether the container held more than header
	// checksums to check.
	Verified bool `json:"verified"`
	// OK: every checksum matched, every chunk was readable, every stored
	// hash equals the one recomputed.
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

type jsonFieldCheck struct {
	Structure string `json:"structure"`
	Field     string `json:"field"`
	Offset    uint64 `json:"offset"`
	OK        bool   `json:"ok"`
	Stored    string `json:"stored"`
	Computed  string `json:"computed"`
}

func newVerifyCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify [--json] PATH...",
		Short: "Check the integrity data of the evidence and virtual-disk containers given",
		Long: `verify checks every container among the PATHs against its own integrity
data: an E01's chunk checksums (every chunk read and decompressed, in
parallel) and its stored MD5 and SHA-1 recomputed over the media; the
header checksums of VHD, VHDX, VDI and the other formats' headers as they
were read. Progress is shown on a terminal.

Exit status:
  0  every container checked matched its integrity data
  1  no PATH is a container with integrity data of its own
  2  usage error, or an input could not be opened
  3  a mismatch: a bad checksum, an unreadable chunk, a stored hash that
     differs from the media read, or a container that cannot be opened`,
		Args: usageArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ins, closeAll, err := openInputs(args)
			if err != nil {
				return err
			}
			defer closeAll()
			ctx, caught, stop := signalContext(cmd.Context())
			defer stop()
			doc := jsonVerify{Tool: "lvminspect", Version: Version(), Devices: []jsonVerifyDevice{}, OK: true}
			res := scan.Scan(ins, scan.Options{NoPartitions: true})
			for _, ir := range res.Inputs {
				if ir.File == nil && ir.ContainerErr == nil {
					continue
				}
				d := jsonVerifyDevice{ID: ir.Node.ID, Kind: ir.Node.Kind, Path: ir.Path, Checksums: []jsonFieldCheck{}, OK: true}
				if ir.ContainerErr != nil {
					d.Kind, d.OK, d.Error = ir.File.Kind, false, ir.ContainerErr.Error()
					if ir.File == nil {
						d.Kind = ir.Node.Kind
					}
					doc.Devices = append(doc.Devices, d)
					doc.OK = false
					continue
				}
				for _, st := range ir.Node.Structures {
					for _, f := range st.Fields {
						if f.Check == nil {
							continue
						}
						d.Checksums = append(d.Checksums, jsonFieldCheck{Structure: st.Name, Field: f.Name, Offset: uint64(f.Off),
							OK: f.Check.OK, Stored: f.Check.Stored, Computed: f.Check.Computed})
						d.OK = d.OK && f.Check.OK
					}
				}
				var bar *progressBar
				if !asJSON {
					bar = newProgressBar(cmd.ErrOrStderr())
				}
				progress := func(done, total int64) {}
				if bar != nil {
					progress = func(done, total int64) { bar.update(export.Progress{Done: done, Total: total}) }
				}
				report, match, ok, err := ir.Node.Verify(ctx, progress)
				if bar != nil {
					bar.finish()
				}
				if ctx.Err() != nil {
					s := caught()
					return &exitError{code: interruptedStatus(s), err: fmt.Errorf("interrupted (%s)", signalName(s))}
				}
				if ok {
					d.Verified, d.Report = true, report
					d.OK = d.OK && match
				}
				if err != nil {
					d.OK, d.Error = false, err.Error()
				}
				if len(d.Checksums) > 0 {
					d.Verified = true
				}
				doc.OK = doc.OK && d.OK
				doc.Devices = append(doc.Devices, d)
			}
			w := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				if err := enc.Encode(doc); err != nil {
					return err
				}
			} else {
				lw := newLineWriter(w)
				writeVerifyText(lw, doc)
				lw.Flush()
			}
			verified := 0
			for _, d := range doc.Devices {
				if d.Verified || d.Error != "" {
					verified++
				}
			}
			switch {
			case verified == 0:
				return &exitError{code: exitFailed, err: errors.New("no container with integrity data of its own among " + strings.Join(args, ", "))}
			case !doc.OK:
				return &exitError{code: exitIncomplete, err: errors.New("verification failed: see above")}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON (schema: docs/json.md)")
	return cmd
}

// writeVerifyText prints what verify found, a block per container.
func writeVerifyText(w io.Writer, doc jsonVerify) {
	for _, d := range doc.Devices {
		fmt.Fprintf(w, "%s  (%s container, device %s)\n", d.Path, d.Kind, d.ID)
		if d.Error != "" {
			fmt.Fprintf(w, "  ✗ %s\n", d.Error)
		}
		bad := 0
		for _, c := range d.Checksums {
			if !c.OK {
				bad++
				fmt.Fprintf(w, "  ✗ %s %s at byte %d: stored %s, computed %s\n", c.Structure, c.Field, c.Offset, c.Stored, c.Computed)
			}
		}
		if n := len(d.Checksums); n > 0 {
			fmt.Fprintf(w, "  header checksums: %d of %d match\n", n-bad, n)
		}
		if r, ok := d.Report.(*ewf.VerifyReport); ok {
			fmt.Fprintf(w, "  chunks: %d of %d readable, checksums match\n", r.ChunksOK, r.Chunks)
			for _, c := range r.BadChunks {
				fmt.Fprintf(w, "  ✗ chunk %d (media bytes %d, %s): %s\n", c.Chunk, c.Off, format.Size(c.Len), c.Error)
			}
			if r.BadChunkCount > int64(len(r.BadChunks)) {
				fmt.Fprintf(w, "  … and %d more bad chunks\n", r.BadChunkCount-int64(len(r.BadChunks)))
			}
			for _, a := range r.AcquisitionErrors {
				fmt.Fprintf(w, "  ! acquisition error: media bytes %d, %s (sectors %d, %d): stored as read by the acquiring tool\n", a.Off, format.Size(a.Len), a.First, a.Count)
			}
			for _, h := range r.Hashes {
				switch {
				case h.Stored != "" && h.Match:
					fmt.Fprintf(w, "  ✓ %s %s matches the media\n", h.Algorithm, h.Stored)
				case h.Stored != "":
					fmt.Fprintf(w, "  ✗ %s stored %s, computed %s: %s\n", h.Algorithm, h.Stored, h.Computed, h.Note)
				default:
					fmt.Fprintf(w, "  - %s: %s\n", h.Algorithm, h.Note)
				}
			}
			for _, x := range r.Warnings {
				fmt.Fprintf(w, "  ! %s\n", x)
			}
		}
		switch {
		case !d.Verified && d.Error == "":
			fmt.Fprintln(w, "  nothing to verify: the container holds no checksums or hashes of its own")
		case d.OK:
			fmt.Fprintln(w, "  verified: every check matched")
		default:
			fmt.Fprintln(w, "  NOT VERIFIED: see the lines marked ✗")
		}
	}
}
