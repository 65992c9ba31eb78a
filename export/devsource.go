package export

import (
	"fmt"
	"io"

	"github.com/lvminspect/lvminspect/scan/device"
)

// DeviceSource is a device of the graph (a partition, a container's
// virtual disk, an LV's device…) as a Source: its holes are RunZero,
// ranges it cannot read are RunMissing with the reason, and its data is
// read with ReadAt.
type DeviceSource struct {
	d    device.Device
	name string
}

// NewDeviceSource returns d, named name in messages and byte counts, as
// a Source.
func NewDeviceSource(d device.Device, name string) *DeviceSource {
	return &DeviceSource{d: d, name: name}
}

// Size is the device's size.
func (s *DeviceSource) Size() int64 { return s.d.Size() }

// Runs describes [off, off+n) from the device's Map.
func (s *DeviceSource) Runs(off, n int64) ([]Run, error) {
	if off < 0 || n < 0 || off > s.Size() || n > s.Size()-off {
		return nil, fmt.Errorf("export: range [%d, %d) outside %s (%d bytes)", off, off+n, s.name, s.Size())
	}
	ext, err := device.MapAll(s.d, off, n)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.name, err)
	}
	var out []Run
	pos := off
	for _, e := range ext {
		if e.Off != pos || e.Len <= 0 {
			return nil, fmt.Errorf("%s: the map of [%d, %d) is inconsistent at byte %d", s.name, off, off+n, pos)
		}
		r := Run{Off: e.Off, Len: e.Len, Kind: RunData, Source: s.name}
		switch e.Kind {
		case device.Hole:
			r.Kind = RunZero
		case device.Unreadable:
			r.Kind, r.Reason = RunMissing, e.Why
		}
		out = AppendRun(out, r)
		pos += e.Len
	}
	if pos != off+n {
		return nil, fmt.Errorf("%s: the map of [%d, %d) ends at byte %d", s.name, off, off+n, pos)
	}
	return out, nil
}

// ReadAt reads the device.
func (s *DeviceSource) ReadAt(p []byte, off int64) (int, error) {
	n, err := s.d.ReadAt(p, off)
	if err == io.EOF && n == len(p) {
		err = nil
	}
	return n, err
}

// ConcurrentReads is the device's answer.
func (s *DeviceSource) ConcurrentReads() bool { return device.ConcurrentReads(s.d) }

// AdviseSequential passes the hint to the device, when it takes hints.
func (s *DeviceSource) AdviseSequential(off, n int64) {
	if a, ok := s.d.(device.Advisor); ok {
		a.AdviseSequential(off, n)
	}
}

// AdviseWillNeed passes the hint to the device, when it takes hints.
func (s *DeviceSource) AdviseWillNeed(off, n int64) {
	if a, ok := s.d.(device.Advisor); ok {
		a.AdviseWillNeed(off, n)
	}
}
