package luks

import (
	"encoding/json"
	"sync"
)

// Keyring holds what the examiner gave to unlock LUKS volumes:
// passphrases and key files' bytes (secrets, tried on the key slots) and
// volume keys (checked against the digest, no slot needed), each for
// every LUKS device or for one device of the graph (by id). Its printed
// and JSON forms never show a secret; Wipe clears them all.
type Keyring struct {
	mu      sync.Mutex
	secrets []secret
	// Slot is the only key slot tried, or AllSlots.
	Slot int
	// MaxMemoryKiB bounds an Argon2 slot's memory (0: the default).
	MaxMemoryKiB int64
	// Ask, when set, is asked for a passphrase for a LUKS device that
	// nothing given opened (a terminal prompt without echo): label names
	// the device for people, tried counts the secrets tried. It returns
	// nil to give up. Asked at most MaxAsks times per device.
	Ask func(id, label string, tried int) ([]byte, error)
}

// MaxAsks is how many times Keyring.Ask is asked per device.
const MaxAsks = 3

// secret is one thing given: its bytes, the device it is for ("" for
// every device), whether it is a volume key, and where it came from
// (for messages: "--key-file key.txt"; never the bytes).
type secret struct {
	device    string
	b         []byte
	volumeKey bool
	source    string
}

// NewKeyring returns an empty keyring trying every slot.
func NewKeyring() *Keyring { return &Keyring{Slot: AllSlots} }

// AddSecret adds a passphrase or key file's bytes (copied) for the
// device of that id, or for every device when id is "".
func (k *Keyring) AddSecret(id string, b []byte, source string) {
	k.add(secret{device: id, b: append([]byte(nil), b...), source: source})
}

// AddVolumeKey adds a volume key (copied) for the device of that id, or
// for every device when id is "".
func (k *Keyring) AddVolumeKey(id string, b []byte, source string) {
	k.add(secret{device: id, b: append([]byte(nil), b...), volumeKey: true, source: source})
}

func (k *Keyring) add(s secret) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.secrets = append(k.secrets, s)
}

// Empty reports whether nothing was given.
func (k *Keyring) Empty() bool {
	if k == nil {
		return true
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.secrets) == 0
}

// Candidate is one secret to try on a device: Bytes (a copy the caller
// wipes), whether it is a volume key, and where it came from.
type Candidate struct {
	Bytes     []byte
	VolumeKey bool
	Source    string
}

// For lists what to try on the device of that id: its own volume keys and
// secrets first, then those for every device (volume keys before
// secrets: they cost no key derivation).
func (k *Keyring) For(id string) []Candidate {
	if k == nil {
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []Candidate
	for _, pass := range []struct {
		own, vk bool
	}{{true, true}, {true, false}, {false, true}, {false, false}} {
		for _, s := range k.secrets {
			if (s.device == id) == pass.own && (pass.own || s.device == "") && s.volumeKey == pass.vk {
				out = append(out, Candidate{Bytes: append([]byte(nil), s.b...), VolumeKey: s.volumeKey, Source: s.source})
			}
		}
	}
	return out
}

// Wipe clears every secret.
func (k *Keyring) Wipe() {
	if k == nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, s := range k.secrets {
		wipe(s.b)
	}
	k.secrets = nil
}

// String never shows a secret.
func (k *Keyring) String() string { return redacted }

// GoString never shows a secret.
func (k *Keyring) GoString() string { return redacted }

// MarshalJSON never shows a secret.
func (k *Keyring) MarshalJSON() ([]byte, error) { return json.Marshal(redacted) }

// WipeCandidates clears the bytes of candidates For returned.
func WipeCandidates(cs []Candidate) {
	for _, c := range cs {
		wipe(c.Bytes)
	}
}

// Forget wipes and drops the secrets given for the device of that id from
// that source (a passphrase typed in the inspector that opened nothing:
// not derived again at every later scan).
func (k *Keyring) Forget(id, source string) {
	if k == nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	kept := k.secrets[:0]
	for _, s := range k.secrets {
		if s.device == id && s.source == source {
			wipe(s.b)
			continue
		}
		kept = append(kept, s)
	}
	clear(k.secrets[len(kept):])
	k.secrets = kept
}
