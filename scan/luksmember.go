package scan

import (
	"errors"
	"fmt"

	"github.com/lvminspect/lvminspect/scan/content"
	"github.com/lvminspect/lvminspect/scan/device"
	"github.com/lvminspect/lvminspect/scan/luks"
)

// probeLUKS looks for a LUKS header on the device of node n (base is
// where it starts in the input, for messages). A LUKS device has n.LUKS
// set and true returned: there is nothing else to read on it (no PV, no
// partition table: its payload is encrypted); the layer above unlocks it
// when a key is given. A LUKS magic whose header cannot be used is still
// a LUKS device, with the reason as a problem.
func probeLUKS(ir *InputResult, n *Node, d device.Device, base, size int64) bool {
	h, err := luks.Probe(d, size)
	if h == nil {
		if err != nil && !errors.Is(err, luks.ErrNotLUKS) {
			ir.Problems = append(ir.Problems, Problem{Severity: SevWarn, Path: ir.Path, Off: base,
				Structure: "LUKS header", Msg: err.Error()})
		}
		return false
	}
	if n.Kind == KindLUKS {
		// A LUKS volume inside a LUKS volume: the node already stands
		// for the outer one. Said, not opened.
		ir.Problems = append(ir.Problems, Problem{Severity: SevWarn, Path: ir.Path, Off: base,
			Msg: fmt.Sprintf("holds another LUKS%d volume (UUID %s): LUKS inside LUKS is not opened", h.Version, h.UUID)})
		return true
	}
	if err != nil {
		ir.Problems = append(ir.Problems, Problem{Severity: SevError, Path: ir.Path, Off: base,
			Structure: fmt.Sprintf("LUKS%d header", h.Version), Msg: err.Error()})
	}
	n.LUKS = h
	n.Structures = append(n.Structures, h.Structures()...)
	name := fmt.Sprintf("LUKS%d encrypted volume", h.Version)
	n.Content = &content.Info{Format: fmt.Sprintf("luks%d", h.Version), Name: name, Label: h.Label, UUID: h.UUID,
		Hint: "a PV inside is read through the decrypted volume (a device of kind luks, ID.luks) once it is unlocked: --key-file, --volume-key-file, or the passphrase asked at the terminal"}
	return true
}
