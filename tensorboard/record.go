package tensorboard

import (
	"encoding/binary"
	"hash/crc32"
)

// castagnoli is the CRC-32C table TFRecord uses (the polynomial of iSCSI
// and ext4, with hardware support on amd64 and arm64).
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// maskDelta is added to the rotated CRC; the constant is TFRecord's (and
// LevelDB's, from which the format comes).
const maskDelta = 0xa282ead8

// MaskedCRC returns the CRC-32C of b masked as TFRecord stores it: rotated
// right by 15 bits, plus 0xa282ead8. Masking keeps a CRC computed over data
// that itself holds CRCs from being trivially related to them.
func MaskedCRC(b []byte) uint32 {
	c := crc32.Checksum(b, castagnoli)
	return (c>>15 | c<<17) + maskDelta
}

// appendRecord appends data framed as one TFRecord:
//
//	uint64 length, little-endian
//	uint32 masked CRC-32C of the 8 length bytes
//	data
//	uint32 masked CRC-32C of data
func appendRecord(b, data []byte) []byte {
	start := len(b)
	b = binary.LittleEndian.AppendUint64(b, uint64(len(data)))
	b = binary.LittleEndian.AppendUint32(b, MaskedCRC(b[start:start+8]))
	b = append(b, data...)
	return binary.LittleEndian.AppendUint32(b, MaskedCRC(data))
}
