package md

import (
	"fmt"
	"strings"
)

// LevelName is the level as mdadm names it ("raid5", "linear"); unknown
// levels are "level N".
func LevelName(level int32) string {
	switch level {
	case -1:
		return "linear"
	case 0, 1, 4, 5, 6, 10:
		return fmt.Sprintf("raid%d", level)
	case -4:
		return "multipath"
	case -5:
		return "faulty"
	}
	return fmt.Sprintf("level %d", level)
}

// KnownLevel reports whether the level is one md-raid.md describes.
func KnownLevel(level int32) bool { return !strings.HasPrefix(LevelName(level), "level ") }

var raid5Layouts = map[uint32]string{
	0: "left-asymmetric", 1: "right-asymmetric", 2: "left-symmetric", 3: "right-symmetric",
	4: "parity-first", 5: "parity-last",
}

var raid6Layouts = map[uint32]string{
	0: "left-asymmetric", 1: "right-asymmetric", 2: "left-symmetric", 3: "right-symmetric",
	4: "parity-first", 5: "parity-last",
	8: "ddf-zero-restart", 9: "ddf-N-restart", 10: "ddf-N-continue",
	16: "left-asymmetric-6", 17: "right-asymmetric-6", 18: "left-symmetric-6", 19: "right-symmetric-6",
	20: "parity-first-6",
}

// Raid10Geometry is a decoded raid10 layout number (md-raid.md §6.6).
type Raid10Geometry struct {
	Near, Far int
	Offset    bool
	FarSets   int // 0: far copies rotate over all roles; 1, 2: far-set modes
}

// DecodeRaid10 splits a raid10 layout number; ok is false when reserved
// bits are set.
func DecodeRaid10(layout uint32) (g Raid10Geometry, ok bool) {
	g = Raid10Geometry{Near: int(layout & 0xFF), Far: int(layout >> 8 & 0xFF), Offset: layout&(1<<16) != 0,
		FarSets: int(layout >> 17 & 3)}
	return g, layout>>19 == 0 && g.FarSets != 3
}

// LayoutName names a layout as mdadm prints it ("left-symmetric",
// "near=2", "offset=2", "original"); problem is set when the layout is
// not one md accepts for the level (the array must then be refused).
// features is the 1.x feature_map (for raid0's layout bit), raidDisks n.
func LayoutName(level int32, layout, features, raidDisks uint32) (name, problem string) {
	switch level {
	case 5:
		if s, ok := raid5Layouts[layout]; ok {
			return s, ""
		}
	case 6:
		if s, ok := raid6Layouts[layout]; ok {
			return s, ""
		}
	case 4:
		if layout == 0 {
			return "", ""
		}
		if layout == 5 {
			return "parity-last", ""
		}
	case 10:
		g, ok := DecodeRaid10(layout)
		if !ok {
			break
		}
		var parts []string
		if g.Near > 1 || g.Far <= 1 {
			parts = append(parts, fmt.Sprintf("near=%d", g.Near))
		}
		if g.Far > 1 {
			if g.Offset {
				parts = append(parts, fmt.Sprintf("offset=%d", g.Far))
			} else {
				parts = append(parts, fmt.Sprintf("far=%d", g.Far))
			}
		}
		name = strings.Join(parts, ", ")
		if g.FarSets != 0 {
			name += fmt.Sprintf(", far-sets mode %d", g.FarSets)
		}
		copies := g.Near * g.Far
		if g.Near == 0 || g.Far == 0 || copies < 2 || uint64(copies) > uint64(raidDisks) {
			return name, fmt.Sprintf("raid10 layout %#x: %d copies on %d roles", layout, copies, raidDisks)
		}
		return name, ""
	case 0:
		if features&FeatureRaid0Layout == 0 {
			return "", "" // not recorded: the kernel treats it as unset
		}
		switch layout {
		case 1:
			return "original", ""
		case 2:
			return "alternate", ""
		}
	case 1, -1, -4, -5:
		return "", ""
	default:
		return "", fmt.Sprintf("unknown level %d", level)
	}
	return fmt.Sprintf("layout %d", layout), fmt.Sprintf("unknown %s layout %d (%#x)", LevelName(level), layout, layout)
}
