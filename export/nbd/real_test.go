package nbd

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// serveUnix serves s on a Unix socket in a temporary directory.
func serveUnix(t *testing.T, s *Server) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "nbd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "s")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return sock
}

func need(t *testing.T, tool string) {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		t.Skipf("%s not installed", tool)
	}
}

func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

func randomDisk(t *testing.T) (*Server, []byte) {
	b := make([]byte, 8<<20)
	r := rand.NewChaCha8([32]byte{1, 2, 3})
	r.Read(b)
	return &Server{Exports: []Export{{Name: "lv", Description: "random", Dev: &memDev{b: b}}}}, b
}

func TestNbdinfo(t *testing.T) {
	need(t, "nbdinfo")
	s, _ := randomDisk(t)
	sock := serveUnix(t, s)
	out := run(t, "nbdinfo", "--json", "nbd+unix:///lv?socket="+sock)
	var info struct {
		Exports []struct {
			Name     string `json:"export-name"`
			ReadOnly bool   `json:"is_read_only"`
			Size     int64  `json:"export-size"`
		} `json:"exports"`
	}
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(info.Exports) != 1 || !info.Exports[0].ReadOnly || info.Exports[0].Size != 8<<20 || info.Exports[0].Name != "lv" {
		t.Fatalf("nbdinfo: %s", out)
	}
	out = run(t, "nbdinfo", "--list", "nbd+unix://?socket="+sock)
	if !bytes.Contains(out, []byte("lv")) {
		t.Fatalf("nbdinfo --list: %s", out)
	}
}

func TestNbdcopy(t *testing.T) {
	need(t, "nbdcopy")
	s, b := randomDisk(t)
	sock := serveUnix(t, s)
	out := filepath.Join(t.TempDir(), "out")
	run(t, "nbdcopy", "nbd+unix:///lv?socket="+sock, out)
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, b) {
		t.Fatal("nbdcopy output differs from the device")
	}
}

func TestNbdinfoMap(t *testing.T) {
	need(t, "nbdinfo")
	d := sparseDev()
	sock := serveUnix(t, &Server{Exports: []Export{{Name: "sparse", Dev: d}}})
	out := string(run(t, "nbdinfo", "--map", "nbd+unix:///sparse?socket="+sock))
	// Lines: offset length type description.
	if !regexpHole(out, 65536, 65536) || !regexpHole(out, 500000, 100000) {
		t.Fatalf("nbdinfo --map does not show the holes:\n%s", out)
	}
}

func regexpHole(out string, off, n int) bool {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == strconv.Itoa(off) && f[1] == strconv.Itoa(n) && f[2] == "3" {
			return true
		}
	}
	return false
}

func TestQemuImg(t *testing.T) {
	need(t, "qemu-img")
	s, b := randomDisk(t)
	sock := serveUnix(t, s)
	out := filepath.Join(t.TempDir(), "out.raw")
	run(t, "qemu-img", "convert", "-f", "raw", "-O", "raw", "nbd+unix:///lv?socket="+sock, out)
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, b) {
		t.Fatal("qemu-img output differs from the device")
	}
}
