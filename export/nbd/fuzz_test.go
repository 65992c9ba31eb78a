package nbd

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"
)

// fuzzConn plays client: it sends the handshake reply, then prefix
// (negotiated with a real client), then input, draining the server's
// output all along; ServeConn must return once the client closes.
func fuzzConn(t *testing.T, s *Server, prefix func(*client), input []byte) {
	a, b := net.Pipe()
	deadline := time.Now().Add(10 * time.Second)
	a.SetDeadline(deadline)
	b.SetDeadline(deadline)
	done := make(chan error, 1)
	go func() { done <- s.ServeConn(context.Background(), a) }()
	cl := &client{t: t, c: b}
	cl.handshake()
	if prefix != nil {
		prefix(cl)
	}
	drained := make(chan struct{})
	go func() {
		io.Copy(io.Discard, b)
		close(drained)
	}()
	b.Write(input) // returns once the server has read it all, or fails
	b.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("ServeConn hangs")
	}
	<-drained
}

func fuzzServer() *Server {
	d := sparseDev()
	d.badOff, d.badLen = 900000, 100
	s := newServer(d)
	s.MaxRequest = 1 << 20
	return s
}

func opt(o uint32, data []byte) []byte {
	b := binary.BigEndian.AppendUint64(nil, ihaveOpt)
	b = binary.BigEndian.AppendUint32(b, o)
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	return append(b, data...)
}

func req(flags, typ uint16, off uint64, n uint32) []byte {
	b := binary.BigEndian.AppendUint32(nil, requestMagic)
	b = binary.BigEndian.AppendUint16(b, flags)
	b = binary.BigEndian.AppendUint16(b, typ)
	b = binary.BigEndian.AppendUint64(b, 42)
	b = binary.BigEndian.AppendUint64(b, off)
	return binary.BigEndian.AppendUint32(b, n)
}

func FuzzOptions(f *testing.F) {
	f.Add(opt(optList, nil))
	f.Add(append(opt(optStructuredReply, nil), opt(optSetMetaContext, metaData("disk", baseAllocation))...))
	f.Add(opt(optListMetaContext, metaData("disk")))
	f.Add(opt(optInfo, goData("disk", 0, 1, 2, 3)))
	f.Add(append(opt(optGo, goData("")), req(0, cmdRead, 0, 512)...))
	f.Add(opt(optExportName, []byte("disk")))
	f.Add(opt(optAbort, nil))
	f.Add(opt(12345, []byte{1, 2, 3}))
	f.Add(opt(optGo, []byte{0xff, 0xff, 0xff, 0xff}))
	f.Fuzz(func(t *testing.T, in []byte) {
		fuzzConn(t, fuzzServer(), nil, in)
	})
}

func FuzzRequests(f *testing.F) {
	f.Add(req(0, cmdRead, 0, 4096), true)
	f.Add(req(cmdFlagDF, cmdRead, 60000, 10000), true)
	f.Add(req(0, cmdRead, 899000, 2000), false)
	f.Add(append(req(0, cmdWrite, 0, 8), make([]byte, 8)...), false)
	f.Add(req(0, cmdBlockStatus, 0, 1<<20), true)
	f.Add(req(cmdFlagReqOne, cmdBlockStatus, 70000, 100000), true)
	f.Add(req(0, cmdRead, 1<<63, 0xffffffff), false)
	f.Add(req(0, cmdDisc, 0, 0), true)
	f.Fuzz(func(t *testing.T, in []byte, structured bool) {
		fuzzConn(t, fuzzServer(), func(cl *client) {
			if structured {
				cl.opt(optStructuredReply, nil)
				cl.replies(optStructuredReply)
				cl.opt(optSetMetaContext, metaData("disk", baseAllocation))
				cl.replies(optSetMetaContext)
			}
			cl.goExport("disk")
		}, in)
	})
}
