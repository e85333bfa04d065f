package npy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Write writes data as a version 1.0 .npy file of dtype '<f4' in C order
// with the given shape, as NumPy would: the header is padded with spaces so
// that the data starts at a multiple of 64 bytes. An empty shape writes a
// 0-d array of one element. Write fails, writing nothing, when a dimension
// is negative, there are more than MaxDims, or len(data) is not the product
// of shape.
func Write(w io.Writer, shape []int, data []float32) error {
	if w == nil {
		return errors.New("npy: Write: nil io.Writer")
	}
	if len(shape) > MaxDims {
		return &FormatError{Offset: -1, Field: "shape", Want: fmt.Sprintf("at most %d dimensions", MaxDims), Got: strconv.Itoa(len(shape))}
	}
	n, ok := dataSize(shape, 1)
	if !ok || n != len(data) {
		return &FormatError{Offset: -1, Field: "shape", Want: fmt.Sprintf("%d elements for shape %v", n, shape),
			Got: fmt.Sprintf("%d elements", len(data))}
	}
	var b strings.Builder
	b.WriteString("{'descr': '<f4', 'fortran_order': False, 'shape': (")
	for i, d := range shape {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(d))
	}
	if len(shape) == 1 {
		b.WriteByte(',')
	}
	b.WriteString("), }")
	// The data starts at a multiple of 64 bytes: magic (6), version (2),
	// length (2), dict, padding, newline.
	pad := (64 - (10+b.Len()+1)%64) % 64
	hdr := b.String() + strings.Repeat(" ", pad) + "\n"
	pre := make([]byte, 0, 10+len(hdr))
	pre = append(pre, magic...)
	pre = append(pre, 1, 0)
	pre = binary.LittleEndian.AppendUint16(pre, uint16(len(hdr)))
	pre = append(pre, hdr...)
	if _, err := w.Write(pre); err != nil {
		return fmt.Errorf("npy: write: %w", err)
	}
	buf := make([]byte, 0, 4*min(len(data), 16<<10))
	for len(data) > 0 {
		k := min(len(data), cap(buf)/4)
		buf = buf[:0]
		for _, v := range data[:k] {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		}
		if _, err := w.Write(buf); err != nil {
			return fmt.Errorf("npy: write: %w", err)
		}
		data = data[k:]
	}
	return nil
}
