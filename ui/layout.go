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

// layoutInfo is the geometry of one frame.
type layoutInfo struct {
	treeW, rightW int // outer widths, borders included
	bodyTop       int // first row of the panes
	bodyH         int // outer height of the panes
	bottomH       int // status, prompt or progress rows
}

// treeWidth is the tree pane's outer width for a terminal width.
func treeWidth(w int) int { return max(min(w*3/10, treeMaxWidth), treeMinWidth) }

// layoutInfo computes the geometry for the current size and bottom area.
func (m *Model) layoutInfo() layoutInfo {
	l := layoutInfo{treeW: treeWidth(m.width)}
	l.rightW = m.width - l.treeW
	l.bodyTop = headerHeight
	l.bottomH = m.bottomHeight()
	l.bodyH = max(m.height-headerHeight-helpHeight-l.bottomH, borderSize+1)
	return l
}

// layout passes the inner sizes down to the panes.
func (m *Model) layout() {
	l := m.layoutInfo()
	m.tree.width, m.tree.height = l.treeW-borderSize, l.bodyH-borderSize
	iw, ih := l.rightW-borderSize, l.bodyH-borderSize
	m.hex.width, m.hex.height = iw, ih
	m.text.width, m.text.height = iw, ih
	oldW := m.details.width
	m.details.width, m.details.height = iw, ih
	if m.hist != nil {
		m.hist.setSize(iw, ih)
	}
	m.tree.clamp()
	m.hex.clampTop()
	m.text.clamp()
	if oldW != iw && m.res != nil && m.right == viewDetails {
		top := m.details.top
		m.details.set(detailsLines(m.st, m.selected(), m.details.width))
		m.details.scroll(top)
	}
	m.help.Width = m.width
}

// tooSmall reports whether the terminal is below the minimum size.
func (m *Model) tooSmall() bool { return m.width < MinWidth || m.height < MinHeight }
