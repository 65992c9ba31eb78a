package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/spf13/afero"

	"github.com/lvminspect/lvminspect/export/job"
	"github.com/lvminspect/lvminspect/scan"
)

// What the inspector does with the devices of the graph that are not
// LVs: the other files of a container opened for the hex view, the
// export verdict of a device, a container's verification.

// fileEntry is a file of a container opened read-only for the hex view.
type fileEntry struct {
	f     afero.File
	path  string
	size  int64
	err   error
	ready bool
	busy  bool
}

// fileOpenedMsg carries a container file opened in the background.
type fileOpenedMsg struct {
	key  string
	f    afero.File
	path string
	size int64
	err  error
}

func (f *containerFile) key() string { return f.name + "\x00" + strings.Join(f.paths, "\x00") }

// openFile returns a container file other than the input's own, opened
// read-only on the inputs' file system; or the command that opens it
// (nil if that runs already). The first of its possible paths that opens
// is used.
func (s *session) openFile(cf *containerFile) (e *fileEntry, cmd tea.Cmd) {
	k := cf.key()
	if e := s.files[k]; e != nil && (e.ready || e.busy) {
		return e, nil
	}
	e = &fileEntry{busy: true}
	s.files[k] = e
	fsys, paths := s.cfg.FS, cf.paths
	return e, s.tasks.run(func() tea.Msg {
		var first error
		for _, p := range paths {
			f, err := fsys.Open(p)
			if err != nil {
				if first == nil {
					first = err
				}
				continue
			}
			st, err := f.Stat()
			if err != nil {
				f.Close()
				if first == nil {
					first = err
				}
				continue
			}
			return fileOpenedMsg{key: k, f: f, path: p, size: st.Size()}
		}
		if first == nil {
			first = errors.New("no path is known for it")
		}
		return fileOpenedMsg{key: k, err: fmt.Errorf("container file %s: %w", cf.name, first)}
	})
}

// closeFiles closes the container files the hex view opened.
func (s *session) closeFiles() {
	for _, e := range s.files {
		if e.f != nil {
			e.f.Close()
		}
	}
	s.files = map[string]*fileEntry{}
}

// lockedReaderAt reads a file one call at a time (afero's files other
// than the OS's read through a shared position).
type lockedReaderAt struct {
	r  io.ReaderAt
	mu chan struct{}
}

func newLockedReaderAt(r io.ReaderAt) *lockedReaderAt {
	return &lockedReaderAt{r: r, mu: make(chan struct{}, 1)}
}

func (l *lockedReaderAt) ReadAt(p []byte, off int64) (int, error) {
	l.mu <- struct{}{}
	defer func() { <-l.mu }()
	return l.r.ReadAt(p, off)
}

// devCheckKey names a device's export verdict with some options.
type devCheckKey struct {
	dev *scan.Node
	opt job.Options
}

// devVerdictMsg carries a device's export verdict worked out in the
// background.
type devVerdictMsg struct {
	key devCheckKey
	v   *job.Verdict
}

// deviceVerdict returns the export verdict of a device with opt, or the
// command that works it out (job.CheckDevice maps the whole device).
func (s *session) deviceVerdict(n *scan.Node, opt job.Options) (*job.Verdict, tea.Cmd) {
	k := devCheckKey{n, opt}
	if v := s.devVerdicts[k]; v != nil || s.devChecking[k] {
		return v, nil
	}
	s.devChecking[k] = true
	return nil, s.tasks.run(func() tea.Msg { return devVerdictMsg{key: k, v: safeCheckDevice(n, opt)} })
}

// safeCheckDevice is job.CheckDevice with a panic (a damaged disk) turned
// into a verdict.
func safeCheckDevice(n *scan.Node, opt job.Options) (v *job.Verdict) {
	defer func() {
		if r := recover(); r != nil {
			v = &job.Verdict{LV: n.ID, Reason: fmt.Sprintf("internal error while checking: %v", r)}
		}
	}()
	return job.CheckDevice(context.Background(), n, opt)
}

// deviceVerdictCached is the verdict with opt if it was worked out.
func (s *session) deviceVerdictCached(n *scan.Node, opt job.Options) (*job.Verdict, bool) {
	v := s.devVerdicts[devCheckKey{n, opt}]
	return v, v != nil
}
