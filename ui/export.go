package ui

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/progress"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/export/job"
	"github.com/lvminspect/lvminspect/internal/format"
	"github.com/lvminspect/lvminspect/internal/termsafe"
	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan"
)

// exportState is what the export pane shows.
type exportState int

const (
	exportForm    exportState = iota // asking how to export
	exportRunning                    // the export runs
	exportDone                       // its outcome
)

// exportOption is one choice of the form, the same as a flag of the
// export command.
type exportOption struct {
	flag, what string
	v          func(o *job.Options) *bool
	lvOnly     bool // not for a device (export --device refuses it)
}

var exportOptions = []exportOption{
	{"--allow-partial", "missing bytes as zeros", func(o *job.Options) *bool { return &o.AllowPartial }, false},
	{"--raw", "own extents as stored", func(o *job.Options) *bool { return &o.Raw }, true},
	{"--md5", "an MD5 too", func(o *job.Options) *bool { return &o.MD5 }, false},
	{"--verify-legs", "compare mirror/raid1 legs", func(o *job.Options) *bool { return &o.VerifyLegs }, true},
	{"--hash-inputs", "SHA-256 of every input", func(o *job.Options) *bool { return &o.HashInputs }, false},
}

// exportPane is the export of one LV, or of one device of the graph (a
// partition, a container's virtual disk, an LV read as a disk): a form
// with the export command's options, the output path (shown absolute,
// with a warning when it is on the file system of an input) and the
// verdict of job.Check (job.CheckDevice) for those options; then the
// export, run by job.Run (job.RunDevice) as the export command runs it,
// with its progress; then its outcome.
type exportPane struct {
	s    *session
	h    host
	keys *ExportKeys
	acts []action

	state exportState
	vg    *scan.VG
	lv    *model.LV
	dev   *scan.Node // a device instead of vg/lv
	asOf  bool       // a past generation
	opts  job.Options
	field int // 0: the path, then exportOptions
	path  textinput.Model
	same  map[string]string // SameFilesystem's warning by path ("" none)

	run     *exportRun
	outcome *job.Outcome
	err     error
	width   int
	height  int
}

// exportRun is one export running in the background. Progress comes over
// a one-slot channel where the newest value wins, so a fast export sends
// about ten messages a second, not one per chunk.
type exportRun struct {
	id      int
	path    string
	cancel  context.CancelFunc
	prog    chan export.Progress
	stage   chan string
	done    chan exportDoneMsg
	ended   chan struct{} // closed when job.Run has returned
	last    export.Progress
	step    string
	started time.Time
	bar     progress.Model
	stopped bool // esc was pressed
	quit    bool // quit when it ends
}

// exportProgressMsg carries a progress snapshot of run id.
type exportProgressMsg struct {
	id    int
	p     export.Progress
	stage string
}

// exportDoneMsg says run id ended, with its outcome or error.
type exportDoneMsg struct {
	id  int
	oc  *job.Outcome
	err error
}

// sameFSMsg carries SameFilesystem's answer for a path.
type sameFSMsg struct {
	path, warning string
}

var runs int // numbers the export runs

func newExportPane(s *session, h host, k *ExportKeys) *exportPane {
	e := &exportPane{s: s, h: h, keys: k, same: map[string]string{}}
	e.path = textinput.New()
	e.path.CharLimit = 4096
	e.path.Cursor.SetMode(cursor.CursorStatic) // no blink: no timer runs while typing
	e.path.Prompt = ""
	form := func() bool { return e.state == exportForm }
	e.acts = []action{
		{b: &k.NextField, on: form, do: func() tea.Cmd { return e.focusField(e.field + 1) }},
		{b: &k.PrevField, on: form, do: func() tea.Cmd { return e.focusField(e.field - 1) }},
		{b: &k.Toggle, on: func() bool { return form() && e.field > 0 }, do: e.toggle},
		{b: &k.Start, on: form, do: e.start},
		{b: &k.Cancel, on: form, do: func() tea.Cmd {
			e.h.capture(modeBrowse)
			e.h.setStatus("export cancelled", levelInfo)
			return e.h.back()
		}},
		{b: &k.Stop, on: func() bool { return e.state == exportRunning && !e.run.stopped }, do: func() tea.Cmd { e.stop(false); return nil }},
		{b: &k.Close, on: func() bool { return e.state == exportDone }, do: e.h.back},
	}
	return e
}

func (e *exportPane) Title() string     { return "Export" }
func (e *exportPane) Keys() keySet      { return e.keys }
func (e *exportPane) actions() []action { return e.acts }

func (e *exportPane) SetSize(w, h int) {
	e.width, e.height = w, h
	e.path.Width = max(w-4, 10)
}

func (e *exportPane) running() bool { return e.state == exportRunning }

// show implements rightPane: the form for an LV. The export pane does
// not follow the tree.
func (e *exportPane) show(n *node, explicit bool) (tea.Cmd, error) {
	switch {
	case !explicit:
		return nil, errors.New("the export does not follow the tree")
	case e.state == exportRunning:
		return nil, errors.New("an export runs already")
	case n == nil || !canExport(n):
		return nil, errors.New("select a logical volume or a device (a partition, a container, what an LV holds) to export")
	}
	e.opts, e.outcome, e.err = job.Options{}, nil, nil
	if n.kind == kLV {
		e.state, e.vg, e.lv, e.dev, e.asOf = exportForm, n.vg.vg, n.lv, nil, n.vg.travelling()
		e.path.SetValue(job.DefaultOutput(e.vg.Meta.Name, e.lv.Name))
	} else {
		e.state, e.vg, e.lv, e.dev, e.asOf = exportForm, nil, nil, n.dev, false
		e.path.SetValue(job.DefaultDeviceOutput(e.dev.ID))
	}
	e.path.CursorEnd()
	e.h.capture(modeForm)
	return tea.Batch(e.focusField(0), e.check()), nil
}

// checkOptions are the options a verdict depends on.
func checkOptions(o job.Options) job.Options {
	return job.Options{AllowPartial: o.AllowPartial, Raw: o.Raw, VerifyLegs: o.VerifyLegs}
}

// check asks for the verdict with the form's options and whether the
// output path shares a file system with an input.
func (e *exportPane) check() tea.Cmd {
	var cmd tea.Cmd
	if e.dev != nil {
		_, cmd = e.s.deviceVerdict(e.dev, checkOptions(e.opts))
	} else {
		_, cmd = e.s.verdict(e.vg, e.lv, checkOptions(e.opts))
	}
	return tea.Batch(cmd, e.checkPath())
}

// verdict is the verdict with the form's options, if worked out.
func (e *exportPane) verdict() (*job.Verdict, bool) {
	if e.dev != nil {
		return e.s.deviceVerdictCached(e.dev, checkOptions(e.opts))
	}
	return e.s.verdictCached(e.vg, e.lv, checkOptions(e.opts))
}

// options are the form's choices: those of the export command for an
// LV, or for a device.
func (e *exportPane) options() []exportOption {
	if e.dev == nil {
		return exportOptions
	}
	var out []exportOption
	for _, o := range exportOptions {
		if !o.lvOnly {
			out = append(out, o)
		}
	}
	return out
}

// what names what is exported: VG/LV, or the device's id.
func (e *exportPane) what() string {
	if e.dev != nil {
		return "device " + e.dev.ID
	}
	return e.vg.Meta.Name + "/" + e.lv.Name
}

// size is how many bytes the export writes.
func (e *exportPane) size() int64 {
	if e.dev != nil {
		return e.dev.Size
	}
	return e.vg.Meta.LVSize(e.lv)
}

func (e *exportPane) checkPath() tea.Cmd {
	p := strings.TrimSpace(e.path.Value())
	if _, ok := e.same[p]; ok || p == "" {
		return nil
	}
	e.same[p] = ""
	inputs := e.inputs()
	return e.s.tasks.run(func() tea.Msg {
		var warn []string
		same, err := job.SameFilesystem(p, inputs)
		switch {
		case err != nil:
			warn = append(warn, "cannot tell whether it is on the file system of an input: "+err.Error())
		case same:
			warn = append(warn, "it is on the same file system as an input: writing there may change the evidence")
		}
		// Left by an export killed without warning (kill -9, a power
		// cut): said, never removed, as the export command does.
		for _, t := range export.StaleTemporaries(filepath.Dir(job.AbsOutput(p))) {
			warn = append(warn, "stale temporary "+t+" from an interrupted export; remove it")
		}
		return sameFSMsg{p, strings.Join(warn, "\n")}
	})
}

// inputs are the paths of the inputs given (the LVs the graph opened as
// disks are not files).
func (e *exportPane) inputs() []string {
	var out []string
	for _, in := range topInputs(e.s.res) {
		out = append(out, in.Path)
	}
	return out
}

func (e *exportPane) focusField(i int) tea.Cmd {
	n := len(e.options())
	e.field = (i + n + 1) % (n + 1)
	if e.field == 0 {
		e.path.Focus() // the cursor does not blink: no timer runs
		return nil
	}
	e.path.Blur()
	return nil
}

func (e *exportPane) toggle() tea.Cmd {
	p := e.options()[e.field-1].v(&e.opts)
	*p = !*p
	return e.check()
}

func (e *exportPane) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		if cmd, ok := dispatch(msg, e.acts); ok {
			return cmd
		}
		if e.state == exportForm && e.field == 0 {
			var cmd tea.Cmd
			e.path, cmd = e.path.Update(msg)
			return tea.Batch(cmd, e.checkPath())
		}
	case sameFSMsg:
		e.same[msg.path] = msg.warning
	case exportProgressMsg:
		if r := e.run; r != nil && msg.id == r.id {
			if msg.stage != "" {
				r.step = msg.stage
			} else {
				r.last = msg.p
			}
			return r.listen()
		}
	case exportDoneMsg:
		if r := e.run; r != nil && msg.id == r.id {
			return e.finish(msg)
		}
	}
	return nil
}

// start checks the verdict and the path, asks before overwriting, and
// starts the export.
func (e *exportPane) start() tea.Cmd {
	v, ok := e.verdict()
	switch {
	case !ok:
		e.h.setStatus("still checking what the export would read; press enter again in a moment", levelInfo)
		return nil
	case !v.Exportable:
		e.h.setStatus("✗ cannot export: "+v.Reason, levelErr)
		return nil
	}
	path := strings.TrimSpace(e.path.Value())
	if path == "" {
		e.h.setStatus("✗ no output path", levelErr)
		return nil
	}
	for _, p := range []string{path, export.ProvenancePath(path)} {
		if err := export.CheckProtected(p, e.inputs()); err != nil {
			e.h.setStatus("✗ "+err.Error(), levelErr)
			return nil
		}
	}
	var exists []string
	for _, p := range []string{path, export.ProvenancePath(path)} {
		_, err := e.s.cfg.ExportFS.Lstat(p)
		switch {
		case err == nil:
			exists = append(exists, p)
		case !errors.Is(err, fs.ErrNotExist):
			e.h.setStatus("✗ "+err.Error(), levelErr)
			return nil
		}
	}
	if len(exists) > 0 {
		q := fmt.Sprintf("%s exists. Overwrite it with %s?", exists[0], e.what())
		if len(exists) > 1 {
			q = fmt.Sprintf("%s exist. Overwrite them with %s and its record?", strings.Join(exists, " and "), e.what())
		}
		e.h.ask(q,
			func() tea.Cmd { return e.launch(path, true) })
		return nil
	}
	return e.launch(path, false)
}

// launch runs the export through job.Run, as the export command does.
func (e *exportPane) launch(path string, force bool) tea.Cmd {
	runs++
	ctx, cancel := context.WithCancel(context.Background())
	r := &exportRun{id: runs, path: job.AbsOutput(path), cancel: cancel, prog: make(chan export.Progress, 1), stage: make(chan string, 4),
		done: make(chan exportDoneMsg, 1), ended: make(chan struct{}), started: time.Now(),
		bar: progress.New(progress.WithDefaultGradient(), progress.WithoutPercentage(), progress.WithColorProfile(lipgloss.ColorProfile()))}
	r.last.Total = e.size()
	opts := e.opts
	opts.Force = force
	stage := func(s string) {
		select {
		case r.stage <- s:
		default:
		}
	}
	var run func() (*job.Outcome, error)
	if e.dev != nil {
		req := &job.DeviceRequest{Result: e.s.res, Device: e.dev, Options: opts, Output: path, FS: e.s.cfg.ExportFS, Scan: e.s.cfg.ScanOptions,
			CommandLine: e.commandLine(path, opts), ToolVersion: e.s.cfg.Version, Progress: r.report, Stage: stage}
		run = func() (*job.Outcome, error) { return job.RunDevice(ctx, req) }
	} else {
		req := &job.Request{Result: e.s.res, History: e.s.hist, VG: e.vg, LV: e.lv, Options: opts, Output: path,
			FS: e.s.cfg.ExportFS, Scan: e.s.cfg.ScanOptions, CommandLine: e.commandLine(path, opts), ToolVersion: e.s.cfg.Version, Progress: r.report,
			Stage: stage}
		run = func() (*job.Outcome, error) { return job.Run(ctx, req) }
	}
	go func() {
		oc, err := run()
		r.done <- exportDoneMsg{id: r.id, oc: oc, err: err}
		close(r.ended)
	}()
	e.run, e.state = r, exportRunning
	e.h.capture(modeExporting)
	return r.listen()
}

// commandLine is the export command that does what the form does, as the
// provenance record keeps it and the form shows it: job.CommandFor, the
// same words the export command itself would be given.
func (e *exportPane) commandLine(path string, opts job.Options) []string {
	if e.dev != nil {
		return job.CommandForDevice(&job.DeviceRequest{Result: e.s.res, Device: e.dev, Options: opts, Output: path, Scan: e.s.cfg.ScanOptions})
	}
	return job.CommandFor(&job.Request{Result: e.s.res, VG: e.vg, LV: e.lv, Options: opts, Output: path, Scan: e.s.cfg.ScanOptions})
}

// report is the engine's progress callback: keep only the newest value.
func (r *exportRun) report(p export.Progress) {
	select {
	case r.prog <- p:
		return
	default:
	}
	select {
	case <-r.prog:
	default:
	}
	select {
	case r.prog <- p:
	default:
	}
}

// listen waits for the next progress snapshot, stage or the end.
func (r *exportRun) listen() tea.Cmd {
	return func() tea.Msg {
		select {
		case s := <-r.stage:
			return exportProgressMsg{id: r.id, stage: s}
		case p := <-r.prog:
			return exportProgressMsg{id: r.id, p: p}
		case d := <-r.done:
			return d
		}
	}
}

// stop cancels the running export; quit ends the program once it stopped.
func (e *exportPane) stop(quit bool) {
	if r := e.run; r != nil && e.state == exportRunning {
		r.stopped, r.quit = true, r.quit || quit
		r.cancel()
	}
}

// abandon stops an export when the program ends, and waits for the engine
// to remove its temporary file.
func (e *exportPane) abandon() {
	if r := e.run; r != nil && e.state == exportRunning {
		r.cancel()
		<-r.ended
	}
}

func (e *exportPane) quitQuestion() string {
	return fmt.Sprintf("An export of %s is running. Stop it (nothing is left at %s) and quit?", e.what(), e.run.path)
}

// finish shows the outcome in the pane and the status line.
func (e *exportPane) finish(d exportDoneMsg) tea.Cmd {
	r := e.run
	e.state, e.outcome, e.err = exportDone, d.oc, d.err
	e.h.capture(modeBrowse)
	e.h.setStatus(outcomeText(e.what(), r, d))
	e.h.blur()
	if r.quit {
		return tea.Quit
	}
	return nil
}

// outcomeText is the status line of a finished export: job's summary, and
// every warning and note, so that an image that is not a clean copy never
// shows as one.
func outcomeText(what string, r *exportRun, d exportDoneMsg) (string, level) {
	var pe *job.ProvenanceError
	var ee *export.ExistsError
	var ne *job.NotExportableError
	switch {
	case d.err == nil || errors.As(d.err, &pe):
		oc := d.oc
		summary := oc.Summary()
		if oc.Verdict == nil {
			summary = strings.Replace(summary, "exported", "exported "+what, 1)
		}
		clean := len(oc.Warnings) == 0 && (oc.Verdict == nil || oc.Verdict.Clean())
		var lines []string
		for _, l := range append(append([]string{summary}, oc.Warnings...), oc.Notes...) {
			if strings.HasPrefix(l, "  ") && len(lines) > 0 {
				lines[len(lines)-1] += " " + strings.TrimSpace(l) // a detail of the line before
				continue
			}
			lines = append(lines, l)
		}
		l := levelGood
		if !clean {
			l = levelWarn
		}
		if pe != nil {
			lines = append(lines, "✗ "+pe.Error())
			l = levelErr
		}
		return strings.Join(lines, " · "), l
	case errors.Is(d.err, context.Canceled):
		return fmt.Sprintf("export of %s cancelled; nothing was left at %s", what, r.path), levelWarn
	case errors.As(d.err, &ee):
		return "✗ " + ee.Path + " appeared while exporting; nothing was overwritten", levelErr
	case errors.As(d.err, &ne):
		return "✗ " + ne.Error(), levelErr
	}
	return "✗ export failed: " + d.err.Error(), levelErr
}

// View implements pane.
func (e *exportPane) View() string {
	var lines []string
	switch e.state {
	case exportForm:
		lines = e.formView()
	case exportRunning:
		lines = e.runView()
	default:
		lines = e.doneView()
	}
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, e.width, "…")
	}
	return strings.Join(lines, "\n")
}

func (e *exportPane) heading() []string {
	st := e.s.st
	verb := "Export"
	if e.state == exportRunning {
		verb = "Exporting"
	}
	what := verb + " " + e.what()
	if e.asOf {
		what += fmt.Sprintf(" as of seqno %d (a past generation)", e.vg.Meta.Seqno)
	}
	out := []string{string(paint(st.Pane.Title, what)) + " " + string(paint(st.Muted, format.SizeExact(e.size())))}
	if e.dev != nil {
		out = append(out, string(paint(st.Muted, deviceWhat(e.dev))))
	}
	return out
}

func (e *exportPane) formView() []string {
	st := e.s.st
	w := max(e.width, 20)
	out := e.heading()
	v, ok := e.verdict()
	if !ok {
		out = append(out, e.s.waiting("checking what the export would read…"))
	} else {
		for _, l := range v.Lines() {
			for _, wl := range wrapWords(l, w) {
				out = append(out, string(paint(verdictStyle(st, l), wl)))
			}
		}
		if e.opts.AllowPartial {
			for i, m := range v.Missing {
				if i == 10 {
					out = append(out, string(paint(st.Check.Warn, fmt.Sprintf("  and %d more ranges", len(v.Missing)-10))))
					break
				}
				unit := "LV"
				if e.dev != nil {
					unit = "device"
				}
				for j, l := range wrapWords(fmt.Sprintf("zero-filled: %s bytes [%d, %d) (%s): %s", unit, m.Off, m.Off+m.Len, format.Size(m.Len), m.Reason), w-4) {
					ind := "  "
					if j > 0 {
						ind = "    "
					}
					out = append(out, ind+string(paint(st.Check.Warn, l)))
				}
			}
		}
	}
	out = append(out, "")
	cur := func(i int) string {
		if e.field == i {
			return st.Tree.Cursor.Render("›") + " "
		}
		return "  "
	}
	out = append(out, cur(0)+string(paint(st.Bold, "Output")))
	out = append(out, "  "+e.path.View())
	p := strings.TrimSpace(e.path.Value())
	for _, l := range wrapText("→ "+job.AbsOutput(p), w-2) {
		out = append(out, "  "+string(paint(st.Muted, l)))
	}
	if warn := e.same[p]; warn != "" {
		for _, one := range strings.Split(warn, "\n") {
			for _, l := range wrapWords("! "+termsafe.Text(one), w-2) {
				out = append(out, "  "+string(paint(st.Check.Warn, l)))
			}
		}
	}
	out = append(out, "", "  "+string(paint(st.Bold, "Options")))
	for i, o := range e.options() {
		box := "[ ]"
		if *o.v(&e.opts) {
			box = "[x]"
		}
		out = append(out, cur(i+1)+box+" "+string(paint(st.Help.Key, o.flag))+" "+string(paint(st.Muted, o.what)))
	}
	out = append(out, "")
	for _, l := range wrapWords("same as: "+job.ShellJoin(e.commandLine(p, e.opts)), w) {
		out = append(out, string(paint(st.Muted, l)))
	}
	return out
}

func (e *exportPane) runView() []string {
	st := e.s.st
	r := e.run
	out := e.heading()
	for _, l := range wrapText("→ "+r.path, max(e.width, 20)) {
		out = append(out, string(paint(st.Prompt.Label, l)))
	}
	p := r.last
	pct := 0.0
	if p.Total > 0 {
		pct = float64(p.Done) / float64(p.Total)
	}
	step := r.step
	if step == "" {
		step = "exporting"
	}
	if r.stopped {
		step += " · stopping…"
	}
	out = append(out, e.s.waiting(step))
	info := fmt.Sprintf(" %3.0f%% %s/%s", pct*100, format.Size(p.Done), format.Size(p.Total))
	if p.Rate > 0 {
		info += fmt.Sprintf(" %s/s", format.Size(int64(p.Rate)))
	}
	if p.ETA > 0 {
		info += " ETA " + format.Duration(p.ETA)
	}
	bar := r.bar // a copy: View changes nothing
	bar.Width = max(e.width-lipgloss.Width(info)-1, 10)
	out = append(out, bar.ViewAs(pct)+info)
	out = append(out, "", string(paint(st.Muted, "esc stops the export; nothing is left behind")))
	return out
}

func (e *exportPane) doneView() []string {
	st := e.s.st
	out := e.heading()
	w := max(e.width, 20)
	text, l := outcomeText(e.what(), e.run, exportDoneMsg{oc: e.outcome, err: e.err})
	style := map[level]lipgloss.Style{levelGood: st.Check.Good, levelWarn: st.Check.Warn, levelErr: st.Check.Bad}[l]
	for _, part := range strings.Split(text, " · ") {
		for _, wl := range wrapWords(part, w) {
			out = append(out, string(paint(style, wl)))
		}
	}
	if oc := e.outcome; oc != nil {
		out = append(out, "")
		if oc.ProvenancePath != "" {
			out = append(out, string(safe("provenance "+oc.ProvenancePath)))
		}
		if oc.Result != nil && oc.Result.MD5 != "" {
			out = append(out, string(safe("md5 "+oc.Result.MD5)))
		}
	}
	return out
}

// deviceWhat says what a device of the graph is, for people.
func deviceWhat(d *scan.Node) string {
	switch d.Kind {
	case scan.KindLV:
		return "the LV " + d.VG + "/" + d.LV + " as a disk"
	case scan.KindPartition:
		return d.Label
	case scan.KindLUKS:
		return "the decrypted payload of the LUKS volume on " + strings.Join(d.Parents, ", ")
	}
	if d.Path != "" {
		return "the virtual disk of the " + containerName(d.Kind) + " container " + d.Path
	}
	return d.Label
}
