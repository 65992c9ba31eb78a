package scan

import "hash/crc32"

// InitialCRC is the register value LVM starts every checksum with.
const InitialCRC uint32 = 0xF597A6CF

// CRC computes LVM's checksum: the reflected CRC-32 (polynomial 0xEDB88320)
// started at init with no final inversion. Because there is no final
// inversion, CRC(CRC(init, a), b) == CRC(init, a||b).
func CRC(init uint32, data []byte) uint32 {
	return ^crc32.Update(^init, crc32.IEEETable, data)
}
