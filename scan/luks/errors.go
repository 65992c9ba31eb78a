// Package luks reads LUKS1 and LUKS2 encrypted volumes, read-only
// (docs/format/luks.md): Probe decodes the header (both LUKS2 copies,
// their checksums and the JSON metadata), Unlock derives the volume key
// from a passphrase or key file, UnlockVolumeKey checks a volume key the
// examiner already has. Nothing is ever written.
//
// Secrets (passphrases, slot keys, key material, volume keys) are cleared
// from every buffer this package owns once they are no longer needed,
// and no error message or printed form of an exported type holds one.
package luks

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors, usable with errors.Is.
var (
	// ErrNotLUKS means no LUKS magic was found where luks.md §2 looks.
	ErrNotLUKS = errors.New("no LUKS header")
	// ErrBadChecksum is wrapped by every LUKS2 header checksum mismatch.
	ErrBadChecksum = errors.New("checksum mismatch")
	// ErrTruncated means a structure lies beyond the end of the device.
	ErrTruncated = errors.New("beyond the end of the device")
	// ErrInvalid is wrapped by every other failed check of a header.
	ErrInvalid = errors.New("invalid LUKS header")
	// ErrUnsupported is wrapped when a header uses something this package
	// does not implement (an unknown version, checksum or hash).
	ErrUnsupported = errors.New("unsupported")
	// ErrNoValidHeader means a LUKS2 volume has no valid header copy.
	ErrNoValidHeader = errors.New("no valid LUKS2 header")
	// ErrRefused is wrapped by RefusedError.
	ErrRefused = errors.New("refused")
	// ErrKeyMismatch means a volume key does not match the header digest.
	ErrKeyMismatch = errors.New("volume key does not match the header digest")
)

// FormatError says that a LUKS structure is not valid at a given place.
type FormatError struct {
	Structure string // "luks1_phdr", "luks2_header_primary", "luks2_json_secondary"...
	Field     string // the field at fault, if one is
	Off       int64  // byte offset in the LUKS device (of the field when known)
	Msg       string
	Stored    string // stored value, where a comparison failed
	Computed  string // computed or expected value
	Err       error  // wrapped sentinel
}

func (e *FormatError) Error() string {
	s := e.Structure
	if e.Field != "" {
		s += "." + e.Field
	}
	s = fmt.Sprintf("%s at byte %d (%#x): %s", s, uint64(e.Off), uint64(e.Off), e.Msg)
	if e.Stored != "" || e.Computed != "" {
		s += fmt.Sprintf(" (stored %s, computed %s)", e.Stored, e.Computed)
	}
	return s
}

func (e *FormatError) Unwrap() error { return e.Err }

// RefusedError is returned by Unlock and UnlockVolumeKey for a header
// whose Refused is set: the volume uses something that cannot be opened
// safely (reencryption in progress, integrity, an unknown requirement...).
type RefusedError struct {
	Reason string
}

func (e *RefusedError) Error() string { return "LUKS volume refused: " + e.Reason }

func (e *RefusedError) Unwrap() error { return ErrRefused }

// MemoryLimitError says that an Argon2 key slot needs more memory than
// allowed (UnlockOptions.MaxMemoryKiB, or the memory the machine has
// free); the slot was not attempted.
type MemoryLimitError struct {
	Slot     int
	KDF      string // "argon2i", "argon2id"
	NeedKiB  int64
	LimitKiB int64
	Why      string // "the limit", "the memory available"
}

func (e *MemoryLimitError) Error() string {
	why := e.Why
	if why == "" {
		why = "the limit"
	}
	return fmt.Sprintf("key slot %d: %s needs %d KiB of memory, above %s of %d KiB", e.Slot, e.KDF, e.NeedKiB, why, e.LimitKiB)
}

// SlotError says why one key slot was not tried or could not be used.
type SlotError struct {
	Slot int
	Msg  string
	Err  error // wrapped cause, if any
}

func (e *SlotError) Error() string { return fmt.Sprintf("key slot %d: %s", e.Slot, e.Msg) }

func (e *SlotError) Unwrap() error { return e.Err }

// NoSlotError is Unlock's error when no key slot opened: Tried slots were
// attempted and did not match (wrong secret, or damaged key material:
// the two cannot be told apart), the slots in Refused were not attempted
// or failed for the reason given.
type NoSlotError struct {
	Tried    int
	Refused  []string
	Attempts []Attempt
	errs     []error
}

func (e *NoSlotError) Error() string {
	s := fmt.Sprintf("no key slot opened (tried %d)", e.Tried)
	if len(e.Refused) > 0 {
		s += "; " + strings.Join(e.Refused, "; ")
	}
	return s
}

// Unwrap gives the errors of the refused slots (a *MemoryLimitError for
// a slot above the memory limit, a *SlotError otherwise), for errors.As.
func (e *NoSlotError) Unwrap() []error { return e.errs }
