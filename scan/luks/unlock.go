package luks

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"time"
)

// AllSlots is UnlockOptions.Slot for "every usable key slot".
const AllSlots = -1

// Defaults of UnlockOptions (luks.md §7).
const (
	DefaultMaxMemoryKiB  = 4 << 20 // 4 GiB
	DefaultMaxSlots      = 32
	DefaultMaxArgon2Work = 1 << 26 // KiB × passes: 64 GiB of Argon2 memory passes
)

// UnlockOptions says which key slots Unlock tries and within which
// bounds. The zero value tries slot 0 only: set Slot to AllSlots to try
// every usable slot.
type UnlockOptions struct {
	// Slot is the only key slot tried, or AllSlots: every usable slot in
	// the order of luks.md §5.6 (LUKS1: enabled slots 0..7; LUKS2: the
	// luks2 slots whose digest lists the data segment, priority 2 first,
	// then 1, then 0 last, ascending ids within a priority).
	Slot int
	// MaxMemoryKiB bounds the memory of an Argon2 slot: a slot needing
	// more is refused with a *MemoryLimitError, never attempted; 0 means
	// DefaultMaxMemoryKiB. A slot needing more than the memory the system
	// reports available is refused too.
	MaxMemoryKiB int64
	// MaxArgon2Work bounds an Argon2 slot's memory × passes (KiB), since
	// Argon2 cannot be cancelled once started; 0 means
	// DefaultMaxArgon2Work.
	MaxArgon2Work int64
	// MaxSlots bounds how many slots are tried with AllSlots; 0 means
	// DefaultMaxSlots.
	MaxSlots int
	// Context cancels Unlock between slots and during PBKDF2; nil means
	// context.Background().
	Context context.Context
	// Progress, if set, is called before each slot is tried (Result "")
	// and after (Result set).
	Progress func(Attempt)
}

// Attempt is one key slot Unlock tried or refused.
type Attempt struct {
	Slot     int           `json:"slot"`
	KDF      string        `json:"kdf"`    // the KDF and its costs
	Result   string        `json:"result"` // "opened", "no match", or why not tried
	Duration time.Duration `json:"duration"`
}

// Key is an unlocked volume key. Its printed forms (String, every fmt
// verb) and its JSON never show the key; Wipe clears it.
type Key struct {
	VolumeKey []byte    `json:"-"`
	Slot      int       `json:"slot"`   // the slot that opened; -1 for a supplied volume key
	KDF       string    `json:"kdf"`    // that slot's KDF type ("pbkdf2", "argon2id"...); "" for a supplied key
	Digest    int       `json:"digest"` // the digest that verified it
	Attempts  []Attempt `json:"attempts,omitempty"`
}

const redacted = "[redacted]"

// Wipe clears the volume key.
func (k *Key) Wipe() {
	if k != nil {
		wipe(k.VolumeKey)
		k.VolumeKey = nil
	}
}

// String never shows the key.
func (k Key) String() string { return redacted }

// GoString never shows the key.
func (k Key) GoString() string { return redacted }

// Format never shows the key, whatever the verb and flags.
func (k Key) Format(f fmt.State, verb rune) { io.WriteString(f, redacted) }

// errNoMatch is a slot whose candidate key failed the digest: wrong
// secret or damaged key material.
var errNoMatch = errors.New("no match")

func kdfText(k *KDF) string {
	switch k.Type {
	case "pbkdf2":
		return fmt.Sprintf("pbkdf2 %s, %d iterations", k.Hash, k.Iterations)
	case "argon2i", "argon2id":
		return fmt.Sprintf("%s, time %d, memory %d KiB, %d threads", k.Type, k.Time, k.Memory, k.CPUs)
	}
	return k.Type
}

// Unlock derives the volume key of h, a header Probe read from r (a LUKS
// device of size bytes), from secret, a passphrase or key file's exact
// bytes (luks.md §5): each slot's key is derived (PBKDF2, Argon2i,
// Argon2id), its key material read and decrypted, AF-merged and checked
// against its digest. The first slot that matches gives the Key. When
// none does the error is a *NoSlotError; a header with Refused set gives
// a *RefusedError; a cancelled context its error. secret is not kept nor
// changed; the caller clears it.
func Unlock(h *Header, r io.ReaderAt, size int64, secret []byte, opt UnlockOptions) (*Key, error) {
	if h == nil {
		return nil, errors.New("luks: no header")
	}
	if h.Refused != "" {
		return nil, &RefusedError{Reason: h.Refused}
	}
	ctx := opt.Context
	if ctx == nil {
		ctx = context.Background()
	}
	nse := &NoSlotError{}
	refuse := func(a Attempt, err error) {
		a.Result = err.Error()
		nse.Refused = append(nse.Refused, err.Error())
		nse.errs = append(nse.errs, err)
		nse.Attempts = append(nse.Attempts, a)
		if opt.Progress != nil {
			opt.Progress(a)
		}
	}
	for _, ks := range h.slotOrder(opt, func(slot int, why string) { refuse(Attempt{Slot: slot}, &SlotError{Slot: slot, Msg: why}) }) {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("luks: unlock cancelled before key slot %d: %w", ks.Index, err)
		}
		a := Attempt{Slot: ks.Index, KDF: kdfText(&ks.KDF)}
		if err := h.checkCost(ks, opt); err != nil {
			refuse(a, err)
			continue
		}
		if opt.Progress != nil {
			opt.Progress(a)
		}
		start := time.Now()
		key, err := h.trySlot(ctx, ks, r, size, secret)
		a.Duration = time.Since(start)
		switch {
		case err == nil:
			a.Result = "opened"
			if opt.Progress != nil {
				opt.Progress(a)
			}
			return &Key{VolumeKey: key, Slot: ks.Index, KDF: ks.KDF.Type, Digest: ks.Digest, Attempts: append(nse.Attempts, a)}, nil
		case errors.Is(err, errNoMatch):
			nse.Tried++
			a.Result = "no match"
			nse.Attempts = append(nse.Attempts, a)
			if opt.Progress != nil {
				opt.Progress(a)
			}
		case ctx.Err() != nil:
			return nil, fmt.Errorf("luks: unlock cancelled at key slot %d: %w", ks.Index, ctx.Err())
		default:
			var se *SlotError
			if !errors.As(err, &se) {
				err = &SlotError{Slot: ks.Index, Msg: err.Error(), Err: err}
			}
			nse.Tried++
			refuse(a, err)
		}
	}
	return nil, nse
}

// slotOrder lists the slots Unlock tries (luks.md §5.6), calling skip for
// each slot it leaves out and why.
func (h *Header) slotOrder(opt UnlockOptions, skip func(slot int, why string)) []*Keyslot {
	if opt.Slot != AllSlots {
		ks := h.Keyslot(opt.Slot)
		switch {
		case ks == nil || opt.Slot < 0:
			skip(opt.Slot, "no such key slot")
		case ks.State != "active":
			skip(ks.Index, "not active")
		case !ks.Usable():
			skip(ks.Index, ks.Problem)
		default:
			return []*Keyslot{ks}
		}
		return nil
	}
	var out []*Keyslot
	for _, prio := range []int{2, 1, 0} {
		for i := range h.Keyslots {
			ks := &h.Keyslots[i]
			if ks.Priority != prio || ks.State != "active" {
				continue
			}
			switch {
			case ks.Problem != "":
				skip(ks.Index, ks.Problem+" (not tried)")
			case !ks.Usable():
				skip(ks.Index, "not a key slot with a key (not tried)")
			case !ks.Bound:
				skip(ks.Index, "holds an unbound key: its digest lists no data segment (not tried)")
			default:
				out = append(out, ks)
			}
		}
	}
	maxSlots := opt.MaxSlots
	if maxSlots <= 0 {
		maxSlots = DefaultMaxSlots
	}
	if len(out) > maxSlots {
		for _, ks := range out[maxSlots:] {
			skip(ks.Index, fmt.Sprintf("not tried: at most %d slots are tried", maxSlots))
		}
		out = out[:maxSlots]
	}
	return out
}

// checkCost refuses an Argon2 slot above the memory or work bounds
// before anything is allocated (luks.md §7).
func (h *Header) checkCost(ks *Keyslot, opt UnlockOptions) error {
	k := &ks.KDF
	if k.Type != "argon2i" && k.Type != "argon2id" {
		return nil
	}
	limit := opt.MaxMemoryKiB
	if limit <= 0 {
		limit = DefaultMaxMemoryKiB
	}
	need := int64(k.Memory)
	if need > limit {
		return &MemoryLimitError{Slot: ks.Index, KDF: k.Type, NeedKiB: need, LimitKiB: limit, Why: "the limit"}
	}
	if avail := availableMemoryKiB(); avail > 0 && need > avail {
		return &MemoryLimitError{Slot: ks.Index, KDF: k.Type, NeedKiB: need, LimitKiB: avail, Why: "the memory available"}
	}
	work := opt.MaxArgon2Work
	if work <= 0 {
		work = DefaultMaxArgon2Work
	}
	if need*int64(k.Time) > work {
		return &SlotError{Slot: ks.Index, Msg: fmt.Sprintf("%s with time %d and memory %d KiB is %d KiB of memory passes, above the bound of %d",
			k.Type, k.Time, k.Memory, need*int64(k.Time), work)}
	}
	return nil
}

// trySlot opens one key slot: it returns the volume key, errNoMatch when
// the candidate fails the digest, or why the slot could not be used.
func (h *Header) trySlot(ctx context.Context, ks *Keyslot, r io.ReaderAt, size int64, secret []byte) ([]byte, error) {
	slotErr := func(err error, format string, a ...any) error {
		return &SlotError{Slot: ks.Index, Msg: fmt.Sprintf(format, a...), Err: err}
	}
	d := h.digestByID(ks.Digest)
	if d == nil {
		return nil, slotErr(nil, "no digest to verify its key")
	}
	afHash := hashFunc(ks.AFHash)
	if afHash == nil {
		return nil, slotErr(ErrUnsupported, "AF hash %q is not supported", ks.AFHash)
	}
	// Read the key material first: a truncated image costs no KDF run.
	n := ks.MaterialBytes()
	if ks.AreaOffset < 0 || ks.AreaOffset+n > size || n > int64(maxKeyBytes)*maxStripes+SectorBytes {
		return nil, slotErr(ErrTruncated, "key material at bytes %d..%d lies outside the %d-byte device", ks.AreaOffset, ks.AreaOffset+n, size)
	}
	material := make([]byte, n)
	defer wipe(material)
	if err := readFull(r, material, ks.AreaOffset); err != nil {
		return nil, slotErr(err, "reading %d bytes of key material at byte %d: %v", n, ks.AreaOffset, err)
	}

	slotKey, err := deriveSlotKey(ctx, &ks.KDF, secret, ks.SlotKeyLen)
	defer wipe(slotKey)
	if err != nil {
		return nil, slotErr(err, "key derivation: %v", err)
	}
	c, err := h.newCipher(ks.Cipher, slotKey, SectorBytes)
	if err != nil {
		return nil, slotErr(err, "key material cipher: %v", err)
	}
	err = c.Decrypt(material, 0)
	c.Wipe()
	if err != nil {
		return nil, slotErr(err, "decrypting the key material: %v", err)
	}
	cand, err := afMerge(material, ks.KeyBytes, ks.Stripes, afHash)
	if err != nil {
		return nil, slotErr(err, "%v", err)
	}
	keep := false
	defer func() {
		if !keep {
			wipe(cand)
		}
	}()
	ok, err := verifyDigest(ctx, d, cand)
	switch {
	case err != nil:
		return nil, slotErr(err, "digest %d: %v", d.ID, err)
	case !ok:
		return nil, errNoMatch
	case !slices.Contains(d.Segments, h.dataSegmentID()):
		return nil, slotErr(nil, "holds an unbound key (digest %d lists no data segment): not the volume key", d.ID)
	}
	keep = true
	return cand, nil
}

// deriveSlotKey is luks.md §5.2. The caller wipes the key.
func deriveSlotKey(ctx context.Context, k *KDF, secret []byte, keyLen int) ([]byte, error) {
	switch k.Type {
	case "pbkdf2":
		hf := hashFunc(k.Hash)
		if hf == nil {
			return nil, fmt.Errorf("hash %q is not supported", k.Hash)
		}
		return pbkdf2Key(ctx, hf, secret, k.Salt, k.Iterations, keyLen)
	case "argon2i", "argon2id":
		if k.CPUs < 1 || k.CPUs > maxArgon2CPUs || k.Time < 1 || uint64(k.Memory) < 8*uint64(k.CPUs) {
			return nil, fmt.Errorf("%s parameters out of bounds", k.Type)
		}
		key := argon2Key(k.Type, secret, k.Salt, k.Time, k.Memory, k.CPUs, keyLen)
		runtime.GC() // free the Argon2 memory before another slot's
		return key, nil
	}
	return nil, fmt.Errorf("unknown KDF %q", k.Type)
}

// verifyDigest is luks.md §5.5: PBKDF2 of the candidate with the
// digest's hash, salt and iterations, as long as the stored digest,
// compared in constant time.
func verifyDigest(ctx context.Context, d *Digest, cand []byte) (bool, error) {
	if d.Problem != "" {
		return false, errors.New(d.Problem)
	}
	hf := hashFunc(d.Hash)
	if hf == nil || d.Type != "pbkdf2" {
		return false, fmt.Errorf("digest type %q with hash %q is not supported", d.Type, d.Hash)
	}
	sum, err := pbkdf2Key(ctx, hf, cand, d.Salt, d.Iterations, len(d.Digest))
	if err != nil {
		return false, err
	}
	defer wipe(sum)
	return subtle.ConstantTimeCompare(sum, d.Digest) == 1, nil
}

// UnlockVolumeKey checks a volume key the examiner supplies (from
// luksDump --dump-volume-key, dmsetup table --showkeys or a memory image)
// against the header's digest of the data segment (luks.md §5.7). The
// returned Key holds a copy; the caller clears volumeKey.
func UnlockVolumeKey(h *Header, volumeKey []byte) (*Key, error) {
	return UnlockVolumeKeyContext(context.Background(), h, volumeKey)
}

// UnlockVolumeKeyContext is UnlockVolumeKey with a context that cancels
// the digest's PBKDF2.
func UnlockVolumeKeyContext(ctx context.Context, h *Header, volumeKey []byte) (*Key, error) {
	if h == nil {
		return nil, errors.New("luks: no header")
	}
	if h.Refused != "" {
		return nil, &RefusedError{Reason: h.Refused}
	}
	dataID := h.dataSegmentID()
	var d *Digest
	for i := range h.Digests {
		if slices.Contains(h.Digests[i].Segments, dataID) {
			d = &h.Digests[i]
			break
		}
	}
	if d == nil {
		return nil, errors.New("luks: no digest lists the data segment: a volume key cannot be verified")
	}
	switch {
	case len(volumeKey) < 1 || len(volumeKey) > maxKeyBytes:
		return nil, fmt.Errorf("luks: a volume key of %d bytes (1..%d)", len(volumeKey), maxKeyBytes)
	case h.KeyBytes > 0 && len(volumeKey) != h.KeyBytes:
		return nil, fmt.Errorf("luks: the volume key has %d bytes, the header's key has %d", len(volumeKey), h.KeyBytes)
	case h.KeyBytes == 0:
		if err := checkCipher(h.Cipher, len(volumeKey)); err != nil {
			return nil, fmt.Errorf("luks: a %d-byte volume key does not fit the cipher %s: %v", len(volumeKey), h.Cipher, err)
		}
	}
	ok, err := verifyDigest(ctx, d, volumeKey)
	if err != nil {
		return nil, fmt.Errorf("luks: digest %d: %w", d.ID, err)
	}
	if !ok {
		return nil, ErrKeyMismatch
	}
	return &Key{VolumeKey: append([]byte(nil), volumeKey...), Slot: -1, Digest: d.ID}, nil
}
