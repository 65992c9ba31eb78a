package ui

// Layout constants. The inspector needs MinWidth×MinHeight; below that it
// says so instead of drawing a broken screen.
const (
	MinWidth     = 80
	MinHeight    = 24
	treeMinWidth = 30
	treeMaxWidth = 48
	headerHeight = 1
	helpHeight   = 1
	borderSize   = 2 // one column or row each side
)

// treeWidth is the tree pane's outer width for a terminal width.
func treeWidth(w int) int { return max(min(w*3/10, treeMaxWidth), treeMinWidth) }

// layout passes the inner sizes down to the panes.
func (m *Model) layout() {
	l := m.layoutInfo()
	m.tree.SetSize(l.treeW-borderSize, l.bodyH-borderSize)
	for _, p := range m.panes {
		p.SetSize(l.rightW-borderSize, l.bodyH-borderSize)
	}
	m.bar.setWidth(m.width)
}

// layoutInfo is the geometry of one frame.
type layoutInfo struct {
	treeW, rightW int // outer widths, borders included
	bodyTop       int // first row of the panes
	bodyH         int // outer height of the panes
}

func (m *Model) layoutInfo() layoutInfo {
	l := layoutInfo{treeW: treeWidth(m.width), bodyTop: headerHeight}
	l.rightW = m.width - l.treeW
	bottom := 1
	if !m.tooSmall() && m.mode != modeLoading {
		bottom = len(m.bar.lines(m.width))
	}
	l.bodyH = max(m.height-headerHeight-helpHeight-bottom, borderSize+1)
	return l
}

// tooSmall reports whether the terminal is below the minimum size.
func (m *Model) tooSmall() bool { return m.width < MinWidth || m.height < MinHeight }
