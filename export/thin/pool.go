package thin

import (
	"errors"
	"fmt"
	"sort"

	"github.com/lvminspect/lvminspect/export/volume"
	"github.com/lvminspect/lvminspect/model"
)

// Pool describes a thin pool: the VG metadata's view and the kernel
// metadata's view, and where they disagree.
type Pool struct {
	LV            string      `json:"lv"`
	MetadataLV    string      `json:"metadata_lv"`
	DataLV        string      `json:"data_lv"`
	TransactionID uint64      `json:"transaction_id"` // from the VG metadata
	ChunkSize     uint64      `json:"chunk_size_sectors"`
	Superblock    *Superblock `json:"superblock,omitempty"` // nil when unreadable
	Devices       []Device    `json:"devices"`
	Problems      []Problem   `json:"problems,omitempty"`
}

// Device is one thin device id found in the pool metadata or used by a
// thin LV of the VG.
type Device struct {
	ID      uint64         `json:"id"`
	LVs     []string       `json:"lvs,omitempty"`     // thin LVs of the VG with this device_id
	Details *DeviceDetails `json:"details,omitempty"` // nil when not in the device details tree
	// InMappingTree says whether the top-level mapping tree has the id;
	// Mapped, Extents and MaxTime are counted from its mapping tree.
	InMappingTree bool   `json:"in_mapping_tree"`
	Mapped        uint64 `json:"mapped_blocks"`
	Extents       uint64 `json:"extents"`
	MaxTime       uint32 `json:"max_time"`
	Err           string `json:"error,omitempty"` // damage found in its mapping tree
}

// Problem severities.
const (
	SeverityError   = "error"   // data cannot be read as the VG metadata says
	SeverityWarning = "warning" // inconsistent state: an interrupted operation, damage
	SeverityNote    = "note"    // worth knowing, not wrong
)

// Problem codes.
const (
	ProblemUnreadable          = "unreadable"           // metadata LV or superblock unusable
	ProblemTransactionMismatch = "transaction-mismatch" // superblock vs VG transaction_id
	ProblemPendingMessages     = "pending-messages"     // messageN subsections in the VG metadata
	ProblemNeedsCheck          = "needs-check"          // superblock needs_check flag
	ProblemDeviceMissing       = "device-missing"       // a thin LV's device_id is not in the pool
	ProblemOrphanDevice        = "orphan-device"        // a pool device no thin LV uses
	ProblemMappedBlocks        = "mapped-blocks"        // details mapped_blocks vs tree count
	ProblemDamagedTree         = "damaged-tree"         // a tree walk failed
	ProblemDataSize            = "data-size"            // data LV smaller than the data space map
	ProblemHeldRoot            = "held-root"            // a metadata snapshot exists
	ProblemDeviceTransaction   = "device-transaction"   // thin segment vs device details transaction_id
	ProblemSharedDevice        = "shared-device"        // several thin LVs with one device_id
)

// Problem is one finding about a pool.
type Problem struct {
	Code     string `json:"code"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
}

func (p *Pool) add(code, sev, format string, a ...any) {
	p.Problems = append(p.Problems, Problem{Code: code, Severity: sev, Message: fmt.Sprintf(format, a...)})
}

// PoolInfo reads the metadata of thin pool poolLV of the resolver's VG and
// compares it with the VG metadata: superblock fields, every device with
// its mapped block count (it walks every device's mapping tree, so it reads
// all the pool metadata once), and problems: above all a transaction id
// mismatch, the sign of an interrupted pool operation, where the kernel's
// devices and the VG's thin LVs may not agree.
//
// The error is non-nil only when the pool cannot be read at all (no such
// thin pool, unreadable metadata LV or superblock); the Pool then still
// holds the VG's view and the problem.
func PoolInfo(r *volume.Resolver, poolLV string) (*Pool, error) {
	lv := r.VG.LV(poolLV)
	if lv == nil || len(lv.Segments) != 1 || lv.Segments[0].ThinPool == nil {
		return nil, fmt.Errorf("%s is not a thin pool LV of VG %s: %w", poolLV, r.VG.Name, model.ErrMapping)
	}
	tp := lv.Segments[0].ThinPool
	info := &Pool{LV: poolLV, MetadataLV: tp.Metadata, DataLV: tp.Pool, TransactionID: tp.TransactionID, ChunkSize: tp.ChunkSize}
	if len(tp.Messages) > 0 {
		info.add(ProblemPendingMessages, SeverityWarning, "the VG metadata holds %d pending pool message(s): an operation on the pool was not completed", len(tp.Messages))
	}
	users := thinUsers(r.VG, poolLV)
	p, err := openPool(r, poolLV)
	if err != nil {
		info.add(ProblemUnreadable, SeverityError, "%v", err)
		return info, err
	}
	sb := p.meta.Superblock()
	info.Superblock = &sb
	info.checkSuperblock(r, p)
	info.collectDevices(p.meta, users)
	return info, nil
}

// thinUsers maps device ids to the thin LVs of pool poolLV using them,
// with each LV's thin segment transaction_id.
func thinUsers(vg *model.VG, poolLV string) map[uint64][]*model.LV {
	out := map[uint64][]*model.LV{}
	for _, l := range vg.LVs {
		for _, s := range l.Segments {
			if s.Thin != nil && s.Thin.ThinPool == poolLV {
				out[s.Thin.DeviceID] = append(out[s.Thin.DeviceID], l)
				break
			}
		}
	}
	return out
}

func (info *Pool) checkSuperblock(r *volume.Resolver, p *pool) {
	sb := p.meta.sb
	switch {
	case sb.TransactionID > info.TransactionID:
		info.add(ProblemTransactionMismatch, SeverityWarning,
			"the pool metadata is at transaction %d, the VG metadata at %d: the kernel committed pool changes (thin LVs created or removed) that the VG metadata does not record; an LVM operation was interrupted",
			sb.TransactionID, info.TransactionID)
	case sb.TransactionID < info.TransactionID:
		info.add(ProblemTransactionMismatch, SeverityWarning,
			"the pool metadata is at transaction %d, the VG metadata at %d: the VG metadata records pool changes the kernel never committed; an LVM operation was interrupted",
			sb.TransactionID, info.TransactionID)
	}
	if sb.NeedsCheck() {
		info.add(ProblemNeedsCheck, SeverityWarning, "the superblock's needs_check flag is set: the kernel found a problem and asked for a metadata check")
	}
	if sb.HeldRoot != 0 {
		info.add(ProblemHeldRoot, SeverityNote, "a userspace metadata snapshot is held at block %d (an older view of the mappings)", sb.HeldRoot)
	}
	if data, err := r.Open(p.params.Pool); err != nil {
		info.add(ProblemDataSize, SeverityError, "data LV %s cannot be opened: %v", p.params.Pool, err)
	} else if have := uint64(data.Size()) / (uint64(sb.DataBlockSize) * model.SectorSize); have < sb.DataSpaceMap.NrBlocks {
		info.add(ProblemDataSize, SeverityWarning, "data LV %s holds %d blocks, the pool metadata expects %d", p.params.Pool, have, sb.DataSpaceMap.NrBlocks)
	}
}

func (info *Pool) collectDevices(m *Metadata, users map[uint64][]*model.LV) {
	byID := map[uint64]*Device{}
	get := func(id uint64) *Device {
		d := byID[id]
		if d == nil {
			d = &Device{ID: id}
			byID[id] = d
		}
		return d
	}
	details, err := m.Devices()
	if err != nil {
		info.add(ProblemDamagedTree, SeverityError, "device details tree: %v", err)
	}
	for i := range details {
		get(details[i].ID).Details = &details[i]
	}
	ids, _, err := m.DeviceIDs()
	if err != nil {
		info.add(ProblemDamagedTree, SeverityError, "top-level mapping tree: %v", err)
	}
	for _, id := range ids {
		d := get(id)
		d.InMappingTree = true
		_, st, _, err := m.loadDevice(id, 0) // vEnd 0: count only, keep no extents
		d.Mapped, d.Extents, d.MaxTime = st.Mapped, st.Extents, st.MaxTime
		if err != nil {
			d.Err = err.Error()
			info.add(ProblemDamagedTree, SeverityError, "device %d: %v", id, err)
		}
	}
	for id, lvs := range users {
		d := get(id)
		for _, l := range lvs {
			d.LVs = append(d.LVs, l.Name)
		}
		sort.Strings(d.LVs)
	}
	for _, d := range byID {
		info.Devices = append(info.Devices, *d)
	}
	sort.Slice(info.Devices, func(i, j int) bool { return info.Devices[i].ID < info.Devices[j].ID })
	for _, d := range info.Devices {
		info.checkDevice(d, users[d.ID])
	}
}

func (info *Pool) checkDevice(d Device, lvs []*model.LV) {
	switch {
	case len(d.LVs) > 0 && !d.InMappingTree:
		info.add(ProblemDeviceMissing, SeverityError, "thin LV(s) %v use device %d, which the pool metadata does not map (reads would fail)", d.LVs, d.ID)
	case len(d.LVs) == 0 && (d.InMappingTree || d.Details != nil):
		info.add(ProblemOrphanDevice, SeverityWarning, "pool device %d (%d mapped blocks) belongs to no thin LV of the VG metadata: a removed or not yet recorded thin LV, whose data may be recoverable", d.ID, d.Mapped)
	}
	if len(d.LVs) > 1 {
		info.add(ProblemSharedDevice, SeverityWarning, "thin LVs %v all name device %d: they read the same data", d.LVs, d.ID)
	}
	if d.InMappingTree && d.Details == nil {
		info.add(ProblemDamagedTree, SeverityWarning, "device %d is in the mapping tree but not in the device details tree", d.ID)
	}
	if d.Details != nil && d.InMappingTree && d.Err == "" && d.Details.MappedBlocks != d.Mapped {
		info.add(ProblemMappedBlocks, SeverityWarning, "device %d: the device details say %d mapped blocks, its mapping tree holds %d", d.ID, d.Details.MappedBlocks, d.Mapped)
	}
	if d.Details != nil && !d.InMappingTree && len(d.LVs) == 0 {
		info.add(ProblemDamagedTree, SeverityWarning, "device %d is in the device details tree but has no mapping tree", d.ID)
	}
	for _, l := range lvs {
		for _, s := range l.Segments {
			if s.Thin != nil && d.Details != nil && s.Thin.TransactionID != d.Details.TransactionID {
				info.add(ProblemDeviceTransaction, SeverityNote, "thin LV %s was created at pool transaction %d (VG metadata), device %d at transaction %d (pool metadata): the device id may have been reused",
					l.Name, s.Thin.TransactionID, d.ID, d.Details.TransactionID)
			}
		}
	}
}

// IsDamage reports whether err comes from damaged or unsupported thin
// metadata (as opposed to a read failure or a VG metadata problem).
func IsDamage(err error) bool {
	var me *MetadataError
	return errors.As(err, &me)
}
