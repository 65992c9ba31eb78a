package qcow2

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lvminspect/lvminspect/internal/containertest"
)

const (
	benchSize    = 256 << 20
	benchBlock   = 4 << 20 // the export engine's block
	benchReaders = 6       // and its readers
)

// BenchmarkReadAll reads a 256 MiB qcow2 made by qemu-img (half random,
// half text; plain, and with compressed clusters) from its file (Open
// through the OS fs), in 4 MiB blocks from 6 goroutines, as the export
// engine does, and from one; it reports qemu-img's own conversion of the same
// file as qemu-img-MB/s (to a raw file) and qemu-null-MB/s (to the null
// block driver: the reading alone).
//
//	go test -run '^$' -bench ReadAll -benchtime 5x ./scan/container/qcow2/
func BenchmarkReadAll(b *testing.B) {
	q, err := exec.LookPath("qemu-img")
	if err != nil {
		b.Skip("qemu-img not installed")
	}
	dir := b.TempDir()
	raw := make([]byte, benchSize)
	rand.NewChaCha8([32]byte{1}).Read(raw[:benchSize/2])
	// the second half compressible: text with a counter
	for i := benchSize / 2; i < benchSize; i += 64 {
		copy(raw[i:], fmt.Sprintf("line %012d of the compressible half of the disk .....\n", i))
	}
	if err := os.WriteFile(filepath.Join(dir, "d.raw"), raw, 0o644); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct{ name, opt string }{{"plain", ""}, {"compressed", "-c"}} {
		b.Run(bc.name, func(b *testing.B) {
			img := filepath.Join(dir, bc.name+".qcow2")
			args := []string{"convert", "-f", "raw", "-O", "qcow2"}
			if bc.opt != "" {
				args = append(args, bc.opt)
			}
			if out, err := exec.Command(q, append(args, filepath.Join(dir, "d.raw"), img)...).CombinedOutput(); err != nil {
				b.Fatalf("%v: %s", err, out)
			}
			timeQemu := func(args ...string) float64 {
				best := time.Duration(1 << 62)
				for range 3 {
					start := time.Now()
					if out, err := exec.Command(q, args...).CombinedOutput(); err != nil {
						b.Fatalf("qemu-img %q: %v: %s", args, err, out)
					}
					best = min(best, time.Since(start))
				}
				return float64(benchSize) / 1e6 / best.Seconds()
			}
			qemuRaw := timeQemu("convert", "-f", "qcow2", "-O", "raw", img, filepath.Join(dir, "out.raw"))
			os.Remove(filepath.Join(dir, "out.raw"))
			qemuNull := timeQemu("convert", "-n", "-f", "qcow2", "--target-image-opts", img, fmt.Sprintf("driver=null-co,size=%d", benchSize))

			im, err := Open(containertest.OsFs(), img)
			if err != nil {
				b.Fatal(err)
			}
			defer im.Close()
			for _, readers := range []int{benchReaders, 1} {
				b.Run(fmt.Sprintf("readers=%d", readers), func(b *testing.B) {
					b.SetBytes(im.Size())
					for b.Loop() {
						readAllBlocks(b, im, readers)
					}
					b.ReportMetric(qemuRaw, "qemu-img-MB/s")
					b.ReportMetric(qemuNull, "qemu-null-MB/s")
				})
			}
		})
	}
}

// readAllBlocks reads im in benchBlock blocks from readers goroutines.
func readAllBlocks(b *testing.B, im *Image, readers int) {
	var next sync.Mutex
	at := int64(0)
	var wg sync.WaitGroup
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, benchBlock)
			for {
				next.Lock()
				off := at
				at += benchBlock
				next.Unlock()
				if off >= im.Size() {
					return
				}
				if _, err := im.ReadAt(buf, off); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
