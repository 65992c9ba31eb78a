package export

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/spf13/afero"
)

func TestExportAfero(t *testing.T) {
	mem := afero.NewMemMapFs()
	src := &patchSource{size: 6<<20 + 100, zeroRuns: true, patches: []patch{{off: 3 << 20, data: randomData(5000, 60)}}}
	opt := Options{Output: "/out/vg/lv.img", Sparse: true, FS: AferoFS{Fs: mem}, ChunkSize: 1 << 20}
	res, err := Export(context.Background(), src, opt)
	if err != nil {
		t.Fatal(err)
	}
	b, err := afero.ReadFile(mem, "/out/vg/lv.img")
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	if got := hex.EncodeToString(s[:]); got != src.sum() || res.SHA256 != got || int64(len(b)) != src.size {
		t.Errorf("file sha256 %s (%d bytes), result %s, want %s", got, len(b), res.SHA256, src.sum())
	}
	ents, _ := afero.ReadDir(mem, "/out/vg")
	if len(ents) != 1 {
		t.Errorf("directory holds %d entries", len(ents))
	}
	_, err = Export(context.Background(), src, opt)
	var ee *ExistsError
	if !errors.As(err, &ee) {
		t.Errorf("second export: %v, want *ExistsError", err)
	}
}
