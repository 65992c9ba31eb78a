package nbd

import (
	"bytes"
	"encoding/binary"
	"sync/atomic"
	"testing"
)

func newServer(d *memDev) *Server {
	return &Server{Exports: []Export{{Name: "disk", Description: "a test disk", Dev: d}}, Default: "disk"}
}

func TestListAndInfo(t *testing.T) {
	s := &Server{Exports: []Export{
		{Name: "a", Description: "first", Dev: &memDev{b: make([]byte, 4096)}},
		{Name: "b", Dev: &memDev{b: make([]byte, 8192)}},
	}}
	cl := start(t, s)
	cl.handshake()
	cl.opt(optList, nil)
	var names []string
	for _, r := range cl.replies(optList) {
		if r.typ == repServer {
			n := binary.BigEndian.Uint32(r.data)
			names = append(names, string(r.data[4:4+n]))
		}
	}
	if len(names) != 2 || names[0] != "a" || names[1] != "b" {
		t.Fatalf("LIST: %q", names)
	}
	// INFO with description and name requested.
	cl.opt(optInfo, goData("a", infoDescription, infoName))
	var desc, name string
	var size uint64
	var bsMax uint32
	for _, r := range cl.replies(optInfo) {
		if r.typ != repInfo {
			continue
		}
		switch binary.BigEndian.Uint16(r.data) {
		case infoExport:
			size = binary.BigEndian.Uint64(r.data[2:])
		case infoDescription:
			desc = string(r.data[2:])
		case infoName:
			name = string(r.data[2:])
		case infoBlockSize:
			bsMax = binary.BigEndian.Uint32(r.data[10:])
		}
	}
	if size != 4096 || desc != "first" || name != "a" || bsMax != DefaultMaxRequest {
		t.Fatalf("INFO: size %d desc %q name %q max block %d", size, desc, name, bsMax)
	}
	// No default: the empty name is unknown; so is "zzz".
	for _, n := range []string{"", "zzz"} {
		cl.opt(optGo, goData(n))
		if r := cl.optReply(optGo); r.typ != repErrUnknown {
			t.Fatalf("GO %q: reply %#x, want ERR_UNKNOWN", n, r.typ)
		}
	}
	// Unknown option.
	cl.opt(99, []byte("xyz"))
	if r := cl.optReply(99); r.typ != repErrUnsup {
		t.Fatalf("option 99: reply %#x", r.typ)
	}
	// Malformed GO.
	cl.opt(optGo, []byte{0, 0, 0, 9, 'a'})
	if r := cl.optReply(optGo); r.typ != repErrInvalid {
		t.Fatalf("malformed GO: reply %#x", r.typ)
	}
	// Too-long option is skipped and refused.
	cl.opt(optList, make([]byte, MaxOption+1))
	if r := cl.optReply(optList); r.typ != repErrTooBig {
		t.Fatalf("long option: reply %#x", r.typ)
	}
	size, flags := cl.goExport("b")
	if size != 8192 || flags&tfReadOnly == 0 || flags&tfHasFlags == 0 {
		t.Fatalf("GO b: size %d flags %#x", size, flags)
	}
	cl.request(0, cmdDisc, 1, 0, 0)
}

func TestExportNameAndAbort(t *testing.T) {
	d := &memDev{b: pattern(1 << 16)}
	cl := start(t, newServer(d))
	cl.handshake()
	cl.opt(optExportName, []byte("")) // default export
	if size := cl.u64(); size != 1<<16 {
		t.Fatalf("size %d", size)
	}
	if f := cl.u16(); f&tfReadOnly == 0 {
		t.Fatalf("flags %#x", f)
	}
	// NO_ZEROES was negotiated: the next bytes are a reply.
	cl.request(0, cmdRead, 7, 100, 50)
	if errno, cookie := cl.simpleReply(); errno != 0 || cookie != 7 {
		t.Fatalf("read: errno %d cookie %d", errno, cookie)
	}
	if got := cl.r(50); !bytes.Equal(got, d.b[100:150]) {
		t.Fatal("read after EXPORT_NAME differs")
	}

	cl2 := start(t, newServer(d))
	cl2.handshake()
	cl2.opt(optAbort, nil)
	if r := cl2.optReply(optAbort); r.typ != repAck {
		t.Fatalf("abort: %#x", r.typ)
	}
}

func TestSimpleReads(t *testing.T) {
	d := &memDev{b: pattern(1 << 20), badOff: 300000, badLen: 1000}
	s := newServer(d)
	s.MaxRequest = 256 << 10
	var served atomic.Int64
	s.Served = func(name string, n int64) {
		if name == "disk" {
			served.Add(n)
		}
	}
	cl := start(t, s)
	cl.handshake()
	size, flags := cl.goExport("disk")
	if size != 1<<20 || flags&tfSendDF != 0 {
		t.Fatalf("size %d flags %#x", size, flags)
	}
	read := func(cookie, off uint64, n uint32) (uint32, []byte) {
		t.Helper()
		cl.request(0, cmdRead, cookie, off, n)
		errno, c := cl.simpleReply()
		if c != cookie {
			t.Fatalf("cookie %d want %d", c, cookie)
		}
		if errno != 0 {
			return errno, nil
		}
		return 0, cl.r(int(n))
	}
	if e, b := read(1, 0, 4096); e != 0 || !bytes.Equal(b, d.b[:4096]) {
		t.Fatalf("read 0: errno %d", e)
	}
	// Write is refused, its payload consumed; the connection goes on.
	cl.request(0, cmdWrite, 2, 0, 5000)
	cl.w(make([]byte, 5000))
	if e, c := cl.simpleReply(); e != ePerm || c != 2 {
		t.Fatalf("write: errno %d cookie %d", e, c)
	}
	for i, typ := range []uint16{cmdTrim, cmdWriteZeroes} {
		cl.request(0, typ, uint64(10+i), 0, 512)
		if e, _ := cl.simpleReply(); e != ePerm {
			t.Fatalf("cmd %d: errno %d", typ, e)
		}
	}
	cl.request(0, cmdFlush, 3, 0, 0)
	if e, _ := cl.simpleReply(); e != 0 {
		t.Fatalf("flush: errno %d", e)
	}
	cl.request(0, 77, 4, 0, 0)
	if e, _ := cl.simpleReply(); e != eInval {
		t.Fatalf("unknown command: errno %d", e)
	}
	// Block status without negotiation.
	cl.request(0, cmdBlockStatus, 5, 0, 4096)
	if e, _ := cl.simpleReply(); e != eInval {
		t.Fatalf("block status unnegotiated: errno %d", e)
	}
	// Out of range and too large.
	for i, r := range [][2]uint64{{1 << 20, 1}, {1<<20 - 10, 11}, {1 << 62, 1}, {0, 256<<10 + 1}, {0, 0}} {
		if e, _ := read(uint64(20+i), r[0], uint32(r[1])); e != eInval {
			t.Fatalf("read [%d,+%d): errno %d, want EINVAL", r[0], r[1], e)
		}
	}
	// Unreadable range: EIO, then a good read on the same connection.
	if e, _ := read(30, 299000, 2000); e != eIO {
		t.Fatalf("unreadable read: errno %d", e)
	}
	d.plainErr = true
	if e, _ := read(31, 300500, 10); e != eIO {
		t.Fatalf("failing read: errno %d", e)
	}
	if e, b := read(32, 1<<20-4096, 4096); e != 0 || !bytes.Equal(b, d.b[1<<20-4096:]) {
		t.Fatalf("read at end: errno %d", e)
	}
	cl.request(0, cmdDisc, 99, 0, 0)
	if got := served.Load(); got != 8192 {
		t.Fatalf("Served counted %d bytes", got)
	}
}

func TestConcurrentReads(t *testing.T) {
	d := &memDev{b: pattern(4 << 20)}
	cl := start(t, newServer(d))
	cl.handshake()
	cl.goExport("disk")
	const n = 64
	go func() {
		for i := 0; i < n; i++ {
			cl.request(0, cmdRead, uint64(i), uint64(i)*65536, 65536)
		}
	}()
	seen := map[uint64]bool{}
	for i := 0; i < n; i++ {
		e, c := cl.simpleReply()
		if e != 0 || c >= n || seen[c] {
			t.Fatalf("reply errno %d cookie %d", e, c)
		}
		seen[c] = true
		if !bytes.Equal(cl.r(65536), d.b[c*65536:(c+1)*65536]) {
			t.Fatalf("read %d differs", c)
		}
	}
}

func sparseDev() *memDev {
	d := &memDev{b: pattern(1 << 20), holes: [][2]int64{{65536, 131072}, {500000, 600000}}}
	for _, h := range d.holes {
		clear(d.b[h[0]:h[1]])
	}
	return d
}

func TestStructured(t *testing.T) {
	d := sparseDev()
	d.badOff, d.badLen = 900000, 10
	cl := start(t, newServer(d))
	cl.handshake()
	cl.opt(optSetMetaContext, metaData("disk", baseAllocation))
	if r := cl.optReply(optSetMetaContext); r.typ != repErrInvalid {
		t.Fatalf("SET_META_CONTEXT before STRUCTURED_REPLY: %#x", r.typ)
	}
	cl.opt(optStructuredReply, nil)
	if r := cl.optReply(optStructuredReply); r.typ != repAck {
		t.Fatalf("STRUCTURED_REPLY: %#x", r.typ)
	}
	cl.opt(optListMetaContext, metaData("disk"))
	rs := cl.replies(optListMetaContext)
	if len(rs) != 2 || rs[0].typ != repMetaContext || string(rs[0].data[4:]) != baseAllocation {
		t.Fatalf("LIST_META_CONTEXT: %+v", rs)
	}
	cl.opt(optSetMetaContext, metaData("disk", "other:thing", baseAllocation))
	rs = cl.replies(optSetMetaContext)
	if len(rs) != 2 || rs[0].typ != repMetaContext || binary.BigEndian.Uint32(rs[0].data) != baseAllocationID {
		t.Fatalf("SET_META_CONTEXT: %+v", rs)
	}
	_, flags := cl.goExport("disk")
	if flags&tfSendDF == 0 {
		t.Fatalf("flags %#x lack SEND_DF", flags)
	}
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = 0xee
	}
	cl.request(0, cmdRead, 1, 0, 800000)
	errno, holes := cl.structuredRead(1, 0, buf[:800000])
	if errno != 0 || holes != 2 || !bytes.Equal(buf[:800000], d.b[:800000]) {
		t.Fatalf("structured read: errno %d holes %d equal %v", errno, holes, bytes.Equal(buf[:800000], d.b[:800000]))
	}
	// DF: one data chunk, zeros included.
	cl.request(cmdFlagDF, cmdRead, 2, 60000, 10000)
	c := cl.chunk()
	if c.typ != replyOffsetData || c.flags&replyFlagDone == 0 || !bytes.Equal(c.data[8:], d.b[60000:70000]) {
		t.Fatalf("DF read: chunk type %d flags %d", c.typ, c.flags)
	}
	// Unreadable: an error chunk, then the connection goes on.
	cl.request(0, cmdRead, 3, 899000, 2000)
	if errno, _ := cl.structuredRead(3, 899000, make([]byte, 2000)); errno != eIO {
		t.Fatalf("unreadable structured read: errno %d", errno)
	}
	cl.request(0, cmdRead, 4, 1<<20, 1)
	if errno, _ := cl.structuredRead(4, 0, nil); errno != eInval {
		t.Fatalf("out of range structured read: errno %d", errno)
	}
	// Block status.
	cl.request(0, cmdBlockStatus, 5, 0, 1<<20)
	c = cl.chunk()
	if c.typ != replyBlockStatus || c.flags&replyFlagDone == 0 || c.cookie != 5 {
		t.Fatalf("block status chunk %+v", c)
	}
	if id := binary.BigEndian.Uint32(c.data); id != baseAllocationID {
		t.Fatalf("context id %d", id)
	}
	type desc struct{ n, st uint32 }
	var got []desc
	for b := c.data[4:]; len(b) >= 8; b = b[8:] {
		got = append(got, desc{binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:])})
	}
	want := []desc{{65536, 0}, {65536, 3}, {500000 - 131072, 0}, {100000, 3}, {1<<20 - 600000, 0}}
	if len(got) != len(want) {
		t.Fatalf("block status %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("block status %v, want %v", got, want)
		}
	}
	cl.request(cmdFlagReqOne, cmdBlockStatus, 6, 70000, 100000)
	c = cl.chunk()
	if len(c.data) != 12 || binary.BigEndian.Uint32(c.data[4:]) != 131072-70000 || binary.BigEndian.Uint32(c.data[8:]) != 3 {
		t.Fatalf("REQ_ONE block status %x", c.data)
	}
	cl.request(0, cmdDisc, 7, 0, 0)
}
