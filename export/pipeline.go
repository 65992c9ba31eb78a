package export

import (
	"context"
	"hash"
	"sync"
	"sync/atomic"
	"unsafe"
)

// chunk is one buffer of LV bytes moving through the pipeline.
type chunk struct {
	off  int64
	buf  []byte // the bytes of this chunk (a prefix of mem)
	mem  []byte // the whole buffer, aligned to blockSize
	zero bool   // all zeros, known from the runs: buf is not filled
	refs atomic.Int32
}

// pipeline runs the reader, the hashers and the writer.
type pipeline struct {
	src    Source
	opt    Options
	size   int64
	sink   sink
	hashes []hash.Hash
	done   atomic.Int64 // bytes hashed and written

	// Guarded by mu while the readers run.
	mu        sync.Mutex
	missing   []Range
	bytesRead map[string]int64
}

// ConcurrentSource is implemented by sources whose ReadAt may be called
// from several goroutines at once (as io.ReaderAt promises). The engine
// then keeps several reads in flight, which keeps a disk's queue full and
// overlaps the seeks of scattered data.
type ConcurrentSource interface {
	ConcurrentReads() bool
}

// readers is how many chunks are read at once.
func (p *pipeline) readers() int {
	if cs, ok := p.src.(ConcurrentSource); ok && cs.ConcurrentReads() {
		return min(6, max(1, p.opt.BufferCount-2))
	}
	return 1
}

// alignedBuf allocates n bytes starting at a multiple of blockSize.
func alignedBuf(n int) []byte {
	b := make([]byte, n+blockSize)
	skip := 0
	if r := int(uintptr(unsafe.Pointer(unsafe.SliceData(b))) & (blockSize - 1)); r != 0 {
		skip = blockSize - r
	}
	return b[skip : skip+n : skip+n]
}

// run exports the whole source. The reader fills buffers from a fixed
// pool and hands each to every consumer (one goroutine per hash, one for
// the sink); the last consumer done with a buffer returns it to the pool.
// The first error of any stage cancels the others; run returns after all
// goroutines have stopped.
func (p *pipeline) run(parent context.Context) error {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)

	n := p.opt.BufferCount
	pool := make(chan *chunk, n)
	for range n {
		pool <- &chunk{mem: alignedBuf(p.opt.ChunkSize)}
	}
	consumers := make([]func(*chunk) error, 0, len(p.hashes)+1)
	for _, h := range p.hashes {
		consumers = append(consumers, func(c *chunk) error { hashChunk(h, c); return nil })
	}
	consumers = append(consumers, p.sink.put)

	// Each channel can hold every buffer, so sends never block.
	chans := make([]chan *chunk, len(consumers))
	for i := range chans {
		chans[i] = make(chan *chunk, n)
	}
	var wg sync.WaitGroup
	for i, consume := range consumers {
		in := chans[i]
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case c, ok := <-in:
					if !ok {
						return
					}
					if err := consume(c); err != nil {
						cancel(err)
						return
					}
					if c.refs.Add(-1) == 0 {
						p.done.Add(int64(len(c.buf)))
						pool <- c
					}
				}
			}
		})
	}
	// The dispatcher takes buffers from the pool in LV order and hands
	// them to the readers; the collector passes filled chunks on to the
	// consumers in LV order. Buffers are taken in order, so the chunk the
	// collector waits for always has one: no deadlock.
	type job struct {
		seq int64
		c   *chunk
	}
	jobs := make(chan job, n)
	filled := make(chan job, n)
	wg.Go(func() {
		defer close(jobs)
		var seq int64
		for off := int64(0); off < p.size; off += int64(p.opt.ChunkSize) {
			var c *chunk
			select {
			case <-ctx.Done():
				return
			case c = <-pool:
			}
			c.off = off
			c.buf = c.mem[:min(int64(p.opt.ChunkSize), p.size-off)]
			c.zero = false
			jobs <- job{seq, c}
			seq++
		}
	})
	if pf, ok := p.src.(Prefetcher); ok {
		wg.Go(func() { p.prefetch(ctx, pf) })
	}
	var readers sync.WaitGroup
	for range p.readers() {
		readers.Go(func() {
			for j := range jobs {
				if ctx.Err() != nil {
					continue // drain
				}
				if err := p.fill(ctx, j.c); err != nil {
					cancel(err)
					continue
				}
				filled <- j
			}
		})
	}
	wg.Go(func() {
		readers.Wait()
		close(filled)
	})
	wg.Go(func() {
		defer func() {
			for _, ch := range chans {
				close(ch)
			}
		}()
		pending := map[int64]*chunk{}
		var next int64
		for j := range filled {
			if ctx.Err() != nil {
				continue // drain
			}
			pending[j.seq] = j.c
			for c, ok := pending[next]; ok; c, ok = pending[next] {
				delete(pending, next)
				next++
				c.refs.Store(int32(len(chans)))
				for _, ch := range chans {
					ch <- c
				}
			}
		}
	})
	wg.Wait()
	return context.Cause(ctx)
}

// hashChunk adds c's bytes to h.
func hashChunk(h hash.Hash, c *chunk) {
	if !c.zero {
		h.Write(c.buf)
		return
	}
	z := zeros()
	for left := len(c.buf); left > 0; {
		k := min(left, len(z))
		h.Write(z[:k])
		left -= k
	}
}
