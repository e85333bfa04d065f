package protowire

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Field is one decoded field: a varint, a fixed64, a fixed32 or a
// length-delimited body.
type Field struct {
	Num  int    // field number, never 0
	Wire int    // wire type: Varint, Fixed64, Bytes or Fixed32
	V    uint64 // the value of a Varint, Fixed64 or Fixed32 field
	B    []byte // the body of a Bytes field, a subslice of the input
}

// Parse splits one message level into its fields, in order. Groups (wire
// types 3 and 4) are an error: neither ONNX nor TensorBoard uses them.
func Parse(b []byte) ([]Field, error) {
	var fs []Field
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, fmt.Errorf("protowire: bad key varint")
		}
		b = b[n:]
		f := Field{Num: int(key >> 3), Wire: int(key & 7)}
		if f.Num == 0 {
			return nil, fmt.Errorf("protowire: field number 0")
		}
		switch f.Wire {
		case Varint:
			v, n := binary.Uvarint(b)
			if n <= 0 {
				return nil, fmt.Errorf("protowire: field %d: bad varint", f.Num)
			}
			f.V, b = v, b[n:]
		case Fixed64:
			if len(b) < 8 {
				return nil, fmt.Errorf("protowire: field %d: short fixed64", f.Num)
			}
			f.V, b = binary.LittleEndian.Uint64(b), b[8:]
		case Fixed32:
			if len(b) < 4 {
				return nil, fmt.Errorf("protowire: field %d: short fixed32", f.Num)
			}
			f.V, b = uint64(binary.LittleEndian.Uint32(b)), b[4:]
		case Bytes:
			l, n := binary.Uvarint(b)
			if n <= 0 || l > uint64(len(b)-n) {
				return nil, fmt.Errorf("protowire: field %d: bad length", f.Num)
			}
			f.B, b = b[n:n+int(l)], b[n+int(l):]
		default:
			return nil, fmt.Errorf("protowire: field %d: wire type %d", f.Num, f.Wire)
		}
		fs = append(fs, f)
	}
	return fs, nil
}

// Each parses b and calls fn on each field in order, stopping at the first
// error. A malformed message calls fn on nothing.
func Each(b []byte, fn func(f Field) error) error {
	fs, err := Parse(b)
	if err != nil {
		return err
	}
	for _, f := range fs {
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

// Want fails unless f has wire type wire.
func (f Field) Want(wire int) error {
	if f.Wire != wire {
		return fmt.Errorf("protowire: field %d: wire type %d, want %d", f.Num, f.Wire, wire)
	}
	return nil
}

// Varints decodes the body of a packed repeated int64 field.
func Varints(b []byte) ([]int64, error) {
	var vs []int64
	for len(b) > 0 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, fmt.Errorf("protowire: bad packed varint")
		}
		vs, b = append(vs, int64(v)), b[n:]
	}
	return vs, nil
}

// RepeatedInts reads one field of a repeated int64: packed (one Bytes
// field, what myelin writes) or one Varint per field (what PyTorch
// writes); a reader must take both and concatenate.
func RepeatedInts(f Field) ([]int64, error) {
	if f.Wire == Varint {
		return []int64{int64(f.V)}, nil
	}
	if f.Wire != Bytes {
		return nil, fmt.Errorf("protowire: field %d: wire type %d for repeated int64", f.Num, f.Wire)
	}
	return Varints(f.B)
}

// Doubles decodes the body of a packed repeated double field.
func Doubles(b []byte) ([]float64, error) {
	if len(b)%8 != 0 {
		return nil, fmt.Errorf("protowire: packed doubles: %d bytes, not a multiple of 8", len(b))
	}
	vs := make([]float64, 0, len(b)/8)
	for i := 0; i < len(b); i += 8 {
		vs = append(vs, math.Float64frombits(binary.LittleEndian.Uint64(b[i:])))
	}
	return vs, nil
}
