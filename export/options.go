package export

import (
	"fmt"
	"io"
	"time"
)

// Defaults and limits of the pipeline.
const (
	DefaultChunkSize   = 4 << 20  // bytes per buffer
	DefaultBufferCount = 8        // buffers in flight
	MaxBufferBytes     = 64 << 20 // ChunkSize*BufferCount may not exceed this
	blockSize          = 4096     // sparse and alignment granularity
	retrySize          = 64 << 10 // read size when retrying after a read error
)

// Options control an export.
type Options struct {
	// Output is the image path, or "-" for Stdout.
	Output string
	// Stdout receives the image when Output is "-" (os.Stdout if nil).
	// It is written in order, without holes or temporary file.
	Stdout io.Writer
	// Force replaces an existing output file. Without it an existing
	// output is refused with *ExistsError.
	Force bool
	// AllowPartial exports missing and unreadable bytes as zeros, listed
	// in Result.Missing. Without it they are an error (*MissingError,
	// *ReadError).
	AllowPartial bool
	// Sparse turns all-zero blocks into holes in a regular output file.
	// Callers should default it to true.
	Sparse bool
	// MD5 computes an MD5 besides the SHA-256, in the same pass.
	MD5 bool
	// ChunkSize is the buffer size, a multiple of 4096 (default 4 MiB).
	ChunkSize int
	// BufferCount is the number of buffers (default 8). The buffers, and
	// so the memory the export uses, total ChunkSize*BufferCount, at most
	// MaxBufferBytes.
	BufferCount int
	// Progress, if set, is called about ten times a second from one
	// goroutine, and once more at the end (Done == Total on success).
	Progress func(Progress)
	// FS is the output file system (default OSFS).
	FS FS
	// Protect lists the inputs being read (image files, devices). An
	// output, or its provenance record, that is one of them is refused
	// whatever Force says (checked with CheckProtected before anything is
	// written, and again before the rename).
	Protect []string
}

// Progress is a snapshot of an export's progress.
type Progress struct {
	Done, Total int64         // bytes hashed and written, LV size
	Rate        float64       // bytes per second, recent average
	ETA         time.Duration // estimated time left, 0 when unknown
}

// Result describes a finished export.
type Result struct {
	Path      string           // output path, cleaned ("-" for stdout)
	Size      int64            // bytes exported (the LV size)
	SHA256    string           // lowercase hex
	MD5       string           // lowercase hex, "" unless Options.MD5
	BytesRead map[string]int64 // bytes read per Run.Source
	Missing   []Range          // LV ranges exported as zeros, with reasons
	Holes     int64            // bytes left as holes in the output
	Start     time.Time
	End       time.Time
}

// withDefaults fills defaults and validates o.
func (o Options) withDefaults() (Options, error) {
	if o.Output == "" {
		return o, fmt.Errorf("export: no output path")
	}
	if o.ChunkSize == 0 {
		o.ChunkSize = DefaultChunkSize
	}
	if o.BufferCount == 0 {
		o.BufferCount = DefaultBufferCount
	}
	if o.ChunkSize < blockSize || o.ChunkSize%blockSize != 0 {
		return o, fmt.Errorf("export: chunk size %d is not a positive multiple of %d", o.ChunkSize, blockSize)
	}
	if o.BufferCount < 2 {
		return o, fmt.Errorf("export: buffer count %d: need at least 2", o.BufferCount)
	}
	if int64(o.ChunkSize)*int64(o.BufferCount) > MaxBufferBytes {
		return o, fmt.Errorf("export: %d buffers of %d bytes exceed the %d byte memory bound", o.BufferCount, o.ChunkSize, MaxBufferBytes)
	}
	if o.FS == nil {
		o.FS = OSFS{}
	}
	return o, nil
}
