package export

import (
	"sync/atomic"
	"time"
)

// progressInterval is the time between Progress calls.
const progressInterval = 100 * time.Millisecond

// rateWindow is the number of samples (of progressInterval) the rate is
// averaged over.
const rateWindow = 20

type sample struct {
	t    time.Time
	done int64
}

// progress calls a Progress callback from one goroutine, throttled.
type progress struct {
	fn    func(Progress)
	total int64
	done  *atomic.Int64
	start time.Time
	stop  chan struct{}
	ended chan struct{}
}

// startProgress starts calling fn every progressInterval until end.
func startProgress(fn func(Progress), total int64, done *atomic.Int64, start time.Time) *progress {
	p := &progress{fn: fn, total: total, done: done, start: start, stop: make(chan struct{}), ended: make(chan struct{})}
	if fn == nil {
		close(p.ended)
		return p
	}
	go p.loop()
	return p
}

func (p *progress) loop() {
	defer close(p.ended)
	t := time.NewTicker(progressInterval)
	defer t.Stop()
	ring := []sample{{p.start, 0}}
	for {
		select {
		case <-p.stop:
			return
		case now := <-t.C:
			d := p.done.Load()
			ring = append(ring, sample{now, d})
			if len(ring) > rateWindow+1 {
				ring = ring[1:]
			}
			old := ring[0]
			pr := Progress{Done: d, Total: p.total}
			if dt := now.Sub(old.t).Seconds(); dt > 0 {
				pr.Rate = float64(d-old.done) / dt
			}
			if pr.Rate > 0 {
				pr.ETA = time.Duration(float64(p.total-d) / pr.Rate * float64(time.Second))
			}
			p.fn(pr)
		}
	}
}

// end stops the periodic calls and makes the final one, with the
// average rate of the whole export.
func (p *progress) end() {
	if p.fn == nil {
		return
	}
	close(p.stop)
	<-p.ended
	d := p.done.Load()
	pr := Progress{Done: d, Total: p.total}
	if dt := time.Since(p.start).Seconds(); dt > 0 {
		pr.Rate = float64(d) / dt
	}
	p.fn(pr)
}
