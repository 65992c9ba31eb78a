// Package nbd serves devices read-only over the Network Block Device
// protocol (fixed newstyle negotiation, simple and structured replies,
// base:allocation block status), so that nbdinfo, nbdcopy, qemu-img or
// the kernel's nbd client can read an LV or any other device of the graph
// without it being copied first.
package nbd

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/lvminspect/lvminspect/scan/device"
)

// Protocol constants, from the NBD protocol document.
const (
	nbdMagic      = 0x4e42444d41474943 // "NBDMAGIC"
	ihaveOpt      = 0x49484156454f5054 // "IHAVEOPT"
	optReplyMagic = 0x0003e889045565a9

	flagFixedNewstyle = 1 << 0
	flagNoZeroes      = 1 << 1

	optExportName      = 1
	optAbort           = 2
	optList            = 3
	optInfo            = 6
	optGo              = 7
	optStructuredReply = 8
	optListMetaContext = 9
	optSetMetaContext  = 10

	repAck         = 1
	repServer      = 2
	repInfo        = 3
	repMetaContext = 4
	repErr         = 1 << 31
	repErrUnsup    = repErr | 1
	repErrInvalid  = repErr | 3
	repErrUnknown  = repErr | 6
	repErrTooBig   = repErr | 9

	infoExport      = 0
	infoName        = 1
	infoDescription = 2
	infoBlockSize   = 3

	tfHasFlags     = 1 << 0
	tfReadOnly     = 1 << 1
	tfSendFlush    = 1 << 2
	tfSendDF       = 1 << 7
	tfCanMultiConn = 1 << 8

	requestMagic    = 0x25609513
	simpleMagic     = 0x67446698
	structuredMagic = 0x668e33ef

	cmdRead        = 0
	cmdWrite       = 1
	cmdDisc        = 2
	cmdFlush       = 3
	cmdTrim        = 4
	cmdCache       = 5
	cmdWriteZeroes = 6
	cmdBlockStatus = 7

	cmdFlagDF     = 1 << 2
	cmdFlagReqOne = 1 << 3

	replyFlagDone    = 1
	replyOffsetData  = 1
	replyOffsetHole  = 2
	replyBlockStatus = 5
	replyError       = 1<<15 | 1

	stateHole = 1
	stateZero = 2

	ePerm  = 1
	eIO    = 5
	eInval = 22

	// MaxOption bounds an option's data: longer options are skipped
	// and answered NBD_REP_ERR_TOO_BIG.
	MaxOption = 64 << 10
	// DefaultMaxRequest is the default largest read.
	DefaultMaxRequest = 32 << 20
	// InFlight is how many requests of one connection are served at once.
	InFlight = 4
	// maxDescriptors bounds one block status reply.
	maxDescriptors = 8192

	baseAllocation   = "base:allocation"
	baseAllocationID = 1
)

// Export is one export: a name, a description, and the device read.
type Export struct {
	Name, Description string
	Dev               device.Device
}

// Server serves its exports read-only.
type Server struct {
	Exports []Export
	// Default is the export served for the empty name ("" = none).
	Default string
	// MaxRequest is the largest read in bytes (default 32 MiB); a larger
	// one is answered EINVAL.
	MaxRequest int
	// Served, if set, is called after each read with the export name and
	// the bytes served.
	Served func(export string, n int64)

	once    sync.Once
	serial  map[device.Device]*sync.Mutex
	bufPool sync.Pool
}

func (s *Server) init() {
	s.once.Do(func() {
		s.serial = map[device.Device]*sync.Mutex{}
		for _, e := range s.Exports {
			if e.Dev != nil && !device.ConcurrentReads(e.Dev) {
				if _, ok := s.serial[e.Dev]; !ok {
					s.serial[e.Dev] = new(sync.Mutex)
				}
			}
		}
	})
}

func (s *Server) maxRequest() int {
	if s.MaxRequest > 0 {
		return s.MaxRequest
	}
	return DefaultMaxRequest
}

func (s *Server) lookup(name string) *Export {
	if name == "" {
		if s.Default == "" {
			return nil
		}
		name = s.Default
	}
	for i := range s.Exports {
		if s.Exports[i].Name == name && s.Exports[i].Dev != nil {
			return &s.Exports[i]
		}
	}
	return nil
}

// Serve accepts connections on l and serves each in its own goroutine
// until ctx is done or l fails. It closes l when ctx is done and waits
// for its connections to end.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	s.init()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		<-ctx.Done()
		l.Close()
	}()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.ServeConn(ctx, c) //nolint:errcheck // one client's failure is not the server's
		}()
	}
}

// errAbort ends negotiation at the client's request.
var errAbort = errors.New("nbd: client aborted negotiation")

// ServeConn serves one connection until the client disconnects, the
// connection fails, or ctx is done. It closes c.
func (s *Server) ServeConn(ctx context.Context, c net.Conn) error {
	s.init()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		<-ctx.Done()
		c.Close()
	}()
	defer c.Close()
	cn := &conn{s: s, c: c, r: bufio.NewReaderSize(c, 64<<10)}
	exp, err := cn.negotiate()
	if err != nil {
		if errors.Is(err, errAbort) {
			return nil
		}
		return err
	}
	return cn.transmit(exp)
}

type conn struct {
	s          *Server
	c          net.Conn
	r          *bufio.Reader
	noZeroes   bool
	structured bool
	allocation bool // base:allocation selected

	wmu  sync.Mutex
	werr error
}

func (cn *conn) write(b []byte) error {
	cn.wmu.Lock()
	defer cn.wmu.Unlock()
	if cn.werr != nil {
		return cn.werr
	}
	_, cn.werr = cn.c.Write(b)
	return cn.werr
}

// ---- negotiation ----

func (cn *conn) negotiate() (*Export, error) {
	var hello [18]byte
	binary.BigEndian.PutUint64(hello[0:], nbdMagic)
	binary.BigEndian.PutUint64(hello[8:], ihaveOpt)
	binary.BigEndian.PutUint16(hello[16:], flagFixedNewstyle|flagNoZeroes)
	if err := cn.write(hello[:]); err != nil {
		return nil, err
	}
	var cf [4]byte
	if _, err := io.ReadFull(cn.r, cf[:]); err != nil {
		return nil, err
	}
	flags := binary.BigEndian.Uint32(cf[:])
	if flags&^(flagFixedNewstyle|flagNoZeroes) != 0 {
		return nil, fmt.Errorf("nbd: unknown client flags %#x", flags)
	}
	cn.noZeroes = flags&flagNoZeroes != 0
	for {
		var h [16]byte
		if _, err := io.ReadFull(cn.r, h[:]); err != nil {
			return nil, err
		}
		if binary.BigEndian.Uint64(h[0:]) != ihaveOpt {
			return nil, errors.New("nbd: bad option magic")
		}
		opt := binary.BigEndian.Uint32(h[8:])
		n := binary.BigEndian.Uint32(h[12:])
		if n > MaxOption {
			if opt == optExportName {
				return nil, errors.New("nbd: export name too long")
			}
			if _, err := io.CopyN(io.Discard, cn.r, int64(n)); err != nil {
				return nil, err
			}
			if err := cn.optReply(opt, repErrTooBig, []byte("option too long")); err != nil {
				return nil, err
			}
			continue
		}
		data := make([]byte, n)
		if _, err := io.ReadFull(cn.r, data); err != nil {
			return nil, err
		}
		exp, done, err := cn.option(opt, data)
		if err != nil || done {
			return exp, err
		}
	}
}

func (cn *conn) optReply(opt, typ uint32, data []byte) error {
	b := make([]byte, 20+len(data))
	binary.BigEndian.PutUint64(b[0:], optReplyMagic)
	binary.BigEndian.PutUint32(b[8:], opt)
	binary.BigEndian.PutUint32(b[12:], typ)
	binary.BigEndian.PutUint32(b[16:], uint32(len(data)))
	copy(b[20:], data)
	return cn.write(b)
}

func (cn *conn) transmissionFlags() uint16 {
	f := uint16(tfHasFlags | tfReadOnly | tfSendFlush | tfCanMultiConn)
	if cn.structured {
		f |= tfSendDF
	}
	return f
}

// option handles one option; done is true when transmission begins.
func (cn *conn) option(opt uint32, data []byte) (exp *Export, done bool, err error) {
	switch opt {
	case optExportName:
		e := cn.s.lookup(string(data))
		if e == nil {
			return nil, false, fmt.Errorf("nbd: unknown export %q", data)
		}
		b := make([]byte, 10, 134)
		binary.BigEndian.PutUint64(b[0:], uint64(e.Dev.Size()))
		binary.BigEndian.PutUint16(b[8:], cn.transmissionFlags())
		if !cn.noZeroes {
			b = b[:134]
		}
		return e, true, cn.write(b)
	case optAbort:
		cn.optReply(opt, repAck, nil) //nolint:errcheck // the client may already be gone
		return nil, false, errAbort
	case optList:
		if len(data) != 0 {
			return nil, false, cn.optReply(opt, repErrInvalid, []byte("list takes no data"))
		}
		for _, e := range cn.s.Exports {
			if e.Dev == nil {
				continue
			}
			b := make([]byte, 4, 4+len(e.Name)+len(e.Description))
			binary.BigEndian.PutUint32(b, uint32(len(e.Name)))
			b = append(b, e.Name...)
			b = append(b, e.Description...)
			if err := cn.optReply(opt, repServer, b); err != nil {
				return nil, false, err
			}
		}
		return nil, false, cn.optReply(opt, repAck, nil)
	case optInfo, optGo:
		return cn.infoGo(opt, data)
	case optStructuredReply:
		if len(data) != 0 {
			return nil, false, cn.optReply(opt, repErrInvalid, []byte("structured reply takes no data"))
		}
		cn.structured = true
		return nil, false, cn.optReply(opt, repAck, nil)
	case optListMetaContext, optSetMetaContext:
		return nil, false, cn.metaContext(opt, data)
	}
	return nil, false, cn.optReply(opt, repErrUnsup, []byte("option not supported"))
}

func (cn *conn) infoGo(opt uint32, data []byte) (*Export, bool, error) {
	invalid := func() (*Export, bool, error) {
		return nil, false, cn.optReply(opt, repErrInvalid, []byte("malformed request"))
	}
	if len(data) < 4 {
		return invalid()
	}
	nl := binary.BigEndian.Uint32(data)
	if uint64(nl)+6 > uint64(len(data)) {
		return invalid()
	}
	name := string(data[4 : 4+nl])
	rest := data[4+nl:]
	nreq := int(binary.BigEndian.Uint16(rest))
	rest = rest[2:]
	if len(rest) != 2*nreq {
		return invalid()
	}
	e := cn.s.lookup(name)
	if e == nil {
		return nil, false, cn.optReply(opt, repErrUnknown, []byte("no such export"))
	}
	var wantName, wantDesc bool
	for i := 0; i < nreq; i++ {
		switch binary.BigEndian.Uint16(rest[2*i:]) {
		case infoName:
			wantName = true
		case infoDescription:
			wantDesc = true
		}
	}
	info := make([]byte, 12)
	binary.BigEndian.PutUint16(info[0:], infoExport)
	binary.BigEndian.PutUint64(info[2:], uint64(e.Dev.Size()))
	binary.BigEndian.PutUint16(info[10:], cn.transmissionFlags())
	if err := cn.optReply(opt, repInfo, info); err != nil {
		return nil, false, err
	}
	bs := make([]byte, 14)
	binary.BigEndian.PutUint16(bs[0:], infoBlockSize)
	binary.BigEndian.PutUint32(bs[2:], 1)
	binary.BigEndian.PutUint32(bs[6:], 4096)
	binary.BigEndian.PutUint32(bs[10:], uint32(min(cn.s.maxRequest(), 0xffffffff)))
	if err := cn.optReply(opt, repInfo, bs); err != nil {
		return nil, false, err
	}
	if wantName {
		b := append([]byte{0, infoName}, e.Name...)
		if err := cn.optReply(opt, repInfo, b); err != nil {
			return nil, false, err
		}
	}
	if wantDesc && e.Description != "" {
		b := append([]byte{0, infoDescription}, e.Description...)
		if err := cn.optReply(opt, repInfo, b); err != nil {
			return nil, false, err
		}
	}
	if err := cn.optReply(opt, repAck, nil); err != nil {
		return nil, false, err
	}
	if opt == optGo {
		return e, true, nil
	}
	return nil, false, nil
}

func (cn *conn) metaContext(opt uint32, data []byte) error {
	invalid := func(why string) error { return cn.optReply(opt, repErrInvalid, []byte(why)) }
	if opt == optSetMetaContext && !cn.structured {
		return invalid("structured replies not negotiated")
	}
	if len(data) < 4 {
		return invalid("malformed request")
	}
	nl := binary.BigEndian.Uint32(data)
	if uint64(nl)+8 > uint64(len(data)) {
		return invalid("malformed request")
	}
	name := string(data[4 : 4+nl])
	rest := data[4+nl:]
	nq := binary.BigEndian.Uint32(rest)
	rest = rest[4:]
	var queries []string
	for i := uint32(0); i < nq; i++ {
		if len(rest) < 4 {
			return invalid("malformed request")
		}
		ql := binary.BigEndian.Uint32(rest)
		if uint64(ql)+4 > uint64(len(rest)) {
			return invalid("malformed request")
		}
		queries = append(queries, string(rest[4:4+ql]))
		rest = rest[4+ql:]
	}
	if len(rest) != 0 {
		return invalid("malformed request")
	}
	if cn.s.lookup(name) == nil {
		return cn.optReply(opt, repErrUnknown, []byte("no such export"))
	}
	match := false
	if len(queries) == 0 {
		match = opt == optListMetaContext
	}
	for _, q := range queries {
		if q == baseAllocation || (opt == optListMetaContext && q == "base:") {
			match = true
		}
	}
	if opt == optSetMetaContext {
		cn.allocation = match
	}
	if match {
		b := make([]byte, 4, 4+len(baseAllocation))
		if opt == optSetMetaContext {
			binary.BigEndian.PutUint32(b, baseAllocationID)
		}
		b = append(b, baseAllocation...)
		if err := cn.optReply(opt, repMetaContext, b); err != nil {
			return err
		}
	}
	return cn.optReply(opt, repAck, nil)
}

// ---- transmission ----

type request struct {
	flags, typ uint16
	cookie     uint64
	off        uint64
	length     uint32
}

func (cn *conn) transmit(e *Export) error {
	sem := make(chan struct{}, InFlight)
	var wg sync.WaitGroup
	defer wg.Wait()
	var h [28]byte
	for {
		if _, err := io.ReadFull(cn.r, h[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if binary.BigEndian.Uint32(h[0:]) != requestMagic {
			return errors.New("nbd: bad request magic")
		}
		rq := request{
			flags:  binary.BigEndian.Uint16(h[4:]),
			typ:    binary.BigEndian.Uint16(h[6:]),
			cookie: binary.BigEndian.Uint64(h[8:]),
			off:    binary.BigEndian.Uint64(h[16:]),
			length: binary.BigEndian.Uint32(h[24:]),
		}
		switch rq.typ {
		case cmdDisc:
			return nil
		case cmdWrite:
			if _, err := io.CopyN(io.Discard, cn.r, int64(rq.length)); err != nil {
				return err
			}
			if err := cn.simple(rq.cookie, ePerm, nil); err != nil {
				return err
			}
		case cmdTrim, cmdWriteZeroes:
			if err := cn.simple(rq.cookie, ePerm, nil); err != nil {
				return err
			}
		case cmdFlush, cmdCache:
			if err := cn.simple(rq.cookie, 0, nil); err != nil {
				return err
			}
		case cmdRead, cmdBlockStatus:
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				if rq.typ == cmdRead {
					cn.read(e, rq)
				} else {
					cn.blockStatus(e, rq)
				}
			}()
		default:
			if err := cn.simple(rq.cookie, eInval, nil); err != nil {
				return err
			}
		}
		cn.wmu.Lock()
		werr := cn.werr
		cn.wmu.Unlock()
		if werr != nil {
			return werr
		}
	}
}

func (cn *conn) simple(cookie uint64, errno uint32, data []byte) error {
	var h [16]byte
	binary.BigEndian.PutUint32(h[0:], simpleMagic)
	binary.BigEndian.PutUint32(h[4:], errno)
	binary.BigEndian.PutUint64(h[8:], cookie)
	cn.wmu.Lock()
	defer cn.wmu.Unlock()
	if cn.werr != nil {
		return cn.werr
	}
	if _, cn.werr = cn.c.Write(h[:]); cn.werr == nil && len(data) > 0 {
		_, cn.werr = cn.c.Write(data)
	}
	return cn.werr
}

// chunk writes one structured reply chunk: header, then the parts.
// The caller holds wmu.
func (cn *conn) chunkLocked(cookie uint64, flags, typ uint16, parts ...[]byte) {
	if cn.werr != nil {
		return
	}
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	var h [20]byte
	binary.BigEndian.PutUint32(h[0:], structuredMagic)
	binary.BigEndian.PutUint16(h[4:], flags)
	binary.BigEndian.PutUint16(h[6:], typ)
	binary.BigEndian.PutUint64(h[8:], cookie)
	binary.BigEndian.PutUint32(h[16:], uint32(n))
	if _, cn.werr = cn.c.Write(h[:]); cn.werr != nil {
		return
	}
	for _, p := range parts {
		if len(p) == 0 {
			continue
		}
		if _, cn.werr = cn.c.Write(p); cn.werr != nil {
			return
		}
	}
}

// fail answers a read or block status request with errno.
func (cn *conn) fail(cookie uint64, errno uint32, msg string) {
	if !cn.structured {
		cn.simple(cookie, errno, nil) //nolint:errcheck // remembered in werr
		return
	}
	if len(msg) > 4096 {
		msg = msg[:4096]
	}
	b := make([]byte, 6, 6+len(msg))
	binary.BigEndian.PutUint32(b[0:], errno)
	binary.BigEndian.PutUint16(b[4:], uint16(len(msg)))
	b = append(b, msg...)
	cn.wmu.Lock()
	cn.chunkLocked(cookie, replyFlagDone, replyError, b)
	cn.wmu.Unlock()
}

func (cn *conn) inRange(e *Export, rq request) bool {
	size := uint64(e.Dev.Size())
	return rq.length > 0 && rq.off <= size && uint64(rq.length) <= size-rq.off
}

func (cn *conn) getBuf(n int) *[]byte {
	if p, ok := cn.s.bufPool.Get().(*[]byte); ok && cap(*p) >= n {
		*p = (*p)[:n]
		return p
	}
	b := make([]byte, n, max(n, 1<<20))
	return &b
}

func (cn *conn) putBuf(p *[]byte) { cn.s.bufPool.Put(p) }

// readAt reads the device fully, serialised for devices that say so.
func (cn *conn) readAt(e *Export, p []byte, off int64) error {
	if mu := cn.s.serial[e.Dev]; mu != nil {
		mu.Lock()
		defer mu.Unlock()
	}
	n, err := e.Dev.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	return err
}

func (cn *conn) read(e *Export, rq request) {
	if !cn.inRange(e, rq) || int64(rq.length) > int64(cn.s.maxRequest()) {
		cn.fail(rq.cookie, eInval, "request out of range or too large")
		return
	}
	off, n := int64(rq.off), int64(rq.length)
	exts := []device.Extent{{Off: off, Len: n, Kind: device.Data}}
	if cn.structured && rq.flags&cmdFlagDF == 0 {
		m, err := device.MapAll(e.Dev, off, n)
		if err != nil {
			cn.fail(rq.cookie, eIO, err.Error())
			return
		}
		exts = m
	}
	bp := cn.getBuf(int(n))
	defer cn.putBuf(bp)
	buf := *bp
	for _, x := range exts {
		if x.Kind == device.Unreadable {
			cn.fail(rq.cookie, eIO, "unreadable: "+x.Why)
			return
		}
		if x.Kind == device.Data {
			if err := cn.readAt(e, buf[x.Off-off:x.Off-off+x.Len], x.Off); err != nil {
				cn.fail(rq.cookie, eIO, err.Error())
				return
			}
		}
	}
	if cn.s.Served != nil {
		cn.s.Served(e.Name, n)
	}
	if !cn.structured {
		cn.simple(rq.cookie, 0, buf) //nolint:errcheck // remembered in werr
	} else {
		cn.wmu.Lock()
		for i, x := range exts {
			var flags uint16
			if i == len(exts)-1 {
				flags = replyFlagDone
			}
			var o [12]byte
			binary.BigEndian.PutUint64(o[0:], uint64(x.Off))
			if x.Kind == device.Hole {
				binary.BigEndian.PutUint32(o[8:], uint32(x.Len))
				cn.chunkLocked(rq.cookie, flags, replyOffsetHole, o[:12])
			} else {
				cn.chunkLocked(rq.cookie, flags, replyOffsetData, o[:8], buf[x.Off-off:x.Off-off+x.Len])
			}
		}
		cn.wmu.Unlock()
	}
}

func (cn *conn) blockStatus(e *Export, rq request) {
	if !cn.structured || !cn.allocation {
		cn.fail(rq.cookie, eInval, "base:allocation not negotiated")
		return
	}
	if !cn.inRange(e, rq) {
		cn.fail(rq.cookie, eInval, "request out of range")
		return
	}
	exts, err := device.MapAll(e.Dev, int64(rq.off), int64(rq.length))
	if err != nil || len(exts) == 0 {
		cn.fail(rq.cookie, eIO, fmt.Sprint("map: ", err))
		return
	}
	b := make([]byte, 4, 4+8*min(len(exts), maxDescriptors))
	binary.BigEndian.PutUint32(b, baseAllocationID)
	var cur struct {
		n     uint64
		state uint32
	}
	count := 0
	flush := func() {
		for cur.n > 0 {
			l := min(cur.n, 0xffffffff&^511)
			b = binary.BigEndian.AppendUint32(b, uint32(l))
			b = binary.BigEndian.AppendUint32(b, cur.state)
			cur.n -= l
			count++
		}
	}
	for _, x := range exts {
		var st uint32
		if x.Kind == device.Hole {
			st = stateHole | stateZero
		}
		if cur.n > 0 && st != cur.state {
			flush()
			if count >= maxDescriptors || rq.flags&cmdFlagReqOne != 0 {
				break
			}
		}
		cur.state = st
		cur.n += uint64(x.Len)
	}
	flush()
	if rq.flags&cmdFlagReqOne != 0 {
		b = b[:12]
	}
	cn.wmu.Lock()
	cn.chunkLocked(rq.cookie, replyFlagDone, replyBlockStatus, b)
	cn.wmu.Unlock()
}
