package graph

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/lvminspect/lvminspect/export/volume"
	"github.com/lvminspect/lvminspect/scan"
)

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func forScan(vg *scan.VG) *volume.Resolver { return volume.ForScan(vg) }
