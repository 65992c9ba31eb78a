//go:build unix

package main

import (
	"fmt"
	"io"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/lvminspect/lvminspect/internal/synth"
)

// cpuTime is the CPU time this process used so far (user and system).
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Skipf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestCommandsLinearInLVs: scan, scan --json and lvs on a VG of 8n LVs
// cost about 8 times what they cost on n LVs, not 64 times. Each LV's
// facts and verdict used to look at every other LV (cow.SnapshotFor,
// model.VG.Shown, lvfacts' roles, vg.LV by name): 20,000 LVs took 24 s.
// The CPU time of the best of three runs is compared, with room for a
// noisy machine (linear work gives a ratio near 8, quadratic near 64).
func TestCommandsLinearInLVs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds VGs of thousands of LVs")
	}
	const n = 1500
	dir := t.TempDir()
	img := map[int]string{}
	for _, k := range []int{n, 8 * n} {
		img[k] = filepath.Join(dir, fmt.Sprintf("vg%d.img", k))
		if err := synth.WriteImages(synth.ManyLinear("big", k), []string{img[k]}, nil); err != nil {
			t.Fatal(err)
		}
	}
	cost := func(args ...string) time.Duration {
		best := time.Duration(1<<63 - 1)
		for range 3 {
			cmd := newRootCmd()
			cmd.SetOut(io.Discard)
			cmd.SetErr(io.Discard)
			cmd.SetArgs(args)
			t0 := cpuTime(t)
			if err := cmd.Execute(); err != nil {
				t.Fatalf("%v: %v", args, err)
			}
			best = min(best, cpuTime(t)-t0)
		}
		return best
	}
	for _, c := range [][]string{{"scan"}, {"scan", "--json"}, {"lvs"}, {"lvs", "-a", "--json"}} {
		small := cost(append(c, img[n])...)
		large := cost(append(c, img[8*n])...)
		r := float64(large) / float64(max(small, time.Millisecond))
		t.Logf("%v: %d LVs %v, %d LVs %v (×%.1f)", c, n, small, 8*n, large, r)
		if r > 24 {
			t.Errorf("%v: 8 times the LVs cost %.1f times the CPU time (%v → %v): not linear", c, r, small, large)
		}
	}
}
