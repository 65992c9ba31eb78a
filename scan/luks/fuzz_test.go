package luks

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"testing"
	"time"
)

// checkFuzzed: Structures, JSON and Unlock (within tight bounds) never
// panic; fields lie in their structures, tables stay bounded.
func checkFuzzed(t *testing.T, d *device) {
	h, _ := Probe(d, d.size)
	if h == nil {
		return
	}
	for _, st := range h.Structures() {
		if st.Off < 0 || st.Len < 0 || st.Off+int64(st.Len) > d.size {
			t.Fatalf("structure %s at %d+%d outside the %d-byte device", st.Name, st.Off, st.Len, d.size)
		}
		for _, f := range st.Fields {
			if f.Off < st.Off || f.Len < 0 || f.Off+int64(f.Len) > st.Off+int64(st.Len) {
				t.Fatalf("field %s.%s at %d+%d outside %d+%d", st.Name, f.Name, f.Off, f.Len, st.Off, st.Len)
			}
		}
	}
	if _, err := json.Marshal(h); err != nil {
		t.Fatal(err)
	}
	if len(h.Keyslots) > maxObjects || len(h.Digests) > maxObjects || len(h.Segments) > maxObjects ||
		len(h.Tokens) > maxObjects || len(h.Problems) > maxMessages || len(h.Warnings) > maxMessages || len(h.Refused) > 8192 {
		t.Fatalf("unbounded: %d slots, %d problems, %d warnings", len(h.Keyslots), len(h.Problems), len(h.Warnings))
	}
	_ = h.PayloadSize(d.size)
	// Unlock's reads, ciphers and merges on hostile headers, with the KDF
	// costs cut down: the fuzzer's instrumented hashing is slow, and the
	// cost bounds have tests of their own.
	for i := range h.Keyslots {
		h.Keyslots[i].KDF.Iterations = min(h.Keyslots[i].KDF.Iterations, 16)
	}
	for i := range h.Digests {
		h.Digests[i].Iterations = min(h.Digests[i].Iterations, 16)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	opt := UnlockOptions{Slot: AllSlots, MaxMemoryKiB: 1024, MaxArgon2Work: 4096, Context: ctx}
	if k, err := Unlock(h, d, d.size, []byte("x"), opt); err == nil {
		k.Wipe()
	}
	if k, err := UnlockVolumeKeyContext(ctx, h, make([]byte, min(max(h.KeyBytes, 1), 2*maxKeyBytes))); err == nil {
		k.Wipe()
	}
}

func FuzzLUKS1Header(f *testing.F) {
	f.Add(loadHead(f, "luks1-lvm").dev.b[:luks1HdrSize], uint16(4096))
	v := &hmVol{version: 1, key: seqBytes(32), slots: []hmSlot{{id: 1, pass: "x", iter: 2}}}
	dv := v.build1(f)
	f.Add(dv.b[:luks1HdrSize], uint16(dv.size/512))
	f.Fuzz(func(t *testing.T, data []byte, sectors uint16) {
		if len(data) > 8192 {
			return
		}
		b := make([]byte, max(len(data), luks1HdrSize))
		copy(b, data)
		copy(b, magic1)
		b[6], b[7] = 0, 1
		checkFuzzed(t, &device{b: b, size: int64(len(b)) + int64(sectors)*512})
	})
}

func FuzzLUKS2Header(f *testing.F) {
	base := loadHead(f, "luks2-lvm").dev
	// The binary header and the start of the JSON text of each copy.
	f.Add(base.b[:4096+800], uint8(1))
	f.Add(base.b[16384:16384+4096+800], uint8(6))
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		if len(data) > 32768 {
			return
		}
		b := make([]byte, len(base.b))
		copy(b, base.b)
		at := 0
		if mode&4 != 0 {
			at = 16384 // over the secondary
		}
		copy(b[at:], data)
		for i, off := range []int64{0, 16384} {
			if mode&(1<<i) == 0 {
				continue
			}
			hs := binary.BigEndian.Uint64(b[off+l2HdrSize:])
			if validHdrSize(int64(hs)) && off+int64(hs) <= int64(len(b)) {
				fixCsum(b, off)
			}
		}
		checkFuzzed(t, &device{b: b, size: base.size})
	})
}

func FuzzLUKS2JSON(f *testing.F) {
	base := loadHead(f, "luks2-lvm").dev
	h, _ := Probe(base, base.size)
	f.Add(h.JSON())
	for _, edit := range []func(m map[string]any){
		func(m map[string]any) { obj(m, "config")["requirements"] = map[string]any{"mandatory": []any{"x"}} },
		func(m map[string]any) {
			obj(m, "keyslots", "0", "kdf")["type"] = "pbkdf2"
			obj(m, "keyslots", "0", "kdf")["hash"] = "sha1"
		},
		func(m map[string]any) {
			obj(m, "keyslots")["1"] = obj(m, "keyslots", "0")
			obj(m, "digests", "0")["keyslots"] = []any{"0", "1"}
		},
		func(m map[string]any) { obj(m, "segments", "0")["size"] = "1048576" },
	} {
		d := editJSON(f, base, edit)
		_, area := copyAt(d.b, 0)
		text, _ := cString(area)
		f.Add(text)
	}
	v := &hmVol{version: 2, slots: []hmSlot{{id: 0, pass: "x", iter: 3}, {id: 2, pass: "y", kdf: "argon2id", mem: 16, time: 1}, {id: 3, pass: "z", unbound: true}}}
	hd := v.build2(f)
	_, area := copyAt(hd.b, 0)
	text, _ := cString(area)
	f.Add(text)
	f.Fuzz(func(t *testing.T, text string) {
		b := make([]byte, len(base.b))
		copy(b, base.b)
		if len(text) >= 12288 {
			text = text[:12287]
		}
		for _, off := range []int64{0, 16384} {
			_, area := copyAt(b, off)
			clear(area)
			copy(area, text)
			fixCsum(b, off)
		}
		checkFuzzed(t, &device{b: b, size: base.size})
	})
}
