package nbd

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/lvminspect/lvminspect/scan/device"
)

// client is a minimal NBD client for the tests.
type client struct {
	t *testing.T
	c net.Conn
}

func (cl *client) w(parts ...any) {
	cl.t.Helper()
	var b bytes.Buffer
	for _, p := range parts {
		switch v := p.(type) {
		case []byte:
			b.Write(v)
		case string:
			b.WriteString(v)
		default:
			binary.Write(&b, binary.BigEndian, v)
		}
	}
	if _, err := cl.c.Write(b.Bytes()); err != nil {
		cl.t.Fatalf("write: %v", err)
	}
}

func (cl *client) r(n int) []byte {
	cl.t.Helper()
	b := make([]byte, n)
	if _, err := io.ReadFull(cl.c, b); err != nil {
		cl.t.Fatalf("read %d: %v", n, err)
	}
	return b
}

func (cl *client) u16() uint16 { return binary.BigEndian.Uint16(cl.r(2)) }
func (cl *client) u32() uint32 { return binary.BigEndian.Uint32(cl.r(4)) }
func (cl *client) u64() uint64 { return binary.BigEndian.Uint64(cl.r(8)) }

func (cl *client) handshake() {
	cl.t.Helper()
	if m := cl.u64(); m != nbdMagic {
		cl.t.Fatalf("magic %#x", m)
	}
	if m := cl.u64(); m != ihaveOpt {
		cl.t.Fatalf("ihaveopt %#x", m)
	}
	if f := cl.u16(); f != flagFixedNewstyle|flagNoZeroes {
		cl.t.Fatalf("handshake flags %#x", f)
	}
	cl.w(uint32(flagFixedNewstyle | flagNoZeroes))
}

func (cl *client) opt(opt uint32, data []byte) {
	cl.w(uint64(ihaveOpt), opt, uint32(len(data)), data)
}

type optRep struct {
	typ  uint32
	data []byte
}

func (cl *client) optReply(opt uint32) optRep {
	cl.t.Helper()
	if m := cl.u64(); m != optReplyMagic {
		cl.t.Fatalf("option reply magic %#x", m)
	}
	if o := cl.u32(); o != opt {
		cl.t.Fatalf("reply to option %d, want %d", o, opt)
	}
	typ := cl.u32()
	n := cl.u32()
	return optRep{typ, cl.r(int(n))}
}

// replies reads option replies until an ACK or an error.
func (cl *client) replies(opt uint32) []optRep {
	var out []optRep
	for {
		r := cl.optReply(opt)
		out = append(out, r)
		if r.typ == repAck || r.typ&repErr != 0 {
			return out
		}
	}
}

func goData(name string, infos ...uint16) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(name)))
	b = append(b, name...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(infos)))
	for _, i := range infos {
		b = binary.BigEndian.AppendUint16(b, i)
	}
	return b
}

func metaData(name string, queries ...string) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(name)))
	b = append(b, name...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(queries)))
	for _, q := range queries {
		b = binary.BigEndian.AppendUint32(b, uint32(len(q)))
		b = append(b, q...)
	}
	return b
}

// goExport negotiates GO for name and returns size and flags.
func (cl *client) goExport(name string) (uint64, uint16) {
	cl.t.Helper()
	cl.opt(optGo, goData(name))
	var size uint64
	var flags uint16
	seen := false
	for _, r := range cl.replies(optGo) {
		if r.typ&repErr != 0 {
			cl.t.Fatalf("GO %q: error %#x %s", name, r.typ, r.data[:])
		}
		if r.typ == repInfo && binary.BigEndian.Uint16(r.data) == infoExport {
			size = binary.BigEndian.Uint64(r.data[2:])
			flags = binary.BigEndian.Uint16(r.data[10:])
			seen = true
		}
	}
	if !seen {
		cl.t.Fatal("no NBD_INFO_EXPORT")
	}
	return size, flags
}

func (cl *client) request(flags, typ uint16, cookie, off uint64, length uint32) {
	cl.w(uint32(requestMagic), flags, typ, cookie, off, length)
}

// simpleReply reads a simple reply header: errno, cookie.
func (cl *client) simpleReply() (uint32, uint64) {
	cl.t.Helper()
	if m := cl.u32(); m != simpleMagic {
		cl.t.Fatalf("simple reply magic %#x", m)
	}
	return cl.u32(), cl.u64()
}

type chunk struct {
	flags, typ uint16
	cookie     uint64
	data       []byte
}

func (cl *client) chunk() chunk {
	cl.t.Helper()
	if m := cl.u32(); m != structuredMagic {
		cl.t.Fatalf("structured reply magic %#x", m)
	}
	var c chunk
	c.flags, c.typ, c.cookie = cl.u16(), cl.u16(), cl.u64()
	c.data = cl.r(int(cl.u32()))
	return c
}

// structuredRead reads chunks of one read reply into a buffer; it
// returns the errno of an error chunk, and the hole chunks seen.
func (cl *client) structuredRead(cookie, off uint64, buf []byte) (errno uint32, holes int) {
	cl.t.Helper()
	for {
		c := cl.chunk()
		if c.cookie != cookie {
			cl.t.Fatalf("cookie %d, want %d", c.cookie, cookie)
		}
		switch c.typ {
		case replyOffsetData:
			o := binary.BigEndian.Uint64(c.data) - off
			copy(buf[o:], c.data[8:])
		case replyOffsetHole:
			o := binary.BigEndian.Uint64(c.data) - off
			n := binary.BigEndian.Uint32(c.data[8:])
			clear(buf[o : o+uint64(n)])
			holes++
		case replyError:
			errno = binary.BigEndian.Uint32(c.data)
		default:
			cl.t.Fatalf("chunk type %d", c.typ)
		}
		if c.flags&replyFlagDone != 0 {
			return errno, holes
		}
	}
}

// start serves s on one side of a pipe and returns the client side.
func start(t *testing.T, s *Server) *client {
	t.Helper()
	a, b := net.Pipe()
	done := make(chan error, 1)
	go func() { done <- s.ServeConn(context.Background(), a) }()
	t.Cleanup(func() {
		b.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("ServeConn did not return after the client closed")
		}
	})
	b.SetDeadline(time.Now().Add(30 * time.Second))
	return &client{t: t, c: b}
}

// memDev is an in-memory device with an optional map and unreadable range.
type memDev struct {
	b        []byte
	holes    [][2]int64 // [off, end)
	badOff   int64
	badLen   int64
	plainErr bool // fail with a plain error instead of UnreadableError
}

func (d *memDev) Size() int64 { return int64(len(d.b)) }

func (d *memDev) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > int64(len(d.b)) {
		return 0, io.EOF
	}
	if d.badLen > 0 && off < d.badOff+d.badLen && off+int64(len(p)) > d.badOff {
		if d.plainErr {
			return 0, errors.New("disk on fire")
		}
		return 0, &device.UnreadableError{Device: "mem", Off: d.badOff, Len: d.badLen, Why: "test"}
	}
	n := copy(p, d.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (d *memDev) Map(off, length int64) ([]device.Extent, error) {
	var out []device.Extent
	end := off + length
	for off < end {
		kind, next := device.Data, end
		for _, h := range d.holes {
			if off >= h[0] && off < h[1] {
				kind, next = device.Hole, min(h[1], end)
				break
			}
			if h[0] > off && h[0] < next {
				next = h[0]
			}
		}
		if d.badLen > 0 {
			if off >= d.badOff && off < d.badOff+d.badLen {
				kind, next = device.Unreadable, min(d.badOff+d.badLen, end)
			} else if d.badOff > off && d.badOff < next {
				next = d.badOff
			}
		}
		out = append(out, device.Extent{Off: off, Len: next - off, Kind: kind})
		off = next
	}
	return out, nil
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>9)
	}
	return b
}

func (d *memDev) String() string { return fmt.Sprintf("memDev(%d)", len(d.b)) }
