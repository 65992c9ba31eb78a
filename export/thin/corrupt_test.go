package thin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/internal/sourcetest"
)

func errorsIs(err, target error) bool { return errors.Is(err, target) }

func readerOf(b []byte) *bytes.Reader { return bytes.NewReader(b) }

// metaErr checks that err is a *MetadataError wrapping want about block
// blk, and that its message names the block.
func metaErr(t *testing.T, err error, want error, blk uint64) {
	t.Helper()
	var me *MetadataError
	if !errors.As(err, &me) {
		t.Fatalf("error %v (%T), want a *MetadataError", err, err)
	}
	if !errors.Is(err, want) {
		t.Errorf("error %v, want %v", err, want)
	}
	if me.Block != blk {
		t.Errorf("error names block %d, want %d: %v", me.Block, blk, err)
	}
	if !strings.Contains(err.Error(), "block ") {
		t.Errorf("message does not name the block: %v", err)
	}
}

// openWith opens LV name over edited metadata, failing the test if it
// takes long (a hang), and returns the error of the open or, when it
// opened, of its first damaged range (a subtree below the root that it
// skipped, see Damage).
func openWith(t *testing.T, tf *thinFixture, meta []byte, name string) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		r := tf.resolver(meta)
		src, err := Open(r, r.VG.LV(name), 0)
		if err == nil {
			if d := src.(*Source).Damage(); len(d) > 0 {
				err = d[0].Err
			}
		}
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(20 * time.Second):
		t.Fatalf("opening %s did not return", name)
		return nil
	}
}

func TestCorruptLeafChecksum(t *testing.T) {
	tf := loadThin(t)
	e := newEditor(t, tf.tmeta)
	_, _, root := e.topEntry(1)
	e.block(root)[200] ^= 1 // a key of vol1's leaf
	metaErr(t, openWith(t, tf, e.b, "vol1"), ErrChecksum, root)
	// The other devices have their own leaves and still open.
	if err := openWith(t, tf, e.b, "vol2"); err != nil {
		t.Errorf("vol2 with vol1's leaf damaged: %v", err)
	}
}

func TestCorruptSuperblock(t *testing.T) {
	tf := loadThin(t)
	e := newEditor(t, tf.tmeta)
	e.block(0)[32] ^= 0xFF
	metaErr(t, openWith(t, tf, e.b, "vol1"), ErrMagic, 0)

	e = newEditor(t, tf.tmeta)
	e.block(0)[44] ^= 1 // time, without fixing the checksum
	metaErr(t, openWith(t, tf, e.b, "vol1"), ErrChecksum, 0)

	e = newEditor(t, tf.tmeta)
	e.put64(0, 320, 1<<20) // data_mapping_root beyond the device
	e.seal(0, saltSuperblock)
	metaErr(t, openWith(t, tf, e.b, "vol1"), ErrRange, 0)

	e = newEditor(t, tf.tmeta)
	e.put64(0, 344, 1<<30) // metadata_nr_blocks larger than the LV
	e.seal(0, saltSuperblock)
	metaErr(t, openWith(t, tf, e.b, "vol1"), ErrRange, 0)

	e = newEditor(t, tf.tmeta)
	e.put32(0, 340, 16) // 8 KiB metadata blocks
	e.seal(0, saltSuperblock)
	metaErr(t, openWith(t, tf, e.b, "vol1"), ErrUnsupported, 0)

	e = newEditor(t, tf.tmeta)
	e.put32(0, 336, 256) // data block size differs from chunk_size
	e.seal(0, saltSuperblock)
	metaErr(t, openWith(t, tf, e.b, "vol1"), ErrCorrupt, 0)
}

// splitLeaf replaces device id's single leaf by an internal node over two
// leaves split at entry k, returning the new root and leaves.
func splitLeaf(t testing.TB, e *metaEditor, id uint64, k int) (root, l1, l2 uint64) {
	_, _, leaf := e.topEntry(id)
	m, err := OpenMetadata(readerOf(e.b), int64(len(e.b)))
	if err != nil {
		t.Fatal(err)
	}
	n, err := m.node(leaf, mappingValueSize, "")
	if err != nil || !n.leaf || n.nr <= k {
		t.Fatalf("leaf %d: %v", leaf, err)
	}
	var keys []uint64
	var vals [][]byte
	for i := 0; i < n.nr; i++ {
		keys = append(keys, n.key(i))
		vals = append(vals, append([]byte(nil), n.value(i)...))
	}
	root = e.free()
	l1 = e.free(root)
	l2 = e.free(root, l1)
	e.writeNode(l1, true, 8, keys[:k], vals[:k])
	e.writeNode(l2, true, 8, keys[k:], vals[k:])
	e.writeNode(root, false, 8, []uint64{keys[0], keys[k]}, u64s(l1, l2))
	e.setDeviceRoot(id, root)
	return root, l1, l2
}

// TestTwoLevelDeviceTree checks the internal node path on real mappings:
// vol1's leaf split under an internal node exports unchanged.
func TestTwoLevelDeviceTree(t *testing.T) {
	tf := loadThin(t)
	e := newEditor(t, tf.tmeta)
	splitLeaf(t, e, 1, 40)
	for _, mode := range []string{"extents", "tree"} {
		if mode == "tree" {
			old := maxExtents
			maxExtents = 0
			defer func() { maxExtents = old }()
		}
		src, err := tf.resolver(e.b).Open("vol1")
		if err != nil {
			t.Fatal(err)
		}
		sum, _ := hashSource(t, src)
		for _, lv := range tf.thinLVs() {
			if lv.Name == "vol1" && sum != lv.ExpectedSHA256() {
				t.Errorf("%s: split tree sha256 %s, want %s", mode, sum, lv.ExpectedSHA256())
			}
		}
	}
}

func TestCorruptCycles(t *testing.T) {
	tf := loadThin(t)

	// A node whose child is itself.
	e := newEditor(t, tf.tmeta)
	self := e.free()
	e.writeNode(self, false, 8, []uint64{0}, u64s(self))
	e.setDeviceRoot(1, self)
	metaErr(t, openWith(t, tf, e.b, "vol1"), ErrCycle, self)

	// Two internal nodes pointing to each other: root -> child -> root.
	e = newEditor(t, tf.tmeta)
	a := e.free()
	b := e.free(a)
	e.writeNode(a, false, 8, []uint64{0}, u64s(b))
	e.writeNode(b, false, 8, []uint64{0}, u64s(a))
	e.setDeviceRoot(1, a)
	metaErr(t, openWith(t, tf, e.b, "vol1"), ErrCycle, a)

	// A device tree pointing back at the top-level tree's root, which
	// would otherwise decode as a leaf of bogus mappings.
	e = newEditor(t, tf.tmeta)
	top, _, _ := e.topEntry(1)
	c := e.free()
	e.writeNode(c, false, 8, []uint64{0}, u64s(top))
	e.setDeviceRoot(1, c)
	metaErr(t, openWith(t, tf, e.b, "vol1"), ErrCycle, top)

	// A split tree whose second leaf pointer goes back to the root.
	e = newEditor(t, tf.tmeta)
	root, l1, _ := splitLeaf(t, e, 1, 40)
	e.writeNode(root, false, 8, []uint64{0, 40}, u64s(l1, root))
	metaErr(t, openWith(t, tf, e.b, "vol1"), ErrCycle, root)

	// The top-level entry pointing at the superblock's own block would be
	// a checksum error; pointing at the top-level root is a cycle.
	e = newEditor(t, tf.tmeta)
	e.setDeviceRoot(1, top)
	metaErr(t, openWith(t, tf, e.b, "vol1"), ErrCycle, top)
}

func TestCorruptStructure(t *testing.T) {
	tf := loadThin(t)
	nr := uint64(len(tf.tmeta) / BlockSize)

	// Child block beyond the metadata device.
	e := newEditor(t, tf.tmeta)
	n := e.free()
	e.writeNode(n, false, 8, []uint64{0}, u64s(nr+5))
	e.setDeviceRoot(1, n)
	metaErr(t, openWith(t, tf, e.b, "vol1"), ErrRange, n)

	// Top-level root value beyond the device.
	e = newEditor(t, tf.tmeta)
	e.setDeviceRoot(1, 1<<40)
	metaErr(t, openWith(t, tf, e.b, "vol1"), ErrRange, 1<<40)

	// A data block beyond the pool's data blocks.
	e = newEditor(t, tf.tmeta)
	_, _, leaf := e.topEntry(2)
	e.put64(leaf, nodeHeaderSize+8*maxEntries(8)+8*3, 300<<24)
	e.seal(leaf, saltNode)
	metaErr(t, openWith(t, tf, e.b, "vol2"), ErrRange, leaf)

	// nr_entries above max_entries.
	e = newEditor(t, tf.tmeta)
	e.put32(leaf, 16, 253)
	e.seal(leaf, saltNode)
	metaErr(t, openWith(t, tf, e.b, "vol2"), ErrCorrupt, leaf)

	// Keys out of order.
	e = newEditor(t, tf.tmeta)
	e.put64(leaf, nodeHeaderSize+8*5, 1)
	e.seal(leaf, saltNode)
	metaErr(t, openWith(t, tf, e.b, "vol2"), ErrCorrupt, leaf)

	// Wrong node type and wrong block number.
	e = newEditor(t, tf.tmeta)
	e.put32(leaf, 4, 3)
	e.seal(leaf, saltNode)
	metaErr(t, openWith(t, tf, e.b, "vol2"), ErrCorrupt, leaf)
	e = newEditor(t, tf.tmeta)
	e.put64(leaf, 8, leaf+1)
	e.seal(leaf, saltNode)
	metaErr(t, openWith(t, tf, e.b, "vol2"), ErrCorrupt, leaf)

	// A leaf under an internal node holding keys outside its key range.
	e = newEditor(t, tf.tmeta)
	root, l1, l2 := splitLeaf(t, e, 1, 40)
	e.writeNode(root, false, 8, []uint64{0, 10}, u64s(l1, l2)) // l1 holds keys up to 39
	metaErr(t, openWith(t, tf, e.b, "vol1"), ErrCorrupt, l1)
}

// TestDamagedLeafIsMissing: one bad leaf of a device's mapping tree (a
// mapping to a data block the pool does not have; a leaf holding keys
// outside the range its parent gives it) makes only its blocks
// RunMissing, with the metadata error as the reason; the rest of the LV
// reads as before, and an export with AllowPartial writes those blocks as
// zeros and lists them. The LV used not to open at all.
func TestDamagedLeafIsMissing(t *testing.T) {
	tf := loadThin(t)
	clean := openThin(t, tf.resolver(nil), "vol1")
	want := readAll(t, clean)
	bs := clean.bsize

	for _, c := range []struct {
		name   string
		damage func(e *metaEditor, root, l1, l2 uint64)
		// the damaged virtual blocks, and the last block that reads as
		// zeros (the damaged ones, and those the damage left unmapped)
		from, to, zeroTo uint64
	}{
		{"data block beyond the pool", func(e *metaEditor, _, _, l2 uint64) {
			e.put64(l2, nodeHeaderSize+8*maxEntries(8)+8*2, 1<<30<<24) // the third entry of l2: data block 2^30
			e.seal(l2, saltNode)
		}, 0, 0, 0},
		{"keys outside the parent's range", func(e *metaEditor, root, l1, l2 uint64) {
			// l1 holds keys up to 39: it is skipped, and blocks 10..39,
			// which the parent gives l2, are not there.
			e.writeNode(root, false, 8, []uint64{0, 10}, u64s(l1, l2))
		}, 0, 9, 39},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEditor(t, tf.tmeta)
			root, l1, l2 := splitLeaf(t, e, 1, 40)
			c.damage(e, root, l1, l2)
			src := openThin(t, tf.resolver(e.b), "vol1")
			d := src.Damage()
			if len(d) != 1 {
				t.Fatalf("damage %+v, want one range", d)
			}
			from, to, zeroTo := c.from, c.to, c.zeroTo
			if c.name == "data block beyond the pool" {
				m, _ := OpenMetadata(readerOf(e.b), int64(len(e.b)))
				n, _ := m.node(l2, mappingValueSize, "")
				from, to, zeroTo = n.key(2), n.key(2), n.key(2)
			}
			if d[0].VBlock != from || d[0].VBlock+d[0].Len-1 != to {
				t.Errorf("damaged blocks %d..%d, want %d..%d", d[0].VBlock, d[0].VBlock+d[0].Len-1, from, to)
			}
			var me *MetadataError
			if !errors.As(d[0].Err, &me) {
				t.Errorf("damage %v, want a *MetadataError", d[0].Err)
			}
			miss, err := export.MissingRanges(context.Background(), src)
			if err != nil {
				t.Fatal(err)
			}
			if len(miss) != 1 || miss[0].Off != int64(from)*bs || miss[0].End() != int64(to+1)*bs ||
				!strings.Contains(miss[0].Reason, "metadata cannot say") {
				t.Errorf("missing %v, want blocks %d..%d", miss, from, to)
			}
			res, err := export.Export(context.Background(), src, export.Options{Output: "-", Stdout: io.Discard, AllowPartial: true})
			if err != nil {
				t.Fatal(err)
			}
			exp := append([]byte(nil), want...)
			clear(exp[int64(from)*bs : int64(zeroTo+1)*bs])
			if sum := sha256.Sum256(exp); res.SHA256 != hex.EncodeToString(sum[:]) || len(res.Missing) != 1 {
				t.Errorf("export: sha256 %s, missing %v; want the LV with the damaged blocks zeroed", res.SHA256, res.Missing)
			}
			if _, err := export.Export(context.Background(), src, export.Options{Output: "-", Stdout: io.Discard}); !errors.As(err, new(*export.MissingError)) {
				t.Errorf("without AllowPartial: %v, want a *MissingError", err)
			}
		})
	}
}

// readAll reads a whole source (data runs read, others zeros).
func readAll(t *testing.T, src export.Source) []byte {
	t.Helper()
	out := make([]byte, src.Size())
	sourcetest.Walk(t, src, 1<<20, func(off int64, b []byte) { copy(out[off:], b) })
	return out
}
