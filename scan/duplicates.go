package scan

import (
	"bytes"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/lvminspect/lvminspect/model"
)

// A PV UUID found on more than one input (a cloned disk, multipath, a raw
// snapshot next to its origin) is one PV to LVM: which copy is read
// decides what an export holds. Copies that are the same are fine (the
// first is used, and said); copies that differ are a choice the examiner
// must make, with Options.PVs (--pv UUID=PATH): until then, LVs that use
// the PV are listed from the first copy but not exported.

// dupInfo is what the scan knows about one duplicated PV UUID.
type dupInfo struct {
	used     *PV   // the PV read
	others   []*PV // the other PVs with its UUID: never read
	conflict string
}

// sampleBytes bounds how much of the data each other copy has compared
// with the used one, in sampleBlock pieces spread over the extents that
// LVs use.
const (
	sampleBytes = 16 << 20
	sampleBlock = 64 << 10
)

// where names a PV found on an input: "PATH" or "PATH at offset N".
func where(pv *PV) string {
	if pv.Offset == 0 {
		return pv.Path
	}
	return fmt.Sprintf("%s at offset %d", pv.Path, pv.Offset)
}

// ParsePVChoice reads the value of --pv: "UUID=PATH" or
// "UUID=PATH@OFFSET" (a PV inside an input, at that byte). The UUID is
// returned bare.
func ParsePVChoice(s string) (uuid, path string, err error) {
	u, p, ok := strings.Cut(s, "=")
	if !ok || p == "" {
		return "", "", fmt.Errorf("--pv %q: give UUID=PATH (the PV UUID and the input to read it from)", s)
	}
	if !model.ValidUUID(u) {
		return "", "", fmt.Errorf("--pv %q: %q is not a PV UUID (32 characters, dashes allowed)", s, u)
	}
	return model.BareUUID(u), p, nil
}

// chosen reports whether pv is what choice ("PATH" or "PATH@OFFSET")
// names.
func chosen(pv *PV, choice string) bool {
	if choice == pv.Path {
		return true
	}
	if i := strings.LastIndexByte(choice, '@'); i > 0 {
		off, err := strconv.ParseInt(choice[i+1:], 10, 64)
		return err == nil && choice[:i] == pv.Path && off == pv.Offset
	}
	return false
}

// resolveDuplicates finds the PV UUIDs on more than one input, picks the
// one to read (the chosen one, else the first) and moves it first among
// them in res.PVs, compares the others with it, and says what it found.
// It returns the PVs not to read.
func resolveDuplicates(res *Result, opt Options) map[*PV]bool {
	groups := map[string][]int{}
	var order []string
	for i, pv := range res.PVs {
		u := pv.Label.Header.UUID
		if _, ok := groups[u]; !ok {
			order = append(order, u)
		}
		groups[u] = append(groups[u], i)
	}
	choices := map[string]string{}
	for u, p := range opt.PVs {
		choices[model.BareUUID(u)] = p
	}
	skip := map[*PV]bool{}
	for _, u := range order {
		idx := groups[u]
		choice, hasChoice := choices[u]
		delete(choices, u)
		if len(idx) < 2 {
			if hasChoice && !chosen(res.PVs[idx[0]], choice) {
				res.Problems = append(res.Problems, Problem{Severity: SevError, Path: res.PVs[idx[0]].Path,
					Msg: fmt.Sprintf("--pv %s=%s: PV %s is only on %s", model.DashedUUID(u), choice, model.DashedUUID(u), where(res.PVs[idx[0]]))})
			}
			continue
		}
		pvs := make([]*PV, len(idx))
		for k, i := range idx {
			pvs[k] = res.PVs[i]
		}
		var names []string
		for _, pv := range pvs {
			names = append(names, where(pv))
		}
		list := strings.Join(names, " and ")
		d := &dupInfo{used: pvs[0]}
		if hasChoice {
			for _, pv := range pvs {
				if chosen(pv, choice) {
					d.used = pv
				}
			}
			if !chosen(d.used, choice) {
				d.conflict = fmt.Sprintf("--pv %s=%s names none of the PVs of that UUID, which are on %s", model.DashedUUID(u), choice, list)
				res.Problems = append(res.Problems, Problem{Severity: SevError, Path: pvs[0].Path, Structure: "pv_header", Field: "pv_uuid",
					Msg: d.conflict + "; give one of those paths (PATH@OFFSET for a PV inside an input)"})
			}
		}
		for _, pv := range pvs {
			if pv != d.used {
				d.others = append(d.others, pv)
				skip[pv] = true
			}
		}
		// The PV read comes first among them, where every lookup by UUID
		// finds it.
		for k, i := range idx {
			if k == 0 {
				res.PVs[i] = d.used
			} else {
				res.PVs[i] = d.others[k-1]
			}
		}
		switch {
		case d.conflict != "":
		case hasChoice:
			res.Problems = append(res.Problems, Problem{Severity: SevInfo, Path: d.used.Path, Off: d.used.Offset, Structure: "pv_header", Field: "pv_uuid",
				Msg: fmt.Sprintf("PV UUID %s is on %s: --pv chose %s; the other is not read", model.DashedUUID(u), list, where(d.used))})
		default:
			var diffs []string
			for _, o := range d.others {
				if why := differ(d.used, o); why != "" && len(d.others) == 1 {
					diffs = append(diffs, why)
				} else if why != "" {
					diffs = append(diffs, fmt.Sprintf("%s: %s", where(o), why))
				}
			}
			if len(diffs) > 0 {
				d.conflict = fmt.Sprintf("PV UUID %s is on %s, which differ (%s): which one is the PV is the examiner's choice; choose with --pv %s=PATH",
					model.DashedUUID(u), list, strings.Join(diffs, "; "), model.DashedUUID(u))
				res.Problems = append(res.Problems, Problem{Severity: SevError, Path: d.used.Path, Off: d.used.Offset, Structure: "pv_header", Field: "pv_uuid",
					Msg: d.conflict + "; until then its VG is listed from " + where(d.used) + " and its LVs are not exported"})
			} else {
				res.Problems = append(res.Problems, Problem{Severity: SevWarn, Path: d.used.Path, Off: d.used.Offset, Structure: "pv_header", Field: "pv_uuid",
					Msg: fmt.Sprintf("PV UUID %s is on %s (a cloned disk, multipath or a raw snapshot?): the same label, PV header and metadata, and the same data where compared (up to %d MiB of the extents LVs use); %s is read (--pv %s=PATH chooses)",
						model.DashedUUID(u), list, sampleBytes>>20, where(d.used), model.DashedUUID(u))})
			}
		}
		if res.dups == nil {
			res.dups = map[string]*dupInfo{}
		}
		res.dups[u] = d
	}
	for u, p := range choices {
		res.Problems = append(res.Problems, Problem{Severity: SevError,
			Msg: fmt.Sprintf("--pv %s=%s: no PV with that UUID was found", model.DashedUUID(u), p)})
	}
	return skip
}

// differ says how two PVs of one UUID differ, "" when they do not where
// compared: label and PV header, metadata areas and their committed
// copies, then samples of the data of the extents the VG's LVs use.
func differ(a, b *PV) string {
	ha, hb := *a.Label.Header, *b.Label.Header
	ha.Struct, hb.Struct = model.Structure{}, model.Structure{}
	if !reflect.DeepEqual(ha, hb) {
		return "their PV headers differ"
	}
	if a.Size != b.Size {
		return fmt.Sprintf("%d and %d bytes readable", a.Size, b.Size)
	}
	if len(a.MDAs) != len(b.MDAs) {
		return "their metadata areas differ"
	}
	var vg *model.VG
	for i := range a.MDAs {
		ca, cb := a.MDAs[i].Committed, b.MDAs[i].Committed
		switch {
		case (ca == nil || ca.TextCopy == nil) != (cb == nil || cb.TextCopy == nil):
			return fmt.Sprintf("only one has committed metadata in mda%d", i+1)
		case ca == nil || ca.TextCopy == nil:
		case ca.Computed != cb.Computed || ca.Size != cb.Size:
			sa, sb := "unparsed", "unparsed"
			if ca.VG != nil {
				sa = fmt.Sprint("seqno ", ca.VG.Seqno)
			}
			if cb.VG != nil {
				sb = fmt.Sprint("seqno ", cb.VG.Seqno)
			}
			return fmt.Sprintf("their committed metadata in mda%d differs (%s, checksum %#08x; %s, checksum %#08x)", i+1, sa, ca.Computed, sb, cb.Computed)
		case vg == nil && ca.Usable():
			vg = ca.VG
		}
	}
	return differentData(a, b, vg)
}

// differentData compares up to sampleBytes of the two PVs, spread over
// the extents vg's LVs use on them (the whole PV when vg is nil), and says
// where the first difference is.
func differentData(a, b *PV, vg *model.VG) string {
	type span struct{ off, n int64 }
	var spans []span
	var total int64
	if vg != nil {
		var me *model.PV
		for _, p := range vg.PVs {
			if model.BareUUID(p.UUID) == a.Label.Header.UUID {
				me = p
			}
		}
		eb := vg.ExtentBytes()
		if me != nil && eb > 0 {
			start := int64(me.PEStart) * model.SectorSize
			for _, r := range vg.PVUsage()[me.Label] {
				off, n := start+int64(r.Start)*eb, int64(r.Len())*eb
				if off < 0 || n <= 0 || off >= a.Size {
					continue
				}
				n = min(n, a.Size-off)
				spans = append(spans, span{off, n})
				total += n
			}
		}
	} else {
		spans, total = []span{{0, a.Size}}, a.Size
	}
	if total <= 0 {
		return ""
	}
	blocks := int64(sampleBytes / sampleBlock)
	step := max(total/blocks, sampleBlock)
	ba, bb := make([]byte, sampleBlock), make([]byte, sampleBlock)
	// One sample every step bytes of the used data, spans one after the
	// other.
	next, seen := int64(0), int64(0)
	for _, s := range spans {
		for next < seen+s.n {
			off := s.off + (next - seen)
			n := min(int64(sampleBlock), s.off+s.n-off)
			ma, _ := a.R.ReadAt(ba[:n], off)
			mb, _ := b.R.ReadAt(bb[:n], off)
			if ma != mb {
				return fmt.Sprintf("only %d and %d bytes at PV byte %d can be read", ma, mb, off)
			}
			if i := firstDiff(ba[:ma], bb[:mb]); i >= 0 {
				return fmt.Sprintf("their data differs at PV byte %d", off+int64(i))
			}
			next += step
		}
		seen += s.n
	}
	return ""
}

// firstDiff is the index of the first byte where a and b (of one length)
// differ, -1 when none.
func firstDiff(a, b []byte) int {
	if bytes.Equal(a, b) {
		return -1
	}
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}
