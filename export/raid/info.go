package raid

// arrayInfo is what the Sources of this package tell besides the data.
type arrayInfo struct {
	notes       []string
	superblocks []*Superblock // per image, nil where none could be read
	imageNames  []string
}

// Notes are remarks about the segment: superblock findings, sync state,
// logs, images treated as missing and why.
func (a *arrayInfo) Notes() []string { return append([]string(nil), a.notes...) }

// Superblocks returns the dm-raid superblock of each image (nil where the
// image has no rmeta sub-LV or it could not be read). Mirrors have none.
func (a *arrayInfo) Superblocks() []*Superblock { return append([]*Superblock(nil), a.superblocks...) }

// Images lists the image (or leg) sub-LVs in order.
func (a *arrayInfo) Images() []string { return append([]string(nil), a.imageNames...) }
