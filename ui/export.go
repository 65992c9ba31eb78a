package ui

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/progress"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/export/record"
	_ "github.com/lvminspect/lvminspect/export/segtypes" // every segment type with an opener exports and shows in hex
	"github.com/lvminspect/lvminspect/export/volume"
	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan"
)

// exportJob is one export running in the background. Progress comes over
// a one-slot channel where the newest value wins, so a fast export sends
// about ten messages a second, not one per chunk.
type exportJob struct {
	id      int
	vg, lv  string
	seqno   uint64 // generation exported
	asOf    bool   // a past generation
	path    string
	src     export.Source
	cancel  context.CancelFunc
	prog    chan export.Progress
	done    chan exportDoneMsg
	ended   chan struct{} // closed when the engine has returned
	last    export.Progress
	started time.Time
	bar     progress.Model
	stopped bool // esc was pressed
}

// exportProgressMsg carries a progress snapshot of job id.
type exportProgressMsg struct {
	id int
	p  export.Progress
}

// exportDoneMsg says job id ended, with its result or error.
type exportDoneMsg struct {
	id  int
	res *export.Result
	err error
}

// exportPlan is an export the user is being asked about (path, overwrite).
type exportPlan struct {
	vg, lv string
	seqno  uint64
	asOf   bool
	src    export.Source
	force  bool

	// For the provenance record written beside the image.
	res   *scan.Result
	svg   *scan.VG
	mlv   *model.LV
	toolV string
}

// planExport opens the LV of the viewed generation as an export source,
// or says why it cannot be exported.
func planExport(n *node) (*exportPlan, error) {
	if n == nil || n.kind != kLV {
		return nil, errors.New("select a logical volume to export")
	}
	src, err := volume.FromScan(n.vg.vg).OpenLV(n.lv)
	if err != nil {
		return nil, fmt.Errorf("cannot export %s/%s: %w", n.vg.vg.Meta.Name, n.lv.Name, err)
	}
	if mr, ok := missingRanges(src); ok {
		return nil, fmt.Errorf("cannot export %s/%s: %s", n.vg.vg.Meta.Name, n.lv.Name, mr)
	}
	return &exportPlan{vg: n.vg.vg.Meta.Name, lv: n.lv.Name, seqno: n.vg.vg.Meta.Seqno, asOf: n.vg.travelling(), src: src,
		svg: n.vg.vg, mlv: n.lv}, nil
}

// missingRanges says which bytes of the LV have no source (a missing PV,
// a truncated image), looking at the runs only; it reads no data.
func missingRanges(src export.Source) (string, bool) {
	missing, why, err := export.MissingBytes(src)
	if err != nil {
		return err.Error(), true
	}
	if missing == 0 {
		return "", false
	}
	return fmt.Sprintf("%s of the LV have no source (%s)", sizeText(missing), why), true
}

// defaultExportPath is ./VG/LV.img.
func defaultExportPath(vg, lv string) string { return "./" + vg + "/" + lv + ".img" }

// startExport starts the export and returns the command that listens
// for its progress.
func startExport(id int, p *exportPlan, path string, fsys export.FS) (*exportJob, tea.Cmd) {
	ctx, cancel := context.WithCancel(context.Background())
	j := &exportJob{id: id, vg: p.vg, lv: p.lv, seqno: p.seqno, asOf: p.asOf, path: path, src: p.src, cancel: cancel,
		prog: make(chan export.Progress, 1), done: make(chan exportDoneMsg, 1), ended: make(chan struct{}), started: time.Now(),
		bar: progress.New(progress.WithDefaultGradient(), progress.WithoutPercentage(), progress.WithColorProfile(lipgloss.ColorProfile()))}
	j.last.Total = p.src.Size()
	opt := export.Options{Output: path, Force: p.force, Sparse: true, FS: fsys, Progress: j.report, Protect: p.inputPaths()}
	go func() {
		res, err := export.Export(ctx, p.src, opt)
		if _, onOS := fsys.(export.OSFS); err == nil && onOS && p.res != nil {
			// Exports to the OS get their provenance record, as on the
			// command line.
			if pp := export.ProvenancePath(res.Path); pp != "" {
				if perr := export.WriteProvenance(pp, record.Build(p.res, p.svg, p.mlv, p.src, res, p.toolV)); perr != nil {
					err = fmt.Errorf("image written (sha256 %s), but its provenance record failed: %w", res.SHA256, perr)
				}
			}
		}
		j.done <- exportDoneMsg{id: id, res: res, err: err}
		close(j.ended)
	}()
	return j, j.listen()
}

// report is the engine's progress callback: keep only the newest value.
func (j *exportJob) report(p export.Progress) {
	select {
	case j.prog <- p:
		return
	default:
	}
	select {
	case <-j.prog:
	default:
	}
	select {
	case j.prog <- p:
	default:
	}
}

// listen waits for the next progress snapshot or the end.
func (j *exportJob) listen() tea.Cmd {
	return func() tea.Msg {
		select {
		case p := <-j.prog:
			return exportProgressMsg{id: j.id, p: p}
		case d := <-j.done:
			return d
		}
	}
}

// view draws the progress bar with rate and ETA, width columns wide.
func (j *exportJob) view(st *Styles, width int) string {
	p := j.last
	pct := 0.0
	if p.Total > 0 {
		pct = float64(p.Done) / float64(p.Total)
	}
	head := fmt.Sprintf("Exporting %s/%s → %s", j.vg, j.lv, j.path)
	if j.asOf {
		head += fmt.Sprintf(" (as of seqno %d)", j.seqno)
	}
	if j.stopped {
		head += " · cancelling…"
	}
	info := fmt.Sprintf(" %3.0f%% %s/%s", pct*100, sizeText(p.Done), sizeText(p.Total))
	if p.Rate > 0 {
		info += fmt.Sprintf(" %s/s", sizeText(int64(p.Rate)))
	}
	if p.ETA > 0 {
		info += " ETA " + durText(p.ETA)
	}
	j.bar.Width = max(width-len([]rune(info))-1, 10)
	return st.Prompt.Label.Render(head) + "\n" + j.bar.ViewAs(pct) + info
}

// exportDoneText is the status line of a finished export.
func exportDoneText(j *exportJob, d exportDoneMsg) (string, level) {
	if d.err == nil {
		gen := ""
		if j.asOf {
			gen = fmt.Sprintf(" as of seqno %d", j.seqno)
		}
		s := fmt.Sprintf("✓ exported %s/%s%s to %s (%s) sha256 %s", j.vg, j.lv, gen, d.res.Path, sizeText(d.res.Size), d.res.SHA256)
		return s, levelGood
	}
	if errors.Is(d.err, context.Canceled) {
		return fmt.Sprintf("export of %s/%s cancelled; nothing was left at %s", j.vg, j.lv, j.path), levelWarn
	}
	return "✗ export failed: " + d.err.Error(), levelErr
}

// outputExists reports whether path exists on fsys.
func outputExists(fsys export.FS, path string) (bool, error) {
	_, err := fsys.Lstat(strings.TrimSpace(path))
	if err == nil {
		return true, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return false, err
}

// inputPaths are the inputs the plan reads from, which an export must
// never replace.
func (p *exportPlan) inputPaths() []string {
	if p.res == nil {
		return nil
	}
	var out []string
	for _, in := range p.res.Inputs {
		out = append(out, in.Path)
	}
	return out
}
