package ui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/content"
	"github.com/lvminspect/lvminspect/scan/md"
)

// The tree follows the device graph: an input whose file holds a
// container shows the container as a level of its own; an LV that holds
// a partition table or a PV (an input the graph added) is shown under its
// LV, with the guest VGs on it, instead of as a root.

// treeCtx is what building the tree needs to know of the graph.
type treeCtx struct {
	showHidden  bool
	lvInputs    map[string]*scan.InputResult // LV inputs by lvDevKey
	lvOrder     []*scan.InputResult
	lvNodes     map[string]*scan.Node // LV devices by lvDevKey
	homes       map[*vgView]*scan.InputResult
	guests      map[*scan.InputResult][]*vgView
	placed      map[*scan.InputResult]bool
	placedVG    map[*vgView]bool
	expandHolds bool                             // LVs that hold a disk start open
	mdOf        map[*md.Superblock]mdRef         // where each member's superblock is used
	mdInputs    map[*scan.Node]*scan.InputResult // the arrays that could be read, as inputs
	devs        map[string]*scan.Node            // the devices of the graph by id
	luksVols    map[*scan.Node]*scan.Node        // the LUKS volume of each device holding a LUKS header
	luksInputs  map[*scan.Node]*scan.InputResult // the LUKS volumes unlocked, as inputs
}

// lvDevKey names an LV across the graph: its VG's UUID and its name.
func lvDevKey(vgUUID, lv string) string { return model.BareUUID(vgUUID) + "/" + lv }

// isLVInput reports whether an input is an LV the graph opened as a disk.
func isLVInput(in *scan.InputResult) bool { return in.Node != nil && in.Node.Kind == scan.KindLV }

// topInputs are the inputs given (not the LVs and md arrays the graph
// added).
func topInputs(res *scan.Result) []*scan.InputResult { return res.Given() }

func newTreeCtx(res *scan.Result, views []*vgView, showHidden bool) *treeCtx {
	c := &treeCtx{showHidden: showHidden, lvInputs: map[string]*scan.InputResult{}, lvNodes: map[string]*scan.Node{},
		homes: map[*vgView]*scan.InputResult{}, guests: map[*scan.InputResult][]*vgView{},
		placed: map[*scan.InputResult]bool{}, placedVG: map[*vgView]bool{},
		mdOf: mdIndex(res), mdInputs: map[*scan.Node]*scan.InputResult{}, devs: map[string]*scan.Node{},
		luksVols: map[*scan.Node]*scan.Node{}, luksInputs: map[*scan.Node]*scan.InputResult{}}
	for _, d := range res.Devices() {
		if c.devs[d.ID] == nil {
			c.devs[d.ID] = d
		}
	}
	for _, v := range res.LUKSNodes {
		if d := luksDeviceOf(c.devs, v); d != nil {
			c.luksVols[d] = v
		}
	}
	byInput := map[*scan.Input]*scan.InputResult{}
	for _, in := range res.Inputs {
		byInput[in.Input] = in
		if in.Node != nil && in.Node.Kind == scan.KindMD {
			c.mdInputs[in.Node] = in
		}
		if in.Node != nil && in.Node.Kind == scan.KindLUKS {
			c.luksInputs[in.Node] = in
		}
		if isLVInput(in) {
			c.lvInputs[lvDevKey(in.Node.VGUUID, in.Node.LV)] = in
			c.lvOrder = append(c.lvOrder, in)
		}
	}
	for _, n := range res.LVNodes {
		c.lvNodes[lvDevKey(n.VGUUID, n.LV)] = n
	}
	// A VG with a PV on an LV input is a guest: it goes under that LV.
	for _, v := range views {
		for _, p := range v.current.PVs {
			if p.PV == nil || p.PV.Input == nil {
				continue
			}
			if in := byInput[p.PV.Input]; in != nil && isLVInput(in) {
				c.homes[v] = in
				c.guests[in] = append(c.guests[in], v)
				break
			}
		}
	}
	c.expandHolds = len(c.lvOrder) <= 4
	return c
}

// buildTree makes the roots of the tree: one per input given, one per md
// array, one per LUKS volume, then one per VG whose PVs are all on them. A guest VG is under
// the LV that holds its PV; what cannot be put there (its LV is not
// shown) is a root after them.
func buildTree(res *scan.Result, views []*vgView, showHidden bool) []*node {
	c := newTreeCtx(res, views, showHidden)
	var roots []*node
	for _, in := range topInputs(res) {
		roots = append(roots, c.inputNode(in))
	}
	for _, a := range res.MDNodes {
		roots = append(roots, c.mdNode(a))
	}
	for _, v := range res.LUKSNodes {
		roots = append(roots, c.luksNode(v))
	}
	if len(roots) > 2 {
		// Many inputs: show their PVs closed, so that the VGs are in view.
		for _, n := range walkAll(roots) {
			if n.kind == kPV {
				n.expanded = false
			}
		}
	}
	for _, v := range views {
		if c.homes[v] == nil && !c.placedVG[v] {
			roots = append(roots, c.vgNode(v))
		}
	}
	for {
		var more []*node
		for _, in := range c.lvOrder {
			if !c.placed[in] {
				more = append(more, c.holdsNode(in, false))
			}
		}
		for _, v := range views {
			if !c.placedVG[v] {
				more = append(more, c.vgNode(v))
			}
		}
		if len(more) == 0 {
			break
		}
		roots = append(roots, more...)
	}
	for _, r := range roots {
		r.expanded = true
		setDepth(r, nil, 0)
	}
	return roots
}

// sameLV reports whether lv, of the generation v shows, is the LV the
// graph looked into (the current metadata's LV of that name).
func sameLV(v *vgView, lv *model.LV) bool {
	if !v.travelling() {
		return true
	}
	cur := v.current.Meta.LV(lv.Name)
	return cur != nil && model.BareUUID(cur.UUID) == model.BareUUID(lv.UUID)
}

func (c *treeCtx) inputNode(in *scan.InputResult) *node {
	c.placed[in] = true
	n := &node{kind: kInput, name: filepath.Base(in.Path), in: in, damaged: serious(in.Problems) || in.ContainerErr != nil}
	if in.File != nil {
		cn := c.containerNode(in)
		n.file = cn.file
		n.children = []*node{cn}
		return n
	}
	n.children = append(c.layerRows(in.Node), c.contentChildren(in)...)
	return n
}

// containerNode is the virtual disk of the container in an input's file:
// its files (when there are several), then what the disk holds.
func (c *treeCtx) containerNode(in *scan.InputResult) *node {
	files := containerFiles(in)
	n := &node{kind: kContainer, name: containerName(in.Node.Kind) + " container", in: in, dev: in.Node, file: files[0],
		expanded: true, damaged: serious(in.Node.Problems) || badChecks(in.Node.Structures) > 0}
	if len(files) > 1 {
		g := &node{kind: kContainerFiles, name: "container files", in: in, dev: in.Node}
		for _, f := range files {
			g.children = append(g.children, &node{kind: kContainerFile, name: f.name, in: in, dev: in.Node, file: f,
				damaged: badChecks(f.structs) > 0})
		}
		n.children = append(n.children, g)
	}
	n.children = append(n.children, c.layerRows(in.Node)...)
	n.children = append(n.children, c.contentChildren(in)...)
	return n
}

// holdsNode is an LV input: what the LV holds, read as a disk, and the
// guest VGs whose PVs are on it. underLV: it is shown under its LV (else
// it is a root, named by its LV).
func (c *treeCtx) holdsNode(in *scan.InputResult, underLV bool) *node {
	c.placed[in] = true
	what := "a disk"
	if ct := in.Node.Content; ct != nil {
		what = ct.Name
		if ct.Format == "lvm2" {
			what = "LVM2 PV"
		}
	}
	name := "holds: " + what
	if !underLV {
		name = "LV " + in.Path + ": " + what
	}
	n := &node{kind: kHolds, name: name, in: in, dev: in.Node, expanded: true, damaged: serious(in.Problems)}
	n.children = append(c.layerRows(in.Node), c.contentChildren(in)...)
	for _, ch := range walkAll(n.children) {
		if ch.kind == kPV {
			ch.expanded = false // the guest VGs below stay in view
		}
	}
	for _, v := range c.guests[in] {
		if !c.placedVG[v] {
			n.children = append(n.children, c.vgNode(v))
		}
	}
	return n
}

// contentChildren are what a disk holds: its partition table with the
// PVs in its partitions, and the PVs outside any partition.
func (c *treeCtx) contentChildren(in *scan.InputResult) []*node {
	var out []*node
	used := map[*scan.PV]bool{}
	if t := in.Partitions; t != nil {
		tn := &node{kind: kPartTable, name: strings.ToUpper(t.Kind) + " partition table", table: t, in: in,
			damaged: len(t.Problems) > 0, expanded: true}
		for i := range t.Partitions {
			p := &t.Partitions[i]
			pn := &node{kind: kPartition, name: fmt.Sprintf("partition %d", p.Index), part: p, in: in, expanded: true}
			if !p.Extended {
				for _, d := range in.PartNodes {
					if d.Offset == p.Start {
						pn.dev = d
						break
					}
				}
				pn.children = c.layerRows(pn.dev)
			}
			for _, pv := range in.PVs {
				if pv.Partition == p.Index && pv.Offset == p.Start && !used[pv] {
					used[pv] = true
					pn.children = append(pn.children, pvNode(pv))
				}
			}
			tn.children = append(tn.children, pn)
		}
		out = append(out, tn)
	}
	for _, pv := range in.PVs {
		if !used[pv] {
			out = append(out, pvNode(pv))
		}
	}
	return out
}

// containerName is how a container format is called.
func containerName(kind string) string {
	switch kind {
	case scan.KindEWF:
		return "EWF"
	case scan.KindQCOW2:
		return "qcow2"
	case scan.KindSplitRaw:
		return "split raw"
	case scan.KindVMDK, scan.KindVHD, scan.KindVHDX, scan.KindVDI:
		return strings.ToUpper(kind)
	}
	return kind
}

// badChecks counts the failed checks of structures' fields.
func badChecks(sts []model.Structure) int {
	n := 0
	for _, st := range sts {
		for _, f := range st.Fields {
			if f.Check != nil && !f.Check.OK {
				n++
			}
		}
	}
	return n
}

// holdsWord is what a device holds in a word or two, for a tree row:
// ext2, swap, GPT, PV.
func holdsWord(c *content.Info) string {
	if c == nil {
		return ""
	}
	switch c.Format {
	case "lvm2":
		return "PV"
	case "gpt", "mbr", "dos":
		return strings.ToUpper(c.Format)
	case "swap":
		return "swap"
	}
	if w, ok := strings.CutSuffix(c.Name, " file system"); ok && w != "" {
		return w
	}
	if strings.HasSuffix(c.Name, " partition table") {
		return strings.ToUpper(c.Format)
	}
	return c.Format
}

// containerFile is one file of a container: the structures whose offsets
// are in it, and where it is.
type containerFile struct {
	name    string   // as the structures name it (the file's base name)
	first   bool     // the input's own file, read through the input
	paths   []string // where to open it otherwise, tried in order
	structs []model.Structure
}

// filePrefix is the file a structure's name starts with ("NAME: what"),
// if any.
func filePrefix(s string) (string, bool) {
	i := strings.Index(s, ": ")
	if i <= 0 {
		return "", false
	}
	return s[:i], true
}

// containerFiles groups a container's structures by the file they are
// in. A structure whose name starts with the name of another file of
// the container ("banana-split.E02: section ...", one the container's
// own description names: segment, extent, backing or parent files) is
// in that file; every other one is in the input's file. The first is
// always the input's file.
func containerFiles(in *scan.InputResult) []*containerFile {
	base := filepath.Base(in.Path)
	first := &containerFile{name: base, first: true}
	out := []*containerFile{first}
	named := map[string][]string{} // a file's base name → the paths the description gives
	for _, s := range formatStrings(in.Node.Format) {
		if b := filepath.Base(s); b != base && b != "." && b != string(filepath.Separator) {
			named[b] = append(named[b], s)
		}
	}
	byName := map[string]*containerFile{}
	for _, st := range in.Node.Structures {
		if in.Node.MD != nil && isMDStructure(st) {
			continue // on the virtual disk, a member of an md array
		}
		if in.Node.LUKS != nil && isLUKSStructure(st) {
			continue // on the virtual disk, a LUKS header
		}
		f := first
		if p, ok := filePrefix(st.Name); ok && p != base && len(named[p]) > 0 {
			if f = byName[p]; f == nil {
				f = &containerFile{name: p, paths: filePaths(in.Path, named[p])}
				byName[p] = f
				out = append(out, f)
			}
		}
		f.structs = append(f.structs, st)
	}
	return out
}

// filePaths are where a file the container names may be: as named when
// absolute, else beside the input, then as named from the working
// directory.
func filePaths(input string, names []string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, s := range names {
		if filepath.IsAbs(s) {
			add(s)
			continue
		}
		add(filepath.Join(filepath.Dir(input), s))
		add(filepath.Join(filepath.Dir(input), filepath.Base(s)))
		add(s)
	}
	return out
}

// formatStrings are the strings of a container's description (its
// reader's Info, as JSON): file names are among them.
func formatStrings(v any) []string {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out []string
	var walk func(x any)
	walk = func(x any) {
		switch x := x.(type) {
		case string:
			out = append(out, x)
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	var doc any
	if json.Unmarshal(b, &doc) == nil {
		walk(doc)
	}
	return out
}

// formatPair is one value of a container's description, flattened: its
// path of keys ("acquisition", "case number") and its value.
type formatPair struct {
	path  []string
	value string
}

// key is the pair's keys joined.
func (p formatPair) key() string { return strings.Join(p.path, " ") }

// formatPairs flattens a container's description (its reader's Info) to
// key/value pairs in the order the reader gives them: keys are words
// (stored_md5 is "stored md5"), nested objects and lists add to the path,
// lists of plain values are joined, empty values are left out.
func formatPairs(v any) []formatPair {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return []formatPair{{[]string{"format"}, fmt.Sprint(v)}}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out []formatPair
	var value func(path []string) bool
	value = func(path []string) bool {
		t, err := dec.Token()
		if err != nil {
			return false
		}
		sub := func(k string) []string { return append(append([]string(nil), path...), k) }
		switch t := t.(type) {
		case json.Delim:
			switch t {
			case '{':
				for dec.More() {
					kt, err := dec.Token()
					if err != nil {
						return false
					}
					if !value(sub(strings.ReplaceAll(fmt.Sprint(kt), "_", " "))) {
						return false
					}
				}
				_, err = dec.Token()
				return err == nil
			case '[':
				start, i := len(out), 0
				for dec.More() {
					i++
					if !value(sub(fmt.Sprint(i))) {
						return false
					}
				}
				// A list of plain values reads best on one line.
				plainList := len(out)-start == i && i > 0
				for j := 0; plainList && j < i; j++ {
					plainList = len(out[start+j].path) == len(path)+1 && out[start+j].path[len(path)] == fmt.Sprint(j+1)
				}
				if plainList {
					items := make([]string, i)
					for j := range items {
						items[j] = out[start+j].value
					}
					out = append(out[:start], formatPair{path, strings.Join(items, ", ")})
				}
				_, err = dec.Token()
				return err == nil
			}
		case nil:
		case string:
			if t != "" {
				out = append(out, formatPair{path, t})
			}
		default:
			out = append(out, formatPair{path, fmt.Sprint(t)})
		}
		return true
	}
	value(nil)
	return out
}
