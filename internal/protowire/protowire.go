// Package protowire encodes and decodes the protocol buffer wire format by
// hand, with the standard library only, so that myelin needs no protobuf
// dependency. It knows fields, not messages: packages onnx and tensorboard
// keep their message layouts (field numbers, nesting) and call these
// helpers for the bytes.
//
// The encoders append to b and return it, in the manner of
// strconv.AppendInt, so that a caller can build a message in one reused
// buffer. The decoder (Parse, Each) reads one message level and fails on
// anything malformed: a truncated varint, a length past the end, a group.
//
// The encoding follows protobuf's "Encoding" guide: a key is the field
// number shifted left three bits OR the wire type, as one varint; int32 and
// int64 are their two's complement as a uint64 (ten bytes when negative),
// not zigzagged, which is sint64's encoding.
package protowire

// Wire types (protobuf encoding, "Message structure").
const (
	Varint  = 0 // int32, int64, uint64, bool, enum
	Fixed64 = 1 // double, fixed64
	Bytes   = 2 // string, bytes, embedded message, packed repeated
	Fixed32 = 5 // float, fixed32
)
