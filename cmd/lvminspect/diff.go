package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/lvminspect/lvminspect/internal/termsafe"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/history"
)

// jsonDiff is `diff --json` (docs/history-json.md).
type jsonDiff struct {
	Tool    string `json:"tool"`
	Version string `json:"version"`
	*history.VGDiff
}

func newDiffCmd() *cobra.Command {
	var asJSON bool
	var opt scan.Options
	var vgName string
	cmd := &cobra.Command{
		Use:   "diff [--json] --vg NAME SEQNO_A SEQNO_B PATH...",
		Short: "Compare two metadata generations of a volume group",
		Long: `diff finds generations SEQNO_A and SEQNO_B of VG NAME (a name, as any of its
generations names it, or the VG UUID) in the metadata areas of the PATHs (see
'lvminspect history') and lists what changed from A to B: LVs added, removed,
renamed (same UUID) or resized; segments added, removed, moved to other
extents or resized; status, flags and tags; PVs added or removed; VG keys.

With --json it prints the schema documented in docs/history-json.md.

Exit status:
  0  both generations were found and compared (whether or not they differ)
  1  a generation was not found, or the two belong to different VGs
  2  usage error, or an input could not be opened`,
		Args: usageArgs(cobra.MinimumNArgs(3)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if vgName == "" {
				return usageErrorOf(cmd, errors.New("--vg NAME is required"))
			}
			var seq [2]uint64
			for i := range seq {
				n, err := strconv.ParseUint(args[i], 10, 64)
				if err != nil {
					return usageError(fmt.Errorf("seqno %q is not a number (give SEQNO_A SEQNO_B, then the PATHs)", args[i]))
				}
				seq[i] = n
			}
			res, closeAll, err := scanInputs(args[2:], opt)
			if err != nil {
				return err
			}
			defer closeAll()
			h := history.Scan(res, history.Options{})
			var gens [2]*history.Generation
			for i := range gens {
				g, err := h.Find(vgName, seq[i])
				if err != nil {
					return &exitError{code: exitFailed, err: err}
				}
				gens[i] = g
			}
			if gens[0].Key() != gens[1].Key() {
				return &exitError{code: exitFailed, err: fmt.Errorf("VG %s: seqno %d and %d belong to different VGs (%s, %s): give the VG UUID",
					vgName, seq[0], seq[1], gens[0].VGUUID, gens[1].VGUUID)}
			}
			a, b := gens[0].Model(), gens[1].Model()
			if a == nil || b == nil {
				return &exitError{code: exitFailed, err: fmt.Errorf("VG %s: the text of seqno %d or %d can no longer be read from its input", vgName, seq[0], seq[1])}
			}
			d := history.Diff(a, b)
			w := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(jsonDiff{Tool: "lvminspect", Version: Version(), VGDiff: d})
			}
			// Every value from the disks is escaped on its own: the
			// diff's text is written in one piece, where a newline in a
			// tag would start a line of its own.
			return escapeStrings(d).WriteText(termsafe.Writer{W: w})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON (schema: docs/history-json.md)")
	cmd.Flags().StringVar(&vgName, "vg", "", "the VG (name or UUID); required")
	addScanFlags(cmd.Flags(), &opt)
	return cmd
}

// escapeStrings returns a deep copy of v with every string escaped as
// termsafe.Text does (control characters, newlines included, as visible
// escapes), for text written in one piece whose values come from disks.
// Unexported fields are copied as they are.
func escapeStrings[T any](v T) T {
	out := reflect.New(reflect.TypeOf(&v).Elem()).Elem()
	escapeValue(out, reflect.ValueOf(&v).Elem())
	return out.Interface().(T)
}

func escapeValue(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.String:
		dst.SetString(termsafe.Text(src.String()))
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		dst.Set(reflect.New(src.Type().Elem()))
		escapeValue(dst.Elem(), src.Elem())
	case reflect.Struct:
		dst.Set(src) // unexported fields as they are
		for i := 0; i < src.NumField(); i++ {
			if dst.Field(i).CanSet() {
				escapeValue(dst.Field(i), src.Field(i))
			}
		}
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		dst.Set(reflect.MakeSlice(src.Type(), src.Len(), src.Len()))
		for i := 0; i < src.Len(); i++ {
			escapeValue(dst.Index(i), src.Index(i))
		}
	case reflect.Array:
		for i := 0; i < src.Len(); i++ {
			escapeValue(dst.Index(i), src.Index(i))
		}
	case reflect.Map:
		if src.IsNil() {
			return
		}
		dst.Set(reflect.MakeMapWithSize(src.Type(), src.Len()))
		it := src.MapRange()
		for it.Next() {
			k := reflect.New(src.Type().Key()).Elem()
			escapeValue(k, it.Key())
			e := reflect.New(src.Type().Elem()).Elem()
			escapeValue(e, it.Value())
			dst.SetMapIndex(k, e)
		}
	case reflect.Interface:
		if src.IsNil() {
			return
		}
		e := reflect.New(src.Elem().Type()).Elem()
		escapeValue(e, src.Elem())
		dst.Set(e)
	default:
		dst.Set(src)
	}
}
