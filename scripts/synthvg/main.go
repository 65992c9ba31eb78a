// Command synthvg writes PV images of VGs too large to make with LVM in
// reasonable time (internal/synth), for scripts/bench-scale.sh and for
// timing lvminspect on metadata that claims huge sizes. Images are sparse.
//
//	go run ./scripts/synthvg -out FILE -lvs N          # one PV, N linear LVs on one extent
//	go run ./scripts/synthvg -out FILE -bench N        # bench-scale.sh's VG: N LVs of 1 MiB and target (4 MiB)
//	go run ./scripts/synthvg -out FILE -case NAME      # see -list
//	go run ./scripts/synthvg -out FILE -random MIB [-written PCT]
//	                                                   # VG bench, LV data of MIB MiB of random bytes (PCT % of it written, the rest holes)
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/lvminspect/lvminspect/internal/synth"
)

var cases = map[string]struct {
	what string
	vg   func() *synth.VG
}{
	"huge-linear": {"one linear LV of 2^36 extents of 4 MiB on a PV that claims 2^63 - 1 extents, 16 MiB on disk", func() *synth.VG {
		return &synth.VG{Name: "huge", PVs: []synth.PV{{UUID: synth.UUIDFor("pv huge", 0), PECount: 1<<63 - 1, DataBytes: 16 << 20}},
			LVs: []synth.LV{synth.LinearLV("big", 0, 0, 1<<36)}}
	}},
	"huge-striped": {"one LV of 2 stripes of 64 KiB over 2^21 extents of 4 MiB (8 TiB) on a PV of 2^30 extents, 16 MiB on disk", func() *synth.VG {
		pv := synth.PV{UUID: synth.UUIDFor("pv striped", 0), PECount: 1 << 30, DataBytes: 16 << 20}
		return &synth.VG{Name: "striped", PVs: []synth.PV{pv},
			LVs: []synth.LV{{Name: "wide", Segments: []synth.Segment{{Count: 1 << 21, StripeSize: 128, Stripes: []synth.Stripe{{PV: 0, Start: 0}, {PV: 0, Start: 1 << 29}}}}}}}
	}},
}

func main() {
	out := flag.String("out", "", "the image file to write")
	lvs := flag.Int("lvs", 0, "a VG of this many linear LVs of one extent")
	bench := flag.Int("bench", 0, "scripts/bench-scale.sh's VG: this many LVs of one 1 MiB extent each, and LV target of 4 MiB")
	name := flag.String("vg", "bench", "the VG's name (with -lvs)")
	mda := flag.Uint64("mda", 0, "the metadata area's size in bytes (0: what the text needs)")
	c := flag.String("case", "", "a named case (see -list)")
	random := flag.Int("random", 0, "a VG bench with one linear LV data of this many MiB (a multiple of 4) of random bytes")
	written := flag.Int("written", 100, "with -random: the percentage of the LV written, in 1 MiB pieces spread over it (the rest are holes)")
	list := flag.Bool("list", false, "list the cases")
	flag.Parse()
	if *list {
		var names []string
		for n := range cases {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Printf("%-14s %s\n", n, cases[n].what)
		}
		return
	}
	var vg *synth.VG
	switch {
	case *c != "":
		k, ok := cases[*c]
		if !ok {
			fail(fmt.Errorf("no case %q (see -list)", *c))
		}
		vg = k.vg()
	case *lvs > 0:
		vg = synth.ManyLinear(*name, *lvs)
	case *bench > 0:
		vg = synth.Bench(*name, *bench)
	case *random > 0:
		if *random%4 != 0 {
			fail(fmt.Errorf("-random %d: not a multiple of 4", *random))
		}
		ext := uint64(*random / 4)
		vg = &synth.VG{Name: *name, PVs: []synth.PV{{UUID: synth.UUIDFor("pv random", 0), PECount: ext}},
			LVs: []synth.LV{synth.LinearLV("data", 0, 0, ext)}}
	default:
		fail(fmt.Errorf("give -lvs N, -bench N or -case NAME"))
	}
	if *out == "" {
		fail(fmt.Errorf("-out FILE is required"))
	}
	for i := range vg.PVs {
		vg.PVs[i].MDASize = *mda
	}
	paths := []string{*out}
	for i := 1; i < len(vg.PVs); i++ {
		paths = append(paths, strings.TrimSuffix(*out, filepath.Ext(*out))+fmt.Sprintf("-pv%d", i)+filepath.Ext(*out))
	}
	var fill func(int, *os.File, int64) error
	if *random > 0 {
		fill = func(_ int, f *os.File, dataOff int64) error { return writeRandom(f, dataOff, int64(*random), *written) }
	}
	if err := synth.WriteImages(vg, paths, fill); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "synthvg:", err)
	os.Exit(2)
}

// writeRandom writes mib MiB of random bytes at off of f, or pct % of
// them in 1 MiB pieces spread evenly (the rest left as holes).
func writeRandom(f *os.File, off, mib int64, pct int) error {
	buf := make([]byte, 1<<20)
	rng := rand.New(rand.NewPCG(uint64(mib), uint64(pct)))
	step := int64(1)
	if pct > 0 && pct < 100 {
		step = int64(100 / pct)
	}
	for i := int64(0); i < mib; i += step {
		for j := 0; j < len(buf); j += 8 {
			binary.LittleEndian.PutUint64(buf[j:], rng.Uint64())
		}
		if _, err := f.WriteAt(buf, off+i<<20); err != nil {
			return err
		}
	}
	return nil
}
