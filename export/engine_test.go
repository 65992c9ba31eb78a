package export

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
)

func TestExportDense(t *testing.T) {
	before := runtime.NumGoroutine()
	data := randomData(20<<20+123, 1)
	dir, path := outPath(t)
	res, err := Export(context.Background(), &memSource{data: data}, Options{Output: path, Sparse: true, MD5: true, ChunkSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if res.SHA256 != sha(data) {
		t.Errorf("sha256 %s, want %s", res.SHA256, sha(data))
	}
	m := md5.Sum(data)
	if res.MD5 != hex.EncodeToString(m[:]) {
		t.Errorf("md5 %s, want %x", res.MD5, m)
	}
	if got := fileSHA(t, path); got != res.SHA256 {
		t.Errorf("file sha256 %s, result %s", got, res.SHA256)
	}
	if res.Size != int64(len(data)) || res.BytesRead["mem"] != int64(len(data)) {
		t.Errorf("size %d, bytes read %v, want %d", res.Size, res.BytesRead, len(data))
	}
	if res.Path != path || len(res.Missing) != 0 || res.Holes != 0 {
		t.Errorf("result %+v", res)
	}
	if !res.End.After(res.Start) {
		t.Errorf("times %v..%v", res.Start, res.End)
	}
	assertNoTemp(t, dir)
	checkGoroutines(t, before)
}

func TestExportNoMD5(t *testing.T) {
	data := randomData(1<<20, 2)
	_, path := outPath(t)
	res, err := Export(context.Background(), &memSource{data: data}, Options{Output: path})
	if err != nil {
		t.Fatal(err)
	}
	if res.MD5 != "" || res.SHA256 != sha(data) {
		t.Errorf("md5 %q sha256 %s", res.MD5, res.SHA256)
	}
}

func TestExportEmpty(t *testing.T) {
	_, path := outPath(t)
	res, err := Export(context.Background(), &memSource{}, Options{Output: path, Sparse: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.SHA256 != sha(nil) {
		t.Errorf("sha256 %s", res.SHA256)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != 0 {
		t.Errorf("stat %v %v", fi, err)
	}
}

func TestExportReadErrorFails(t *testing.T) {
	before := runtime.NumGoroutine()
	data := randomData(16<<20, 3)
	src := &failSource{memSource: &memSource{data: data}, badOff: 9<<20 + 4096, badLen: 8192}
	dir, path := outPath(t)
	_, err := Export(context.Background(), src, Options{Output: path, Sparse: true, ChunkSize: 1 << 20})
	var re *ReadError
	if !errors.As(err, &re) {
		t.Fatalf("error %v, want *ReadError", err)
	}
	if !errors.Is(err, syscall.EIO) || re.Off != 9<<20+4096 || re.Source != "mem" {
		t.Errorf("read error %+v (%v)", re, err)
	}
	assertNoOutput(t, dir, path)
	checkGoroutines(t, before)
}

func TestExportReadErrorPartial(t *testing.T) {
	data := randomData(16<<20, 4)
	for _, tc := range []struct {
		name             string
		badOff, badLen   int64
		lostOff, lostLen int64
	}{
		// Past the first 8 chunks, so that the buffers were used before
		// and hold stale bytes unless the lost range is cleared.
		{"aligned", 12<<20 + 64<<10, 128 << 10, 12<<20 + 64<<10, 128 << 10},
		// The failing 64 KiB read returns the 100 good bytes before the
		// bad one; the rest of that piece is lost.
		{"unaligned", 10<<20 + 100, 10, 10<<20 + 100, 64<<10 - 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &failSource{memSource: &memSource{data: data}, badOff: tc.badOff, badLen: tc.badLen}
			dir, path := outPath(t)
			res, err := Export(context.Background(), src, Options{Output: path, Sparse: true, AllowPartial: true, ChunkSize: 1 << 20})
			if err != nil {
				t.Fatal(err)
			}
			want := bytes.Clone(data)
			clear(want[tc.lostOff : tc.lostOff+tc.lostLen])
			if res.SHA256 != sha(want) {
				t.Errorf("sha256 %s, want %s (data with the range zeroed)", res.SHA256, sha(want))
			}
			if got := fileSHA(t, path); got != res.SHA256 {
				t.Errorf("file sha256 %s", got)
			}
			if len(res.Missing) != 1 || res.Missing[0].Off != tc.lostOff || res.Missing[0].Len != tc.lostLen || res.Missing[0].Source != "mem" {
				t.Fatalf("missing %+v, want [%d,+%d)", res.Missing, tc.lostOff, tc.lostLen)
			}
			if !errors.Is(errors.New(res.Missing[0].Reason), syscall.EIO) && !bytes.Contains([]byte(res.Missing[0].Reason), []byte("input/output error")) {
				t.Errorf("reason %q", res.Missing[0].Reason)
			}
			if got := res.BytesRead["mem"]; got != int64(len(data))-tc.lostLen {
				t.Errorf("bytes read %d, want %d", got, int64(len(data))-tc.lostLen)
			}
			assertNoTemp(t, dir)
		})
	}
}

func TestExportENOSPC(t *testing.T) {
	before := runtime.NumGoroutine()
	data := randomData(32<<20, 5)
	dir, path := outPath(t)
	_, err := Export(context.Background(), &memSource{data: data}, Options{Output: path, Sparse: true, FS: faultFS{limit: 3<<20 + 5}})
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("error %v, want ENOSPC", err)
	}
	assertNoOutput(t, dir, path)
	checkGoroutines(t, before)
}

func TestExportCancel(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// 1024 reads of 64 KiB, 2 ms each: about 2 s unless cancelled.
	src := &memSource{data: randomData(64<<20, 6), delay: 2 * time.Millisecond}
	dir, path := outPath(t)
	calls := 0
	t0 := time.Now()
	_, err := Export(ctx, src, Options{Output: path, Sparse: true, ChunkSize: 64 << 10, Progress: func(p Progress) {
		calls++
		if p.Done > 0 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if d := time.Since(t0); d > time.Second {
		t.Errorf("cancel took effect after %v", d)
	}
	if calls == 0 {
		t.Error("progress never called")
	}
	if r := src.reads.Load(); r >= int64(len(src.data)) {
		t.Errorf("read %d bytes: everything, despite the cancel", r)
	}
	assertNoOutput(t, dir, path)
	checkGoroutines(t, before)
}

func TestExportExisting(t *testing.T) {
	data := randomData(2<<20, 7)
	dir, path := outPath(t)
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Export(context.Background(), &memSource{data: data}, Options{Output: path})
	var ee *ExistsError
	if !errors.As(err, &ee) || ee.Path != path {
		t.Fatalf("error %v, want *ExistsError for %s", err, path)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("existing file changed to %d bytes", len(b))
	}
	assertNoTemp(t, dir)

	res, err := Export(context.Background(), &memSource{data: data}, Options{Output: path, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if fileSHA(t, path) != sha(data) || res.SHA256 != sha(data) {
		t.Error("forced export did not replace the file")
	}
	assertNoTemp(t, dir)
}

func TestExportRefusesDirectory(t *testing.T) {
	dir, path := outPath(t)
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Export(context.Background(), &memSource{data: make([]byte, 4096)}, Options{Output: path, Force: true})
	if err == nil {
		t.Fatal("replaced a directory")
	}
	if fi, err := os.Stat(path); err != nil || !fi.IsDir() {
		t.Errorf("directory gone: %v", err)
	}
	assertNoTemp(t, dir)
}

// A file that appears under the final name while the export runs is not
// replaced without Force.
func TestExportExistsRace(t *testing.T) {
	src := &memSource{data: randomData(8<<20, 8), delay: time.Millisecond}
	dir, path := outPath(t)
	created := false
	_, err := Export(context.Background(), src, Options{Output: path, ChunkSize: 64 << 10, Progress: func(Progress) {
		if !created {
			created = true
			if err := os.WriteFile(path, []byte("theirs"), 0o644); err != nil {
				t.Error(err)
			}
		}
	}})
	var ee *ExistsError
	if !errors.As(err, &ee) {
		t.Fatalf("error %v, want *ExistsError", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "theirs" {
		t.Errorf("the other file was replaced (%d bytes)", len(b))
	}
	assertNoTemp(t, dir)
}

func TestExportStdout(t *testing.T) {
	data := randomData(14<<20+17, 9)
	// Whole zero chunks, and a zero run in chunks with data whose
	// buffers were used before (so they must be cleared).
	kinds := []Run{{Off: 1 << 20, Len: 2 << 20, Kind: RunZero}, {Off: 11<<20 + 4096, Len: 1<<20 + 4096, Kind: RunZero}}
	want := bytes.Clone(data)
	clear(want[1<<20 : 3<<20])
	clear(want[11<<20+4096 : 12<<20+8192])
	var buf bytes.Buffer
	cwd := t.TempDir()
	t.Chdir(cwd)
	res, err := Export(context.Background(), &memSource{data: data, kinds: kinds}, Options{Output: "-", Stdout: &buf, Sparse: true, ChunkSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if sha(buf.Bytes()) != res.SHA256 || res.SHA256 != sha(want) {
		t.Errorf("stdout sha256 %s, result %s, want %s", sha(buf.Bytes()), res.SHA256, sha(want))
	}
	if res.Path != "-" || res.Holes != 0 {
		t.Errorf("result %+v", res)
	}
	if ents, _ := os.ReadDir(cwd); len(ents) != 0 {
		t.Errorf("files written: %v", ents)
	}
}

func TestExportMissing(t *testing.T) {
	data := randomData(8<<20, 10)
	kinds := []Run{
		{Off: 1 << 20, Len: 1 << 20, Kind: RunMissing, Source: "pv-a", Reason: "PV pv-a is not available"},
		{Off: 6 << 20, Len: 4096, Kind: RunMissing, Source: "pv-b", Reason: "PV pv-b is truncated"},
	}
	base := t.TempDir()
	path := filepath.Join(base, "vg", "lv.img")
	src := &memSource{data: data, kinds: kinds}
	_, err := Export(context.Background(), src, Options{Output: path, Sparse: true})
	var me *MissingError
	if !errors.As(err, &me) {
		t.Fatalf("error %v, want *MissingError", err)
	}
	if len(me.Ranges) != 2 || me.Ranges[0].Off != 1<<20 || me.Ranges[1].Len != 4096 {
		t.Errorf("ranges %+v", me.Ranges)
	}
	for _, s := range []string{"pv-a", "pv-b", "1048576"} {
		if !bytes.Contains([]byte(err.Error()), []byte(s)) {
			t.Errorf("message %q lacks %q", err, s)
		}
	}
	if src.reads.Load() != 0 {
		t.Error("read data before failing")
	}
	if _, err := os.Stat(filepath.Join(base, "vg")); !os.IsNotExist(err) {
		t.Errorf("output directory created before failing: %v", err)
	}

	res, err := Export(context.Background(), src, Options{Output: path, Sparse: true, AllowPartial: true})
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Clone(data)
	clear(want[1<<20 : 2<<20])
	clear(want[6<<20 : 6<<20+4096])
	if res.SHA256 != sha(want) || fileSHA(t, path) != sha(want) {
		t.Error("partial export does not hash as zeros in the missing ranges")
	}
	if len(res.Missing) != 2 || res.Missing[0] != me.Ranges[0] || res.Missing[1] != me.Ranges[1] {
		t.Errorf("missing %+v, want %+v", res.Missing, me.Ranges)
	}
	if got := res.BytesRead["mem"]; got != int64(len(data))-(1<<20+4096) {
		t.Errorf("bytes read %d", got)
	}
}

func TestExportRemovesCreatedDirs(t *testing.T) {
	base := t.TempDir()
	path := filepath.Join(base, "a", "b", "lv.img")
	_, err := Export(context.Background(), &memSource{data: randomData(4<<20, 11)}, Options{Output: path, FS: faultFS{limit: 1 << 20}})
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("error %v", err)
	}
	if _, err := os.Stat(filepath.Join(base, "a")); !os.IsNotExist(err) {
		t.Errorf("created directory left behind: %v", err)
	}
	res, err := Export(context.Background(), &memSource{data: randomData(4<<20, 11)}, Options{Output: path})
	if err != nil || fileSHA(t, path) != res.SHA256 {
		t.Fatalf("export into new directories: %v", err)
	}
}

func TestExportProgress(t *testing.T) {
	size := 16 << 20
	src := &memSource{data: randomData(size, 12), delay: 2 * time.Millisecond} // 256 reads: ~0.5 s
	_, path := outPath(t)
	var calls []Progress
	t0 := time.Now()
	_, err := Export(context.Background(), src, Options{Output: path, ChunkSize: 64 << 10, Progress: func(p Progress) { calls = append(calls, p) }})
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(t0)
	if len(calls) < 2 {
		t.Fatalf("%d progress calls in %v", len(calls), elapsed)
	}
	if max := int(elapsed/progressInterval) + 2; len(calls) > max {
		t.Errorf("%d progress calls in %v: not throttled (max %d)", len(calls), elapsed, max)
	}
	last := calls[len(calls)-1]
	if last.Done != int64(size) || last.Total != int64(size) || last.Rate <= 0 {
		t.Errorf("final progress %+v", last)
	}
	for i, p := range calls {
		if p.Total != int64(size) || (i > 0 && p.Done < calls[i-1].Done) {
			t.Errorf("progress %d: %+v after %+v", i, p, calls[max(i-1, 0)])
		}
	}
	mid := calls[len(calls)/2]
	if mid.Rate <= 0 || mid.ETA <= 0 && mid.Done < mid.Total {
		t.Errorf("mid-way progress without rate or ETA: %+v", mid)
	}
}

func TestExportBadOptions(t *testing.T) {
	src := &memSource{data: make([]byte, 4096)}
	for _, o := range []Options{
		{},
		{Output: "x", ChunkSize: 1000},
		{Output: "x", BufferCount: 1},
		{Output: "x", ChunkSize: 16 << 20, BufferCount: 8},
	} {
		if _, err := Export(context.Background(), src, o); err == nil {
			t.Errorf("options %+v accepted", o)
		}
	}
}

// badRunsSource describes ranges wrongly.
type badRunsSource struct{ memSource }

func (b *badRunsSource) Runs(off, n int64) ([]Run, error) {
	return []Run{{Off: off, Len: n - 1, Kind: RunData}}, nil
}

func TestExportBadRuns(t *testing.T) {
	dir, path := outPath(t)
	src := &badRunsSource{memSource{data: make([]byte, 1<<20)}}
	if _, err := Export(context.Background(), src, Options{Output: path, AllowPartial: true}); err == nil {
		t.Fatal("inconsistent runs accepted")
	}
	assertNoOutput(t, dir, path)
}
