package ewf

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/afero"

	"github.com/lvminspect/lvminspect/internal/containertest"
	"github.com/lvminspect/lvminspect/scan/device"
)

const fixDir = "testdata/fixtures/containers"

type manifest struct {
	Containers []struct {
		Name      string `json:"name"`
		Format    string `json:"format"`
		Subformat string `json:"subformat"`
		Files     []struct {
			File          string `json:"file"`
			ContainerFile string `json:"container_file"`
		} `json:"files"`
		RawSHA256 string `json:"raw_sha256"`
		RawSize   int64  `json:"raw_size_bytes"`
	} `json:"containers"`
}

func loadManifest(t testing.TB) manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func gunzip(t testing.TB, name string) []byte {
	t.Helper()
	return containertest.Gunzip(t, filepath.Join(fixDir, name))
}

// fixtureFs puts the gunzipped segment files of a container in memory.
func fixtureFs(t testing.TB, name string) (afero.Fs, string, []string) {
	t.Helper()
	m := loadManifest(t)
	fs := afero.NewMemMapFs()
	for _, c := range m.Containers {
		if c.Name != name {
			continue
		}
		var names []string
		for _, f := range c.Files {
			if err := afero.WriteFile(fs, "/"+f.ContainerFile, gunzip(t, f.File), 0o444); err != nil {
				t.Fatal(err)
			}
			names = append(names, "/"+f.ContainerFile)
		}
		return fs, names[0], names
	}
	t.Fatalf("no container %s in the manifest", name)
	return nil, "", nil
}

func readAllAt(t testing.TB, d device.Device, step int) []byte {
	t.Helper()
	out := make([]byte, 0, d.Size())
	buf := make([]byte, step)
	for off := int64(0); off < d.Size(); {
		n, err := d.ReadAt(buf, off)
		if err != nil && !(err == io.EOF && off+int64(n) == d.Size()) {
			t.Fatalf("ReadAt(%d): %v", off, err)
		}
		out = append(out, buf[:n]...)
		off += int64(n)
	}
	return out
}

func TestFixtures(t *testing.T) {
	m := loadManifest(t)
	n := 0
	for _, c := range m.Containers {
		if c.Format != "ewf" {
			continue
		}
		n++
		t.Run(c.Name, func(t *testing.T) {
			fs, first, names := fixtureFs(t, c.Name)
			if !Probe(mustOpen(t, fs, first), 13) {
				t.Fatal("Probe: false")
			}
			im, err := Open(fs, first)
			if err != nil {
				t.Fatal(err)
			}
			defer im.Close()
			if im.Size() != c.RawSize {
				t.Fatalf("size %d, manifest says %d", im.Size(), c.RawSize)
			}
			in := im.Info()
			if len(in.Segments) != len(names) {
				t.Errorf("segments %v, want %v", in.Segments, names)
			}
			// ReadAt with an odd step, crossing chunk boundaries.
			data := readAllAt(t, im, 12345)
			if got := hex.EncodeToString(sha256sum(data)); got != c.RawSHA256 {
				t.Fatalf("sha256 of ReadAt %s, manifest says %s", got, c.RawSHA256)
			}
			// ReadAt with read-ahead, in 1 MiB reads.
			im2, err := Open(fs, first)
			if err != nil {
				t.Fatal(err)
			}
			im2.EnableReadAhead(0, 0)
			if got := hex.EncodeToString(sha256sum(readAllAt(t, im2, 1<<20))); got != c.RawSHA256 {
				t.Fatalf("sha256 of ReadAt with read-ahead %s, manifest says %s", got, c.RawSHA256)
			}
			im2.Close()
			// The sequential read-ahead reader.
			sr := im.NewSequentialReader(context.Background(), 0, 0)
			h := sha256.New()
			if _, err := io.Copy(h, sr); err != nil {
				t.Fatal(err)
			}
			sr.Close()
			if got := hex.EncodeToString(h.Sum(nil)); got != c.RawSHA256 {
				t.Fatalf("sha256 of the sequential reader %s, manifest says %s", got, c.RawSHA256)
			}
			// From an offset inside a chunk.
			sr = im.NewSequentialReader(context.Background(), 70000, 2)
			rest, err := io.ReadAll(sr)
			sr.Close()
			if err != nil || !bytes.Equal(rest, data[70000:]) {
				t.Fatalf("sequential reader from 70000: %d bytes, %v", len(rest), err)
			}
			ext, err := im.Map(0, im.Size())
			if err != nil || len(ext) != 1 || ext[0].Kind != device.Data || ext[0].Len != im.Size() {
				t.Fatalf("Map: %v %v", ext, err)
			}
			var last int64
			rep, err := im.Verify(context.Background(), func(done, total int64) { last = done })
			if err != nil {
				t.Fatal(err)
			}
			if !rep.OK || rep.ChunksOK != im.Chunks() || last != im.Size() {
				t.Fatalf("verify: %+v (progress %d)", rep, last)
			}
			md := md5.Sum(data)
			if rep.Hashes[0].Algorithm != "md5" || !rep.Hashes[0].Match || rep.Hashes[0].Stored != hex.EncodeToString(md[:]) {
				t.Fatalf("md5: %+v, media md5 %x", rep.Hashes[0], md)
			}
			if in.StoredMD5 != hex.EncodeToString(md[:]) {
				t.Errorf("Info stored md5 %s", in.StoredMD5)
			}
			if rep.Hashes[1].Stored != "" || rep.Hashes[1].Match {
				t.Errorf("sha1: %+v (ewfacquire's encase6 stores none)", rep.Hashes[1])
			}
			// Acquisition notes from header2.
			if in.Notes.CaseNumber != "fixtures" || in.Notes.Examiner != "fixtures" || in.Notes.Notes != "containers" || in.Notes.Acquired == "" {
				t.Errorf("notes: %+v", in.Notes)
			}
			if want := strings.ReplaceAll(c.Name, "-split", ""); !strings.HasPrefix(in.Notes.EvidenceNumber, strings.TrimSuffix(want, "-m1")) {
				t.Errorf("evidence number %q", in.Notes.EvidenceNumber)
			}
			if in.ChunkSize != 32768 || in.BytesPerSector != 512 || in.Sectors != uint64(c.RawSize/512) {
				t.Errorf("info: %+v", in)
			}
			t.Logf("%s: %d segments, %d chunks, compression %s, acquired %s, md5 %s", c.Name, len(in.Segments), in.Chunks, in.Compression, in.Notes.Acquired, in.StoredMD5)
		})
	}
	if n < 3 {
		t.Fatalf("%d EWF containers in the manifest", n)
	}
}

func mustOpen(t testing.TB, fs afero.Fs, name string) afero.File {
	f, err := fs.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func sha256sum(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}

func TestFields(t *testing.T) {
	fs, first, _ := fixtureFs(t, "banana")
	im, err := Open(fs, first)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	st := im.Fields()
	var vol, hdr bool
	for _, s := range st {
		for _, f := range s.Fields {
			if f.Check != nil && !f.Check.OK {
				t.Errorf("%s %s: check failed %+v", s.Name, f.Name, f.Check)
			}
			if f.Off < s.Off || f.Off+int64(f.Len) > s.Off+int64(s.Len) {
				t.Errorf("%s %s [%d,+%d) outside the structure [%d,+%d)", s.Name, f.Name, f.Off, f.Len, s.Off, s.Len)
			}
		}
		if strings.HasSuffix(s.Name, "volume\" section data") || strings.Contains(s.Name, "volume section data") {
			vol = true
			for _, f := range s.Fields {
				if f.Name == "number_of_chunks" && f.Value != "448" {
					t.Errorf("number_of_chunks %s", f.Value)
				}
				if f.Name == "number_of_chunks" && f.Off != 754+76+4 {
					t.Errorf("number_of_chunks at %d", f.Off)
				}
			}
		}
		if s.Name == "banana.E01: file header" {
			hdr = true
		}
	}
	var tbl bool
	for _, s := range st {
		if s.Name == "banana.E01: table section data" {
			tbl = true
			if s.Fields[0].Value != "448" || s.Fields[2].Value != "1882" {
				t.Errorf("table: %+v", s.Fields)
			}
		}
	}
	if !vol || !hdr || !tbl {
		t.Fatalf("structures: volume %v, header %v: %v", vol, hdr, st)
	}
}

func TestSegmentNames(t *testing.T) {
	for _, c := range []struct {
		first string
		n     int
		want  string
	}{
		{"a/x.E01", 1, "a/x.E01"}, {"a/x.E01", 2, "a/x.E02"}, {"x.E01", 99, "x.E99"},
		{"x.E01", 100, "x.EAA"}, {"x.E01", 101, "x.EAB"}, {"x.E01", 126, "x.EBA"},
		{"x.E01", 100 + 676, "x.FAA"}, {"x.E01", 100 + 676*22 - 1, "x.ZZZ"},
		{"x.e01", 100, "x.eaa"}, {"x.s01", 2, "x.s02"}, {"x.s01", 100, "x.saa"}, {"x.s01", 101 + 676, "x.tab"},
	} {
		got, err := segmentName(c.first, c.n)
		if err != nil || got != c.want {
			t.Errorf("segmentName(%s, %d) = %s, %v; want %s", c.first, c.n, got, err, c.want)
		}
	}
	if _, err := segmentName("x.E01", 100+676*22); err == nil {
		t.Error("past ZZZ accepted")
	}
	if _, err := segmentName("x.raw", 2); err == nil {
		t.Error(".raw accepted")
	}
}

func TestMissingSegment(t *testing.T) {
	fs, first, names := fixtureFs(t, "banana-split")
	if err := fs.Remove(names[2]); err != nil {
		t.Fatal(err)
	}
	_, err := Open(fs, first)
	var me *MissingSegmentError
	if !errors.As(err, &me) || me.Number != 3 || !strings.Contains(err.Error(), "banana-split.E03") {
		t.Fatalf("err = %v", err)
	}
	t.Log(err)
}

// corrupt flips a byte of a file in fs.
func corrupt(t *testing.T, fs afero.Fs, name string, off int64) {
	t.Helper()
	b, err := afero.ReadFile(fs, name)
	if err != nil {
		t.Fatal(err)
	}
	b[off] ^= 0x5a
	if err := afero.WriteFile(fs, name, b, 0o444); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptChunks(t *testing.T) {
	for _, c := range []struct {
		name, file string
		chunk      int64
		sectors    int64 // of the segment file, where its sectors section's data starts
		entry      int64 // table entry offset of the chunk (relative to the sectors section)
		kind       string
	}{
		// banana.E01 chunk 0: compressed, at 1882+0x4c.
		{"banana", "/banana.E01", 0, 1882, 0x4c, "compressed"},
		// banana-split.E01 chunk 0: stored, at 1882+0x4c, 32768+4 bytes.
		{"banana-split", "/banana-split.E01", 0, 1882, 0x4c, "uncompressed"},
	} {
		t.Run(c.kind, func(t *testing.T) {
			fs, first, _ := fixtureFs(t, c.name)
			at := c.sectors + c.entry + 40
			corrupt(t, fs, c.file, at)
			im, err := Open(fs, first)
			if err != nil {
				t.Fatal(err)
			}
			defer im.Close()
			im.EnableReadAhead(2, 8)
			big := make([]byte, 1<<20)
			if _, err := im.ReadAt(big, 0); !errors.Is(err, device.ErrUnreadable) {
				t.Fatalf("ReadAt with read-ahead: %v", err)
			}
			buf := make([]byte, 4096)
			_, err = im.ReadAt(buf, c.chunk*im.ChunkSize()+100)
			var ue *device.UnreadableError
			if !errors.As(err, &ue) || !errors.Is(err, device.ErrUnreadable) {
				t.Fatalf("ReadAt: %v", err)
			}
			wantAt := c.sectors + c.entry
			for _, w := range []string{"chunk 0 ", "byte " + itoa(wantAt), filepath.Base(c.file), c.kind, "stored", "computed"} {
				if c.kind == "compressed" && (w == "stored" || w == "computed") {
					continue // a damaged deflate stream may fail before its checksum
				}
				if !strings.Contains(ue.Why, w) {
					t.Errorf("error %q lacks %q", ue.Why, w)
				}
			}
			if ue.Off != 0 || ue.Len != im.ChunkSize() {
				t.Errorf("range [%d,+%d)", ue.Off, ue.Len)
			}
			t.Log(err)
			// The next chunk reads.
			if _, err := im.ReadAt(buf, im.ChunkSize()); err != nil {
				t.Fatal(err)
			}
			rep, err := im.Verify(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK || rep.BadChunkCount != 1 || rep.BadChunks[0].Chunk != 0 || rep.Hashes[0].Match {
				t.Fatalf("verify: %+v", rep)
			}
		})
	}
}

func itoa(n int64) string { return strings.TrimSpace(strings.Repeat(" ", 0) + jsonNum(n)) }

func jsonNum(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestCorruptSectionChecksum(t *testing.T) {
	fs, first, names := fixtureFs(t, "banana-split")
	// The padding of the table section descriptor of segment 2.
	corrupt(t, fs, names[1], 1017149+40)
	_, err := Open(fs, first)
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Off != 1017149 || !strings.Contains(err.Error(), "adler32") || !strings.Contains(err.Error(), "banana-split.E02") {
		t.Fatalf("err = %v", err)
	}
	t.Log(err)
}

func TestCorruptTableUsesTable2(t *testing.T) {
	fs, first, _ := fixtureFs(t, "banana")
	corrupt(t, fs, "/banana.E01", 171587+76+24+8) // an entry of table
	im, err := Open(fs, first)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	if w := im.Info().Warnings; len(w) != 1 || !strings.Contains(w[0], "table2") {
		t.Errorf("warnings %v", w)
	}
	rep, err := im.Verify(context.Background(), nil)
	if err != nil || !rep.OK {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}

func TestCorruptTables(t *testing.T) {
	fs, first, _ := fixtureFs(t, "banana")
	corrupt(t, fs, "/banana.E01", 171587+76+24+8)
	corrupt(t, fs, "/banana.E01", 173483+76+24+8)
	im, err := Open(fs, first)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	ext, err := im.Map(0, im.Size())
	if err != nil || len(ext) != 1 || ext[0].Kind != device.Unreadable || !strings.Contains(ext[0].Why, "damaged table") {
		t.Fatalf("Map: %+v %v", ext, err)
	}
	_, err = im.ReadAt(make([]byte, 10), 5<<20)
	if !errors.Is(err, device.ErrUnreadable) || !strings.Contains(err.Error(), "entries adler32 stored") {
		t.Fatalf("ReadAt: %v", err)
	}
	t.Log(err)
}

func TestCorruptVolumeChecksum(t *testing.T) {
	fs, first, _ := fixtureFs(t, "md-raid1-m1")
	corrupt(t, fs, "/md-raid1-m1.E01", 754+76+100)
	_, err := Open(fs, first)
	if err == nil || !strings.Contains(err.Error(), "volume section: adler32") {
		t.Fatalf("err = %v", err)
	}
}

func TestEx01Refused(t *testing.T) {
	for _, sig := range []string{"EVF2\r\n\x81\x00", "LEF2\r\n\x81\x00", "LVF\x09\x0d\x0a\xff\x00"} {
		fs := afero.NewMemMapFs()
		b := append([]byte(sig), make([]byte, 200)...)
		afero.WriteFile(fs, "/x.Ex01", b, 0o444)
		if !Probe(bytes.NewReader(b), int64(len(b))) {
			t.Errorf("Probe(%q) false", sig)
		}
		_, err := Open(fs, "/x.Ex01")
		var ue *UnsupportedError
		if !errors.As(err, &ue) {
			t.Fatalf("%q: err = %v", sig, err)
		}
		t.Log(err)
	}
	if Probe(bytes.NewReader([]byte("EVF\x09\x0d\x0a\xfe\x00")), 8) || Probe(bytes.NewReader(nil), 0) {
		t.Error("Probe accepts a non-EWF")
	}
	fs := afero.NewMemMapFs()
	afero.WriteFile(fs, "/x.E01", make([]byte, 100), 0o444)
	if _, err := Open(fs, "/x.E01"); !errors.Is(err, ErrNotEWF) {
		t.Errorf("zeros: %v", err)
	}
}

func TestSegmentCase(t *testing.T) {
	fs, first, names := fixtureFs(t, "banana-split")
	if err := fs.Rename(names[3], strings.TrimSuffix(names[3], "E04")+"e04"); err != nil {
		t.Fatal(err)
	}
	im, err := Open(fs, first)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	if got := im.Info().Segments[3]; got != "/banana-split.e04" {
		t.Fatalf("segment 4: %s", got)
	}
	if _, err := im.Verify(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
}

func TestWrongFirstSegment(t *testing.T) {
	fs, _, names := fixtureFs(t, "banana-split")
	_, err := Open(fs, names[1])
	if err == nil || !strings.Contains(err.Error(), "segment number 2") {
		t.Fatalf("err = %v", err)
	}
}

// TestSynthetic covers what the fixtures do not: uncompressed chunks with
// a short last chunk, an error2 section, a digest section with MD5 and
// SHA-1.
func TestSynthetic(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	media := make([]byte, 512*(64*5+7))
	for i := range media {
		if i%3 == 0 {
			media[i] = byte(r.Uint32())
		}
	}
	m5, s1 := md5.Sum(media), sha1.Sum(media)
	img := synth{media: media, compress: func(i int) bool { return i%2 == 0 }, errs: [][2]uint32{{70, 3}, {300, 2}}, md5: m5[:], sha1: s1[:]}.build()
	fs := afero.NewMemMapFs()
	afero.WriteFile(fs, "/s.E01", img, 0o444)
	im, err := Open(fs, "/s.E01")
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	if im.Size() != int64(len(media)) || im.Chunks() != 6 {
		t.Fatalf("size %d chunks %d", im.Size(), im.Chunks())
	}
	ext, _ := im.Map(0, im.Size())
	want := []device.Extent{{Off: 0, Len: 70 * 512, Kind: device.Data}, {Off: 70 * 512, Len: 3 * 512, Kind: device.Unreadable}, {Off: 73 * 512, Len: (300 - 73) * 512, Kind: device.Data}, {Off: 300 * 512, Len: 2 * 512, Kind: device.Unreadable}, {Off: 302 * 512, Len: int64(len(media)) - 302*512, Kind: device.Data}}
	if len(ext) != len(want) {
		t.Fatalf("Map: %+v", ext)
	}
	for i := range want {
		if ext[i].Off != want[i].Off || ext[i].Len != want[i].Len || ext[i].Kind != want[i].Kind {
			t.Fatalf("Map: %+v", ext)
		}
	}
	buf := make([]byte, 512)
	if _, err := im.ReadAt(buf, 71*512); !errors.Is(err, device.ErrUnreadable) || !strings.Contains(err.Error(), "acquisition error: sectors 70 to 72") {
		t.Fatalf("ReadAt in an error range: %v", err)
	}
	big := make([]byte, 10*512)
	n, err := im.ReadAt(big, 65*512)
	if !errors.Is(err, device.ErrUnreadable) || n != 5*512 || !bytes.Equal(big[:n], media[65*512:70*512]) {
		t.Fatalf("ReadAt across an error range: %d %v", n, err)
	}
	// Around the error ranges the bytes are the media's.
	for _, r := range [][2]int64{{0, 70 * 512}, {73 * 512, 300 * 512}, {302 * 512, int64(len(media))}} {
		b := make([]byte, r[1]-r[0])
		if n, err := im.ReadAt(b, r[0]); (err != nil && err != io.EOF) || !bytes.Equal(b[:n], media[r[0]:r[1]]) || n != len(b) {
			t.Fatalf("ReadAt [%d,%d): %d %v", r[0], r[1], n, err)
		}
	}
	// Past the end.
	if n, err := im.ReadAt(buf, im.Size()-100); n != 100 || err != io.EOF {
		t.Fatalf("ReadAt at the end: %d %v", n, err)
	}
	rep, err := im.Verify(context.Background(), nil)
	if err != nil || !rep.OK || len(rep.AcquisitionErrors) != 2 || !rep.Hashes[0].Match || !rep.Hashes[1].Match {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	in := im.Info()
	if in.Notes.CaseNumber != "case-7" || in.Notes.Description != "synthetic disk" || in.StoredSHA1 != hex.EncodeToString(s1[:]) {
		t.Fatalf("info %+v", in)
	}
	// The last chunk (7 sectors, stored uncompressed) corrupted.
	img2 := append([]byte(nil), img...)
	lastChunk := bytes.LastIndex(img2, media[len(media)-600:len(media)-500])
	img2[lastChunk] ^= 1
	afero.WriteFile(fs, "/t.E01", img2, 0o444)
	im2, err := Open(fs, "/t.E01")
	if err != nil {
		t.Fatal(err)
	}
	defer im2.Close()
	if _, err := im2.ReadAt(buf, im.Size()-512); !errors.Is(err, device.ErrUnreadable) || !strings.Contains(err.Error(), "chunk 5 ") || !strings.Contains(err.Error(), "uncompressed chunk: adler32 stored") {
		t.Fatalf("last chunk: %v", err)
	}
}

func TestReadChunksStops(t *testing.T) {
	fs, first, _ := fixtureFs(t, "banana")
	im, err := Open(fs, first)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	stop := errors.New("stop")
	n := 0
	err = im.ReadChunks(context.Background(), 0, im.Chunks(), 4, func(i int64, data []byte, err error) error {
		if i != int64(n) || err != nil {
			t.Fatalf("chunk %d at %d: %v", i, n, err)
		}
		n++
		if n == 10 {
			return stop
		}
		return nil
	})
	if err != stop || n != 10 {
		t.Fatalf("%v after %d", err, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := im.ReadChunks(ctx, 0, im.Chunks(), 2, func(int64, []byte, error) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	// A sequential reader closed early.
	sr := im.NewSequentialReader(context.Background(), 0, 2)
	io.CopyN(io.Discard, sr, 100000)
	sr.Close()
}

func TestConcurrentReadAt(t *testing.T) {
	fs, first, _ := fixtureFs(t, "md-raid1-m1")
	im, err := Open(fs, first)
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	whole := readAllAt(t, im, 1<<20)
	im.EnableReadAhead(3, 0)
	done := make(chan error)
	for g := range 8 {
		go func() {
			r := rand.New(rand.NewPCG(uint64(g), 9))
			buf := make([]byte, 70000)
			for range 200 {
				off := r.Int64N(im.Size())
				n, err := im.ReadAt(buf, off)
				if err != nil && err != io.EOF {
					done <- err
					return
				}
				if !bytes.Equal(buf[:n], whole[off:off+int64(n)]) {
					done <- errors.New("mismatch at " + itoa(off))
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

var _ = binary.LittleEndian
