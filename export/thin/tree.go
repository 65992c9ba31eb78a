package thin

import (
	"errors"
	"fmt"
)

// maxTreeDepth bounds b-tree depth. Nodes hold at least one entry and at
// most a few hundred; real trees are a handful of levels deep, so a path
// longer than this is a loop the visited set somehow missed, or damage.
const maxTreeDepth = 32

// visitSet records the nodes a walk has entered.
type visitSet interface {
	// add marks blk, reporting false when it was already marked.
	add(blk uint64) bool
}

// bitSet is a visitSet for whole-tree walks: one bit per metadata block,
// so its size is bounded by the metadata device (32 KiB per GiB).
type bitSet []uint64

func (s bitSet) add(b uint64) bool {
	w, m := b/64, uint64(1)<<(b%64)
	if s[w]&m != 0 {
		return false
	}
	s[w] |= m
	return true
}

// mapSet is a visitSet for range walks, which enter few nodes.
type mapSet map[uint64]struct{}

func (s mapSet) add(b uint64) bool {
	if _, ok := s[b]; ok {
		return false
	}
	s[b] = struct{}{}
	return true
}

// walker walks one b-tree, validating every node it enters and the key
// ranges between parents and children, and refusing to enter a node
// twice: that makes every walk finite (at most metadata_nr_blocks nodes)
// and turns a self-reference or a pointer to an ancestor into ErrCycle.
type walker struct {
	m       *Metadata
	leafVS  int
	tree    string
	visited visitSet
	// bad, when set, makes the walk go on past a subtree below the root
	// that cannot be read or is damaged: it receives the key range the
	// parent gives that subtree (clipped to the walk's) and why.
	bad badFunc
}

// badFunc receives the keys [lo, hi] of a subtree a tolerant walk skipped.
type badFunc func(lo, hi uint64, err error)

// fnError carries an error of a walk's leafFunc through visit, which
// never tolerates it.
type fnError struct{ err error }

func (e fnError) Error() string { return e.err.Error() }

// skippable reports whether a tolerant walk may skip the subtree that
// returned err: damage or a read failure, not its caller's own error.
func skippable(err error) bool {
	var fe fnError
	if errors.As(err, &fe) {
		return false
	}
	var me *MetadataError
	var re *ReadError
	return errors.As(err, &me) || errors.As(err, &re)
}

func (m *Metadata) newWalker(leafVS int, tree string, full bool) *walker {
	var v visitSet = mapSet{}
	if full {
		v = make(bitSet, (m.sb.MetadataNrBlocks+63)/64)
	}
	return &walker{m: m, leafVS: leafVS, tree: tree, visited: v}
}

// sub returns a walker for a tree reached through this one (a device's
// mapping tree under the top-level tree), sharing the visited set.
func (w *walker) sub(tree string) *walker {
	return &walker{m: w.m, leafVS: w.leafVS, tree: tree, visited: w.visited, bad: w.bad}
}

// leafFunc receives a leaf entry: the leaf's block, the key and the value.
type leafFunc func(leaf, key uint64, value []byte) error

// walk calls fn for every leaf entry with key in [lo, hi], in key order,
// of the tree rooted at root.
func (w *walker) walk(root, lo, hi uint64, fn leafFunc) error {
	if lo > hi {
		return nil
	}
	err := w.visit(root, 0, 0, ^uint64(0), lo, hi, fn)
	var fe fnError
	if errors.As(err, &fe) {
		return fe.err
	}
	return err
}

// visit walks the subtree at blk, whose keys the parent bounds to
// [kmin, kmax].
func (w *walker) visit(blk uint64, depth int, kmin, kmax, lo, hi uint64, fn leafFunc) error {
	if depth >= maxTreeDepth {
		return &MetadataError{Block: blk, Structure: "b-tree node", Tree: w.tree,
			Problem: fmt.Sprintf("the tree is more than %d levels deep", maxTreeDepth), Err: ErrCycle}
	}
	if blk != 0 && blk < w.m.sb.MetadataNrBlocks && !w.visited.add(blk) {
		return &MetadataError{Block: blk, Structure: "b-tree node", Tree: w.tree,
			Problem: "reached a second time in one walk (it points to itself or to an ancestor, or two parents share it)", Err: ErrCycle}
	}
	n, err := w.m.node(blk, w.leafVS, w.tree)
	if err != nil {
		return err
	}
	if n.nr > 0 {
		if k := n.key(0); k < kmin {
			return w.boundErr(blk, 0, k, kmin, kmax)
		}
		if k := n.key(n.nr - 1); k > kmax {
			return w.boundErr(blk, n.nr-1, k, kmin, kmax)
		}
	}
	if n.leaf {
		for i := w.first(n, lo); i < n.nr; i++ {
			k := n.key(i)
			if k > hi {
				break
			}
			if k < lo {
				continue
			}
			if err := fn(blk, k, n.value(i)); err != nil {
				return fnError{err}
			}
		}
		return nil
	}
	for i := w.first(n, lo); i < n.nr && n.key(i) <= hi; i++ {
		cmax := kmax
		if i+1 < n.nr {
			cmax = n.key(i+1) - 1
		}
		if err := w.visit(n.child(i), depth+1, n.key(i), cmax, lo, hi, fn); err != nil {
			if w.bad == nil || !skippable(err) {
				return err
			}
			w.bad(max(n.key(i), lo), min(cmax, hi), err)
		}
	}
	return nil
}

// first is the largest index i with key(i) <= lo, or 0 when there is none.
func (w *walker) first(n *node, lo uint64) int {
	a, b := 0, n.nr // find the first key > lo
	for a < b {
		h := int(uint(a+b) >> 1)
		if n.key(h) <= lo {
			a = h + 1
		} else {
			b = h
		}
	}
	return max(0, a-1)
}

func (w *walker) boundErr(blk uint64, i int, k, kmin, kmax uint64) error {
	return &MetadataError{Block: blk, Structure: "b-tree node", Tree: w.tree, Field: fmt.Sprintf("keys[%d]", i),
		Problem: fmt.Sprintf("%d outside the range [%d, %d] its parent gives this node", k, kmin, kmax), Err: ErrCorrupt}
}
