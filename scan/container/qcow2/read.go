package qcow2

import (
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/lima-vm/go-qcow2reader/image"
	lqcow2 "github.com/lima-vm/go-qcow2reader/image/qcow2"
	"github.com/lvminspect/lvminspect/scan/container/blockdev"
	"github.com/lvminspect/lvminspect/scan/device"
)

// libFile is the image file as the library sees it: without its backing
// file fields when hide is set (the library would open the backing file
// itself, through the operating system), and with a full read at the end
// of the file not reported as io.EOF.
type libFile struct {
	r           io.ReaderAt
	hide        bool
	clusterSize int64
}

// Bytes [8, 20) of the header: backing_file_offset and backing_file_size.
const backingFieldsOff, backingFieldsEnd = 8, 20

func (f libFile) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	n, err := f.r.ReadAt(p, off)
	if n == len(p) {
		err = nil
	}
	if f.hide && off < backingFieldsEnd && off+int64(n) > backingFieldsOff {
		lo := max(backingFieldsOff-off, 0)
		hi := min(backingFieldsEnd-off, int64(n))
		clear(p[lo:hi])
	}
	return n, err
}

// recovered turns a panic of the library into an error (the last line of
// defence: the header is checked before the library sees it).
func recovered(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("go-qcow2reader panicked: %v", r)
	}
}

// openLib opens the checked image with the library.
func (im *Image) openLib() (err error) {
	if im.size == 0 {
		return nil
	}
	defer recovered(&err)
	lib, err := lqcow2.Open(libFile{r: im.r, hide: im.h.BackingFileOffset != 0, clusterSize: im.clusterSize}, nil)
	if err != nil {
		return fmt.Errorf("qcow2: %s: go-qcow2reader: %w", im.name, err)
	}
	if err := lib.Readable(); err != nil {
		return fmt.Errorf("qcow2: %s: go-qcow2reader: %w", im.name, err)
	}
	if lib.Size() != im.size {
		return fmt.Errorf("qcow2: %s: go-qcow2reader reads a virtual size of %d, the header says %d", im.name, lib.Size(), im.size)
	}
	im.lib = lib
	return nil
}

func (im *Image) extent(start, length int64) (e image.Extent, err error) {
	defer recovered(&err)
	return im.lib.Extent(start, length)
}

// libRead reads q at off (within Size) through the library; it returns
// the bytes read and an error if they are fewer than len(q).
func (im *Image) libRead(q []byte, off int64) (n int, err error) {
	defer recovered(&err)
	n, err = im.lib.ReadAt(q, off)
	if n >= len(q) {
		// the library says io.EOF with the last bytes of the disk
		return len(q), nil
	}
	n = max(n, 0)
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// pieces resolves [off, off+n) (within Size) into consecutive pieces:
// the clusters of an L1 entry without an L2 table are not allocated;
// the others are classified by the library's Extent, one L1 entry's
// clusters at a time: clusters stored in the image (plain or compressed)
// are InFile (read through the library, not at FileOff), zero clusters
// Zero, clusters not allocated InParent (Zero without a backing file),
// and the clusters of an L2 table that cannot be read Bad.
func (im *Image) pieces(off, n int64, fn func(blockdev.Piece) error) error {
	cs := im.clusterSize
	cover := cs * im.l2Entries
	unallocated := blockdev.Zero
	if im.backing != nil {
		unallocated = blockdev.InParent
	}
	end := off + n
	for off < end {
		l1i := off / cover
		cend := min((l1i+1)*cover, end)
		if im.l1[l1i]&l2OffsetMask == 0 {
			if err := fn(blockdev.Piece{Off: off, N: cend - off, Kind: unallocated}); err != nil {
				return err
			}
			off = cend
			continue
		}
		// Extent is asked from a cluster boundary: the library does not
		// clip the first cluster of an unaligned start.
		start := off / cs * cs
		qend := min((cend+cs-1)/cs*cs, im.size)
		e, err := im.extent(start, qend-start)
		if err == nil && (e.Start != start || e.Length <= 0) {
			err = fmt.Errorf("go-qcow2reader: extent [%d, +%d) for a query at %d", e.Start, e.Length, start)
		}
		if err != nil {
			// The L2 table is what failed: the clusters it covers are
			// unreadable.
			if err := fn(blockdev.Piece{Off: off, N: cend - off, Kind: blockdev.Bad, Why: fmt.Sprintf("L2 table of L1 entry %d: %v", l1i, err)}); err != nil {
				return err
			}
			off = cend
			continue
		}
		eend := min(start+e.Length, cend)
		p := blockdev.Piece{Off: off, N: eend - off}
		switch {
		case e.Allocated && e.Zero:
			p.Kind = blockdev.Zero
		case e.Allocated:
			p.Kind = blockdev.InFile
			if e.Compressed && !im.compressed.Load() {
				im.compressed.Store(true)
			}
		default:
			p.Kind = unallocated
		}
		if err := fn(p); err != nil {
			return err
		}
		off = eend
	}
	return nil
}

// ReadAt reads the virtual disk.
func (im *Image) ReadAt(p []byte, off int64) (int, error) {
	return blockdev.ReadDisk("qcow2: "+im.name, p, off, im.size, func(p []byte) (int, error) {
		if im.compressed.Load() {
			// clusters to decompress: several at once
			return blockdev.ReadParallel(p, off, im.clusterSize, workers(), im.read)
		}
		return im.read(p, off)
	})
}

// maxWorkers bounds the goroutines of one read of compressed clusters.
const maxWorkers = 8

func workers() int { return min(runtime.GOMAXPROCS(0), maxWorkers) }

func (im *Image) read(p []byte, off int64) (int, error) {
	done := 0
	err := im.pieces(off, int64(len(p)), func(pc blockdev.Piece) error {
		q := p[pc.Off-off : pc.Off-off+pc.N]
		switch pc.Kind {
		case blockdev.InFile:
			n, err := im.libRead(q, pc.Off)
			done += n
			if err != nil {
				bad := pc.Off + int64(n)
				bend := min((bad/im.clusterSize+1)*im.clusterSize, pc.Off+pc.N)
				return &device.UnreadableError{Device: im.name, Off: bad, Len: bend - bad, Why: fmt.Sprintf("cluster %d: %v", bad/im.clusterSize, err)}
			}
			return nil
		case blockdev.Zero:
			clear(q)
		case blockdev.InParent:
			if err := blockdev.ReadParent(im.backing, q, pc.Off); err != nil {
				return err
			}
		case blockdev.Bad:
			return &device.UnreadableError{Device: im.name, Off: pc.Off, Len: pc.N, Why: pc.Why}
		}
		done += len(q)
		return nil
	})
	return done, err
}

// Map describes [off, off+length) as data (clusters stored in the image,
// compressed or not), holes (zero clusters, clusters not allocated and
// without a backing file) and unreadable ranges (clusters whose L2 table
// cannot be read); the clusters not allocated in an image with a backing
// file are what the backing device's Map says of them. A cluster the L2
// table places beyond the end of the file is data here and unreadable
// when read: go-qcow2reader's Extent does not give the clusters' places.
func (im *Image) Map(off, length int64) ([]device.Extent, error) {
	return blockdev.MapDisk("qcow2: "+im.name, off, length, im.size, im.pieces, im.backing)
}
