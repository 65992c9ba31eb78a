package export

import (
	"context"
	"io"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// peakHeap samples HeapInuse while f runs.
func peakHeap(f func()) uint64 {
	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	f()
	close(stop)
	<-done
	return peak.Load()
}

// Memory stays bounded whatever the LV size: 512 MiB of zero runs to a
// sparse file, and 512 MiB of dense data to a stream.
func TestExportMemoryBound(t *testing.T) {
	if testing.Short() {
		t.Skip("exports 1 GiB")
	}
	const limit = 64 << 20
	_, path := outPath(t)
	zero := &patchSource{size: 512 << 20, zeroRuns: true, patches: []patch{{off: 1 << 20, data: randomData(4096, 50)}}}
	peak := peakHeap(func() {
		if _, err := Export(context.Background(), zero, Options{Output: path, Sparse: true}); err != nil {
			t.Error(err)
		}
	})
	t.Logf("zero runs: peak HeapInuse %d MiB", peak>>20)
	if peak > limit {
		t.Errorf("peak HeapInuse %d MiB exporting 512 MiB of zero runs", peak>>20)
	}
	peak = peakHeap(func() {
		if _, err := Export(context.Background(), genSource{size: 512 << 20}, Options{Output: "-", Stdout: io.Discard, MD5: true}); err != nil {
			t.Error(err)
		}
	})
	t.Logf("dense: peak HeapInuse %d MiB", peak>>20)
	if peak > limit {
		t.Errorf("peak HeapInuse %d MiB exporting 512 MiB of data", peak>>20)
	}
}
