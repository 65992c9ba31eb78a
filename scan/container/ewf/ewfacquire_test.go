package ewf

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/afero"
)

// genMedia is a test disk: random, zero and repetitive stretches, a
// whole number of sectors but not of chunks.
func genMedia(n int) []byte {
	r := rand.New(rand.NewPCG(7, 11))
	b := make([]byte, n)
	for off := 0; off < n; {
		l := min(n-off, 4096+r.IntN(200000))
		switch r.IntN(3) {
		case 0:
			for i := range l {
				b[off+i] = byte(r.Uint32())
			}
		case 1:
		case 2:
			for i := range l {
				b[off+i] = "lvminspect reads E01 "[i%21]
			}
		}
		off += l
	}
	return b
}

// TestEwfacquire reads images that ewfacquire (ewf-tools) makes in the
// formats and compressions it writes, when it is installed.
func TestEwfacquire(t *testing.T) {
	acq, err := exec.LookPath("ewfacquire")
	if err != nil {
		t.Skip("ewfacquire not installed (apt-get install ewf-tools)")
	}
	if testing.Short() {
		t.Skip("short")
	}
	dir := t.TempDir()
	media := genMedia(7907 * 512)
	raw := filepath.Join(dir, "disk.raw")
	if err := os.WriteFile(raw, media, 0o644); err != nil {
		t.Fatal(err)
	}
	m5, s1 := md5.Sum(media), sha1.Sum(media)
	for _, c := range []struct{ format, comp, chunk, seg string }{
		{"encase6", "none", "64", "1MiB"},
		{"encase6", "fast", "64", ""},
		{"encase6", "best", "16", ""},
		{"encase6", "empty-block", "128", "1MiB"},
		{"encase5", "fast", "64", ""},
		{"encase2", "fast", "64", ""},
		{"ftk", "fast", "64", ""},
		{"smart", "fast", "64", ""},
		{"linen6", "none", "64", ""},
		{"encase7", "fast", "64", ""},
		{"ewfx", "fast", "64", ""},
	} {
		name := c.format + "-" + c.comp + "-" + c.chunk
		t.Run(name, func(t *testing.T) {
			target := filepath.Join(dir, name)
			args := []string{"-u", "-q", "-t", target, "-f", c.format, "-c", c.comp, "-b", c.chunk, "-d", "sha1", "-C", "case 42", "-e", "examiner x", "-D", "description y"}
			if c.seg != "" {
				args = append(args, "-S", c.seg)
			}
			args = append(args, raw)
			if out, err := exec.Command(acq, args...).CombinedOutput(); err != nil {
				t.Fatalf("ewfacquire %s: %v\n%s", strings.Join(args, " "), err, out)
			}
			firsts, _ := filepath.Glob(target + ".?01")
			if len(firsts) != 1 {
				t.Fatalf("first segment: %v", firsts)
			}
			im, err := Open(afero.NewOsFs(), firsts[0])
			if err != nil {
				t.Fatal(err)
			}
			defer im.Close()
			if im.Size() != int64(len(media)) {
				t.Fatalf("size %d, want %d", im.Size(), len(media))
			}
			got := readAllAt(t, im, 100000)
			if !bytes.Equal(got, media) {
				t.Fatal("media differs")
			}
			rep, err := im.Verify(context.Background(), nil)
			if err != nil || !rep.OK || rep.BadChunkCount != 0 {
				t.Fatalf("verify: %+v %v", rep, err)
			}
			in := im.Info()
			if in.StoredMD5 != hex.EncodeToString(m5[:]) || !rep.Hashes[0].Match {
				t.Errorf("md5: stored %s, %+v", in.StoredMD5, rep.Hashes[0])
			}
			if in.StoredSHA1 != "" && in.StoredSHA1 != hex.EncodeToString(s1[:]) {
				t.Errorf("sha1: stored %s", in.StoredSHA1)
			}
			if in.StoredSHA1 != "" && !rep.Hashes[1].Match {
				t.Errorf("sha1: %+v", rep.Hashes[1])
			}
			if (c.format == "encase6" || c.format == "ewfx") && in.StoredSHA1 == "" {
				t.Errorf("sha1 not found (ewfacquire -d sha1 stores it in %s)", c.format)
			}
			if in.Notes.CaseNumber != "case 42" && c.format != "smart" && c.format != "ewf" {
				t.Errorf("notes %+v", in.Notes)
			}
			t.Logf("%d segments, %d chunks of %d, compression %s, md5 %v sha1 %q, notes %q/%q", len(in.Segments), in.Chunks, in.ChunkSize, in.Compression, rep.Hashes[0].Match, in.StoredSHA1, in.Notes.CaseNumber, in.Notes.Examiner)
		})
	}
	t.Run("encase7-v2", func(t *testing.T) {
		target := filepath.Join(dir, "v2")
		if out, err := exec.Command(acq, "-u", "-q", "-t", target, "-f", "encase7-v2", raw).CombinedOutput(); err != nil {
			t.Skipf("ewfacquire -f encase7-v2: %v\n%s", err, out)
		}
		firsts, _ := filepath.Glob(target + ".?x01")
		if len(firsts) != 1 {
			t.Skip("this ewfacquire does not write EWF2 (it fell back to EWF)")
		}
		_, err := Open(afero.NewOsFs(), firsts[0])
		var ue *UnsupportedError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "Ex01") {
			t.Fatalf("err = %v", err)
		}
	})
}
