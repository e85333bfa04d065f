// Package idx reads and writes the IDX file format, the format of Yann
// LeCun's MNIST files and of datasets built after them (Fashion-MNIST,
// EMNIST, KMNIST).
//
// An IDX file is a 4-byte magic number 0x00 0x00 <type code> <ndims>,
// then ndims big-endian uint32 dimension sizes, then the payload: the
// elements in row-major order, big-endian. Read decompresses gzip input
// transparently, so the .gz files that are usually distributed can be read
// as they are.
//
// Read is strict: it rejects a bad magic number, an unknown type code, zero
// or more than MaxDims dimensions, dimensions whose product overflows or
// exceeds MaxBytes, a truncated payload, trailing bytes after the payload and
// corrupt gzip streams. Every such error is a *FormatError that matches
// ErrFormat with errors.Is. The payload is read incrementally, so a header
// that claims more data than the input holds never causes a large
// allocation: the payload's buffer is at most eight times the bytes that
// arrived, or 1 MiB.
package idx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"
)

// Type is the element type code of an IDX file, the third byte of its magic
// number.
type Type byte

// The element types of the IDX format.
const (
	Uint8   Type = 0x08 // unsigned byte
	Int8    Type = 0x09 // signed byte
	Int16   Type = 0x0B // big-endian int16
	Int32   Type = 0x0C // big-endian int32
	Float32 Type = 0x0D // big-endian IEEE 754 float32
	Float64 Type = 0x0E // big-endian IEEE 754 float64
)

// Limits that Read enforces on a header before it reads the payload.
const (
	// MaxDims is the largest number of dimensions Read accepts.
	MaxDims = 8
	// MaxBytes is the largest payload, in bytes, Read accepts (4 GiB;
	// less on 32-bit platforms, where the limit is math.MaxInt).
	MaxBytes = 1 << 32
)

// String returns the Go name of the element type, e.g. "uint8", or
// "Type(0x42)" for an unknown code.
func (t Type) String() string {
	switch t {
	case Uint8:
		return "uint8"
	case Int8:
		return "int8"
	case Int16:
		return "int16"
	case Int32:
		return "int32"
	case Float32:
		return "float32"
	case Float64:
		return "float64"
	}
	return fmt.Sprintf("Type(%#02x)", byte(t))
}

// Size returns the size of one element in bytes, or 0 for an unknown type.
func (t Type) Size() int {
	switch t {
	case Uint8, Int8:
		return 1
	case Int16:
		return 2
	case Int32, Float32:
		return 4
	case Float64:
		return 8
	}
	return 0
}

// Array is the content of an IDX file.
type Array struct {
	Type Type   // element type
	Dims []int  // dimension sizes, outermost first
	Data []byte // the payload as stored in the file: row-major, big-endian
}

// ErrFormat is matched (with errors.Is) by every error that reports
// malformed IDX input.
var ErrFormat = errors.New("idx: invalid format")

// FormatError describes malformed IDX input. It matches ErrFormat.
type FormatError struct {
	Path   string // file name; empty when reading from an io.Reader
	Offset int64  // byte offset of Field in the (decompressed) IDX stream; for "gzip", how far decompression got
	Field  string // what was being read: "magic", "type", "ndims", "dims[1]", "payload", "gzip", ...
	Want   string // what the format requires
	Got    string // what the input holds
}

// Error names the path (when known), the offset, the field, and what was
// wanted and found.
func (e *FormatError) Error() string {
	var b strings.Builder
	b.WriteString("idx: ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "offset %d: %s: want %s, got %s", e.Offset, e.Field, e.Want, e.Got)
	return b.String()
}

// Unwrap returns ErrFormat.
func (e *FormatError) Unwrap() error { return ErrFormat }

// Len returns the number of elements, the product of Dims. It returns 0 for
// an Array without dimensions, and -1 when the product overflows an int or
// a dimension is negative.
func (a *Array) Len() int {
	if a == nil || len(a.Dims) == 0 {
		return 0
	}
	for _, d := range a.Dims {
		if d < 0 {
			return -1
		}
	}
	if slices.Contains(a.Dims, 0) {
		return 0
	}
	n := uint64(1)
	for _, d := range a.Dims {
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt {
			return -1
		}
		n = lo
	}
	return int(n)
}

// Float32s converts every element to float32, in row-major order. Integer
// elements keep their value (int32 values beyond 2^24 are rounded), float64
// elements are rounded to the nearest float32. An Array returned by Read
// always holds exactly Len() elements; for an Array built by hand only the
// whole elements present in Data are converted, and an unknown Type gives
// nil.
func (a *Array) Float32s() []float32 {
	if a == nil {
		return nil
	}
	size := a.Type.Size()
	if size == 0 {
		return nil
	}
	n := len(a.Data) / size
	if l := a.Len(); l >= 0 && l < n {
		n = l
	}
	out := make([]float32, n)
	d := a.Data[:n*size]
	switch a.Type {
	case Uint8:
		for i, v := range d {
			out[i] = float32(v)
		}
	case Int8:
		for i, v := range d {
			out[i] = float32(int8(v))
		}
	case Int16:
		for i := range out {
			out[i] = float32(int16(binary.BigEndian.Uint16(d[2*i:])))
		}
	case Int32:
		for i := range out {
			out[i] = float32(int32(binary.BigEndian.Uint32(d[4*i:])))
		}
	case Float32:
		for i := range out {
			out[i] = math.Float32frombits(binary.BigEndian.Uint32(d[4*i:]))
		}
	case Float64:
		for i := range out {
			out[i] = float32(math.Float64frombits(binary.BigEndian.Uint64(d[8*i:])))
		}
	}
	return out
}
