package tensorboard

import (
	"encoding/binary"
	"math"
)

// The few protocol buffer encoders the event messages need. Each appends to
// b and returns it, in the manner of strconv.AppendInt, so that an event is
// built in one reused buffer.

// Wire types (protobuf encoding, "Message structure").
const (
	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
	wireFixed32 = 5
)

// appendKey appends a field's key: its number and wire type in one varint.
func appendKey(b []byte, field, wire int) []byte {
	return binary.AppendUvarint(b, uint64(field)<<3|uint64(wire))
}

// appendDouble appends a double field (fixed64, little-endian IEEE 754).
func appendDouble(b []byte, field int, v float64) []byte {
	b = appendKey(b, field, wireFixed64)
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
}

// appendFloat appends a float field (fixed32, little-endian IEEE 754).
func appendFloat(b []byte, field int, v float32) []byte {
	b = appendKey(b, field, wireFixed32)
	return binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
}

// appendInt64 appends an int64 field. Negative values take ten bytes: int64
// is encoded as its two's-complement uint64, not zigzagged (that is sint64).
func appendInt64(b []byte, field int, v int64) []byte {
	b = appendKey(b, field, wireVarint)
	return binary.AppendUvarint(b, uint64(v))
}

// appendString appends a string or bytes field.
func appendString(b []byte, field int, s string) []byte {
	b = appendKey(b, field, wireBytes)
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendPackedDoubles appends a packed repeated double field: one key, the
// byte length, then the values back to back.
func appendPackedDoubles(b []byte, field int, vs []float64) []byte {
	b = appendKey(b, field, wireBytes)
	b = binary.AppendUvarint(b, uint64(8*len(vs)))
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return b
}

// beginMessage appends the key of an embedded message field and reserves
// room for its length; endMessage fills the length in once the body is
// written. The room is the largest varint a body here can need (five bytes,
// up to 4 GiB); the body is moved left when the length is shorter, so the
// encoding stays canonical.
func beginMessage(b []byte, field int) ([]byte, int) {
	b = appendKey(b, field, wireBytes)
	return append(b, 0, 0, 0, 0, 0), len(b) + 5
}

// endMessage completes the message begun at body (the index beginMessage
// returned) and returns b.
func endMessage(b []byte, body int) []byte {
	n := len(b) - body
	var lenBuf [binary.MaxVarintLen64]byte
	k := binary.PutUvarint(lenBuf[:], uint64(n))
	start := body - 5
	copy(b[start:], lenBuf[:k])
	copy(b[start+k:], b[body:])
	return b[:start+k+n]
}
