package ewf

import (
	"runtime"
	"sync"
)

// readAhead decodes the chunks after a sequential reader's position in
// the background, into the chunk cache, so that one goroutine reading
// the media in order with ReadAt has its chunks decompressed on every
// core. It is off until EnableReadAhead.
type readAhead struct {
	mu       sync.Mutex
	window   int64
	next     int64 // the chunk after the last one a ReadAt touched
	inflight map[int64]chan struct{}
	sem      chan struct{}
	wg       sync.WaitGroup // the background decodes, waited for by Close
}

// EnableReadAhead makes ReadAt decode the chunks of a read that spans
// several in parallel, and up to window chunks ahead of a reader that
// reads in order, with up to workers goroutines (0: GOMAXPROCS; window
// 0: two per worker; at most half the cache). Call it before reading.
func (im *Image) EnableReadAhead(workers, window int) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if window <= 0 {
		window = 2 * workers
	}
	window = max(min(window, im.cache.max/2), 1)
	im.ra = &readAhead{window: int64(window), next: -1, inflight: map[int64]chan struct{}{}, sem: make(chan struct{}, workers)}
}

// wait waits for a background decode of chunk i, if one is running.
func (ra *readAhead) wait(i int64) {
	ra.mu.Lock()
	ch := ra.inflight[i]
	ra.mu.Unlock()
	if ch != nil {
		<-ch
	}
}

// touched records that a ReadAt uses chunks [first, last]: the ones
// after first are decoded in the background while the reader decodes
// first, and when the read follows the previous one, window chunks
// after last too. At most half the cache is scheduled at once.
func (im *Image) touched(first, last int64) {
	ra := im.ra
	ra.mu.Lock()
	defer ra.mu.Unlock()
	sequential := first == ra.next || first == ra.next-1
	ra.next = last + 1
	end := last
	if sequential {
		end = last + ra.window
	}
	end = min(end, im.chunks-1, first+int64(im.cache.max/2))
	for i := first + 1; i <= end; i++ {
		if ra.inflight[i] != nil || im.cache.has(i) {
			continue
		}
		ch := make(chan struct{})
		ra.inflight[i] = ch
		ra.wg.Add(1)
		go func(i int64) {
			defer ra.wg.Done()
			ra.sem <- struct{}{}
			// A chunk that fails is left out of the cache: the
			// reader decodes it again and gets the error.
			if b, err := im.decodeChunk(i, nil); err == nil {
				im.cache.put(i, b)
			}
			<-ra.sem
			ra.mu.Lock()
			delete(ra.inflight, i)
			ra.mu.Unlock()
			close(ch)
		}(i)
	}
}
