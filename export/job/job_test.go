package job

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/afero"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/history"
)

// input is one image of a case, by name.
type input struct {
	name string
	data []byte
}

// openCase scans in-memory copies of the images.
func openCase(t *testing.T, ins []input) *scan.Result {
	t.Helper()
	fs := afero.NewMemMapFs()
	var opened []*scan.Input
	for _, in := range ins {
		p := "/in/" + in.name
		if err := afero.WriteFile(fs, p, in.data, 0o444); err != nil {
			t.Fatal(err)
		}
		o, err := scan.Open(fs, p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { o.Close() })
		opened = append(opened, o)
	}
	return scan.Scan(opened, scan.Options{})
}

// agreeCase is a set of inputs whose every LV is checked.
type agreeCase struct {
	name string
	ins  []input
	// seqnos: old generations to check too (VG name → seqnos).
	seqnos map[string][]uint64
}

func agreeCases(t *testing.T) []agreeCase {
	var cases []agreeCase
	for _, name := range fixture.Names() {
		f := fixture.Load(t, name)
		if name == "corrupt" {
			for _, v := range f.Manifest.Variants {
				cases = append(cases, agreeCase{name: name + "/" + v.File, ins: []input{{v.File, f.Image(t, v.File)}}})
			}
			continue
		}
		all := func(withhold bool, leave string) []input {
			var ins []input
			for _, n := range f.ImageNames(withhold) {
				if n != leave {
					ins = append(ins, input{n + ".img", f.Image(t, n)})
				}
			}
			return ins
		}
		c := agreeCase{name: name, ins: all(false, ""), seqnos: map[string][]uint64{}}
		for _, r := range f.Manifest.RemovedLVs {
			c.seqnos[r.VG] = append(c.seqnos[r.VG], r.LastVGSeqno)
		}
		cases = append(cases, c)
		if len(f.Manifest.Withhold) > 0 {
			cases = append(cases, agreeCase{name: name + " withheld", ins: all(true, "")})
		}
		if name == "multipv" {
			cases = append(cases, agreeCase{name: name + " without pv1", ins: all(false, "pv1")})
		}
	}
	return cases
}

// TestCheckAgreesWithRun: for every LV of every fixture (and withheld,
// partial and damaged variants, and removed LVs at their last
// generation), Check's verdict says exactly whether Run exports it, with
// the default options, AllowPartial, Raw and VerifyLegs; and an export
// Check calls exact is complete (legs aside, which only the export
// compares).
func TestCheckAgreesWithRun(t *testing.T) {
	n := 0
	for _, c := range agreeCases(t) {
		t.Run(c.name, func(t *testing.T) {
			res := openCase(t, c.ins)
			h := history.Scan(res, history.Options{})
			var vgs []*scan.VG
			vgs = append(vgs, res.VGs...)
			for name, seqnos := range c.seqnos {
				for _, s := range seqnos {
					vg, err := h.Open(res, name, s)
					if errors.Is(err, history.ErrNoGeneration) {
						continue // overwritten since: the manifest says so too
					}
					if err != nil {
						t.Fatalf("%s seqno %d: %v", name, s, err)
					}
					vgs = append(vgs, vg)
				}
			}
			for _, vg := range vgs {
				for _, lv := range vg.Meta.LVs {
					for _, opt := range []Options{{}, {AllowPartial: true}, {Raw: true}, {VerifyLegs: true}} {
						v := Check(res, vg, lv, h, opt)
						out := filepath.Join("/out", DefaultOutput(vg.Meta.Name, lv.Name))
						mem := afero.NewMemMapFs()
						oc, err := Run(context.Background(), &Request{Result: res, History: h, VG: vg, LV: lv, Options: opt,
							Output: out, FS: export.AferoFS{Fs: mem}, ToolVersion: "test"})
						n++
						what := vg.Meta.Name + "/" + lv.Name
						if v.Old {
							what += " seqno " + jsonText(vg.Meta.Seqno)
						}
						if v.Exportable != (err == nil) {
							t.Errorf("%s %+v: Check says exportable=%v (%s), Run: %v", what, opt, v.Exportable, v.Reason, err)
							continue
						}
						if err != nil {
							if ok, _ := afero.Exists(mem, out); ok {
								t.Errorf("%s: refused, but %s exists", what, out)
							}
							var ne *NotExportableError
							if !errors.As(err, &ne) {
								t.Errorf("%s: Run failed with %v, not the verdict", what, err)
							}
							if strings.Count(err.Error(), "allow-partial") > 1 {
								t.Errorf("%s: the hint is given twice: %v", what, err)
							}
							continue
						}
						if oc.Complete != v.Exact() && !(opt.VerifyLegs && oc.Legs != nil && len(oc.Legs.Diffs) > 0) {
							t.Errorf("%s %+v: Check says exact=%v, Run complete=%v: %q", what, opt, v.Exact(), oc.Complete, oc.Warnings)
						}
						if !oc.Complete && len(oc.Warnings) == 0 {
							t.Errorf("%s: incomplete without a warning", what)
						}
						if len(v.Rebuilt) != len(oc.Provenance.RebuiltRanges) {
							t.Errorf("%s: Check lists %d rebuilt ranges, the record %d", what, len(v.Rebuilt), len(oc.Provenance.RebuiltRanges))
						}
						b, rerr := afero.ReadFile(mem, out+".json")
						var p struct {
							SHA256 string `json:"sha256"`
						}
						if rerr != nil || json.Unmarshal(b, &p) != nil || p.SHA256 != oc.Result.SHA256 {
							t.Errorf("%s: provenance on the output FS: %v %s", what, rerr, b)
						}
						if oc.Path != out || oc.ProvenancePath != out+".json" {
							t.Errorf("%s: paths %q %q", what, oc.Path, oc.ProvenancePath)
						}
					}
				}
			}
		})
	}
	t.Logf("%d checks against exports", n)
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// fixtureResult scans a fixture's images (all of them).
func fixtureResult(t *testing.T, name string, leave ...string) *scan.Result {
	t.Helper()
	f := fixture.Load(t, name)
	var ins []input
	for _, n := range f.ImageNames(false) {
		skip := false
		for _, l := range leave {
			skip = skip || l == n
		}
		if !skip {
			ins = append(ins, input{n + ".img", f.Image(t, n)})
		}
	}
	return openCase(t, ins)
}

// TestReusedExtentsSaid: gamma at seqno 7 of multiseg is exported, not
// complete, and the warning names the LV that now holds its extents.
func TestReusedExtentsSaid(t *testing.T) {
	res := fixtureResult(t, "multiseg")
	h := history.Scan(res, history.Options{})
	vg, err := h.Open(res, "multiseg", 7)
	if err != nil {
		t.Fatal(err)
	}
	lv := vg.Meta.LV("gamma")
	v := Check(res, vg, lv, h, Options{})
	lines := strings.Join(v.Lines(), "\n")
	if !v.Exportable || v.Exact() || !strings.Contains(lines, "epsilon") || !strings.Contains(lines, "of its 12 extents") {
		t.Errorf("verdict: %s", lines)
	}
	if c := strings.Join(CommandFor(&Request{Result: res, VG: vg, LV: lv, Output: "/o/g.img", Options: Options{MD5: true}}), " "); c != "lvminspect export --md5 --seqno 7 -o /o/g.img multiseg/gamma /in/pv0.img" {
		t.Errorf("CommandFor: %s", c)
	}
	// Without the history given, Run scans it itself (once).
	oc, err := Run(context.Background(), &Request{Result: res, VG: vg, LV: lv, Output: "-", Stdout: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	w := strings.Join(oc.Warnings, "\n")
	if oc.Complete || !strings.Contains(w, "given to LV epsilon by seqno") || !strings.Contains(w, "of the 12 extents") {
		t.Errorf("warnings: %s", w)
	}
	if !strings.HasPrefix(oc.Summary(), "! ") {
		t.Errorf("summary %q", oc.Summary())
	}
	// The current generation needs no history: nothing reused.
	cur := res.VGs[0]
	for _, lv := range cur.Meta.LVs {
		if v := Check(res, cur, lv, nil, Options{}); len(v.Reused) != 0 || len(v.Notes) != 0 {
			t.Errorf("%s: %+v", lv.Name, v)
		}
	}
}

// TestPartialVerdictAndWarnings: span of multipv without pv1 is refused
// with the hint once, exported with AllowPartial with the zero-filled
// range listed.
func TestPartialVerdictAndWarnings(t *testing.T) {
	res := fixtureResult(t, "multipv", "pv1")
	vg := res.VGs[0]
	lv := vg.Meta.LV("span")
	v := Check(res, vg, lv, nil, Options{})
	if v.Exportable || v.MissingBytes != 10<<20 || strings.Count(v.Reason, "--allow-partial") != 1 {
		t.Errorf("verdict %+v", v)
	}
	if l := v.Lines(); !strings.HasPrefix(l[0], "✗ cannot export: 10.00 MiB of ") {
		t.Errorf("lines %q", l)
	}
	_, err := Run(context.Background(), &Request{Result: res, VG: vg, LV: lv, Output: "-", Stdout: io.Discard})
	var me *export.MissingError
	if !errors.As(err, &me) || strings.Count(err.Error(), "allow-partial") != 1 {
		t.Errorf("Run: %v", err)
	}
	v = Check(res, vg, lv, nil, Options{AllowPartial: true})
	if !v.Exportable || v.Exact() || !strings.HasPrefix(v.Lines()[1], "! 10.00 MiB of ") {
		t.Errorf("partial verdict %q", v.Lines())
	}
	oc, err := Run(context.Background(), &Request{Result: res, VG: vg, LV: lv, Output: "-", Stdout: io.Discard, Options: Options{AllowPartial: true}})
	if err != nil {
		t.Fatal(err)
	}
	if oc.Complete || len(oc.Warnings) < 2 || !strings.Contains(oc.Warnings[0], "exported as zeros") {
		t.Errorf("warnings %q", oc.Warnings)
	}
}

// TestRebuiltSaid: a raid5 LV of the degraded fixture is exact, but the
// warnings and the verdict say which ranges were rebuilt and why.
func TestRebuiltSaid(t *testing.T) {
	f := fixture.Load(t, "raid5-degraded")
	var ins []input
	for _, n := range f.ImageNames(true) {
		ins = append(ins, input{n + ".img", f.Image(t, n)})
	}
	res := openCase(t, ins)
	found := false
	for _, vg := range res.VGs {
		for _, lv := range vg.Meta.LVs {
			if !vg.Meta.Shown(lv) {
				continue
			}
			v := Check(res, vg, lv, nil, Options{})
			if len(v.Rebuilt) == 0 {
				continue
			}
			found = true
			oc, err := Run(context.Background(), &Request{Result: res, VG: vg, LV: lv, Output: "-", Stdout: io.Discard})
			if err != nil {
				t.Fatal(err)
			}
			if !oc.Complete || len(oc.Warnings) != 0 || !strings.Contains(strings.Join(oc.Notes, "\n"), "rebuilt from raid5 parity") {
				t.Errorf("%s: complete %v, warnings %q, notes %q", lv.Name, oc.Complete, oc.Warnings, oc.Notes)
			}
			if !strings.HasPrefix(v.Lines()[0], "✓ can be exported") {
				t.Errorf("%s: %q", lv.Name, v.Lines())
			}
		}
	}
	if !found {
		t.Fatal("no LV rebuilt from parity")
	}
}

func TestDefaultOutputAndRedact(t *testing.T) {
	for in, want := range map[[2]string]string{
		{"vg", "lv"}:        "vg/lv.img",
		{"..", "a/b"}:       "_../a_b.img",
		{"-x", "\x1b[31m"}:  "_x/__31m.img",
		{"", "r5_rimage_0"}: "_/r5_rimage_0.img",
	} {
		if got := DefaultOutput(in[0], in[1]); got != filepath.FromSlash(want) {
			t.Errorf("DefaultOutput(%q, %q) = %q, want %q", in[0], in[1], got, want)
		}
	}
	secretFlags["--passphrase"] = true
	defer delete(secretFlags, "--passphrase")
	got := Redact([]string{"export", "--passphrase", "x", "--passphrase=y", "vg/lv"})
	if strings.Join(got, " ") != "export --passphrase (redacted) --passphrase=(redacted) vg/lv" {
		t.Errorf("Redact: %q", got)
	}
	if a := AbsOutput("x.img"); !filepath.IsAbs(a) || AbsOutput("-") != "-" {
		t.Errorf("AbsOutput %q", a)
	}
}

func TestSameFilesystem(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.img")
	if err := afero.WriteFile(afero.NewOsFs(), in, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	same, err := SameFilesystem(filepath.Join(dir, "new", "sub", "out.img"), []string{in})
	if err != nil || !same {
		t.Errorf("beside the input: %v %v", same, err)
	}
	same, err = SameFilesystem("/proc/self/out.img", []string{in})
	if err != nil || same {
		t.Errorf("on /proc: %v %v", same, err)
	}
}
