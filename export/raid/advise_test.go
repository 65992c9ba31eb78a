package raid

import (
	"bytes"
	"fmt"
	"math"
	"testing"

	"github.com/lvminspect/lvminspect/export"
	"github.com/lvminspect/lvminspect/scan/device"
)

// hinted is a member device that records the readahead hints it gets.
type hinted struct {
	device.Reader
	will, seq []string
}

func (h *hinted) AdviseWillNeed(off, n int64)   { h.will = append(h.will, fmt.Sprintf("%d+%d", off, n)) }
func (h *hinted) AdviseSequential(off, n int64) { h.seq = append(h.seq, fmt.Sprintf("%d+%d", off, n)) }

// The hints on an md raid5 reach each member as the stripe rows of the
// range asked, from the member's data offset; raid1 asks its first leg.
func TestMDAdvise(t *testing.T) {
	const cb, dataOff = 64 << 10, 1 << 20
	mk := func(n int) ([]*hinted, []MDMember) {
		var hs []*hinted
		var ms []MDMember
		for i := range n {
			h := &hinted{Reader: device.Reader{R: bytes.NewReader(make([]byte, dataOff+16*cb)), N: dataOff + 16*cb}}
			hs = append(hs, h)
			ms = append(ms, MDMember{Name: fmt.Sprint("m", i), Src: export.NewDeviceSource(h, fmt.Sprint("m", i)),
				DataOffset: dataOff, DataSize: 16 * cb})
		}
		return hs, ms
	}
	hs, ms := mk(3)
	src, err := OpenMD(MDArray{Name: "t", Level: 5, Layout: 2, ChunkBytes: cb, Size: 16 * cb, Roles: ms, ResyncFrom: math.MaxInt64})
	if err != nil {
		t.Fatal(err)
	}
	a, ok := src.(device.Advisor)
	if !ok {
		t.Fatal("an md raid5 source takes no hints")
	}
	// Array bytes [3 chunks, 5 chunks): stripes 1 and 2 (2 data chunks
	// each), rows 1 and 2 of every member.
	a.AdviseWillNeed(3*cb, 2*cb)
	for i, h := range hs {
		if want := fmt.Sprintf("%d+%d", dataOff+cb, 2*cb); len(h.will) != 1 || h.will[0] != want {
			t.Errorf("member %d hints %v, want [%s]", i, h.will, want)
		}
	}
	hs, ms = mk(2)
	src, err = OpenMD(MDArray{Name: "t", Level: 1, ChunkBytes: 0, Size: 16 * cb, Roles: ms, ResyncFrom: math.MaxInt64})
	if err != nil {
		t.Fatal(err)
	}
	src.(device.Advisor).AdviseWillNeed(cb, cb)
	if want := fmt.Sprintf("%d+%d", dataOff+cb, cb); len(hs[0].will) != 1 || hs[0].will[0] != want || len(hs[1].will) != 0 {
		t.Errorf("raid1 hints %v %v, want [%s] []", hs[0].will, hs[1].will, want)
	}
}
