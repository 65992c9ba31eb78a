package export

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/lvminspect/lvminspect/model"
)

// Provenance records where an image came from and how it was made. It is
// written as JSON beside the image (see ProvenancePath). The caller fills
// the volume group, LV, inputs and checksum status; FillResult copies
// what Export measured.
type Provenance struct {
	Tool        string `json:"tool"`
	ToolVersion string `json:"tool_version"`
	// CommandLine is the command that made the export (the program's
	// arguments, with anything secret replaced), or the inspector's
	// equivalent; empty when not known.
	CommandLine   []string         `json:"command_line"`
	Inputs        []Input          `json:"inputs"`
	VG            NameUUID         `json:"vg"`
	LV            NameUUID         `json:"lv"`
	Seqno         uint64           `json:"seqno"`
	ExtentMap     []ExtentMapEntry `json:"extent_map"`
	BytesRead     map[string]int64 `json:"bytes_read"` // by PV UUID
	Checksums     []ChecksumStatus `json:"checksums"`
	StartTime     time.Time        `json:"start_time"` // UTC, RFC 3339
	EndTime       time.Time        `json:"end_time"`
	Size          int64            `json:"size"`
	SHA256        string           `json:"sha256"`
	MD5           string           `json:"md5,omitempty"`
	MissingRanges []MissingRange   `json:"missing_ranges"`
	ReusedExtents []ReusedExtent   `json:"reused_extents"`
	// RebuiltRanges are LV bytes not read from their primary place:
	// rebuilt from raid parity, or read from another mirror leg or raid10
	// copy because the primary one is missing or not trusted.
	RebuiltRanges []MissingRange `json:"rebuilt_ranges"`
	// Notes are what the layers of the LV reported while it was read
	// (raid superblocks, sync state, images treated as missing and why).
	Notes []string `json:"notes"`
	// LegDifferences is the leg comparison of a mirror or raid1 LV, when
	// one was asked for (any JSON-encodable report).
	LegDifferences any `json:"leg_differences,omitempty"`
	// Device is the chain of devices the bytes were read through, from
	// the inputs on, each after the devices it is made from: for the
	// export of a device of the graph (export --device) the device
	// exported last; for an LV the devices its VG's PVs lie on (a
	// container's disk, a partition, the host's LV of a guest VG).
	Device []ChainDevice `json:"device,omitempty"`
}

// ChainDevice is one device of the chain an exported device is read
// through.
type ChainDevice struct {
	ID      string   `json:"id"`
	Kind    string   `json:"kind"`
	Parents []string `json:"parents,omitempty"`
	Path    string   `json:"path,omitempty"`
	Offset  int64    `json:"offset"`
	Size    int64    `json:"size"`
	VG      string   `json:"vg,omitempty"`
	LV      string   `json:"lv,omitempty"`
	// LUKS says, for a decrypted LUKS mapping, which volume it is and
	// what opened it (never a secret).
	LUKS *ChainLUKS `json:"luks,omitempty"`
	// MD says, for an md array, which array it is and its state.
	MD *ChainMD `json:"md,omitempty"`
}

// ChainLUKS is a LUKS volume in the provenance record.
type ChainLUKS struct {
	UUID          string `json:"uuid"`
	Version       int    `json:"version"`
	Cipher        string `json:"cipher"`
	KeySize       int    `json:"key_size"` // bits
	SectorSize    int    `json:"sector_size"`
	PayloadOffset int64  `json:"payload_offset"`
	// OpenedBySlot is the key slot whose secret opened it, -1 for a
	// volume key given; KDF that slot's key derivation.
	OpenedBySlot int    `json:"opened_by_slot"`
	KDF          string `json:"kdf,omitempty"`
}

// ChainMD is an md array in the provenance record.
type ChainMD struct {
	UUID         string `json:"uuid"`
	Level        string `json:"level"`
	Layout       string `json:"layout,omitempty"`
	Metadata     string `json:"metadata"`
	Degraded     bool   `json:"degraded"`
	MissingRoles []int  `json:"missing_roles"`
}

// Input is one input file or device.
type Input struct {
	Path string `json:"path"`
	Size int64  `json:"size"`
	// SHA256 is the hash of the whole input, when it was asked for
	// (--hash-inputs).
	SHA256 string `json:"sha256,omitempty"`
	// Files are the other files read for a container input: an E01's
	// other segments, a VMDK's extents, parents and backing files.
	Files []string `json:"files,omitempty"`
}

// NameUUID names a VG or LV.
type NameUUID struct {
	Name string `json:"name"`
	UUID string `json:"uuid"`
}

// ExtentMapEntry maps a range of LV bytes to a PV. For layered LVs (raid,
// thin) SubLV names the linear/striped sub-LV whose bytes LVOffset counts.
type ExtentMapEntry struct {
	SubLV    string `json:"sub_lv,omitempty"`
	LVOffset int64  `json:"lv_offset"`
	Length   int64  `json:"length"`
	PVUUID   string `json:"pv_uuid"`
	PVPath   string `json:"pv_path"` // "" when the PV is missing
	PVOffset int64  `json:"pv_offset"`
}

// ChecksumStatus is the checksum check of one on-disk structure used
// (label, PV header, metadata area header, metadata text).
type ChecksumStatus struct {
	Structure string `json:"structure"`
	OK        bool   `json:"ok"`
	Stored    string `json:"stored"`
	Computed  string `json:"computed"`
}

// MissingRange is a range of LV bytes exported as zeros.
type MissingRange struct {
	Start  int64  `json:"start"`
	Length int64  `json:"length"`
	Reason string `json:"reason"`
}

// ReusedExtent is a range of the LV's extents that a later metadata
// generation gave to another LV.
type ReusedExtent struct {
	StartExtent uint64 `json:"start_extent"`
	ExtentCount uint64 `json:"extent_count"`
	ByLV        string `json:"by_lv"`
	Seqno       uint64 `json:"seqno"`
}

// ProvenancePath is where the provenance of an image goes: the image
// path with ".json" appended, or "" for stdout ("-").
func ProvenancePath(image string) string {
	if image == "-" || image == "" {
		return ""
	}
	return image + ".json"
}

// ExtentMapFromPieces builds the extent map from mapping pieces;
// pvPaths maps PV UUIDs to input paths.
func ExtentMapFromPieces(pieces []model.Piece, pvPaths map[string]string) []ExtentMapEntry {
	out := make([]ExtentMapEntry, 0, len(pieces))
	for _, p := range pieces {
		out = append(out, ExtentMapEntry{LVOffset: p.LVOffset, Length: p.Length, PVUUID: p.PVUUID, PVPath: pvPaths[p.PVUUID], PVOffset: p.PVOffset})
	}
	return out
}

// FillResult copies an export's size, checksums, times, byte counts and
// missing ranges into p.
func (p *Provenance) FillResult(r *Result) {
	p.Size, p.SHA256, p.MD5 = r.Size, r.SHA256, r.MD5
	p.StartTime, p.EndTime = r.Start, r.End
	p.BytesRead = map[string]int64{}
	for k, v := range r.BytesRead {
		p.BytesRead[k] = v
	}
	p.MissingRanges = make([]MissingRange, 0, len(r.Missing))
	for _, m := range r.Missing {
		reason := m.Reason
		if m.Source != "" {
			reason = m.Source + ": " + reason
		}
		p.MissingRanges = append(p.MissingRanges, MissingRange{Start: m.Off, Length: m.Len, Reason: reason})
	}
}

// MarshalJSON writes times in UTC, to the second or finer, and lists as
// [] rather than null.
func (p *Provenance) MarshalJSON() ([]byte, error) {
	type plain Provenance
	q := plain(*p)
	q.StartTime, q.EndTime = q.StartTime.UTC(), q.EndTime.UTC()
	if q.Inputs == nil {
		q.Inputs = []Input{}
	}
	if q.CommandLine == nil {
		q.CommandLine = []string{}
	}
	if q.ExtentMap == nil {
		q.ExtentMap = []ExtentMapEntry{}
	}
	if q.BytesRead == nil {
		q.BytesRead = map[string]int64{}
	}
	if q.Checksums == nil {
		q.Checksums = []ChecksumStatus{}
	}
	if q.MissingRanges == nil {
		q.MissingRanges = []MissingRange{}
	}
	if q.ReusedExtents == nil {
		q.ReusedExtents = []ReusedExtent{}
	}
	if q.RebuiltRanges == nil {
		q.RebuiltRanges = []MissingRange{}
	}
	if q.Notes == nil {
		q.Notes = []string{}
	}
	return json.Marshal(q)
}

// WriteProvenance writes p as indented JSON to path on the operating
// system's file system (see WriteProvenanceFS).
func WriteProvenance(path string, p *Provenance) error {
	return WriteProvenanceFS(OSFS{}, path, p)
}

// WriteProvenanceFS writes p as indented JSON to path on fsys, the file
// system the image went to: through a temporary file in the same
// directory that is synced and renamed into place (an older record at
// path is replaced), then the directory is synced. On an error the
// temporary file is removed.
func WriteProvenanceFS(fsys FS, path string, p *Provenance) error {
	if fsys == nil {
		fsys = OSFS{}
	}
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("export: encoding provenance: %w", err)
	}
	b = append(b, '\n')
	dir := filepath.Dir(path)
	var f File
	var tmp string
	for range 100 {
		var rnd [6]byte
		_, _ = rand.Read(rnd[:])
		tmp = filepath.Join(dir, "."+filepath.Base(path)+".tmp-"+hex.EncodeToString(rnd[:]))
		f, err = fsys.CreateExcl(tmp, 0o644)
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("export: writing provenance %s: %w", path, err)
	}
	lockTemporary(f) // held while written: see StaleTemporaries
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = fsys.Rename(tmp, path, true)
	}
	if err != nil {
		_ = fsys.Remove(tmp)
		return fmt.Errorf("export: writing provenance %s: %w", path, err)
	}
	if err := fsys.SyncDir(dir); err != nil {
		return fmt.Errorf("export: syncing directory of %s: %w", path, err)
	}
	return nil
}
