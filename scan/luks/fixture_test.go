package luks

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lvminspect/lvminspect/internal/fixture"
)

// fxLUKS is the manifest's luks[] entry of a fixture (with the full
// luksDump text as the test data keeps it).
type fxLUKS struct {
	Name         string `json:"name"`
	Image        string `json:"image"`
	Offset       int64  `json:"offset_bytes"`
	DevSize      int64  `json:"device_size_bytes"`
	Version      int    `json:"version"`
	UUID         string `json:"uuid"`
	Cipher       string `json:"cipher"`
	KeySizeBits  int    `json:"key_size_bits"`
	PayloadOff   int64  `json:"payload_offset_bytes"`
	SectorSize   int    `json:"sector_size"`
	VolumeKeyHex string `json:"volume_key_hex"`
	Keyslots     []struct {
		Slot       int    `json:"slot"`
		Kind       string `json:"kind"`
		Passphrase string `json:"passphrase"`
	} `json:"keyslots"`
	MappingSize int64             `json:"mapping_size_bytes"`
	LuksDump    map[string]string `json:"luks_dump"`
	HeaderJSON  json.RawMessage   `json:"header_json"`
	DumpText    string            `json:"luksDump_txt"`
}

// device is a LUKS device in memory: b, then zeros up to size.
type device struct {
	b    []byte
	size int64
}

func (d *device) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	if off >= d.size {
		return 0, io.EOF
	}
	n := len(p)
	if rem := d.size - off; int64(n) > rem {
		n = int(rem)
	}
	clear(p[:n])
	if off < int64(len(d.b)) {
		copy(p[:n], d.b[off:])
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// fxDev is a fixture's LUKS device: whole (from the shared fixtures) or
// the header bytes of testdata.
type fxDev struct {
	name string
	man  fxLUKS
	dev  *device
	full bool // the whole device, key material of every slot and payload
}

var fxLUKSNames = []string{"luks1-lvm", "luks2-lvm"}

// sharedFixtureDir finds a fixture folder: the repository's
// testdata/fixtures, or the shared fixtures beside the repository.
func sharedFixtureDir(name string) string {
	for _, d := range []string{
		filepath.Join(fixture.Root(), name),
		filepath.Join(fixture.TestdataDir(), "..", "..", "shared", "fixtures", name),
	} {
		if _, err := os.Stat(filepath.Join(d, "disk0.img.gz")); err == nil {
			return d
		}
	}
	return ""
}

func gunzipFile(t testing.TB, p string) []byte {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(z)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func loadTestdataManifest(t testing.TB, name string) fxLUKS {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var m fxLUKS
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// loadHead is the testdata cut of a fixture's LUKS device.
func loadHead(t testing.TB, name string) *fxDev {
	t.Helper()
	m := loadTestdataManifest(t, name)
	b := gunzipFile(t, filepath.Join("testdata", name+".head.gz"))
	return &fxDev{name: name, man: m, dev: &device{b: b, size: m.DevSize}}
}

// loadFull is the whole LUKS device of a shared fixture, nil when the
// fixtures are absent.
func loadFull(t testing.TB, name string) *fxDev {
	t.Helper()
	dir := sharedFixtureDir(name)
	if dir == "" {
		return nil
	}
	var man struct {
		LUKS []fxLUKS `json:"luks"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &man); err != nil {
		t.Fatal(err)
	}
	if len(man.LUKS) != 1 {
		t.Fatalf("%s: %d luks entries", name, len(man.LUKS))
	}
	m := man.LUKS[0]
	m.DumpText = loadTestdataManifest(t, name).DumpText
	if d, err := os.ReadFile(filepath.Join(dir, "luks", m.Name+".luksDump.txt")); err == nil {
		m.DumpText = string(d)
	}
	img := fixture.Gunzip
	data, err := img(filepath.Join(dir, m.Image+".img.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Offset+m.DevSize > int64(len(data)) {
		t.Fatalf("%s: LUKS device %d+%d past the %d-byte image", name, m.Offset, m.DevSize, len(data))
	}
	dev := data[m.Offset : m.Offset+m.DevSize]
	return &fxDev{name: name, man: m, dev: &device{b: dev, size: m.DevSize}, full: true}
}

// fxDevs is every fixture device available: the whole ones when the
// shared fixtures are there, the testdata cuts always.
func fxDevs(t testing.TB) []*fxDev {
	var out []*fxDev
	for _, n := range fxLUKSNames {
		if d := loadFull(t, n); d != nil {
			out = append(out, d)
		}
		out = append(out, loadHead(t, n))
	}
	return out
}

func (d *fxDev) String() string {
	if d.full {
		return d.name
	}
	return d.name + "(testdata)"
}

func mustProbe(t testing.TB, d *device) *Header {
	t.Helper()
	h, err := Probe(d, d.size)
	if err != nil {
		t.Fatalf("Probe: %v", err)
	}
	return h
}

var (
	dumpLine = regexp.MustCompile(`^(\s*)([A-Za-z0-9][A-Za-z0-9 ]*?):\s*(.*?)\s*$`)
	hexLine  = regexp.MustCompile(`^\s+((?:[0-9a-f]{2} )*[0-9a-f]{2})\s*$`)
)

// parseDump reads luksDump text into keys: LUKS1 "Key Slot 0" and the
// slot's fields as "Key Slot 0.Iterations"; LUKS2 sections as
// "Keyslots.0.PBKDF", "Digests.0.Salt", "Data segments.0.offset", an
// item's type as "Keyslots.0". Hex dumps are joined without spaces.
func parseDump(text string) map[string]string {
	out := map[string]string{}
	var section, item, last string
	for line := range strings.SplitSeq(text, "\n") {
		if m := hexLine.FindStringSubmatch(line); m != nil && last != "" {
			out[last] += strings.ReplaceAll(m[1], " ", "")
			continue
		}
		m := dumpLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		indent, k, v := m[1], m[2], m[3]
		if hexVal := regexp.MustCompile(`^(?:[0-9a-f]{2} )*[0-9a-f]{2}$`); hexVal.MatchString(v) {
			v = strings.ReplaceAll(v, " ", "")
		}
		switch {
		case indent == "" && strings.HasPrefix(k, "Key Slot "):
			section, item = k, ""
			last = k
		case indent == "" && v == "":
			section, item = k, ""
			out[k] = ""
			last = ""
			continue
		case indent == "  ":
			item = k
			last = section + "." + item
		case indent == "":
			section, item = "", ""
			last = k
		default:
			last = section
			if item != "" {
				last += "." + item
			}
			last += "." + k
		}
		out[last] = v
	}
	return out
}

// checkAgainstDump compares a decoded header with what cryptsetup
// luksDump printed for it; it returns the number of values compared.
func checkAgainstDump(t *testing.T, h *Header, text string) int {
	t.Helper()
	dump := parseDump(text)
	n := 0
	eq := func(key, got string) {
		t.Helper()
		want, ok := dump[key]
		if !ok {
			t.Errorf("luksDump has no %q", key)
			return
		}
		n++
		if got != want {
			t.Errorf("%s: decoded %q, luksDump %q", key, got, want)
		}
	}
	bits := func(b int) string { return fmt.Sprintf("%d bits", b*8) }
	eq("Version", strconv.Itoa(h.Version))
	eq("UUID", h.UUID)
	if h.Version == 1 {
		eq("Cipher name", h.CipherName)
		eq("Cipher mode", h.CipherMode)
		eq("Hash spec", h.HashSpec)
		eq("Payload offset", fmt.Sprint(h.PayloadOffset/SectorBytes))
		eq("MK bits", strconv.Itoa(h.KeyBytes*8))
		d := h.Digests[0]
		eq("MK digest", hex.EncodeToString(d.Digest))
		eq("MK salt", hex.EncodeToString(d.Salt))
		eq("MK iterations", fmt.Sprint(d.Iterations))
		for _, ks := range h.Keyslots {
			k := fmt.Sprintf("Key Slot %d", ks.Index)
			if ks.State != "active" {
				eq(k, "DISABLED")
				continue
			}
			eq(k, "ENABLED")
			eq(k+".Iterations", fmt.Sprint(ks.KDF.Iterations))
			eq(k+".Salt", hex.EncodeToString(ks.KDF.Salt))
			eq(k+".Key material offset", fmt.Sprint(ks.AreaOffset/SectorBytes))
			eq(k+".AF stripes", fmt.Sprint(ks.Stripes))
		}
		return n
	}
	orNo := func(s, none string) string {
		if s == "" {
			return none
		}
		return s
	}
	eq("Epoch", fmt.Sprint(h.SeqID))
	eq("Metadata area", fmt.Sprintf("%d [bytes]", h.HdrSize))
	eq("Keyslots area", fmt.Sprintf("%d [bytes]", h.KeyslotsSize))
	eq("Label", orNo(h.Label, "(no label)"))
	eq("Subsystem", orNo(h.Subsystem, "(no subsystem)"))
	eq("Flags", orNo(strings.Join(h.Flags, " "), "(no flags)"))
	for _, s := range h.Segments {
		k := fmt.Sprintf("Data segments.%d", s.ID)
		eq(k, s.Type)
		eq(k+".offset", fmt.Sprintf("%d [bytes]", s.Offset))
		if s.Dynamic {
			eq(k+".length", "(whole device)")
		} else {
			eq(k+".length", fmt.Sprintf("%d [bytes]", s.Size))
		}
		eq(k+".cipher", s.Cipher)
		eq(k+".sector", fmt.Sprintf("%d [bytes]", s.SectorSize))
	}
	prio := []string{"ignored", "normal", "preferred"}
	for _, ks := range h.Keyslots {
		k := fmt.Sprintf("Keyslots.%d", ks.Index)
		if ks.Bound {
			eq(k, ks.Type)
		} else {
			eq(k, ks.Type+" (unbound)")
		}
		eq(k+".Key", bits(ks.KeyBytes))
		eq(k+".Priority", prio[ks.Priority])
		eq(k+".Cipher", ks.Cipher)
		eq(k+".Cipher key", bits(ks.SlotKeyLen))
		eq(k+".PBKDF", ks.KDF.Type)
		if ks.KDF.Type == "pbkdf2" {
			eq(k+".Hash", ks.KDF.Hash)
			eq(k+".Iterations", fmt.Sprint(ks.KDF.Iterations))
		} else {
			eq(k+".Time cost", fmt.Sprint(ks.KDF.Time))
			eq(k+".Memory", fmt.Sprint(ks.KDF.Memory))
			eq(k+".Threads", fmt.Sprint(ks.KDF.CPUs))
		}
		eq(k+".Salt", hex.EncodeToString(ks.KDF.Salt))
		eq(k+".AF stripes", fmt.Sprint(ks.Stripes))
		eq(k+".AF hash", ks.AFHash)
		eq(k+".Area offset", fmt.Sprintf("%d [bytes]", ks.AreaOffset))
		eq(k+".Area length", fmt.Sprintf("%d [bytes]", ks.AreaSize))
		eq(k+".Digest ID", fmt.Sprint(ks.Digest))
	}
	for _, tk := range h.Tokens {
		eq(fmt.Sprintf("Tokens.%d", tk.ID), tk.Type)
	}
	for _, d := range h.Digests {
		k := fmt.Sprintf("Digests.%d", d.ID)
		eq(k, d.Type)
		eq(k+".Hash", d.Hash)
		eq(k+".Iterations", fmt.Sprint(d.Iterations))
		eq(k+".Salt", hex.EncodeToString(d.Salt))
		eq(k+".Digest", hex.EncodeToString(d.Digest))
	}
	return n
}

func TestFixtureHeaders(t *testing.T) {
	for _, fx := range fxDevs(t) {
		t.Run(fx.String(), func(t *testing.T) {
			h := mustProbe(t, fx.dev)
			m := fx.man
			if h.Version != m.Version || h.UUID != m.UUID || h.Cipher != m.Cipher || h.KeyBytes*8 != m.KeySizeBits ||
				h.PayloadOffset != m.PayloadOff || h.SectorSize != m.SectorSize {
				t.Errorf("decoded v%d %s %s %d bits, payload %d, sector %d; manifest v%d %s %s %d bits, payload %d, sector %d",
					h.Version, h.UUID, h.Cipher, h.KeyBytes*8, h.PayloadOffset, h.SectorSize,
					m.Version, m.UUID, m.Cipher, m.KeySizeBits, m.PayloadOff, m.SectorSize)
			}
			if got := h.PayloadSize(m.DevSize); got != m.MappingSize {
				t.Errorf("PayloadSize %d, mapping %d", got, m.MappingSize)
			}
			if h.IVSector(4096) != 8 || h.IVTweak != 0 {
				t.Errorf("IVSector(4096) %d, iv tweak %d", h.IVSector(4096), h.IVTweak)
			}
			if h.Refused != "" || len(h.Problems) != 0 || len(h.Warnings) != 0 {
				t.Errorf("refused %q, problems %q, warnings %q", h.Refused, h.Problems, h.Warnings)
			}
			// Every value of the manifest's luks_dump (the first line of
			// each luksDump entry) is in the luksDump text compared below.
			text := parseDump(m.DumpText)
			for k, v := range m.LuksDump {
				v = strings.ReplaceAll(v, " ", "")
				found := false
				for tk, tv := range text {
					if (tk == k || strings.HasSuffix(tk, "."+k)) && strings.HasPrefix(strings.ReplaceAll(tv, " ", ""), v) {
						found = true
					}
				}
				if !found {
					t.Errorf("manifest luks_dump %q = %q is not in the luksDump text", k, v)
				}
			}
			n := checkAgainstDump(t, h, m.DumpText)
			if n < 20 {
				t.Errorf("only %d luksDump values compared", n)
			}
			if h.Version == 2 {
				var want, got any
				if err := json.Unmarshal(m.HeaderJSON, &want); err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal([]byte(h.JSON()), &got); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("JSON area differs from the manifest's header_json:\n%s", h.JSON())
				}
				if len(h.Copies) != 2 || !h.Copies[0].Valid || !h.Copies[1].Valid || !h.Copies[0].Used || h.Copies[1].Offset != 16384 {
					t.Errorf("copies %+v", h.Copies)
				}
				// luks.md §9.3.
				if h.Copies[0].CsumComputed[:64] != "bb393e96e92f25929b8f7dae9e31868801474462b196aea40c72e1119d8754aa" {
					t.Errorf("primary checksum %s", h.Copies[0].CsumComputed)
				}
			}
			checkStructures(t, h)
		})
	}
}

// checkStructures: every field lies in its structure, the structures in
// the device, checksums carry their check and pass on a good header.
func checkStructures(t *testing.T, h *Header) {
	t.Helper()
	sts := h.Structures()
	if len(sts) == 0 {
		t.Fatal("no structures")
	}
	names := map[string]bool{}
	for _, st := range sts {
		if st.Off < 0 || st.Off+int64(st.Len) > h.DeviceSize {
			t.Errorf("%s at %d+%d outside the device", st.Name, st.Off, st.Len)
		}
		prev := st.Off
		for _, f := range st.Fields {
			names[st.Name+"."+f.Name] = true
			if f.Off < prev || f.Off+int64(f.Len) > st.Off+int64(st.Len) || f.Len <= 0 {
				t.Errorf("%s.%s at %d+%d out of order or outside %d+%d", st.Name, f.Name, f.Off, f.Len, st.Off, st.Len)
			}
			prev = f.Off + int64(f.Len)
			if f.Check != nil && !f.Check.OK && h.Refused == "" && len(h.Problems) == 0 {
				t.Errorf("%s.%s: check fails on a good header: %+v", st.Name, f.Name, f.Check)
			}
		}
		if prev != st.Off+int64(st.Len) && !strings.Contains(st.Name, "keyslot_area") {
			t.Errorf("%s: fields end at %d, the structure at %d", st.Name, prev, st.Off+int64(st.Len))
		}
	}
	want := []string{"luks1_phdr.mk-digest", "luks1_keyslots.key_slot[7].stripes"}
	if h.Version == 2 {
		want = []string{"luks2_header_primary.csum", "luks2_header_secondary.csum", "luks2_json_primary.json", "luks2_header_primary.hdr_offset"}
	}
	for _, w := range want {
		if !names[w] {
			t.Errorf("no field %s", w)
		}
	}
	if h.Version == 2 {
		for _, st := range sts {
			for _, f := range st.Fields {
				if f.Name == "csum" && f.Check == nil {
					t.Errorf("%s.csum has no check", st.Name)
				}
				if st.Name == "luks2_json_primary" && f.Name == "json" && f.Value != h.JSON() {
					t.Errorf("json field %q", f.Value)
				}
			}
		}
	}
}

func TestFixtureUnlock(t *testing.T) {
	for _, fx := range fxDevs(t) {
		t.Run(fx.String(), func(t *testing.T) {
			h := mustProbe(t, fx.dev)
			m := fx.man
			if h.Version == 1 && !fx.full {
				// The testdata cut has no key material: the volume key
				// check alone.
				checkVolumeKey(t, h, m.VolumeKeyHex)
				return
			}
			for _, ks := range m.Keyslots {
				start := time.Now()
				key, err := Unlock(h, fx.dev, fx.dev.size, []byte(ks.Passphrase), UnlockOptions{Slot: AllSlots})
				good := time.Since(start)
				if err != nil {
					t.Fatalf("slot %d: %v", ks.Slot, err)
				}
				if hex.EncodeToString(key.VolumeKey) != m.VolumeKeyHex || key.Slot != ks.Slot || len(key.Attempts) != 1 {
					t.Errorf("slot %d: opened slot %d, attempts %+v, key matches %v", ks.Slot, key.Slot, key.Attempts, hex.EncodeToString(key.VolumeKey) == m.VolumeKeyHex)
				}
				checkRedacted(t, key)
				key.Wipe()
				// luks.md §9.4: the passphrase with a trailing newline
				// opens nothing, as fast as the KDF allows.
				start = time.Now()
				_, err = Unlock(h, fx.dev, fx.dev.size, []byte(ks.Passphrase+"\n"), UnlockOptions{Slot: AllSlots})
				bad := time.Since(start)
				var nse *NoSlotError
				if !errors.As(err, &nse) || nse.Tried != 1 || len(nse.Refused) != 0 || err.Error() != "no key slot opened (tried 1)" {
					t.Errorf("wrong passphrase: %v", err)
				}
				if bad > 3*good+time.Second {
					t.Errorf("wrong passphrase took %v, the right one %v", bad, good)
				}
				if strings.Contains(err.Error(), ks.Passphrase) {
					t.Error("the error shows the passphrase")
				}
			}
			checkVolumeKey(t, h, m.VolumeKeyHex)
			if fx.full {
				checkPayload(t, h, fx)
			}
		})
	}
}

func checkVolumeKey(t *testing.T, h *Header, vkHex string) {
	t.Helper()
	vk, _ := hex.DecodeString(vkHex)
	key, err := UnlockVolumeKey(h, vk)
	if err != nil || !bytes.Equal(key.VolumeKey, vk) || key.Slot != -1 {
		t.Fatalf("UnlockVolumeKey: %v", err)
	}
	// luks.md §9.4: the last byte changed.
	vk[len(vk)-1] ^= 1
	if _, err := UnlockVolumeKey(h, vk); !errors.Is(err, ErrKeyMismatch) || err.Error() != "volume key does not match the header digest" {
		t.Errorf("changed volume key: %v", err)
	}
	if _, err := UnlockVolumeKey(h, vk[:32]); err == nil {
		t.Error("a short volume key is accepted")
	}
}

// checkPayload decrypts the payload's first 4096 bytes with the volume
// key (luks.md §9.2, §9.3): sector 1 holds the LVM label.
func checkPayload(t *testing.T, h *Header, fx *fxDev) {
	t.Helper()
	vk, _ := hex.DecodeString(fx.man.VolumeKeyHex)
	c, err := h.newCipher(h.Cipher, vk, h.SectorSize)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Wipe()
	b := make([]byte, 4096)
	if err := readFull(fx.dev, b, h.PayloadOffset); err != nil {
		t.Fatal(err)
	}
	if err := c.Decrypt(b, h.IVSector(0)); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"luks1-lvm": "97ea3ba3c0a1e091e705d5ab99d02b34d86109a7adc4f90c45c31a5b972e1242",
		"luks2-lvm": "e38e9af5e4ed8ebbceb471e93b4a6643c08b4ba790ec81d65b37af9d0e4678e4",
	}[fx.name]
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != want || string(b[512:520]) != "LABELONE" {
		t.Errorf("decrypted payload: sha256 %x, sector 1 starts %q", sum, b[512:520])
	}
}
