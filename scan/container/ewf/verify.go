package ewf

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"

	"github.com/lvminspect/lvminspect/scan/device"
)

// HashCheck is a stored hash of the media and the one recomputed.
type HashCheck struct {
	Algorithm string `json:"algorithm"`
	Stored    string `json:"stored,omitempty"`   // hex; empty when the image stores none
	Computed  string `json:"computed,omitempty"` // hex; empty when a chunk could not be read
	Match     bool   `json:"match"`
	Note      string `json:"note,omitempty"`
}

// ChunkError is a chunk that failed its check.
type ChunkError struct {
	Chunk int64  `json:"chunk"`
	Off   int64  `json:"offset"` // in the media
	Len   int64  `json:"length"`
	Error string `json:"error"`
}

// VerifyReport is what Verify found.
type VerifyReport struct {
	Chunks        int64        `json:"chunks"`
	ChunksOK      int64        `json:"chunks_ok"`
	BadChunks     []ChunkError `json:"bad_chunks,omitempty"` // at most maxBadListed
	BadChunkCount int64        `json:"bad_chunk_count"`
	// AcquisitionErrors are the ranges the acquisition could not read
	// (error2 section); they hash as stored (zeros, as the acquiring
	// tool wrote them).
	AcquisitionErrors []Range     `json:"acquisition_errors,omitempty"`
	Hashes            []HashCheck `json:"hashes"`
	Warnings          []string    `json:"warnings,omitempty"`
	// OK is true when every chunk passed and every stored hash matched.
	OK bool `json:"ok"`
}

const maxBadListed = 1000

// Range is a byte range of the media.
type Range struct {
	Off   int64  `json:"offset"`
	Len   int64  `json:"length"`
	First uint64 `json:"first_sector"`
	Count uint64 `json:"sectors"`
}

// Verify reads every chunk in parallel, checks every checksum, and
// recomputes the MD5 and SHA-1 of the media to compare with the stored
// ones. progress, if not nil, is called with bytes done and the total
// from one goroutine. It returns an error only when it could not run to
// the end (cancelled, I/O error); bad chunks and mismatched hashes are in
// the report.
func (im *Image) Verify(ctx context.Context, progress func(done, total int64)) (*VerifyReport, error) {
	rep := &VerifyReport{Chunks: im.chunks, Warnings: append([]string(nil), im.warnings...)}
	for _, e := range im.errs {
		rep.AcquisitionErrors = append(rep.AcquisitionErrors, Range{Off: e.Off, Len: e.Len, First: e.Sector, Count: e.Secs})
	}
	m, s1 := md5.New(), sha1.New()
	var zero []byte
	var done int64
	err := im.ReadChunks(ctx, 0, im.chunks, runtime.GOMAXPROCS(0), func(i int64, data []byte, err error) error {
		if err != nil {
			var ue *device.UnreadableError
			if !errors.As(err, &ue) {
				return err
			}
			rep.BadChunkCount++
			if len(rep.BadChunks) < maxBadListed {
				rep.BadChunks = append(rep.BadChunks, ChunkError{Chunk: i, Off: i * im.chunkSize, Len: im.chunkLen(i), Error: ue.Why})
			}
			if zero == nil {
				zero = make([]byte, im.chunkSize)
			}
			data = zero[:im.chunkLen(i)]
		} else {
			rep.ChunksOK++
		}
		m.Write(data)
		s1.Write(data)
		done += int64(len(data))
		if progress != nil {
			progress(done, im.size)
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	check := func(alg string, stored []byte, sum []byte) HashCheck {
		h := HashCheck{Algorithm: alg}
		if stored != nil {
			h.Stored = hex.EncodeToString(stored)
		}
		if rep.BadChunkCount == 0 {
			h.Computed = hex.EncodeToString(sum)
		} else {
			h.Note = fmt.Sprintf("not comparable: %d chunks could not be read", rep.BadChunkCount)
		}
		switch {
		case stored == nil:
			if h.Note == "" {
				h.Note = "the image stores no " + alg
			}
		case h.Computed != "":
			h.Match = h.Stored == h.Computed
			if !h.Match {
				h.Note = "mismatch: the media read is not the media acquired"
			}
		}
		return h
	}
	rep.Hashes = []HashCheck{check("md5", im.storedMD5, m.Sum(nil)), check("sha1", im.storedSHA1, s1.Sum(nil))}
	rep.OK = rep.BadChunkCount == 0
	stored := 0
	for _, h := range rep.Hashes {
		if h.Stored != "" {
			stored++
			if !h.Match {
				rep.OK = false
			}
		}
	}
	if stored == 0 {
		rep.Warnings = append(rep.Warnings, "the image stores no hash of the media: only the chunk checksums were checked")
	}
	return rep, nil
}
