package raid

import "github.com/lvminspect/lvminspect/scan/device"

// Readahead hints (device.Advisor) through an array: a range of the
// array is the rows of its images that hold it, asked of each image whose
// source takes hints (a member device of an md array). The hints only
// start the kernel reading; a wrong one costs a read, never a byte.

// adviseImages asks every image to read [t0, t1) of its data ahead, or
// in order (seq).
func adviseImages(imgs []*image, t0, t1 int64, seq bool) {
	for _, im := range imgs {
		adviseImage(im, t0, t1, seq)
	}
}

func adviseImage(im *image, t0, t1 int64, seq bool) {
	a, ok := im.src.(device.Advisor)
	if !ok || t1 <= t0 {
		return
	}
	if seq {
		a.AdviseSequential(im.base+t0, t1-t0)
	} else {
		a.AdviseWillNeed(im.base+t0, t1-t0)
	}
}

// clip limits [off, off+n) to [0, size).
func clip(off, n, size int64) (int64, int64, bool) {
	off, end := max(off, 0), min(off+n, size)
	return off, end, off < end
}

// AdviseSequential says the whole of each image will be read in order.
func (s *Parity) AdviseSequential(off, n int64) {
	if _, _, ok := clip(off, n, s.usable); ok {
		adviseImages(s.imgs, 0, s.usable/int64(s.lay.d)+s.cb, true)
	}
}

// AdviseWillNeed starts the images reading the stripe rows of [off,
// off+n), parity included (a rebuild needs it; a healthy read skips it,
// which keeps each image's reads in order).
func (s *Parity) AdviseWillNeed(off, n int64) {
	if off, end, ok := clip(off, n, s.usable); ok {
		sb := int64(s.lay.d) * s.cb
		adviseImages(s.imgs, off/sb*s.cb, ((end-1)/sb+1)*s.cb, false)
	}
}

// AdviseSequential says the whole of each image will be read in order.
func (s *Copies) AdviseSequential(off, n int64) {
	if _, _, ok := clip(off, n, s.usable); ok {
		adviseImages(s.imgs, 0, s.usable, true)
	}
}

// AdviseWillNeed starts the images reading the rows of [off, off+n)
// (the near layout; far, offset and zoned placements get no hint).
func (s *Copies) AdviseWillNeed(off, n int64) {
	if off, end, ok := clip(off, n, s.usable); ok && s.pl == nil {
		t0, t1 := s.rows(off, end)
		adviseImages(s.imgs, t0, t1, false)
	}
}

// AdviseSequential says the first leg will be read in order (reads come
// from it where it has the bytes).
func (l *Legs) AdviseSequential(off, n int64) {
	if off, end, ok := clip(off, n, l.size); ok && len(l.imgs) > 0 {
		adviseImage(l.imgs[0], off, end, true)
	}
}

// AdviseWillNeed starts the first leg reading [off, off+n).
func (l *Legs) AdviseWillNeed(off, n int64) {
	if off, end, ok := clip(off, n, l.size); ok && len(l.imgs) > 0 {
		adviseImage(l.imgs[0], off, end, false)
	}
}
