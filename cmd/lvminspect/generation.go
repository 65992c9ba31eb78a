package main

import (
	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/history"
)

// openGeneration opens VG name as metadata generation seqno described it
// (read-only time travel through the metadata areas' history).
func openGeneration(res *scan.Result, name string, seqno uint64) (*scan.VG, error) {
	return history.OpenGeneration(res, name, seqno)
}
