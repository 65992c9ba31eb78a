package thin

import (
	"errors"
	"testing"

	"github.com/lvminspect/lvminspect/export"
)

// TestDataLVShorterThanMappings shrinks the pool's data LV in the VG
// metadata to 8 MiB (128 of the pool's 256 blocks): blocks the metadata
// maps past its end become RunMissing with a reason, ReadAt on them
// fails, and PoolInfo warns.
func TestDataLVShorterThanMappings(t *testing.T) {
	tf := loadThin(t)
	r := tf.resolver(nil)
	r.VG.LV("pool_tdata").Segments[0].ExtentCount = uint64((8 << 20) / r.VG.ExtentBytes())
	src := openThin(t, r, "vol1snap")
	runs, err := src.Runs(0, src.Size())
	if err != nil {
		t.Fatal(err)
	}
	// vol1snap's own blocks at 20-21 MiB are data blocks 152-167.
	var missing int64
	for _, run := range runs {
		if run.Kind == export.RunMissing {
			missing += run.Len
			if run.Reason == "" || run.Off < 20<<20 || run.End() > 21<<20 {
				t.Errorf("missing run %+v", run)
			}
		}
	}
	if missing != 1<<20 {
		t.Errorf("%d missing bytes, want 1 MiB; runs %v", missing, runs)
	}
	if _, err := src.ReadAt(make([]byte, 4096), 20<<20); err == nil {
		t.Error("ReadAt past the data LV's end succeeded")
	}
	info, err := PoolInfo(r, "pool")
	if err != nil {
		t.Fatal(err)
	}
	if !hasProblem(info, ProblemDataSize) {
		t.Errorf("problems %+v", info.Problems)
	}
}

// TestMetadataPVMissing opens a thin LV without its PV: the metadata
// cannot be read and the error says which block.
func TestMetadataPVMissing(t *testing.T) {
	tf := loadThin(t)
	r := tf.resolver(nil)
	for k := range r.PVs {
		delete(r.PVs, k)
	}
	_, err := r.Open("vol1")
	var re *ReadError
	if !errors.As(err, &re) || re.Block != 0 {
		t.Errorf("error %v, want a *ReadError for block 0", err)
	}
	if IsDamage(err) {
		t.Errorf("a missing PV reported as metadata damage: %v", err)
	}
}
