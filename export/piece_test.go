package export

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/lvminspect/lvminspect/model"
)

func TestPieceSourceRuns(t *testing.T) {
	pvs := map[string]PVReader{
		"A": {R: bytes.NewReader(make([]byte, 1000)), Size: 1000, Name: "a.img"},
		"B": {R: bytes.NewReader(make([]byte, 300)), Size: 300, Name: "b.img"},
	}
	pieces := []model.Piece{
		{LVOffset: 500, Length: 100, PVUUID: "C", PVOffset: 0},   // PV not given
		{LVOffset: 0, Length: 200, PVUUID: "A", PVOffset: 100},   // given out of order
		{LVOffset: 200, Length: 100, PVUUID: "A", PVOffset: 300}, // same PV: merged run
		{LVOffset: 300, Length: 100, PVUUID: "B", PVOffset: 250}, // B ends at 300
		// 400..500: no piece
	}
	s := NewPieceSource(600, pieces, pvs)
	runs, err := s.Runs(0, 600)
	if err != nil {
		t.Fatal(err)
	}
	want := []RunKind{RunData, RunData, RunMissing, RunMissing, RunMissing}
	wantOff := []int64{0, 300, 350, 400, 500}
	var kinds []RunKind
	var offs []int64
	for _, r := range runs {
		kinds, offs = append(kinds, r.Kind), append(offs, r.Off)
	}
	if !reflect.DeepEqual(kinds, want) || !reflect.DeepEqual(offs, wantOff) {
		t.Fatalf("runs %+v", runs)
	}
	if err := checkRuns(runs, 0, 600); err != nil {
		t.Fatal(err)
	}
	if runs[0].Source != "A" || runs[1].Source != "B" || runs[2].Source != "B" || runs[4].Source != "C" {
		t.Errorf("sources %+v", runs)
	}
	for _, r := range runs[2:] {
		if r.Reason == "" {
			t.Errorf("missing run without reason: %+v", r)
		}
	}
	// A sub-range in the middle of a piece.
	runs, err = s.Runs(150, 100)
	if err != nil || len(runs) != 1 || runs[0] != (Run{Off: 150, Len: 100, Kind: RunData, Source: "A"}) {
		t.Errorf("Runs(150, 100) = %+v, %v", runs, err)
	}
	if _, err := s.Runs(500, 101); err == nil {
		t.Error("range beyond the LV accepted")
	}
}

// A striped LV over two PVs exports as the interleaved stripes.
func TestPieceSourceStriped(t *testing.T) {
	const stripe = 64 << 10
	const stripes = 40
	a, b := randomData(stripes*stripe, 20), randomData(stripes*stripe, 21)
	pvs := map[string]PVReader{
		"A": {R: bytes.NewReader(a), Size: int64(len(a)), Name: "a"},
		"B": {R: bytes.NewReader(b), Size: int64(len(b)), Name: "b"},
	}
	var pieces []model.Piece
	var want []byte
	lv := int64(0)
	for i := range int64(stripes) {
		pieces = append(pieces,
			model.Piece{LVOffset: lv, Length: stripe, PVUUID: "A", PVOffset: i * stripe},
			model.Piece{LVOffset: lv + stripe, Length: stripe, PVUUID: "B", PVOffset: i * stripe})
		want = append(want, a[i*stripe:(i+1)*stripe]...)
		want = append(want, b[i*stripe:(i+1)*stripe]...)
		lv += 2 * stripe
	}
	s := NewPieceSource(lv, pieces, pvs)
	_, path := outPath(t)
	res, err := Export(context.Background(), s, Options{Output: path, Sparse: true, ChunkSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if res.SHA256 != sha(want) || fileSHA(t, path) != sha(want) {
		t.Error("striped export hashes wrong")
	}
	if res.BytesRead["A"] != int64(len(a)) || res.BytesRead["B"] != int64(len(b)) {
		t.Errorf("bytes read %v", res.BytesRead)
	}
	got := make([]byte, 3*stripe)
	if n, err := s.ReadAt(got, stripe/2); err != nil || n != len(got) || !bytes.Equal(got, want[stripe/2:stripe/2+3*stripe]) {
		t.Errorf("ReadAt across pieces: %d, %v", n, err)
	}
}

func TestPieceSourceTruncatedPV(t *testing.T) {
	a := randomData(1<<20, 22)
	pvs := map[string]PVReader{"A": {R: bytes.NewReader(a[:700<<10]), Size: 700 << 10, Name: "short.img"}}
	s := NewPieceSource(1<<20, []model.Piece{{LVOffset: 0, Length: 1 << 20, PVUUID: "A"}}, pvs)
	_, path := outPath(t)
	_, err := Export(context.Background(), s, Options{Output: path})
	me, ok := err.(*MissingError)
	if !ok || len(me.Ranges) != 1 || me.Ranges[0].Off != 700<<10 || me.Ranges[0].Len != 324<<10 {
		t.Fatalf("error %v", err)
	}
	if !bytes.Contains([]byte(err.Error()), []byte("short.img")) {
		t.Errorf("message %q does not name the input", err)
	}
	res, err := Export(context.Background(), s, Options{Output: path, AllowPartial: true, Sparse: true})
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Clone(a)
	clear(want[700<<10:])
	if res.SHA256 != sha(want) || res.BytesRead["A"] != 700<<10 {
		t.Errorf("sha %s bytes read %v", res.SHA256, res.BytesRead)
	}
}

// errReaderAt fails every read.
type errReaderAt struct{}

func (errReaderAt) ReadAt(p []byte, off int64) (int, error) { return 0, syscall.EIO }

func TestPieceSourceReadError(t *testing.T) {
	pvs := map[string]PVReader{"A": {R: errReaderAt{}, Size: 2 << 20, Name: "/dev/bad"}}
	s := NewPieceSource(1<<20, []model.Piece{{LVOffset: 0, Length: 1 << 20, PVUUID: "A", PVOffset: 4096}}, pvs)
	dir, path := outPath(t)
	_, err := Export(context.Background(), s, Options{Output: path})
	var re *ReadError
	if !errors.As(err, &re) || re.Source != "A" || re.Off != 0 || !errors.Is(err, syscall.EIO) {
		t.Fatalf("error %v", err)
	}
	for _, w := range []string{"/dev/bad", "4096", "LV byte 0"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("message %q lacks %q", err, w)
		}
	}
	assertNoOutput(t, dir, path)

	res, err := Export(context.Background(), s, Options{Output: path, AllowPartial: true, Sparse: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.SHA256 != sha(make([]byte, 1<<20)) || len(res.Missing) != 16 || res.BytesRead["A"] != 0 {
		t.Errorf("sha %s, %d missing ranges, bytes read %v", res.SHA256, len(res.Missing), res.BytesRead)
	}
}

// TestPieceSourceMissingPVNamed checks that bytes on a PV no input holds
// say which PV, as the VG names it, and where it was last seen.
func TestPieceSourceMissingPVNamed(t *testing.T) {
	pieces := []model.Piece{{LVOffset: 0, Length: 4096, PVUUID: "j1Z3qo-4rQ2", PVLabel: "pv1", PVDevice: "/dev/vdb"}}
	s := NewPieceSource(4096, pieces, map[string]PVReader{})
	runs, err := s.Runs(0, 4096)
	if err != nil {
		t.Fatal(err)
	}
	want := "PV pv1 (j1Z3qo-4rQ2, last seen as /dev/vdb) is missing: no input holds it"
	if len(runs) != 1 || runs[0].Kind != RunMissing || runs[0].Reason != want {
		t.Errorf("runs %+v, want one missing run with reason %q", runs, want)
	}
	if _, err := s.ReadAt(make([]byte, 512), 0); err == nil || !strings.Contains(err.Error(), "PV "+pieces[0].PVRef()) {
		t.Errorf("ReadAt: %v", err)
	}
	_, path := outPath(t)
	_, err = Export(context.Background(), s, Options{Output: path})
	if err == nil || !strings.Contains(err.Error(), "4.00 KiB of the LV have no source, in 1 range") {
		t.Errorf("Export: %v", err)
	}
}
