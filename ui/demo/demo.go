// Package demo holds the built-in demo disk that lvminspect opens when it
// is started without a path: the "banana" fixture (one PV, VG banana with
// the linear LVs chocolate, split and cream), made by the real LVM2 tools
// and embedded gzip-compressed. It is unpacked into an in-memory, read-only
// file system, so the demo touches no file of the machine.
package demo

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"

	"github.com/spf13/afero"

	"github.com/lvminspect/lvminspect/scan"
)

//go:embed banana-pv0.img.gz
var bananaGz []byte

// Path is the name the demo image has in the in-memory file system, and so
// in the inspector's tree.
const Path = "/demo/banana-pv0.img"

// Title describes the demo for the inspector's header.
const Title = "built-in disk \"banana\""

// maxImage bounds the unpacked image (the embedded one is 14 MiB).
const maxImage = 64 << 20

// FS returns a read-only in-memory file system holding the demo image at
// Path.
func FS() (afero.Fs, error) {
	zr, err := gzip.NewReader(bytes.NewReader(bananaGz))
	if err != nil {
		return nil, fmt.Errorf("demo image: %w", err)
	}
	img, err := io.ReadAll(io.LimitReader(zr, maxImage+1))
	if err != nil {
		return nil, fmt.Errorf("demo image: %w", err)
	}
	if len(img) > maxImage {
		return nil, fmt.Errorf("demo image: larger than %d bytes", maxImage)
	}
	mem := afero.NewMemMapFs()
	if err := afero.WriteFile(mem, Path, img, 0o444); err != nil {
		return nil, fmt.Errorf("demo image: %w", err)
	}
	return afero.NewReadOnlyFs(mem), nil
}

// Inputs opens the demo image as the inspector's only input.
func Inputs() ([]*scan.Input, error) {
	fs, err := FS()
	if err != nil {
		return nil, err
	}
	in, err := scan.Open(fs, Path)
	if err != nil {
		return nil, fmt.Errorf("demo image: %w", err)
	}
	return []*scan.Input{in}, nil
}
