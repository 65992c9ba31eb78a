// Package splitraw reads a raw disk image split into numbered segment
// files (disk.001, disk.002, …, as dd/dcfldd/FTK Imager write them) as
// one device: the segments concatenated in order.
package splitraw

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"

	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan/container/blockdev"
	"github.com/lvminspect/lvminspect/scan/device"
	"github.com/spf13/afero"
)

// maxSegments bounds the number of segment files.
const maxSegments = 100000

// ErrNotFirst is returned by Open for a segment that is not the first.
var ErrNotFirst = errors.New("splitraw: not the first segment")

// Segment is one segment file.
type Segment struct {
	Name string
	R    io.ReaderAt
	Size int64
}

// SegmentInfo is a segment as Info reports it.
type SegmentInfo struct {
	Path   string `json:"path"`
	Offset int64  `json:"offset"` // in the device
	Size   int64  `json:"size"`
}

// Info describes the image, for JSON.
type Info struct {
	Format      string        `json:"format"` // "split-raw"
	VirtualSize int64         `json:"virtual_size"`
	Segments    []SegmentInfo `json:"segments"`
	Problems    []string      `json:"problems,omitempty"`
}

// Image is the concatenation of the segments.
type Image struct {
	segs     []Segment
	starts   []int64 // device offset of each segment
	size     int64
	closers  []io.Closer
	problems []string
}

// SegmentName splits a segment file name into its stem and number:
// "disk.raw.002" → ("disk.raw.", 2, 3). ok is false for a name that does
// not end in a dot and at least three digits.
func SegmentName(name string) (stem string, num, width int, ok bool) {
	i := len(name)
	for i > 0 && name[i-1] >= '0' && name[i-1] <= '9' {
		i--
	}
	width = len(name) - i
	if width < 3 || width > 6 || i == 0 || name[i-1] != '.' {
		return "", 0, 0, false
	}
	n, err := strconv.Atoi(name[i:])
	if err != nil {
		return "", 0, 0, false
	}
	return name[:i], n, width, true
}

func segName(stem string, n, width int) string {
	return fmt.Sprintf("%s%0*d", stem, width, n)
}

// Probe reports whether name is the first segment of a split raw image:
// it ends in .001 (or .000, the numbering some tools start at).
func Probe(name string) bool {
	_, n, _, ok := SegmentName(name)
	return ok && n <= 1
}

// Open opens the split image whose first segment is name (disk.001, or
// disk.000 when numbering starts at zero) and the segments that follow
// it, through fsys. A gap (a later segment present after a missing one)
// is an error naming the missing segment.
func Open(fsys afero.Fs, name string) (*Image, error) {
	stem, n, width, ok := SegmentName(name)
	if !ok {
		return nil, fmt.Errorf("splitraw: %s: not a segment name (NAME.001)", name)
	}
	if n > 1 {
		return nil, fmt.Errorf("%w: %s (segment %d; open %s)", ErrNotFirst, name, n, segName(stem, 1, width))
	}
	if n == 1 {
		if _, err := fsys.Stat(segName(stem, 0, width)); err == nil {
			return nil, fmt.Errorf("%w: %s (segment %s exists)", ErrNotFirst, name, segName(stem, 0, width))
		}
	}
	im := &Image{}
	var segs []Segment
	for i := n; ; i++ {
		sn := segName(stem, i, width)
		f, err := fsys.Open(sn)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) && i > n {
				// the end, unless a later segment exists
				for j := i + 1; j <= i+3; j++ {
					if _, err := fsys.Stat(segName(stem, j, width)); err == nil {
						im.Close()
						return nil, fmt.Errorf("splitraw: segment %s is missing (%s exists)", sn, segName(stem, j, width))
					}
				}
				break
			}
			im.Close()
			return nil, fmt.Errorf("splitraw: %w", err)
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			im.Close()
			return nil, fmt.Errorf("splitraw: %w", err)
		}
		segs = append(segs, Segment{Name: sn, R: blockdev.ConcurrentReader(f), Size: st.Size()})
		im.closers = append(im.closers, f)
		if len(segs) > maxSegments {
			im.Close()
			return nil, fmt.Errorf("splitraw: %s: more than %d segments", name, maxSegments)
		}
	}
	return im.init(segs)
}

// New makes an image of the given segments, in order.
func New(segs ...Segment) (*Image, error) {
	return (&Image{}).init(segs)
}

func (im *Image) init(segs []Segment) (*Image, error) {
	if len(segs) == 0 {
		return nil, errors.New("splitraw: no segments")
	}
	im.segs = segs
	for i, s := range segs {
		if s.Size < 0 {
			return nil, fmt.Errorf("splitraw: %s: negative size", s.Name)
		}
		im.starts = append(im.starts, im.size)
		im.size += s.Size
		if i > 0 && i < len(segs)-1 && s.Size != segs[0].Size {
			im.problems = append(im.problems, fmt.Sprintf("segment %s is %d bytes, the first %d", s.Name, s.Size, segs[0].Size))
		}
		if i == len(segs)-1 && i > 0 && s.Size > segs[0].Size {
			im.problems = append(im.problems, fmt.Sprintf("last segment %s is %d bytes, larger than the first (%d)", s.Name, s.Size, segs[0].Size))
		}
		if s.Size == 0 && i < len(segs)-1 {
			im.problems = append(im.problems, fmt.Sprintf("segment %s is empty", s.Name))
		}
	}
	return im, nil
}

// Size is the total size of the segments.
func (im *Image) Size() int64 { return im.size }

// ConcurrentReads is true.
func (im *Image) ConcurrentReads() bool { return true }

// Close closes the segment files Open opened.
func (im *Image) Close() error {
	err := blockdev.CloseAll(im.closers)
	im.closers = nil
	return err
}

// Segments lists the segments in order.
func (im *Image) Segments() []Segment { return append([]Segment(nil), im.segs...) }

// Info describes the image.
func (im *Image) Info() Info {
	in := Info{Format: "split-raw", VirtualSize: im.size, Problems: append([]string(nil), im.problems...)}
	for i, s := range im.segs {
		in.Segments = append(in.Segments, SegmentInfo{Path: s.Name, Offset: im.starts[i], Size: s.Size})
	}
	return in
}

// Fields is empty: a split raw image has no header.
func (im *Image) Fields() []model.Structure { return nil }

// ReadAt reads the concatenation. A segment that reads short fails
// with an error wrapping *device.UnreadableError.
func (im *Image) ReadAt(p []byte, off int64) (int, error) {
	return blockdev.ReadDisk("splitraw", p, off, im.size, func(p []byte) (int, error) {
		i := sort.Search(len(im.starts), func(i int) bool { return im.starts[i] > off }) - 1
		done := 0
		for done < len(p) && i < len(im.segs) {
			s := im.segs[i]
			in := off + int64(done) - im.starts[i]
			k := int(min(int64(len(p)-done), s.Size-in))
			if k > 0 {
				n, err := s.R.ReadAt(p[done:done+k], in)
				if err := blockdev.ShortRead(n, k, err); err != nil {
					return done + n, &device.UnreadableError{Device: s.Name, Off: off + int64(done+n), Len: int64(k - n),
						Why: fmt.Sprintf("segment %s at byte %d: %v", s.Name, in+int64(n), err)}
				}
				done += k
			}
			i++
		}
		return done, nil
	})
}

// Map says the whole range is data: a raw image stores every byte.
func (im *Image) Map(off, length int64) ([]device.Extent, error) {
	n, ok, err := blockdev.MapBounds("splitraw", off, length, im.size)
	if !ok {
		return nil, err
	}
	return []device.Extent{{Off: off, Len: n, Kind: device.Data}}, nil
}
