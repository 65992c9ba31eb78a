package scan

import (
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/spf13/afero"
)

// Input is one opened image file or block device.
type Input struct {
	Path     string `json:"path"`
	Size     int64  `json:"size"`
	IsDevice bool   `json:"is_device"`

	r io.ReaderAt
	f afero.File
}

// ReaderAt gives read access to the whole input.
func (in *Input) ReaderAt() io.ReaderAt { return in.r }

// OSFile returns the underlying *os.File when the input is a file of the
// operating system (used for SEEK_DATA/SEEK_HOLE), or nil.
func (in *Input) OSFile() *os.File {
	if f, ok := in.f.(*os.File); ok {
		return f
	}
	return nil
}

// Close closes the input.
func (in *Input) Close() error {
	if in.f != nil {
		return in.f.Close()
	}
	return nil
}

// NewInput wraps an already open reader (tests, embedded demo disks).
func NewInput(path string, r io.ReaderAt, size int64) *Input {
	return &Input{Path: path, Size: size, r: r}
}

// ReadOnlyOSFs is the filesystem inputs are opened from: the operating
// system's, behind afero's read-only wrapper so that no code path can open
// evidence for writing.
func ReadOnlyOSFs() afero.Fs { return afero.NewReadOnlyFs(afero.NewOsFs()) }

// Open opens path on fs read-only and determines its size: the file size
// for regular files, the kernel's idea of the device size for block
// devices.
func Open(fs afero.Fs, path string) (*Input, error) {
	// Refuse a pipe before opening it: opening one for reading waits for
	// a writer.
	if st, err := fs.Stat(path); err == nil && st.Mode()&(os.ModeNamedPipe|os.ModeSocket) != 0 {
		return nil, fmt.Errorf("%s: is a pipe or socket: LVM2 structures are read at offsets all over the disk, so the data must be in a file or on a device (save the stream to a file first)", path)
	}
	f, err := fs.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	in := &Input{Path: path, f: f, r: f, Size: st.Size()}
	if _, ok := f.(*os.File); !ok {
		// Only the OS's files read at an offset without a shared file
		// position (pread): others (afero's in-memory files seek and
		// read) are read one call at a time, as the export engine reads
		// in several goroutines.
		in.r = &lockedReader{r: f}
	}
	if st.Mode()&os.ModeDevice != 0 {
		in.IsDevice = true
		osf, ok := f.(*os.File)
		if !ok {
			f.Close()
			return nil, fmt.Errorf("%s: a device, but not opened from the OS filesystem", path)
		}
		sz, err := deviceSize(osf)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: device size: %w", path, err)
		}
		in.Size = sz
		in.r = &sectorReader{r: f, size: sz}
	} else if st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s: is a directory", path)
	}
	return in, nil
}

// lockedReader serializes ReadAt calls on a reader that is not safe for
// concurrent use.
type lockedReader struct {
	mu sync.Mutex
	r  io.ReaderAt
}

func (l *lockedReader) ReadAt(p []byte, off int64) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.ReadAt(p, off)
}
