package blockdev

import "sync"

// ReadParallel fills p with the bytes at off of a device by calling read
// on up to workers parts of p at once: parts cut at multiples of unit
// bytes of the device (its blocks), so that a read spanning many blocks
// that must each be decoded (decompressed) uses several cores. read must
// be safe for concurrent use and return, like ReadPieces, the number of
// bytes it filled before it stopped. ReadParallel returns what one read
// of all of p would: the bytes filled before the first part that
// stopped, plus what that part filled, and its error. With workers < 2
// or p within fewer than two units, it calls read once.
func ReadParallel(p []byte, off, unit int64, workers int, read func(q []byte, off int64) (int, error)) (int, error) {
	if unit <= 0 || workers < 2 || len(p) == 0 {
		return read(p, off)
	}
	first, last := off/unit, (off+int64(len(p))-1)/unit
	units := last - first + 1
	if units < 2 {
		return read(p, off)
	}
	per := (units + int64(workers) - 1) / int64(workers)
	type part struct {
		q   []byte
		off int64
		n   int
		err error
	}
	var parts []part
	for at := off; at < off+int64(len(p)); {
		end := min((at/unit+per)*unit, off+int64(len(p)))
		parts = append(parts, part{q: p[at-off : end-off], off: at})
		at = end
	}
	var wg sync.WaitGroup
	for i := range parts {
		wg.Add(1)
		go func(pt *part) {
			defer wg.Done()
			pt.n, pt.err = read(pt.q, pt.off)
		}(&parts[i])
	}
	wg.Wait()
	done := 0
	for _, pt := range parts {
		done += pt.n
		if pt.err != nil || pt.n < len(pt.q) {
			return done, pt.err
		}
	}
	return done, nil
}
