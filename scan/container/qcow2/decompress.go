package qcow2

import (
	"bufio"
	"compress/flate"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"
	lqcow2 "github.com/lima-vm/go-qcow2reader/image/qcow2"
	qlog "github.com/lima-vm/go-qcow2reader/log"
)

// The library's defaults are replaced, for the whole program, when this
// package is loaded: its warnings, which it prints with the standard
// logger (the dirty and corrupt bits, malformed header extensions), are
// dropped, Problems reporting them instead; compressed clusters are
// decompressed by pooled readers that fill every read (the library asks
// for the rest of a cluster in one Read); zstd, for which the library
// registers nothing, is decoded by github.com/klauspost/compress/zstd.
func init() {
	qlog.SetWarnFunc(nil)
	lqcow2.SetDecompressor(lqcow2.CompressionTypeZlib, inflate)
	lqcow2.SetDecompressor(lqcow2.CompressionTypeZstd, unzstd)
}

// compressedBuf is the read-ahead of a compressed cluster's reader.
const compressedBuf = 64 << 10

// zstdMaxWindow bounds the window a zstd frame may ask for: QEMU's frames
// hold one cluster (2 MiB at most).
const zstdMaxWindow = 8 << 20

// fullReader reads a decompressed cluster: each Read fills p or fails.
type fullReader struct {
	r    io.Reader
	done func()
}

func (f *fullReader) Read(p []byte) (int, error) {
	n, err := io.ReadFull(f.r, p)
	if err == io.ErrUnexpectedEOF || (err == io.EOF && len(p) > 0) {
		err = fmt.Errorf("compressed cluster decompresses to fewer bytes than a cluster: %w", io.ErrUnexpectedEOF)
	}
	return n, err
}

func (f *fullReader) Close() error {
	if f.done != nil {
		f.done()
		f.done = nil
	}
	return nil
}

type inflater struct {
	br *bufio.Reader
	fr io.ReadCloser
}

var inflaters sync.Pool

// compressedSection narrows the section of the file the library gives a
// decompressor (a cluster and the additional sectors) to the bytes the
// compressed cluster descriptor gives it: from its offset to the end of
// that sector, and the additional sectors.
func compressedSection(r io.Reader) io.Reader {
	sr, ok := r.(*io.SectionReader)
	if !ok {
		return r
	}
	ra, off, n := sr.Outer()
	f, ok := ra.(libFile)
	if !ok || f.clusterSize <= 0 || n < f.clusterSize || (n-f.clusterSize)%512 != 0 {
		return r
	}
	add := (n - f.clusterSize) / 512
	return io.NewSectionReader(ra, off, (add+1)*512-off%512)
}

// inflate decompresses a deflate stream (qcow2's "zlib" compression has
// no zlib header).
func inflate(r io.Reader) (io.ReadCloser, error) {
	r = compressedSection(r)
	z, _ := inflaters.Get().(*inflater)
	if z == nil {
		z = &inflater{br: bufio.NewReaderSize(r, compressedBuf)}
		z.fr = flate.NewReader(z.br)
	} else {
		z.br.Reset(r)
		if err := z.fr.(flate.Resetter).Reset(z.br, nil); err != nil {
			return nil, err
		}
	}
	return &fullReader{r: z.fr, done: func() {
		z.br.Reset(nil)
		inflaters.Put(z)
	}}, nil
}

type unzstder struct {
	br *bufio.Reader
	d  *zstd.Decoder
}

var unzstders sync.Pool

// unzstd decompresses a zstd frame, synchronously (one goroutine).
func unzstd(r io.Reader) (io.ReadCloser, error) {
	r = compressedSection(r)
	z, _ := unzstders.Get().(*unzstder)
	if z == nil {
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxWindow(zstdMaxWindow))
		if err != nil {
			return nil, err
		}
		z = &unzstder{br: bufio.NewReaderSize(r, compressedBuf), d: d}
	} else {
		z.br.Reset(r)
	}
	if err := z.d.Reset(z.br); err != nil {
		return nil, err
	}
	return &fullReader{r: z.d, done: func() {
		z.br.Reset(nil)
		unzstders.Put(z)
	}}, nil
}
