package ui

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/progress"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/lvminspect/lvminspect/internal/format"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/container/ewf"
)

// verifyResult is what the verification of a container found: its
// header checksums as read when it was opened, and the reader's own
// verification (E01: every chunk's checksum, the stored MD5 and SHA-1
// recomputed), as `lvminspect verify` reports them.
type verifyResult struct {
	report    any  // the reader's report (*ewf.VerifyReport for E01)
	ran       bool // the reader has integrity data of its own to verify
	match     bool
	err       error
	cancelled bool
	checks    int // header checksums
	bad       int // of them failed
	took      time.Duration
}

// verified reports whether there was anything to check.
func (r *verifyResult) verified() bool { return r.ran || r.checks > 0 || r.err != nil }

// ok reports whether every check passed.
func (r *verifyResult) ok() bool {
	return r.err == nil && !r.cancelled && r.bad == 0 && (!r.ran || r.match)
}

// verifyPane is a container's verification while it runs: its progress,
// and esc to stop it. Its outcome goes to the status line and the
// container's details.
type verifyPane struct {
	s    *session
	h    host
	keys *VerifyKeys
	acts []action

	run    *verifyRun
	width  int
	height int
}

// verifyRun is one verification running in the background; progress
// comes over a one-slot channel where the newest value wins.
type verifyRun struct {
	id      int
	n       *node
	dev     *scan.Node
	cancel  context.CancelFunc
	prog    chan [2]int64
	done    chan verifyDoneMsg
	last    [2]int64
	started time.Time
	bar     progress.Model
	stopped bool
}

// verifyProgressMsg carries the bytes verified of run id.
type verifyProgressMsg struct {
	id          int
	done, total int64
}

// verifyDoneMsg says run id ended.
type verifyDoneMsg struct {
	id  int
	res *verifyResult
}

var verifies int // numbers the verification runs

func newVerifyPane(s *session, h host, k *VerifyKeys) *verifyPane {
	v := &verifyPane{s: s, h: h, keys: k}
	v.acts = []action{
		{b: &k.Stop, on: func() bool { return v.running() && !v.run.stopped }, do: func() tea.Cmd { v.stop(); return nil }},
	}
	return v
}

func (v *verifyPane) Title() string     { return "Verify" }
func (v *verifyPane) Keys() keySet      { return v.keys }
func (v *verifyPane) actions() []action { return v.acts }

func (v *verifyPane) SetSize(w, h int) { v.width, v.height = w, h }

func (v *verifyPane) running() bool { return v.run != nil }

// canVerify reports whether V does something on n: a container's disk.
func canVerify(n *node) bool { return n != nil && n.kind == kContainer && n.dev != nil }

// show implements rightPane: it starts the verification of a container.
// It does not follow the tree.
func (v *verifyPane) show(n *node, explicit bool) (tea.Cmd, error) {
	switch {
	case !explicit:
		return nil, errors.New("the verification does not follow the tree")
	case v.running():
		return nil, errors.New("a verification runs already")
	case !canVerify(n):
		return nil, errors.New("select a container to verify")
	}
	verifies++
	ctx, cancel := context.WithCancel(context.Background())
	r := &verifyRun{id: verifies, n: n, dev: n.dev, cancel: cancel, prog: make(chan [2]int64, 1), done: make(chan verifyDoneMsg, 1),
		started: time.Now(), last: [2]int64{0, n.dev.Size},
		bar: progress.New(progress.WithDefaultGradient(), progress.WithoutPercentage(), progress.WithColorProfile(lipgloss.ColorProfile()))}
	checks, bad := 0, 0
	for _, st := range n.dev.Structures {
		for _, f := range st.Fields {
			if f.Check != nil {
				checks++
				if !f.Check.OK {
					bad++
				}
			}
		}
	}
	go func() {
		res := safeVerify(ctx, r.dev, r.report)
		res.checks, res.bad = checks, bad
		res.took = time.Since(r.started)
		r.done <- verifyDoneMsg{id: r.id, res: res}
	}()
	v.run = r
	v.h.capture(modeVerifying)
	return r.listen(), nil
}

// safeVerify runs the container's own verification, a panic (a damaged
// image) turned into an error.
func safeVerify(ctx context.Context, dev *scan.Node, progress func(done, total int64)) (res *verifyResult) {
	res = &verifyResult{}
	defer func() {
		if r := recover(); r != nil {
			res.err = fmt.Errorf("internal error while verifying: %v", r)
		}
	}()
	report, match, ok, err := dev.Verify(ctx, progress)
	res.report, res.match, res.ran = report, match, ok
	switch {
	case ctx.Err() != nil:
		res.cancelled = true
	case err != nil:
		res.err = err
	}
	return res
}

// report is the reader's progress callback: keep only the newest value.
func (r *verifyRun) report(done, total int64) {
	p := [2]int64{done, total}
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

// listen waits for the next progress or the end.
func (r *verifyRun) listen() tea.Cmd {
	return func() tea.Msg {
		select {
		case p := <-r.prog:
			return verifyProgressMsg{id: r.id, done: p[0], total: p[1]}
		case d := <-r.done:
			return d
		}
	}
}

// stop cancels the running verification.
func (v *verifyPane) stop() {
	if r := v.run; r != nil {
		r.stopped = true
		r.cancel()
	}
}

func (v *verifyPane) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		cmd, _ := dispatch(msg, v.acts)
		return cmd
	case verifyProgressMsg:
		if r := v.run; r != nil && msg.id == r.id {
			r.last = [2]int64{msg.done, msg.total}
			return r.listen()
		}
	case verifyDoneMsg:
		if r := v.run; r != nil && msg.id == r.id {
			return v.finish(msg)
		}
	}
	return nil
}

// finish keeps the outcome for the container's details, says it in the
// status line and shows the details.
func (v *verifyPane) finish(d verifyDoneMsg) tea.Cmd {
	r := v.run
	v.run = nil
	if !d.res.cancelled {
		v.s.verified[r.dev] = d.res
	}
	v.h.capture(modeBrowse)
	cmd := v.h.back()
	v.h.setStatus(verifyStatus(r.dev, d.res))
	return cmd
}

// View implements pane.
func (v *verifyPane) View() string {
	st := v.s.st
	r := v.run
	if r == nil {
		return st.Muted.Render("select a container and press V to verify it")
	}
	w := max(v.width, 20)
	var out []string
	out = append(out, string(paint(st.Pane.Title, "Verifying "+filepath.Base(r.n.in.Path)))+" "+string(paint(st.Muted, containerName(r.dev.Kind)+" container")))
	for _, l := range wrapWords(verifyWhat(r.dev), w) {
		out = append(out, string(paint(st.Muted, l)))
	}
	done, total := r.last[0], r.last[1]
	pct := 0.0
	if total > 0 {
		pct = min(float64(done)/float64(total), 1)
	}
	step := "reading"
	if r.stopped {
		step += " · stopping…"
	}
	out = append(out, "", v.s.waiting(step))
	info := fmt.Sprintf(" %3.0f%% %s/%s", pct*100, format.Size(done), format.Size(total))
	if el := time.Since(r.started); el > time.Second && done > 0 {
		info += fmt.Sprintf(" %s/s", format.Size(int64(float64(done)/el.Seconds())))
	}
	bar := r.bar // a copy: View changes nothing
	bar.Width = max(v.width-lipgloss.Width(info)-1, 10)
	out = append(out, bar.ViewAs(pct)+info)
	out = append(out, "", string(paint(st.Muted, "esc stops the verification; the container is only read")))
	for i, l := range out {
		out[i] = ansi.Truncate(l, v.width, "…")
	}
	return strings.Join(out, "\n")
}

// verifyWhat says what verifying a container of this kind checks.
func verifyWhat(dev *scan.Node) string {
	if dev.Kind == scan.KindEWF {
		return "every chunk is read and its checksum checked; the stored MD5 and SHA-1 are recomputed over the media"
	}
	return "the container's own integrity data is checked; its header checksums were checked when it was opened"
}

// verifyLines says what a verification found, one fact a line, each
// starting with ✓, ✗, ! or -, as `lvminspect verify` says it; the last
// line is the verdict.
func verifyLines(r *verifyResult, most int) []string {
	var out []string
	if r.err != nil {
		out = append(out, "✗ "+r.err.Error())
	}
	if r.checks > 0 {
		mark := "✓"
		if r.bad > 0 {
			mark = "✗"
		}
		out = append(out, fmt.Sprintf("%s header checksums: %d of %d match", mark, r.checks-r.bad, r.checks))
	}
	switch rep := r.report.(type) {
	case *ewf.VerifyReport:
		mark := "✓"
		if rep.ChunksOK < rep.Chunks {
			mark = "✗"
		}
		out = append(out, fmt.Sprintf("%s chunks: %d of %d readable, checksums match", mark, rep.ChunksOK, rep.Chunks))
		for i, c := range rep.BadChunks {
			if i == most {
				break
			}
			out = append(out, fmt.Sprintf("✗ chunk %d (media bytes %d, %s): %s", c.Chunk, c.Off, format.Size(c.Len), c.Error))
		}
		if listed := int64(min(len(rep.BadChunks), most)); rep.BadChunkCount > listed {
			out = append(out, fmt.Sprintf("✗ … and %d more bad chunks", rep.BadChunkCount-listed))
		}
		for _, a := range rep.AcquisitionErrors {
			out = append(out, fmt.Sprintf("! acquisition error: media bytes %d, %s (sectors %d, %d): stored as read by the acquiring tool", a.Off, format.Size(a.Len), a.First, a.Count))
		}
		for _, h := range rep.Hashes {
			switch {
			case h.Stored != "" && h.Match:
				out = append(out, fmt.Sprintf("✓ %s %s matches the media", h.Algorithm, h.Stored))
			case h.Stored != "" && h.Computed == "":
				out = append(out, fmt.Sprintf("✗ %s stored %s, not computed: %s", h.Algorithm, h.Stored, h.Note))
			case h.Stored != "":
				out = append(out, fmt.Sprintf("✗ %s stored %s, computed %s: %s", h.Algorithm, h.Stored, h.Computed, h.Note))
			default:
				out = append(out, fmt.Sprintf("- %s: %s", h.Algorithm, h.Note))
			}
		}
		for _, w := range rep.Warnings {
			out = append(out, "! "+w)
		}
	case nil:
	default:
		for _, p := range formatPairs(rep) {
			out = append(out, "- "+p.key()+": "+p.value)
		}
	}
	switch {
	case !r.verified():
		out = append(out, "- nothing to verify: the container holds no checksums or hashes of its own")
	case r.ok():
		out = append(out, "✓ verified: every check matched")
	default:
		out = append(out, "✗ NOT VERIFIED: see the lines marked ✗")
	}
	return out
}

// verifyStatus is the status line after a verification.
func verifyStatus(dev *scan.Node, r *verifyResult) (string, level) {
	name := filepath.Base(dev.Path)
	if dev.Path == "" {
		name = dev.ID
	}
	switch {
	case r.cancelled:
		return "verification of " + name + " stopped: nothing was decided", levelWarn
	case !r.verified():
		return name + ": nothing to verify: the container holds no checksums or hashes of its own", levelWarn
	}
	var facts []string
	for _, l := range verifyLines(r, 3) {
		if strings.HasPrefix(l, "✗ NOT VERIFIED") || strings.HasPrefix(l, "✓ verified") {
			continue
		}
		facts = append(facts, l)
	}
	// The failures first: they are what the status line must not cut.
	// Then what matched, the stored hashes first; what was not there to
	// check ("-") is in the details only.
	var bad, hashes, rest []string
	for _, f := range facts {
		switch {
		case strings.HasPrefix(f, "✗"):
			bad = append(bad, f)
		case strings.HasPrefix(f, "- "):
		case strings.HasSuffix(f, "matches the media"):
			hashes = append(hashes, strings.TrimPrefix(f, "✓ "))
		default:
			rest = append(rest, strings.TrimPrefix(f, "✓ "))
		}
	}
	rest = append(hashes, rest...)
	if r.ok() {
		took := ""
		if r.took >= time.Second {
			took = fmt.Sprintf(" (in %s)", format.Duration(r.took))
		}
		return "✓ " + name + " verified: " + strings.Join(rest, " · ") + took, levelGood
	}
	return "✗ " + name + " NOT verified: " + strings.Join(append(bad, rest...), " · "), levelErr
}
