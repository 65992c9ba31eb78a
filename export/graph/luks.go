package graph

import (
	"errors"
	"fmt"
	"strings"

	"github.com/lvminspect/lvminspect/scan"
	"github.com/lvminspect/lvminspect/scan/luks"
	"github.com/lvminspect/lvminspect/scan/luks/crypt"
)

// luksState is what the LUKS layer keeps from one round of Expand to the
// next: the LUKS devices already handled.
type luksState struct {
	done map[*scan.Node]bool
}

// luksDevices lists the devices found so far that hold a LUKS header.
func luksDevices(res *scan.Result) []*scan.Node {
	var out []*scan.Node
	for _, ir := range res.Inputs {
		if ir.Node != nil && ir.Node.LUKS != nil && ir.Node.Kind != scan.KindLUKS {
			out = append(out, ir.Node)
		}
		for _, p := range ir.PartNodes {
			if p.LUKS != nil {
				out = append(out, p)
			}
		}
	}
	return out
}

// unlockLUKS makes a device of kind luks for every LUKS device found
// since the last round (ID: the LUKS device's id and ".luks"), and tries
// what keys holds on it: the volumes it unlocks are returned as new
// inputs, their payload decrypted. A volume left locked is in the graph
// with the reason.
func unlockLUKS(res *scan.Result, st *luksState, keys *luks.Keyring) []*scan.Input {
	if st.done == nil {
		st.done = map[*scan.Node]bool{}
	}
	var added []*scan.Input
	for _, n := range luksDevices(res) {
		if st.done[n] {
			continue
		}
		st.done[n] = true
		h := n.LUKS
		node := &scan.Node{ID: n.ID + ".luks", Kind: scan.KindLUKS, Parents: []string{n.ID}, LUKS: h,
			Label: "LUKS volume " + n.ID, Depth: n.Depth, LVKeys: n.LVKeys}
		node.Size = max(0, h.PayloadSize(n.Size))
		res.LUKSNodes = append(res.LUKSNodes, node)
		prob := func(sev scan.Severity, format string, a ...any) {
			node.Problems = append(node.Problems, scan.Problem{Severity: sev, Path: node.Label, Msg: fmt.Sprintf(format, a...)})
		}
		if h.Refused != "" {
			prob(scan.SevError, "not opened: %s", h.Refused)
			continue
		}
		size := h.PayloadSize(n.Size)
		if size <= 0 || h.PayloadOffset < 0 || h.PayloadOffset > n.Size-size {
			prob(scan.SevError, "not opened: the payload [%d, +%d) does not lie within the device (%d bytes)", h.PayloadOffset, size, n.Size)
			continue
		}
		key, why := unlockOne(n, h, keys)
		if key == nil {
			if why != "" {
				prob(scan.SevError, "%s", why)
			} else {
				prob(scan.SevInfo, "locked: give its passphrase (asked at a terminal), --key-file or --volume-key-file to read the PV inside")
			}
			continue
		}
		c, err := crypt.New(h.Cipher, key.VolumeKey, h.SectorSize)
		key.Wipe()
		if err != nil {
			prob(scan.SevError, "unlocked with key slot %d, but the payload cannot be decrypted: %v", key.Slot, err)
			continue
		}
		d, err := crypt.NewDevice(n.Device(), h.PayloadOffset, size, c, h.IVSector(0), node.ID)
		if err != nil {
			c.Wipe()
			prob(scan.SevError, "unlocked, but: %v", err)
			continue
		}
		node.Unlock = key
		added = append(added, scan.NewDeviceInput(node, d))
	}
	return added
}

// unlockOne tries what keys holds for device n, then asks (keys.Ask) up
// to luks.MaxAsks times. It returns the key, or why none opened ("" when
// nothing was given or asked).
func unlockOne(n *scan.Node, h *luks.Header, keys *luks.Keyring) (*luks.Key, string) {
	if keys == nil {
		return nil, ""
	}
	opt := luks.UnlockOptions{Slot: keys.Slot, MaxMemoryKiB: keys.MaxMemoryKiB}
	cands := keys.For(n.ID)
	defer luks.WipeCandidates(cands)
	tried, slots := 0, 0
	var whys []string
	try := func(c luks.Candidate) *luks.Key {
		tried++
		var key *luks.Key
		var err error
		if c.VolumeKey {
			key, err = luks.UnlockVolumeKey(h, c.Bytes)
		} else {
			key, err = luks.Unlock(h, n.Device(), n.Size, c.Bytes, opt)
		}
		if err == nil {
			return key
		}
		var ns *luks.NoSlotError
		if errors.As(err, &ns) {
			slots = max(slots, ns.Tried)
			for _, r := range ns.Refused {
				whys = appendOnce(whys, r)
			}
			return nil
		}
		whys = appendOnce(whys, fmt.Sprintf("%s: %v", c.Source, err))
		return nil
	}
	for _, c := range cands {
		if key := try(c); key != nil {
			return key, ""
		}
	}
	if keys.Ask != nil && len(cands) == 0 {
		for range luks.MaxAsks {
			b, err := keys.Ask(n.ID, n.Label, tried)
			if err != nil || b == nil {
				break
			}
			key := try(luks.Candidate{Bytes: b, Source: "the passphrase typed"})
			luks.WipeCandidates([]luks.Candidate{{Bytes: b}})
			if key != nil {
				return key, ""
			}
		}
	}
	if tried == 0 {
		return nil, ""
	}
	why := fmt.Sprintf("locked: no key slot opened (tried %d) with %s given", slots, countText(tried, "secret", "secrets"))
	if len(whys) > 0 {
		why += "; " + strings.Join(whys, "; ")
	}
	return nil, why
}

func countText(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
