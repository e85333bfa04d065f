package protowire

import (
	"encoding/binary"
	"math"
)

// AppendKey appends a field's key: its number and wire type in one varint.
func AppendKey(b []byte, field, wire int) []byte {
	return binary.AppendUvarint(b, uint64(field)<<3|uint64(wire))
}

// AppendInt appends an int32, int64 or enum field. Negative values take
// ten bytes: the two's complement as a uint64, not zigzagged (that is
// sint64).
func AppendInt(b []byte, field int, v int64) []byte {
	b = AppendKey(b, field, Varint)
	return binary.AppendUvarint(b, uint64(v))
}

// AppendFloat appends a float field (fixed32, little-endian IEEE 754).
func AppendFloat(b []byte, field int, v float32) []byte {
	b = AppendKey(b, field, Fixed32)
	return binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
}

// AppendDouble appends a double field (fixed64, little-endian IEEE 754).
func AppendDouble(b []byte, field int, v float64) []byte {
	b = AppendKey(b, field, Fixed64)
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
}

// AppendBytes appends a bytes or embedded message field whose body is
// already encoded.
func AppendBytes(b []byte, field int, v []byte) []byte {
	b = AppendKey(b, field, Bytes)
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// AppendString appends a string field.
func AppendString(b []byte, field int, s string) []byte {
	b = AppendKey(b, field, Bytes)
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// AppendPackedInts appends a packed repeated int64 field: one key, the
// byte length, then the varints back to back. The length is counted
// first, so the values are written in place with no scratch buffer.
func AppendPackedInts(b []byte, field int, vs []int64) []byte {
	n := 0
	for _, v := range vs {
		n += uvarintLen(uint64(v))
	}
	b = AppendKey(b, field, Bytes)
	b = binary.AppendUvarint(b, uint64(n))
	for _, v := range vs {
		b = binary.AppendUvarint(b, uint64(v))
	}
	return b
}

// AppendPackedDoubles appends a packed repeated double field: one key, the
// byte length, then the values back to back.
func AppendPackedDoubles(b []byte, field int, vs []float64) []byte {
	b = AppendKey(b, field, Bytes)
	b = binary.AppendUvarint(b, uint64(8*len(vs)))
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return b
}

// uvarintLen is the number of bytes binary.AppendUvarint writes for v.
func uvarintLen(v uint64) int {
	n := 1
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}

// lengthRoom is the room BeginMessage reserves for a length: the largest
// varint a body below 4 GiB needs (the five zeros BeginMessage appends).
const lengthRoom = 5

// BeginMessage appends the key of an embedded message field and reserves
// room for its length; EndMessage fills the length in once the body is
// written. This builds nested messages in one buffer; the body is moved
// left when its length needs fewer bytes than reserved, so the encoding
// stays canonical (the same bytes as AppendBytes of the body).
func BeginMessage(b []byte, field int) ([]byte, int) {
	b = AppendKey(b, field, Bytes)
	return append(b, 0, 0, 0, 0, 0), len(b) + lengthRoom
}

// EndMessage completes the message whose body starts at index body (what
// BeginMessage returned) and returns b.
func EndMessage(b []byte, body int) []byte {
	n := len(b) - body
	var lenBuf [binary.MaxVarintLen64]byte
	k := binary.PutUvarint(lenBuf[:], uint64(n))
	start := body - lengthRoom
	copy(b[start:], lenBuf[:k])
	copy(b[start+k:], b[body:])
	return b[:start+k+n]
}
