package md

import (
	"fmt"

	"github.com/lvminspect/lvminspect/model"
	"github.com/lvminspect/lvminspect/scan/container/blockdev"
)

// Structure is the superblock's fields with their byte ranges in the
// member read by Probe (add the member's offset for an image), for the
// hex view; sb_csum carries the checksum check.
func (sb *Superblock) Structure() model.Structure {
	if sb == nil || len(sb.raw) == 0 {
		return model.Structure{}
	}
	if sb.Version == "0.90" {
		return sb.structure090()
	}
	return sb.structure1()
}

func roleText(r int) string {
	switch r {
	case RoleSpare:
		return "spare"
	case RoleFaulty:
		return "faulty"
	case RoleJournal:
		return "journal"
	case RoleReserved:
		return "reserved"
	case RoleUnknown:
		return "unknown"
	}
	return fmt.Sprintf("role %d", r)
}

func (sb *Superblock) structure1() model.Structure {
	f := blockdev.NewFieldBuf("md_superblock_"+sb.Version, sb.raw, sb.Offset, sb.order)
	f.Hex32("magic", 0)
	f.U32("major_version", 4)
	f.Add("feature_map", 8, 4, fmt.Sprintf("%#x%s", sb.FeatureMap, featureText(sb.FeatureMap)))
	f.Hex32("pad0", 12)
	f.Add("set_uuid", 16, 16, sb.UUIDText)
	f.Text("set_name", 32, 32).Value = fmt.Sprintf("%q", sb.Name)
	f.Add("ctime", 64, 8, sb.CTime.Format("2006-01-02 15:04:05.000000 UTC"))
	f.Add("level", 72, 4, fmt.Sprintf("%d (%s)", sb.Level, sb.LevelName))
	f.Add("layout", 76, 4, layoutText(sb))
	f.Add("size", 80, 8, fmt.Sprintf("%d sectors", sb.order.Uint64(sb.raw[80:])))
	f.Add("chunksize", 88, 4, fmt.Sprintf("%d sectors (%d bytes)", sb.order.Uint32(sb.raw[88:]), sb.ChunkSize))
	f.U32("raid_disks", 92)
	switch {
	case sb.PPL:
		f.Add("ppl.offset", 96, 2, fmt.Sprintf("%+d sectors", sb.PPLOffset))
		f.Add("ppl.size", 98, 2, fmt.Sprintf("%d sectors", sb.PPLSize))
	case sb.Bitmap:
		f.Add("bitmap_offset", 96, 4, fmt.Sprintf("%+d sectors", sb.BitmapOffset))
	default:
		f.Add("bitmap_offset", 96, 4, fmt.Sprintf("%+d (no bitmap)", int32(sb.order.Uint32(sb.raw[96:]))))
	}
	f.Add("new_level", 100, 4, fmt.Sprint(int32(sb.order.Uint32(sb.raw[100:]))))
	f.U64("reshape_position", 104)
	f.Add("delta_disks", 112, 4, fmt.Sprint(int32(sb.order.Uint32(sb.raw[112:]))))
	f.U32("new_layout", 116)
	f.U32("new_chunk", 120)
	f.Add("new_offset", 124, 4, fmt.Sprint(int32(sb.order.Uint32(sb.raw[124:]))))
	f.Add("data_offset", 128, 8, fmt.Sprintf("%d sectors", sb.order.Uint64(sb.raw[128:])))
	f.Add("data_size", 136, 8, fmt.Sprintf("%d sectors", sb.order.Uint64(sb.raw[136:])))
	f.Add("super_offset", 144, 8, fmt.Sprintf("%d sectors", sb.order.Uint64(sb.raw[144:])))
	if sb.Role == RoleJournal {
		f.U64("journal_tail", 152)
	} else {
		f.U64("recovery_offset", 152)
	}
	f.U32("dev_number", 160)
	f.U32("cnt_corrected_read", 164)
	f.Add("device_uuid", 168, 16, sb.DevUUIDText)
	f.U8("devflags", 184)
	f.U8("bblog_shift", 185)
	f.Add("bblog_size", 186, 2, fmt.Sprintf("%d sectors", sb.BadBlocks.Size))
	f.Add("bblog_offset", 188, 4, fmt.Sprintf("%+d sectors", sb.BadBlocks.Offset))
	f.Add("utime", 192, 8, sb.UTime.Format("2006-01-02 15:04:05.000000 UTC"))
	f.U64("events", 200)
	if sb.Clean {
		f.Add("resync_offset", 208, 8, "0xffffffffffffffff (in sync)")
	} else {
		f.U64("resync_offset", 208)
	}
	if sb.roleOK {
		f.Checksum("sb_csum", 216, sb.CsumComputed)
	} else {
		f.Hex32("sb_csum", 216)
	}
	f.U32("max_dev", 220)
	f.Raw("pad3", 224, 32)
	if sb.roleOK {
		for i, v := range sb.DevRoles {
			f.Add(fmt.Sprintf("dev_roles[%d]", i), sb1Fixed+2*i, 2, fmt.Sprintf("%#04x (%s)", v, roleText(Role1(v))))
		}
	}
	return f.St
}

func (sb *Superblock) structure090() model.Structure {
	f := blockdev.NewFieldBuf("md_superblock_0.90", sb.raw, sb.Offset, sb.order)
	f.Hex32("md_magic", 0)
	f.U32("major_version", 4)
	f.U32("minor_version", 8)
	f.U32("patch_version", 12)
	f.U32("gvalid_words", 16)
	f.Hex32("set_uuid0", 20)
	f.Add("ctime", 24, 4, sb.CTime.Format("2006-01-02 15:04:05 UTC"))
	f.Add("level", 28, 4, fmt.Sprintf("%d (%s)", sb.Level, sb.LevelName))
	f.Add("size", 32, 4, fmt.Sprintf("%d KiB", sb.order.Uint32(sb.raw[32:])))
	f.U32("nr_disks", 36)
	f.U32("raid_disks", 40)
	f.U32("md_minor", 44)
	f.U32("not_persistent", 48)
	f.Hex32("set_uuid1", 52)
	f.Hex32("set_uuid2", 56)
	f.Hex32("set_uuid3", 60)
	f.Add("utime", 128, 4, sb.UTime.Format("2006-01-02 15:04:05 UTC"))
	f.Add("state", 132, 4, fmt.Sprintf("%#x%s", sb.State, state090Text(sb.State)))
	f.U32("active_disks", 136)
	f.U32("working_disks", 140)
	f.U32("failed_disks", 144)
	f.U32("spare_disks", 148)
	fl := f.Checksum("sb_csum", 152, sb.CsumComputed)
	if sb.ChecksumFolded {
		fl.Check.OK = true
		fl.Value += " (matches only in folded form)"
	}
	f.U64("events", 156)
	f.U64("cp_events", 164)
	f.Hex32("recovery_cp", 172)
	f.U64("reshape_position", 176)
	f.Add("new_level", 184, 4, fmt.Sprint(int32(sb.order.Uint32(sb.raw[184:]))))
	f.Add("delta_disks", 188, 4, fmt.Sprint(int32(sb.order.Uint32(sb.raw[188:]))))
	f.U32("new_layout", 192)
	f.U32("new_chunk", 196)
	f.Add("layout", 256, 4, layoutText(sb))
	f.Add("chunk_size", 260, 4, fmt.Sprintf("%d bytes", sb.ChunkSize))
	f.U32("root_pv", 264)
	f.U32("root_block", 268)
	desc := func(name string, off int, d Disk) {
		f.U32(name+".number", off)
		f.U32(name+".major", off+4)
		f.U32(name+".minor", off+8)
		f.U32(name+".raid_disk", off+12)
		f.Add(name+".state", off+16, 4, fmt.Sprintf("%#x%s (%s)", d.State, disk090Text(d.State), roleText(d.Role())))
	}
	for i, d := range sb.Disks {
		if d != (Disk{}) || i < int(min(sb.NrDisks, sb090Disks)) {
			desc(fmt.Sprintf("disks[%d]", i), 512+128*i, d)
		}
	}
	desc("this_disk", 3968, sb.ThisDisk)
	return f.St
}

func layoutText(sb *Superblock) string {
	s := fmt.Sprint(sb.Layout)
	if sb.Layout > 9 {
		s = fmt.Sprintf("%#x", sb.Layout)
	}
	if sb.LayoutName != "" {
		s += " (" + sb.LayoutName + ")"
	}
	if sb.LayoutError != "" {
		s += " (" + sb.LayoutError + ")"
	}
	return s
}

var featureNames = []string{"bitmap", "recovery", "reshape", "bad blocks", "replacement", "reshape backwards",
	"new offset", "bitmap recovery", "cluster", "journal", "ppl", "multiple ppl", "raid0 layout"}

func featureText(fm uint32) string {
	return bitsText(fm, featureNames)
}

var disk090Names = map[int]string{0: "faulty", 1: "active", 2: "sync", 3: "removed", 9: "write-mostly", 10: "failfast", 18: "journal"}

func disk090Text(st uint32) string {
	names := make([]string, 32)
	for b, n := range disk090Names {
		names[b] = n
	}
	return bitsText(st, names)
}

func state090Text(st uint32) string {
	names := make([]string, 32)
	names[0], names[1], names[5], names[8] = "clean", "errors", "clustered", "bitmap"
	return bitsText(st, names)
}

func bitsText(v uint32, names []string) string {
	if v == 0 {
		return ""
	}
	s := ""
	for b := 0; b < 32; b++ {
		if v&(1<<b) == 0 {
			continue
		}
		if s != "" {
			s += ", "
		}
		if b < len(names) && names[b] != "" {
			s += names[b]
		} else {
			s += fmt.Sprintf("bit %d", b)
		}
	}
	return " (" + s + ")"
}
