package ui

import (
	"fmt"

	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/export/job"
	"github.com/lvminspect/lvminspect/export/volume"
	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/history"
)

// session is what every component shares, as pug's and gh-dash's program
// context: the configuration and styles, the scan result and the VG views
// the tree shows, and the results of slow work. Slow work (the history
// scan, opening an LV, its facts and export verdict) runs in commands; its
// result is stored here when its message arrives in Update, so commands
// never write shared state.
type session struct {
	cfg   Config
	st    *Styles
	res   *scan.Result
	views []*vgView

	showHidden          bool
	shownLVs, hiddenLVs int

	hist     *history.History // nil until scanned
	histBusy bool             // the scan runs

	lvs       map[lvKey]*lvEntry
	resolvers map[genKey]*volume.Resolver
	tasks     tasks

	files       map[string]*fileEntry // container files opened for the hex view
	devVerdicts map[devCheckKey]*job.Verdict
	devChecking map[devCheckKey]bool
	verified    map[*scan.Node]*verifyResult // containers verified

	// snaps are the inputs as they were before the first scan, to scan
	// them again (a LUKS passphrase typed in); nil when the inspector was
	// given a result.
	snaps   []inputSnap
	ownKeys bool // the keyring was made here (wiped when the inspector ends)
}

// genKey names one generation of a VG.
type genKey struct {
	vgUUID string
	seqno  uint64
}

// resolver is the export resolver of a generation, kept while the
// inspector runs so that lvfacts caches what it read through it.
func (s *session) resolver(vg *scan.VG) *volume.Resolver {
	k := genKey{model.BareUUID(vg.Meta.UUID), vg.Meta.Seqno}
	r := s.resolvers[k]
	if r == nil {
		r = volume.FromScan(vg)
		s.resolvers[k] = r
	}
	return r
}

func newSession(cfg Config) *session {
	return &session{cfg: cfg, st: DefaultStyles(), lvs: map[lvKey]*lvEntry{}, resolvers: map[genKey]*volume.Resolver{}, tasks: newTasks(),
		files: map[string]*fileEntry{}, devVerdicts: map[devCheckKey]*job.Verdict{}, devChecking: map[devCheckKey]bool{},
		verified: map[*scan.Node]*verifyResult{}}
}

// setResult shows a scan result.
func (s *session) setResult(res *scan.Result) {
	s.res = res
	s.hist, s.histBusy = nil, false
	s.lvs = map[lvKey]*lvEntry{}
	s.resolvers = map[genKey]*volume.Resolver{}
	s.devVerdicts, s.devChecking = map[devCheckKey]*job.Verdict{}, map[devCheckKey]bool{}
	s.verified = map[*scan.Node]*verifyResult{}
	s.views = nil
	for _, vg := range res.VGs {
		s.views = append(s.views, &vgView{vg: vg, current: vg})
	}
}

// countLVs counts the shown and hidden LVs of the views (model.VG.Shown is
// quadratic in the number of LVs, vgView.shown is not).
func (s *session) countLVs() {
	s.shownLVs, s.hiddenLVs = 0, 0
	for _, v := range s.views {
		for _, n := range v.shown() {
			if n {
				s.shownLVs++
			} else {
				s.hiddenLVs++
			}
		}
	}
}

// viewOf returns the tree's view of the VG with this UUID.
func (s *session) viewOf(uuid string) *vgView {
	for _, v := range s.views {
		if model.BareUUID(v.current.Meta.UUID) == model.BareUUID(uuid) {
			return v
		}
	}
	return nil
}

// lvKey names one LV of one generation of a VG: what opened sources,
// facts and verdicts are cached by.
type lvKey struct {
	vgUUID string
	seqno  uint64
	lv     string
}

func keyOf(vg *scan.VG, lv *model.LV) lvKey {
	return lvKey{vgUUID: model.BareUUID(vg.Meta.UUID), seqno: vg.Meta.Seqno, lv: lv.Name}
}

// lvEntry is what is known of one LV of one generation.
type lvEntry struct {
	src      export.Source // opened as the hex view and exports read it
	srcErr   error
	srcReady bool
	srcBusy  bool

	facts     *lvFacts // as lvs shows it
	factsBusy bool
	verdicts  map[job.Options]*job.Verdict // export verdicts, per options
	checking  map[job.Options]bool
}

func (s *session) entry(k lvKey) *lvEntry {
	e := s.lvs[k]
	if e == nil {
		e = &lvEntry{verdicts: map[job.Options]*job.Verdict{}, checking: map[job.Options]bool{}}
		s.lvs[k] = e
	}
	return e
}

// lvOpenedMsg carries an LV opened in the background.
type lvOpenedMsg struct {
	key lvKey
	src export.Source
	err error
}

// openLV returns the LV's source if it was opened already (ready); otherwise
// the command that opens it (nil if that runs already). Opening walks a
// thin pool's mapping or reads a snapshot's exception store, so it is
// never done in Update.
func (s *session) openLV(vg *scan.VG, lv *model.LV) (src export.Source, ready bool, cmd tea.Cmd, err error) {
	k := keyOf(vg, lv)
	e := s.entry(k)
	if e.srcReady {
		return e.src, true, nil, e.srcErr
	}
	if e.srcBusy {
		return nil, false, nil, nil
	}
	e.srcBusy = true
	return nil, false, s.tasks.run(func() tea.Msg {
		src, err := safeOpen(vg, lv)
		return lvOpenedMsg{key: k, src: src, err: err}
	}), nil
}

// safeOpen opens an LV through the export resolver, turning a panic (a
// damaged disk) into an error.
func safeOpen(vg *scan.VG, lv *model.LV) (src export.Source, err error) {
	defer func() {
		if r := recover(); r != nil {
			src, err = nil, fmt.Errorf("internal error while opening LV %s: %v", lv.Name, r)
		}
	}()
	return volume.FromScan(vg).OpenLV(lv)
}

// factsMsg carries the facts of LVs worked out in the background.
type factsMsg struct{ facts map[lvKey]*lvFacts }

// facts returns what lvs would show of an LV, nil until worked out (see
// prefetch).
func (s *session) facts(vg *scan.VG, lv *model.LV) *lvFacts {
	if e := s.lvs[keyOf(vg, lv)]; e != nil {
		return e.facts
	}
	return nil
}

// prefetch works out, in one background task, the facts of every LV the
// tree shows that are not known yet (a snapshot's size is its origin's,
// a pool's usage is in its metadata LV).
func (s *session) prefetch() tea.Cmd {
	type job1 struct {
		k    lvKey
		r    *volume.Resolver
		lv   *model.LV
		past bool
	}
	var todo []job1
	for _, v := range s.views {
		for _, lv := range v.vg.Meta.LVs {
			k := keyOf(v.vg, lv)
			if e := s.entry(k); e.facts == nil && !e.factsBusy {
				e.factsBusy = true
				todo = append(todo, job1{k, s.resolver(v.vg), lv, v.travelling()})
			}
		}
	}
	if len(todo) == 0 {
		return nil
	}
	return s.tasks.run(func() tea.Msg {
		out := map[lvKey]*lvFacts{}
		for _, j := range todo {
			out[j.k] = safeFacts(j.r, j.lv, j.past)
		}
		return factsMsg{facts: out}
	})
}

// verdictMsg carries an export verdict worked out in the background.
type verdictMsg struct {
	key lvKey
	opt job.Options
	v   *job.Verdict
}

// verdict returns the export verdict of an LV with opt, or the command
// that works it out (job.Check opens the LV: pools and snapshots are
// read).
func (s *session) verdict(vg *scan.VG, lv *model.LV, opt job.Options) (*job.Verdict, tea.Cmd) {
	k := keyOf(vg, lv)
	e := s.entry(k)
	if v := e.verdicts[opt]; v != nil || e.checking[opt] {
		return v, nil
	}
	e.checking[opt] = true
	res, h := s.res, s.hist
	return nil, s.tasks.run(func() tea.Msg { return verdictMsg{key: k, opt: opt, v: safeCheck(res, vg, lv, h, opt)} })
}

// historyMsg carries the history scan.
type historyMsg struct{ h *history.History }

// history returns the metadata history if it was scanned, or the command
// that scans it (nil while it runs).
func (s *session) history() (*history.History, tea.Cmd) {
	if s.hist != nil || s.histBusy {
		return s.hist, nil
	}
	s.histBusy = true
	res := s.res
	return nil, s.tasks.run(func() tea.Msg { return historyMsg{h: history.Scan(res, history.Options{})} })
}

// store keeps the result of slow work; it is called in Update for every
// message before the panes see it.
func (s *session) store(msg tea.Msg) {
	switch msg := msg.(type) {
	case lvOpenedMsg:
		e := s.entry(msg.key)
		e.src, e.srcErr, e.srcReady, e.srcBusy = msg.src, msg.err, true, false
	case factsMsg:
		for k, f := range msg.facts {
			e := s.entry(k)
			e.facts, e.factsBusy = f, false
		}
	case verdictMsg:
		e := s.entry(msg.key)
		e.verdicts[msg.opt] = msg.v
		delete(e.checking, msg.opt)
	case historyMsg:
		s.hist, s.histBusy = msg.h, false
	case fileOpenedMsg:
		e := s.files[msg.key]
		if e == nil {
			e = &fileEntry{}
			s.files[msg.key] = e
		}
		e.f, e.path, e.size, e.err, e.ready, e.busy = msg.f, msg.path, msg.size, msg.err, true, false
	case devVerdictMsg:
		s.devVerdicts[msg.key] = msg.v
		delete(s.devChecking, msg.key)
	}
}

// animate makes the spinner tick; tests turn it off so that running the
// commands of a key to their end never waits for a timer.
var animate = true

// tasks counts the commands running slow work, for the spinner.
type tasks struct {
	n       int
	ticking bool
	spin    spinner.Model
}

func newTasks() tasks {
	return tasks{spin: spinner.New(spinner.WithSpinner(spinner.MiniDot))}
}

// taskDoneMsg wraps the message of a finished task.
type taskDoneMsg struct{ msg tea.Msg }

// run returns the command that runs f as a task, with the spinner turning
// while any task runs. A panic in f becomes a panicMsg, shown in the
// status line.
func (t *tasks) run(f func() tea.Msg) tea.Cmd {
	t.n++
	cmd := func() (msg tea.Msg) {
		defer func() {
			if r := recover(); r != nil {
				msg = taskDoneMsg{msg: panicMsg{fmt.Sprint(r)}}
			}
		}()
		return taskDoneMsg{msg: f()}
	}
	if animate && !t.ticking {
		t.ticking = true
		return tea.Batch(cmd, t.spin.Tick)
	}
	return cmd
}

// panicMsg reports an internal error in a task.
type panicMsg struct{ what string }

// done counts a task as finished.
func (t *tasks) done() { t.n = max(t.n-1, 0) }

// busy reports whether a task runs.
func (t *tasks) busy() bool { return t.n > 0 }

// tick turns the spinner and asks for the next tick while a task runs.
func (t *tasks) tick(msg spinner.TickMsg) tea.Cmd {
	if t.n == 0 {
		t.ticking = false
		return nil
	}
	var cmd tea.Cmd
	t.spin, cmd = t.spin.Update(msg)
	return cmd
}

// waiting is a line saying what is being worked out, with the spinner.
func (s *session) waiting(what string) string {
	return s.st.Muted.Render(s.tasks.spin.View() + " " + what)
}

// verdictCached is the verdict with opt if it was worked out already.
func (s *session) verdictCached(vg *scan.VG, lv *model.LV, opt job.Options) (*job.Verdict, bool) {
	if e := s.lvs[keyOf(vg, lv)]; e != nil {
		v := e.verdicts[opt]
		return v, v != nil
	}
	return nil, false
}

// wheel is how many rows a mouse event scrolls: 3 a wheel step.
func wheel(msg tea.MouseMsg) int {
	switch msg.Button {
	case tea.MouseButtonWheelUp:
		return -3
	case tea.MouseButtonWheelDown:
		return 3
	}
	return 0
}
