package onnx

import (
	"encoding/binary"
	"math"
)

// The protocol buffer encoders an ONNX model needs, written by hand with
// the standard library as package tensorboard does, so that myelin has no
// protobuf dependency. Each appends to b and returns it, like
// strconv.AppendInt. Field numbers are those of onnx.proto; a message is
// encoded by encoding its body into its own slice first and appending that
// with appendBytes, which is simpler than back-patching a length and costs
// nothing that matters for a file written once.

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

// appendInt appends an int32 or int64 field. Negative values take ten
// bytes: the two's complement as a uint64, not zigzagged (that is sint64).
func appendInt(b []byte, field int, v int64) []byte {
	b = appendKey(b, field, wireVarint)
	return binary.AppendUvarint(b, uint64(v))
}

// appendFloat appends a float field (fixed32, little-endian IEEE 754).
func appendFloat(b []byte, field int, v float32) []byte {
	b = appendKey(b, field, wireFixed32)
	return binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
}

// appendBytes appends a string, bytes or embedded message field.
func appendBytes(b []byte, field int, v []byte) []byte {
	b = appendKey(b, field, wireBytes)
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// appendString appends a string field.
func appendString(b []byte, field int, s string) []byte {
	b = appendKey(b, field, wireBytes)
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendPackedInts appends a packed repeated int64 field: one key, the
// byte length, then the varints back to back.
func appendPackedInts(b []byte, field int, vs []int64) []byte {
	var body []byte
	for _, v := range vs {
		body = binary.AppendUvarint(body, uint64(v))
	}
	return appendBytes(b, field, body)
}
