package thin

import (
	"errors"
	"fmt"
	"io"
	"sync"
)

// Metadata reads the thin pool metadata held by a metadata device (the
// pool's _tmeta LV). It is safe for concurrent use.
type Metadata struct {
	r  io.ReaderAt
	sb *Superblock

	mu    sync.Mutex
	cache nodeCache
}

// OpenMetadata reads and validates the superblock of the metadata device
// r of size bytes. The device must hold every block the superblock
// claims (metadata_nr_blocks).
func OpenMetadata(r io.ReaderAt, size int64) (*Metadata, error) {
	if size < BlockSize {
		return nil, &MetadataError{Block: 0, Structure: "superblock", Problem: fmt.Sprintf("the metadata device holds %d bytes, less than one block", size), Err: ErrCorrupt}
	}
	b := make([]byte, BlockSize)
	if err := readFull(r, b, 0); err != nil {
		return nil, &ReadError{Block: 0, Err: err}
	}
	sb, err := ParseSuperblock(b)
	if err != nil {
		return nil, err
	}
	if have := uint64(size) / BlockSize; sb.MetadataNrBlocks > have {
		return nil, &MetadataError{Block: 0, Structure: "superblock", Field: "metadata_nr_blocks",
			Problem: fmt.Sprintf("%d blocks, but the metadata device holds only %d", sb.MetadataNrBlocks, have), Err: ErrRange}
	}
	m := &Metadata{r: r, sb: sb}
	m.cache.init(nodeCacheSize)
	return m, nil
}

// Superblock returns the decoded superblock.
func (m *Metadata) Superblock() Superblock { return *m.sb }

func readFull(r io.ReaderAt, b []byte, off int64) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// Tree value sizes.
const (
	mappingValueSize = 8  // (data block << 24) | time; also top-level roots
	detailsValueSize = 24 // device details
)

// node returns the validated node at blk for a tree whose leaves hold
// leafVS-byte values, from the cache or the device.
func (m *Metadata) node(blk uint64, leafVS int, tree string) (*node, error) {
	if blk == 0 || blk >= m.sb.MetadataNrBlocks {
		return nil, &MetadataError{Block: blk, Structure: "b-tree node", Tree: tree,
			Problem: fmt.Sprintf("block number outside 1..%d", m.sb.MetadataNrBlocks-1), Err: ErrRange}
	}
	m.mu.Lock()
	n := m.cache.get(blk, leafVS)
	m.mu.Unlock()
	if n != nil {
		return n, nil
	}
	b := make([]byte, BlockSize)
	if err := readFull(m.r, b, int64(blk)*BlockSize); err != nil {
		return nil, &ReadError{Block: blk, Err: err}
	}
	n, err := parseNode(b, blk, m.sb.MetadataNrBlocks, leafVS, tree)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.cache.put(blk, leafVS, n)
	m.mu.Unlock()
	return n, nil
}

// DeviceDetails is a value of the device details tree (spec 6.4).
type DeviceDetails struct {
	ID              uint64 `json:"id"`
	MappedBlocks    uint64 `json:"mapped_blocks"`
	TransactionID   uint64 `json:"transaction_id"`
	CreationTime    uint32 `json:"creation_time"`
	SnapshottedTime uint32 `json:"snapshotted_time"`
}

// maxDevices bounds how many device details Devices returns.
const maxDevices = 1 << 20

// Devices lists the device details tree in id order. The walk reads each
// node once; a damaged tree gives a *MetadataError.
func (m *Metadata) Devices() ([]DeviceDetails, error) {
	var out []DeviceDetails
	w := m.newWalker(detailsValueSize, "device details tree", true)
	err := w.walk(m.sb.DeviceDetailsRoot, 0, ^uint64(0), func(_, key uint64, v []byte) error {
		if len(out) >= maxDevices {
			return fmt.Errorf("the device details tree lists more than %d devices: %w", maxDevices, ErrUnsupported)
		}
		out = append(out, DeviceDetails{ID: key, MappedBlocks: le64(v, 0), TransactionID: le64(v, 8),
			CreationTime: le32(v, 16), SnapshottedTime: le32(v, 20)})
		return nil
	})
	return out, err
}

// DeviceIDs lists the device ids of the top-level mapping tree with their
// mapping tree roots, in id order.
func (m *Metadata) DeviceIDs() (ids, roots []uint64, err error) {
	w := m.newWalker(mappingValueSize, "top-level mapping tree", true)
	err = w.walk(m.sb.DataMappingRoot, 0, ^uint64(0), func(_, key uint64, v []byte) error {
		if len(ids) >= maxDevices {
			return fmt.Errorf("the mapping tree lists more than %d devices: %w", maxDevices, ErrUnsupported)
		}
		ids = append(ids, key)
		roots = append(roots, le64(v, 0))
		return nil
	})
	return ids, roots, err
}

// DecodeMapping splits a mapping tree value into the data block (upper 40
// bits) and the time it was provisioned (lower 24 bits).
func DecodeMapping(v uint64) (dataBlock uint64, time uint32) {
	return v >> 24, uint32(v & 0xFFFFFF)
}

// Mapping is one provisioned block of a thin device.
type Mapping struct {
	VBlock, DBlock uint64 // virtual block, data block
	Time           uint32
}

// WalkDevice calls fn, in virtual block order, for every provisioned block
// of thin device id with virtual block in [lo, hi] (inclusive). It looks
// id up in the top-level tree and walks only the subtrees that overlap the
// range; full is for walks of the whole tree (it tracks visited nodes in
// a bitmap sized by the metadata device instead of a map). Data blocks
// beyond the data space map's nr_blocks are an error. The device's absence
// is reported with ErrNoDevice.
func (m *Metadata) WalkDevice(id, lo, hi uint64, full bool, fn func(Mapping) error) error {
	return m.walkDevice(id, lo, hi, full, fn, nil)
}

// walkDevice is WalkDevice; with bad set, a damaged or unreadable
// subtree below the device's root, and a mapping to a data block beyond
// the pool's, go to bad with their virtual blocks instead of ending the
// walk.
func (m *Metadata) walkDevice(id, lo, hi uint64, full bool, fn func(Mapping) error, bad badFunc) error {
	top := m.newWalker(mappingValueSize, "top-level mapping tree", full)
	root, found := uint64(0), false
	err := top.walk(m.sb.DataMappingRoot, id, id, func(_, _ uint64, v []byte) error {
		root, found = le64(v, 0), true
		return nil
	})
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("device %d is not in the top-level mapping tree (root block %d): %w", id, m.sb.DataMappingRoot, ErrNoDevice)
	}
	tree := fmt.Sprintf("mapping tree of device %d", id)
	dev := top.sub(tree) // shares the visited set: a device tree pointing back into the top-level tree is a cycle
	dev.bad = bad
	nrData := m.sb.DataSpaceMap.NrBlocks
	return dev.walk(root, lo, hi, func(leaf, key uint64, v []byte) error {
		d, t := DecodeMapping(le64(v, 0))
		if d >= nrData {
			err := &MetadataError{Block: leaf, Structure: "b-tree node", Tree: tree, Field: fmt.Sprintf("value of key %d", key),
				Problem: fmt.Sprintf("data block %d beyond the pool's %d data blocks", d, nrData), Err: ErrRange}
			if bad == nil {
				return err
			}
			bad(key, key, err)
			return nil
		}
		return fn(Mapping{VBlock: key, DBlock: d, Time: t})
	})
}
