package ui

import (
	"fmt"

	"github.com/lvminspect/lvminspect/export/job"
	"github.com/lvminspect/lvminspect/export/volume"
	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/history"
)

// safeCheck is the export verdict of an LV with opt: job.Check, the one
// function `scan`, `export` and the inspector's details and export pane
// share, with a panic (a damaged disk) turned into a verdict. It opens
// the LV, so it runs in a command, never in Update.
func safeCheck(res *scan.Result, vg *scan.VG, lv *model.LV, h *history.History, opt job.Options) (v *job.Verdict) {
	defer func() {
		if r := recover(); r != nil {
			v = &job.Verdict{VG: vg.Meta.Name, LV: lv.Name, Reason: fmt.Sprintf("internal error while checking: %v", r)}
		}
	}()
	return job.Check(res, vg, lv, h, opt)
}

// safeFacts is what lvs would show of an LV (export/lvfacts), with a
// panic turned into a problem. For a past generation it is only what its
// metadata says, as `scan --seqno` shows it: how full a pool or a snapshot
// is would be read from today's data.
func safeFacts(r *volume.Resolver, lv *model.LV, past bool) (f *lvFacts) {
	defer func() {
		if p := recover(); p != nil {
			f = &lvFacts{Attr: "----------", Type: lvTypes(lv), Size: r.VG.LVSize(lv), Problems: []string{fmt.Sprintf("internal error: %v", p)}}
		}
	}()
	if past {
		return cheapFacts(r, lv)
	}
	return factsOf(r, lv)
}
