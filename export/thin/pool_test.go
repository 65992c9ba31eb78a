package thin

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/lvminspect/lvminspect/export"
)

func TestPoolInfoFixture(t *testing.T) {
	tf := loadThin(t)
	r := tf.resolver(nil)
	info, err := PoolInfo(r, "pool")
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Problems) != 0 {
		t.Errorf("problems on a clean pool: %+v", info.Problems)
	}
	sb := info.Superblock
	if sb == nil || sb.TransactionID != info.TransactionID || uint64(sb.DataBlockSize) != info.ChunkSize {
		t.Fatalf("superblock %+v vs VG transaction %d chunk %d", sb, info.TransactionID, info.ChunkSize)
	}
	// The pool's data LV is 16 MiB of 64 KiB blocks.
	if sb.DataSpaceMap.NrBlocks != 256 {
		t.Errorf("data space map nr_blocks %d, want 256", sb.DataSpaceMap.NrBlocks)
	}
	byLV := map[string]Device{}
	for _, d := range info.Devices {
		if len(d.LVs) != 1 || d.Details == nil || !d.InMappingTree {
			t.Errorf("device %+v: want one LV, details and a mapping tree", d)
			continue
		}
		byLV[d.LVs[0]] = d
	}
	// Mapped blocks from the stamps: vol1 4 MiB + 2 MiB, vol2 2 MiB, the
	// snapshot vol1's 6 MiB plus its own 1 MiB (64 KiB blocks).
	for lv, want := range map[string]uint64{"vol1": 96, "vol2": 32, "vol1snap": 112} {
		d, ok := byLV[lv]
		if !ok {
			t.Errorf("no device for %s", lv)
			continue
		}
		if d.Mapped != want || d.Details.MappedBlocks != want {
			t.Errorf("%s: mapped %d (details %d), want %d", lv, d.Mapped, d.Details.MappedBlocks, want)
		}
		if id := r.VG.LV(lv).Segments[0].Thin.DeviceID; id != d.ID {
			t.Errorf("%s: device %d, VG metadata says %d", lv, d.ID, id)
		}
	}
}

func hasProblem(info *Pool, code string) bool {
	for _, p := range info.Problems {
		if p.Code == code {
			return true
		}
	}
	return false
}

// TestPoolInfoTransactionMismatch changes the transaction id on either
// side and expects the mismatch to be reported.
func TestPoolInfoTransactionMismatch(t *testing.T) {
	tf := loadThin(t)
	// VG metadata ahead of the kernel.
	r := tf.resolver(nil)
	r.VG.LV("pool").Segments[0].ThinPool.TransactionID++
	info, err := PoolInfo(r, "pool")
	if err != nil {
		t.Fatal(err)
	}
	if !hasProblem(info, ProblemTransactionMismatch) {
		t.Errorf("no transaction mismatch reported: %+v", info.Problems)
	}
	// Kernel ahead of the VG metadata: edit the superblock.
	e := newEditor(t, tf.tmeta)
	e.put64(0, 48, e.sb().TransactionID+5)
	e.seal(0, saltSuperblock)
	info, err = PoolInfo(tf.resolver(e.b), "pool")
	if err != nil {
		t.Fatal(err)
	}
	if !hasProblem(info, ProblemTransactionMismatch) || !strings.Contains(info.Problems[0].Message, "does not record") {
		t.Errorf("problems %+v", info.Problems)
	}
}

// TestPoolInfoOrphanAndMissing renumbers a thin LV in the VG metadata: its
// old device becomes an orphan, the new id is missing, and opening the LV
// fails with ErrNoDevice.
func TestPoolInfoOrphanAndMissing(t *testing.T) {
	tf := loadThin(t)
	r := tf.resolver(nil)
	r.VG.LV("vol2").Segments[0].Thin.DeviceID = 77
	info, err := PoolInfo(r, "pool")
	if err != nil {
		t.Fatal(err)
	}
	if !hasProblem(info, ProblemOrphanDevice) || !hasProblem(info, ProblemDeviceMissing) {
		t.Errorf("problems %+v", info.Problems)
	}
	if _, err := r.Open("vol2"); !errorsIs(err, ErrNoDevice) {
		t.Errorf("open renumbered vol2: %v, want ErrNoDevice", err)
	}
}

// TestPoolInfoDamagedDevice reports a device whose tree is damaged and
// still lists the others.
func TestPoolInfoDamagedDevice(t *testing.T) {
	tf := loadThin(t)
	e := newEditor(t, tf.tmeta)
	_, _, root := e.topEntry(2)
	e.block(root)[100] ^= 0x40
	info, err := PoolInfo(tf.resolver(e.b), "pool")
	if err != nil {
		t.Fatal(err)
	}
	if !hasProblem(info, ProblemDamagedTree) {
		t.Errorf("problems %+v", info.Problems)
	}
	for _, d := range info.Devices {
		if (d.ID == 2) != (d.Err != "") {
			t.Errorf("device %d: err %q", d.ID, d.Err)
		}
	}
}

// TestExternalOrigin gives vol2 the external origin vol1: its unprovisioned
// blocks must read from vol1, its provisioned ones from the pool.
func TestExternalOrigin(t *testing.T) {
	tf := loadThin(t)
	r := tf.resolver(nil)
	read := func(name string) []byte {
		src, err := r.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, src.Size())
		if n, err := src.ReadAt(b, 0); n != len(b) {
			t.Fatalf("%s: %d, %v", name, n, err)
		}
		return b
	}
	vol1, vol2 := read("vol1"), read("vol2")
	want := append([]byte(nil), vol1[:len(vol2)]...)
	copy(want[8<<20:10<<20], vol2[8<<20:10<<20]) // vol2's only written blocks
	r.VG.LV("vol2").Segments[0].Thin.ExternalOrigin = "vol1"
	src, err := r.Open("vol2")
	if err != nil {
		t.Fatal(err)
	}
	sum, runs := hashSource(t, src)
	ws := sha256.Sum256(want)
	if sum != hex.EncodeToString(ws[:]) {
		t.Errorf("vol2 over vol1: sha256 %s, want %x", sum, ws)
	}
	got := read("vol2")
	if !bytes.Equal(got, want) {
		t.Errorf("vol2 over vol1: ReadAt differs from the expected content")
	}
	// vol1 has unprovisioned blocks at 4-8 MiB: those stay zero runs.
	zero := false
	for _, run := range runs {
		if run.Kind == export.RunZero && run.Off == 4<<20 {
			zero = true
		}
	}
	if !zero {
		t.Errorf("runs %v: expected vol1's hole at 4 MiB as RunZero", runs)
	}
}

// TestHugeSparseLV makes vol2 1 TiB: Runs over the whole LV must be three
// runs, and walking it in export-sized windows must be fast.
func TestHugeSparseLV(t *testing.T) {
	tf := loadThin(t)
	for _, mode := range []string{"extents", "tree"} {
		t.Run(mode, func(t *testing.T) {
			if mode == "tree" {
				old := maxExtents
				maxExtents = 0
				defer func() { maxExtents = old }()
			}
			r := tf.resolver(nil)
			const tib = int64(1) << 40
			r.VG.LV("vol2").Segments[0].ExtentCount = uint64(tib / r.VG.ExtentBytes())
			src, err := r.Open("vol2")
			if err != nil {
				t.Fatal(err)
			}
			if src.Size() != tib {
				t.Fatalf("size %d", src.Size())
			}
			runs, err := src.Runs(0, tib)
			if err != nil {
				t.Fatal(err)
			}
			want := []export.Run{{Off: 0, Len: 8 << 20, Kind: export.RunZero}, {Off: 8 << 20, Len: 2 << 20, Kind: export.RunData},
				{Off: 10 << 20, Len: tib - 10<<20, Kind: export.RunZero}}
			if len(runs) != 3 {
				t.Fatalf("runs %v, want %v", runs, want)
			}
			for i := range runs {
				if runs[i].Off != want[i].Off || runs[i].Len != want[i].Len || runs[i].Kind != want[i].Kind {
					t.Errorf("run %d: %+v, want %+v", i, runs[i], want[i])
				}
			}
			start := time.Now()
			const win = 4 << 20
			for off := int64(0); off < tib; off += win {
				if _, err := src.Runs(off, win); err != nil {
					t.Fatal(err)
				}
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("%d Runs calls over 1 TiB took %v", tib/win, d)
			}
		})
	}
}
