package vhdx

import (
	"bytes"
	"container/heap"
	"encoding/binary"
	"fmt"
	"io"
	"sort"

	"github.com/lvminspect/lvminspect/scan/container/blockdev"
)

// The log: a circular buffer of 4 KiB sectors at LogOffset, LogLength
// bytes long. A log entry is one or more descriptor sectors (the first
// starting with a 64-byte entry header, then 32-byte descriptors) and
// one data sector per data descriptor. The active sequence is the valid
// run of contiguous entries, sequence numbers rising by one, from the
// entry the head's Tail names to the head, whose head has the highest
// sequence number. Replaying it writes each data descriptor's sector
// and each zero descriptor's range, in order; here the writes overlay
// the file in memory.
const (
	logSectorSize  = 4 * kib
	logEntryHdr    = 64
	logDescSize    = 32
	maxReplayLog   = 32 * mib // a log to replay larger than this is refused
	crcBudgetTimes = 8        // the bytes checksummed while searching, in log lengths
)

var (
	logEntrySig = []byte("loge")
	logDataSig  = []byte("desc")
	logZeroSig  = []byte("zero")
	logSectSig  = []byte("data")
)

// logEntry is a log entry whose header looks sound; full says whether
// its descriptors, data sectors and checksum were checked and are.
type logEntry struct {
	pos     int64 // byte offset in the log
	length  int64
	tail    int64
	seq     uint64
	ndesc   int64
	flushed uint64
	last    uint64
	stored  uint32

	checked  bool
	summed   bool // the checksum was computed
	full     bool
	computed uint32
	why      string
}

// logArea is the log read into memory.
type logArea struct {
	buf  []byte
	size int64
	guid GUID
}

// bytes returns n bytes of the log at pos, wrapping at its end (n is at
// most the log's size).
func (l *logArea) bytes(pos, n int64) []byte {
	pos %= l.size
	if pos+n <= l.size {
		return l.buf[pos : pos+n]
	}
	out := make([]byte, n)
	k := copy(out, l.buf[pos:])
	copy(out[k:], l.buf[:n-int64(k)])
	return out
}

// descSectors is the number of descriptor sectors of an entry with n
// descriptors.
func descSectors(n int64) int64 {
	return (logEntryHdr + logDescSize*n + logSectorSize - 1) / logSectorSize
}

// peek decodes the entry header at pos, nil if it is not one of this
// log's entries or is impossible.
func (l *logArea) peek(pos int64) *logEntry {
	h := l.bytes(pos, logEntryHdr)
	if !bytes.Equal(h[:4], logEntrySig) || guidAt(h[32:]) != l.guid {
		return nil
	}
	le := binary.LittleEndian
	e := &logEntry{pos: pos, length: int64(le.Uint32(h[8:])), tail: int64(le.Uint32(h[12:])), seq: le.Uint64(h[16:]),
		ndesc: int64(le.Uint32(h[24:])), flushed: le.Uint64(h[48:]), last: le.Uint64(h[56:]), stored: le.Uint32(h[4:])}
	if e.length == 0 || e.length%logSectorSize != 0 || e.length > l.size || e.tail%logSectorSize != 0 || e.tail >= l.size || e.seq == 0 {
		return nil
	}
	if descSectors(e.ndesc) > e.length/logSectorSize {
		return nil
	}
	return e
}

// logOp is one write of a replayed entry: 4 KiB of data, or zeros.
type logOp struct {
	off, end int64
	idx      int
	data     []byte // nil: zeros
}

// check verifies an entry's descriptors, data sectors and checksum;
// with ops non-nil it appends the entry's writes.
func (l *logArea) check(e *logEntry, ops *[]logOp) bool {
	le := binary.LittleEndian
	ds := descSectors(e.ndesc)
	desc := l.bytes(e.pos, ds*logSectorSize)
	nData := int64(0)
	for i := range e.ndesc {
		d := desc[logEntryHdr+logDescSize*i:]
		if le.Uint64(d[24:]) != e.seq {
			e.why = fmt.Sprintf("descriptor %d: sequence number %d, the entry's is %d", i, le.Uint64(d[24:]), e.seq)
			return false
		}
		off := le.Uint64(d[16:])
		switch {
		case bytes.Equal(d[:4], logZeroSig):
			n := le.Uint64(d[8:])
			if off%logSectorSize != 0 || n%logSectorSize != 0 || off > maxFileSize || n > maxFileSize-off {
				e.why = fmt.Sprintf("zero descriptor %d: %d bytes at byte %d", i, n, off)
				return false
			}
			if ops != nil && n > 0 {
				*ops = append(*ops, logOp{off: int64(off), end: int64(off + n), idx: len(*ops)})
			}
		case bytes.Equal(d[:4], logDataSig):
			if off%logSectorSize != 0 || off > maxFileSize-logSectorSize {
				e.why = fmt.Sprintf("data descriptor %d: byte %d", i, off)
				return false
			}
			if ds+nData >= e.length/logSectorSize {
				e.why = fmt.Sprintf("data descriptor %d: no room for its data sector in an entry of %d bytes", i, e.length)
				return false
			}
			s := l.bytes(e.pos+(ds+nData)*logSectorSize, logSectorSize)
			nData++
			if !bytes.Equal(s[:4], logSectSig) || le.Uint32(s[4:]) != uint32(e.seq>>32) || le.Uint32(s[logSectorSize-4:]) != uint32(e.seq) {
				e.why = fmt.Sprintf("data sector %d: signature %q, sequence number %#x/%#x, the entry's is %#x", nData-1, s[:4], le.Uint32(s[4:]), le.Uint32(s[logSectorSize-4:]), e.seq)
				return false
			}
			if ops != nil {
				w := make([]byte, logSectorSize)
				le.PutUint64(w, le.Uint64(d[8:]))
				copy(w[8:logSectorSize-4], s[8:logSectorSize-4])
				le.PutUint32(w[logSectorSize-4:], le.Uint32(d[4:]))
				*ops = append(*ops, logOp{off: int64(off), end: int64(off) + logSectorSize, idx: len(*ops), data: w})
			}
		default:
			e.why = fmt.Sprintf("descriptor %d: signature %q", i, d[:4])
			return false
		}
	}
	return true
}

// verify checks e once and remembers the answer; budget is the bytes
// left to checksum.
func (l *logArea) verify(e *logEntry, budget *int64) bool {
	if e.checked {
		return e.full
	}
	e.checked = true
	if !l.check(e, nil) {
		return false
	}
	*budget -= e.length
	e.computed = crcZeroed(l.bytes(e.pos, e.length), 4)
	e.summed = true
	if e.computed != e.stored {
		e.why = fmt.Sprintf("checksum stored %#08x, computed %#08x", e.stored, e.computed)
		return false
	}
	e.full = true
	return true
}

// replayLog finds the log's active sequence, if the header says there is
// a log to replay, and overlays its writes on the file.
func (im *Image) replayLog() error {
	h := im.header
	im.log = LogInfo{State: "empty", Offset: int64(h.LogOffset), Length: int64(h.LogLength), Version: h.LogVersion}
	if h.LogGUID.IsZero() {
		return nil
	}
	im.log.GUID = h.LogGUID.String()
	where := fmt.Sprintf("%s: log %s", im.name, h.LogGUID)
	if h.LogVersion != 0 {
		return unsupported("%s: log version %d (this reader knows version 0)", where, h.LogVersion)
	}
	size, off := int64(h.LogLength), h.LogOffset
	if size == 0 || size%mib != 0 || off%mib != 0 || off < headerSectionSize || off > uint64(im.fileSize) || uint64(size) > uint64(im.fileSize)-off {
		return formatErr("%s: %d bytes at byte %d: not 1 MiB multiples within the file (%d bytes) after the header section", where, size, off, im.fileSize)
	}
	if size > maxReplayLog {
		return unsupported("%s: a log of %d bytes to replay (this reader replays logs of up to %d bytes)", where, size, maxReplayLog)
	}
	l := &logArea{buf: make([]byte, size), size: size, guid: h.LogGUID}
	if err := im.readFile(l.buf, int64(off)); err != nil {
		return err
	}
	entries := map[int64]*logEntry{}
	var cands []*logEntry
	for pos := int64(0); pos < size; pos += logSectorSize {
		if e := l.peek(pos); e != nil {
			entries[pos] = e
			cands = append(cands, e)
		}
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].seq != cands[j].seq {
			return cands[i].seq > cands[j].seq
		}
		return cands[i].pos < cands[j].pos
	})
	budget := crcBudgetTimes * size
	steps := 64 * (size / logSectorSize)
	var seq []*logEntry
	for _, head := range cands {
		if budget < 0 || steps < 0 {
			return formatErr("%s: too many damaged entries to find the active sequence within bounds", where)
		}
		seq = seq[:0]
		cur := entries[head.tail]
		span := int64(0)
		for cur != nil {
			steps--
			if !l.verify(cur, &budget) || cur.seq > head.seq {
				break
			}
			seq = append(seq, cur)
			span += cur.length
			if span > size {
				break
			}
			if cur == head {
				break
			}
			next := entries[(cur.pos+cur.length)%size]
			if next == nil || next.seq != cur.seq+1 {
				break
			}
			cur = next
		}
		if len(seq) > 0 && seq[len(seq)-1] == head && span <= size {
			break
		}
		seq = seq[:0]
	}
	// The checksums of every entry looked at.
	var looked []*logEntry
	for _, e := range entries {
		if e.summed {
			looked = append(looked, e)
		}
	}
	sort.Slice(looked, func(i, j int) bool { return looked[i].pos < looked[j].pos })
	for _, e := range looked {
		im.checksums = append(im.checksums, mkSum(fmt.Sprintf("log entry (sequence %d)", e.seq), int64(off)+e.pos, e.stored, e.computed))
	}
	if len(seq) == 0 {
		im.log.State = "no valid sequence"
		why := "no entry of this log"
		if len(cands) > 0 {
			why = fmt.Sprintf("%d entries of this log, none the head of a valid sequence", len(cands))
			if e := cands[0]; e.why != "" {
				why += fmt.Sprintf(" (the newest, sequence %d at byte %d: %s)", e.seq, int64(off)+e.pos, e.why)
			}
		}
		im.problems = append(im.problems, formatErr("%s: LogGuid is set but the log holds no valid sequence (%s): nothing replayed", where, why))
		return nil
	}
	var ops []logOp
	for _, e := range seq {
		l.check(e, &ops)
		im.logFields = append(im.logFields, logField{pos: int64(off) + e.pos, raw: l.bytes(e.pos, min(descSectors(e.ndesc)*logSectorSize, size-e.pos)), seq: e.seq})
	}
	head := seq[len(seq)-1]
	eff := max(im.fileSize, int64(min(head.last, maxFileSize)))
	for _, o := range ops {
		if o.data != nil {
			im.log.DataDescriptors++
		} else {
			im.log.ZeroDescriptors++
		}
		eff = max(eff, o.end)
	}
	if head.last > maxFileSize {
		return formatErr("%s: head entry at byte %d: LastFileOffset %d too large", where, int64(off)+head.pos, head.last)
	}
	if head.flushed > uint64(im.fileSize) {
		im.problems = append(im.problems, formatErr("%s: the file (%d bytes) is shorter than the FlushedFileOffset %d of the log's head entry: it was cut after the log was written", where, im.fileSize, head.flushed))
	}
	im.log.State = "replayed"
	im.log.Entries = len(seq)
	im.log.FirstSequence, im.log.LastSequence = seq[0].seq, head.seq
	im.log.TailOffset, im.log.HeadOffset = int64(off)+seq[0].pos, int64(off)+head.pos
	im.log.FileSizeAfter = eff
	im.overlay = newOverlay(im.file, im.fileSize, eff, ops)
	im.r = im.overlay
	im.effSize = eff
	return nil
}

// logField is a replayed entry's descriptor sectors, for Fields.
type logField struct {
	pos int64
	raw []byte
	seq uint64
}

// overlay is the file with the replayed writes over it: segs are sorted,
// do not overlap, and hold 4 KiB of data or zeros each; past the file's
// end and up to size it reads zeros.
type overlay struct {
	base     io.ReaderAt
	baseSize int64
	size     int64
	segs     []segment
}

type segment struct {
	off, end int64
	data     []byte // nil: zeros
}

// opHeap orders the writes covering a point, the latest first.
type opHeap []*logOp

func (h opHeap) Len() int           { return len(h) }
func (h opHeap) Less(i, j int) bool { return h[i].idx > h[j].idx }
func (h opHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *opHeap) Push(x any)        { *h = append(*h, x.(*logOp)) }
func (h *opHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// newOverlay resolves the writes ops, in order, into what each range of
// the file holds once they are all done.
func newOverlay(base io.ReaderAt, baseSize, size int64, ops []logOp) *overlay {
	o := &overlay{base: base, baseSize: baseSize, size: size}
	if len(ops) == 0 {
		return o
	}
	pts := make([]int64, 0, 2*len(ops))
	for _, op := range ops {
		pts = append(pts, op.off, op.end)
	}
	sort.Slice(pts, func(i, j int) bool { return pts[i] < pts[j] })
	byOff := make([]*logOp, len(ops))
	for i := range ops {
		byOff[i] = &ops[i]
	}
	sort.SliceStable(byOff, func(i, j int) bool { return byOff[i].off < byOff[j].off })
	var h opHeap
	next := 0
	for i := 0; i+1 < len(pts); i++ {
		a, b := pts[i], pts[i+1]
		if a == b {
			continue
		}
		for next < len(byOff) && byOff[next].off <= a {
			heap.Push(&h, byOff[next])
			next++
		}
		for h.Len() > 0 && h[0].end <= a {
			heap.Pop(&h)
		}
		if h.Len() == 0 {
			continue
		}
		w := h[0]
		s := segment{off: a, end: b}
		if w.data != nil {
			s.data = w.data[a-w.off : b-w.off]
		}
		if k := len(o.segs) - 1; k >= 0 && s.data == nil && o.segs[k].data == nil && o.segs[k].end == a {
			o.segs[k].end = b
			continue
		}
		o.segs = append(o.segs, s)
	}
	return o
}

// ReadAt reads the file as replayed.
func (o *overlay) ReadAt(p []byte, off int64) (int, error) {
	return blockdev.ReadDisk("vhdx", p, off, o.size, func(p []byte) (int, error) {
		return o.read(p, off)
	})
}

// read fills p, within the file, with the file's bytes at off as
// replayed.
func (o *overlay) read(p []byte, off int64) (int, error) {
	done := 0
	for done < len(p) {
		pos := off + int64(done)
		left := int64(len(p) - done)
		i := sort.Search(len(o.segs), func(i int) bool { return o.segs[i].end > pos })
		if i < len(o.segs) && o.segs[i].off <= pos {
			s := o.segs[i]
			n := int(min(left, s.end-pos))
			if s.data == nil {
				clear(p[done : done+n])
			} else {
				copy(p[done:done+n], s.data[pos-s.off:])
			}
			done += n
			continue
		}
		if i < len(o.segs) {
			left = min(left, o.segs[i].off-pos)
		}
		q := p[done : done+int(left)]
		k := 0
		if pos < o.baseSize {
			k = int(min(left, o.baseSize-pos))
			n, err := o.base.ReadAt(q[:k], pos)
			if err := blockdev.ShortRead(n, k, err); err != nil {
				return done + n, err
			}
		}
		clear(q[k:])
		done += len(q)
	}
	return done, nil
}

// touches reports whether the replay wrote anything in [off, off+n).
func (o *overlay) touches(off, n int64) bool {
	if o == nil {
		return false
	}
	i := sort.Search(len(o.segs), func(i int) bool { return o.segs[i].end > off })
	return i < len(o.segs) && o.segs[i].off < off+n
}
