package export

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"os"
	"time"
)

// Export copies src to opt.Output and returns its checksums.
//
// Everything that can be checked is checked before the first byte is
// written: the output must not exist (unless opt.Force) and, unless
// opt.AllowPartial, no LV byte may be missing (*MissingError). The image
// is written to a temporary file beside the target, synced, and renamed
// into place, without replacing a file that appeared meanwhile unless
// opt.Force. On any error or cancellation the temporary file (and any
// directory Export created) is removed, so nothing is left under the
// final name; the one exception is a failure to sync the directory after
// the rename, where the complete image stays and the error says so.
//
// With Output "-" the image is streamed to opt.Stdout in order, with
// zeros written out.
func Export(ctx context.Context, src Source, opt Options) (*Result, error) {
	start := time.Now()
	o, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	size := src.Size()
	if size < 0 {
		return nil, fmt.Errorf("export: source has negative size %d", size)
	}
	var out *output
	if o.Output != "-" {
		for _, p := range []string{o.Output, ProvenancePath(o.Output)} {
			if err := CheckProtected(p, o.Protect); err != nil {
				return nil, err
			}
		}
		if out, err = newOutput(o.FS, o.Output, o.Force); err != nil {
			return nil, err
		}
	}
	if !o.AllowPartial {
		if err := scanMissing(ctx, src); err != nil {
			return nil, err
		}
	}

	p := &pipeline{src: src, opt: o, size: size, bytesRead: map[string]int64{}}
	sha := sha256.New()
	p.hashes = []hash.Hash{sha}
	var md hash.Hash
	if o.MD5 {
		md = md5.New()
		p.hashes = append(p.hashes, md)
	}
	if out == nil {
		w := o.Stdout
		if w == nil {
			w = os.Stdout
		}
		p.sink = &streamSink{w: w}
	} else {
		f, err := out.create()
		if err != nil {
			return nil, err
		}
		p.sink = &fileSink{f: f, name: out.tmp, sparse: o.Sparse}
	}

	prog := startProgress(o.Progress, size, &p.done, start)
	err = p.run(ctx)
	if err == nil {
		err = p.sink.finish(size)
	}
	if err == nil && out != nil {
		if err = CheckProtected(out.final, o.Protect); err == nil {
			err = out.commit()
		}
	}
	prog.end()
	if err != nil {
		if out != nil {
			out.abort()
		}
		return nil, err
	}

	res := &Result{
		Path:      o.Output,
		Size:      size,
		SHA256:    hex.EncodeToString(sha.Sum(nil)),
		BytesRead: p.bytesRead,
		Missing:   mergeRanges(p.missing),
		Holes:     p.sink.holes(),
		Start:     start,
		End:       time.Now(),
	}
	if out != nil {
		res.Path = out.final
	}
	if md != nil {
		res.MD5 = hex.EncodeToString(md.Sum(nil))
	}
	return res, nil
}
