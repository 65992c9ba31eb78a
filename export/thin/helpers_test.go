package thin

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"testing"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/export/volume"
	"github.com/lvminspect/lvminspect/internal/fixture"
	"github.com/lvminspect/lvminspect/internal/sourcetest"
	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan"
)

// thinFixture is the scanned thin fixture.
type thinFixture struct {
	f      *fixture.Fixture
	img    []byte
	vg     *scan.VG
	tmeta  []byte // the pool metadata LV's bytes as in the image
	tmOff  int64  // where they start in the image
	stamps []stamp
}

type stamp struct {
	LV     string `json:"lv"`
	Gen    int    `json:"gen"`
	Off    int64  `json:"offset_bytes"`
	Length int64  `json:"length_bytes"`
}

func loadThin(t testing.TB) *thinFixture {
	t.Helper()
	f := fixture.Load(t, "thin")
	img := f.Image(t, "pv0")
	res := scan.Scan([]*scan.Input{scan.NewInput("pv0", bytes.NewReader(img), int64(len(img)))}, scan.Options{})
	var vg *scan.VG
	for _, v := range res.VGs {
		if v.Meta.Name == "thin" {
			vg = v
		}
	}
	if vg == nil {
		t.Fatalf("thin fixture: VG thin not found")
	}
	tf := &thinFixture{f: f, img: img, vg: vg}
	// Locate pool_tmeta on the PV through the model's own mapping.
	lv := vg.Meta.LV("pool_tmeta")
	pieces, err := vg.Meta.MapRange(lv, 0, vg.Meta.LVSize(lv))
	if err != nil || len(pieces) != 1 {
		t.Fatalf("pool_tmeta mapping: %v %v", pieces, err)
	}
	tf.tmOff = pieces[0].PVOffset
	tf.tmeta = append([]byte(nil), img[tf.tmOff:tf.tmOff+pieces[0].Length]...)
	var doc struct {
		LVs []struct {
			Name   string  `json:"name"`
			Stamps []stamp `json:"stamps"`
		} `json:"lvs"`
	}
	if err := json.Unmarshal(f.ReadFile(t, "manifest.json"), &doc); err != nil {
		t.Fatal(err)
	}
	for _, l := range doc.LVs {
		tf.stamps = append(tf.stamps, l.Stamps...)
	}
	return tf
}

// overlay reads base, with the bytes at [off, off+len(patch)) replaced.
type overlay struct {
	base  []byte
	off   int64
	patch []byte
}

func (o *overlay) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(o.base)) {
		return 0, io.EOF
	}
	n := copy(p, o.base[off:])
	// Replace the part inside the patch.
	lo, hi := max(off, o.off), min(off+int64(n), o.off+int64(len(o.patch)))
	if lo < hi {
		copy(p[lo-off:hi-off], o.patch[lo-o.off:hi-o.off])
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// resolver returns a resolver over the fixture image with the pool
// metadata replaced by meta (nil: unchanged), and a private copy of the VG
// metadata that a test may edit.
func (tf *thinFixture) resolver(meta []byte) *volume.Resolver {
	var r io.ReaderAt = bytes.NewReader(tf.img)
	if meta != nil {
		r = &overlay{base: tf.img, off: tf.tmOff, patch: meta}
	}
	pvs := map[string]export.PVReader{}
	for uuid, pv := range volume.PVReaders(tf.vg) {
		pv.R, pv.Dev = r, nil
		pvs[uuid] = pv
	}
	return volume.New(cloneVG(tf.vg.Meta), pvs)
}

// cloneVG deep-copies the VG metadata through JSON-free manual copying of
// the parts tests edit (LVs and segments with their thin parameters).
func cloneVG(vg *model.VG) *model.VG {
	c := *vg
	c.LVs = nil
	for _, lv := range vg.LVs {
		l := *lv
		l.Segments = nil
		for _, s := range lv.Segments {
			sc := *s
			if s.Thin != nil {
				tp := *s.Thin
				sc.Thin = &tp
			}
			if s.ThinPool != nil {
				tp := *s.ThinPool
				sc.ThinPool = &tp
			}
			l.Segments = append(l.Segments, &sc)
		}
		c.LVs = append(c.LVs, &l)
	}
	return &c
}

// thinLVs lists the thin LVs of the manifest.
func (tf *thinFixture) thinLVs() []fixture.LV {
	var out []fixture.LV
	for _, lv := range tf.f.Manifest.LVs {
		if len(lv.Segtypes) == 1 && lv.Segtypes[0] == "thin" {
			out = append(out, lv)
		}
	}
	return out
}

// hashSource hashes a Source through Runs and ReadAt in windows that are
// not block aligned on purpose, checking that the runs tile each window;
// it must have no missing runs, and returns the runs merged.
func hashSource(t testing.TB, src export.Source) (string, []export.Run) {
	t.Helper()
	sum, runs := sourcetest.Hash(t, src, 3<<20+4096)
	if m := sourcetest.Missing(runs); len(m) > 0 {
		t.Fatalf("unexpected missing runs %+v", m)
	}
	for i := range runs {
		runs[i].Source, runs[i].Reason = "", ""
	}
	return sum, mergeRuns(runs)
}

// mergeRuns merges adjacent runs of one kind.
func mergeRuns(runs []export.Run) []export.Run {
	var out []export.Run
	for _, r := range runs {
		out = export.AppendRun(out, r)
	}
	return out
}

// metaEditor edits a copy of pool metadata and fixes checksums.
type metaEditor struct {
	t testing.TB
	b []byte
}

func newEditor(t testing.TB, meta []byte) *metaEditor {
	return &metaEditor{t: t, b: append([]byte(nil), meta...)}
}

func (e *metaEditor) block(n uint64) []byte { return e.b[n*BlockSize : (n+1)*BlockSize] }

func (e *metaEditor) put64(blk uint64, off int, v uint64) {
	binary.LittleEndian.PutUint64(e.block(blk)[off:], v)
}

func (e *metaEditor) put32(blk uint64, off int, v uint32) {
	binary.LittleEndian.PutUint32(e.block(blk)[off:], v)
}

// seal recomputes a block's checksum with salt.
func (e *metaEditor) seal(blk uint64, salt uint32) {
	b := e.block(blk)
	binary.LittleEndian.PutUint32(b, blockChecksum(b, salt))
}

func (e *metaEditor) sb() *Superblock {
	sb, err := ParseSuperblock(e.block(0))
	if err != nil {
		e.t.Fatalf("superblock: %v", err)
	}
	return sb
}

// free returns the first all-zero block after the ones in use.
func (e *metaEditor) free(skip ...uint64) uint64 {
	nr := uint64(len(e.b) / BlockSize)
next:
	for blk := nr - 1; blk > 0; blk-- {
		for _, s := range skip {
			if s == blk {
				continue next
			}
		}
		if bytes.Count(e.block(blk), []byte{0}) == BlockSize {
			return blk
		}
	}
	e.t.Fatal("no free metadata block")
	return 0
}

// writeNode writes a sealed node at blk.
func (e *metaEditor) writeNode(blk uint64, leaf bool, vs int, keys []uint64, vals [][]byte) {
	b := e.block(blk)
	clear(b)
	flags := uint32(flagInternal)
	if leaf {
		flags = flagLeaf
	}
	mx := maxEntries(vs)
	binary.LittleEndian.PutUint32(b[4:], flags)
	binary.LittleEndian.PutUint64(b[8:], blk)
	binary.LittleEndian.PutUint32(b[16:], uint32(len(keys)))
	binary.LittleEndian.PutUint32(b[20:], uint32(mx))
	binary.LittleEndian.PutUint32(b[24:], uint32(vs))
	for i, k := range keys {
		binary.LittleEndian.PutUint64(b[nodeHeaderSize+8*i:], k)
		copy(b[nodeHeaderSize+8*mx+vs*i:], vals[i])
	}
	e.seal(blk, saltNode)
}

func u64s(vs ...uint64) [][]byte {
	out := make([][]byte, len(vs))
	for i, v := range vs {
		out[i] = binary.LittleEndian.AppendUint64(nil, v)
	}
	return out
}

// topEntry returns the index and root block of device id in the top-level
// mapping tree (a single leaf in the fixture).
func (e *metaEditor) topEntry(id uint64) (top uint64, idx int, root uint64) {
	top = e.sb().DataMappingRoot
	m, err := OpenMetadata(bytes.NewReader(e.b), int64(len(e.b)))
	if err != nil {
		e.t.Fatal(err)
	}
	n, err := m.node(top, mappingValueSize, "top")
	if err != nil || !n.leaf {
		e.t.Fatalf("top-level tree root %d: leaf %v, %v", top, n != nil && n.leaf, err)
	}
	for i := 0; i < n.nr; i++ {
		if n.key(i) == id {
			return top, i, n.child(i)
		}
	}
	e.t.Fatalf("device %d not in the top-level tree", id)
	return
}

// setDeviceRoot points device id's top-level entry at root.
func (e *metaEditor) setDeviceRoot(id, root uint64) {
	top, i, _ := e.topEntry(id)
	e.put64(top, nodeHeaderSize+8*maxEntries(8)+8*i, root)
	e.seal(top, saltNode)
}

// openThin opens the thin segment of a single-segment thin LV directly.
func openThin(t testing.TB, r *volume.Resolver, name string) *Source {
	t.Helper()
	lv := r.VG.LV(name)
	if lv == nil {
		t.Fatalf("no LV %s", name)
	}
	src, err := Open(r, lv, 0)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	return src.(*Source)
}
