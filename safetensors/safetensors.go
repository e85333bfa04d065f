// Package safetensors reads and writes the safetensors file format, a simple
// container for named tensors used by Hugging Face and others.
//
// A safetensors file is:
//
//	8 bytes    N, the header length, a little-endian uint64
//	N bytes    the header: a UTF-8 JSON object, padded with trailing spaces
//	the rest   the data section: the tensors' bytes, little-endian, row-major
//
// The header maps each tensor name to an object
//
//	{"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}
//
// whose offsets are relative to the start of the data section, and may hold
// the key "__metadata__" mapping to an object of string values.
//
// Reading is strict: Parse, Read and ReadFile reject duplicate JSON keys,
// unknown dtypes and fields, sizes that do not match shapes, tensors that
// overlap or leave gaps, and trailing bytes, among other things, with an
// error wrapping ErrFormat. Nothing is allocated in proportion to a size
// claimed by the file before the bytes are actually there.
//
// Writing is canonical: Write sorts tensors by name, lays their data out
// contiguously in that order, writes the header compactly, and pads it with
// spaces so the data section starts at a multiple of 8 bytes.
//
// The package is standalone: it knows nothing of the rest of myelin.
package safetensors

import (
	"encoding/binary"
	"math"
	"math/bits"
	"slices"
)

// DType is a tensor element type, spelled as in the header's "dtype" field.
//
// The constants carry a DType prefix because F32 and F64 name the tensor
// constructors.
type DType string

// The element types of the safetensors format, each with a fixed size in
// bytes given by Size.
const (
	DTypeBOOL   DType = "BOOL"    // boolean, one byte, 0 or 1
	DTypeU8     DType = "U8"      // unsigned 8-bit integer
	DTypeI8     DType = "I8"      // signed 8-bit integer
	DTypeF8E5M2 DType = "F8_E5M2" // 8-bit float, 5 exponent and 2 mantissa bits
	DTypeF8E4M3 DType = "F8_E4M3" // 8-bit float, 4 exponent and 3 mantissa bits
	DTypeI16    DType = "I16"     // signed 16-bit integer
	DTypeU16    DType = "U16"     // unsigned 16-bit integer
	DTypeF16    DType = "F16"     // IEEE 754 half precision
	DTypeBF16   DType = "BF16"    // bfloat16: the upper half of a float32
	DTypeI32    DType = "I32"     // signed 32-bit integer
	DTypeU32    DType = "U32"     // unsigned 32-bit integer
	DTypeF32    DType = "F32"     // IEEE 754 single precision
	DTypeF64    DType = "F64"     // IEEE 754 double precision
	DTypeI64    DType = "I64"     // signed 64-bit integer
	DTypeU64    DType = "U64"     // unsigned 64-bit integer
)

// Size returns the size of one element of type d in bytes, or 0 if d is not
// a known dtype.
func (d DType) Size() int {
	switch d {
	case DTypeBOOL, DTypeU8, DTypeI8, DTypeF8E5M2, DTypeF8E4M3:
		return 1
	case DTypeI16, DTypeU16, DTypeF16, DTypeBF16:
		return 2
	case DTypeI32, DTypeU32, DTypeF32:
		return 4
	case DTypeF64, DTypeI64, DTypeU64:
		return 8
	}
	return 0
}

// Tensor is one named tensor: its element type, its shape (an empty shape
// is a scalar) and its elements as little-endian bytes in row-major order.
// A valid tensor has len(Data) == product(Shape) * DType.Size().
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte
}

// File is the content of a safetensors file.
type File struct {
	// Metadata holds the "__metadata__" strings; nil if the header had none.
	// Write omits an empty map.
	Metadata map[string]string
	// Tensors lists the tensors in file order (by data offset). Write
	// accepts them in any order.
	Tensors []Tensor
}

// Tensor returns the tensor called name and true, or nil and false if f
// has none. The pointer refers into f.Tensors.
func (f *File) Tensor(name string) (*Tensor, bool) {
	if f == nil {
		return nil, false
	}
	for i := range f.Tensors {
		if f.Tensors[i].Name == name {
			return &f.Tensors[i], true
		}
	}
	return nil, false
}

// F32 returns a tensor of dtype F32 holding v, converted to little-endian
// bytes. Shape is copied, and not checked against len(v); Write checks it.
func F32(name string, shape []int, v []float32) Tensor {
	data := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(x))
	}
	return Tensor{Name: name, DType: DTypeF32, Shape: slices.Clone(shape), Data: data}
}

// F64 returns a tensor of dtype F64 holding v, converted to little-endian
// bytes. Shape is copied, and not checked against len(v); Write checks it.
func F64(name string, shape []int, v []float64) Tensor {
	data := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(data[8*i:], math.Float64bits(x))
	}
	return Tensor{Name: name, DType: DTypeF64, Shape: slices.Clone(shape), Data: data}
}

// Float32s returns the elements of a floating-point tensor as float32s:
// F32 as is, F64 rounded to the nearest float32 (overflowing to ±Inf),
// F16 and BF16 widened exactly. Other dtypes give a *DTypeError; data that
// does not match the shape gives a *FormatError.
func (t *Tensor) Float32s() ([]float32, error) { return floats[float32](t, "float32") }

// Float64s returns the elements of a floating-point tensor as float64s:
// F64 as is, F32, F16 and BF16 widened exactly. Other dtypes give a
// *DTypeError; data that does not match the shape gives a *FormatError.
func (t *Tensor) Float64s() ([]float64, error) { return floats[float64](t, "float64") }

// floats decodes t's elements and converts each once to T: F32 and F64
// exactly, F16 and BF16 widened exactly to float32, so that the one
// conversion T(x) rounds only F64 to float32.
func floats[T float32 | float64](t *Tensor, to string) ([]T, error) {
	n, err := t.checkFloat(to)
	if err != nil {
		return nil, err
	}
	out := make([]T, n)
	d := t.Data
	switch t.DType {
	case DTypeF32:
		for i := range out {
			out[i] = T(math.Float32frombits(binary.LittleEndian.Uint32(d[4*i:])))
		}
	case DTypeF64:
		for i := range out {
			out[i] = T(math.Float64frombits(binary.LittleEndian.Uint64(d[8*i:])))
		}
	case DTypeF16:
		for i := range out {
			out[i] = T(f16ToF32(binary.LittleEndian.Uint16(d[2*i:])))
		}
	case DTypeBF16:
		for i := range out {
			out[i] = T(math.Float32frombits(uint32(binary.LittleEndian.Uint16(d[2*i:])) << 16))
		}
	}
	return out, nil
}

// checkFloat checks that t is a floating-point tensor whose data matches its
// shape, and returns its number of elements. to names the target type.
func (t *Tensor) checkFloat(to string) (int, error) {
	if t == nil {
		return 0, &FormatError{Offset: -1, Field: "tensor", Want: "a *Tensor to convert to " + to, Got: "nil"}
	}
	switch t.DType {
	case DTypeF32, DTypeF64, DTypeF16, DTypeBF16:
	default:
		return 0, &DTypeError{Name: t.Name, DType: t.DType, To: to}
	}
	nbytes, ferr := tensorBytes(t.Shape, t.DType)
	if ferr != nil {
		ferr.Offset, ferr.Key = -1, t.Name
		return 0, ferr
	}
	if uint64(len(t.Data)) != nbytes {
		return 0, &FormatError{Offset: -1, Key: t.Name, Field: "data",
			Want: sizeWant(t.Shape, t.DType, nbytes), Got: plural(uint64(len(t.Data)), "byte")}
	}
	return int(nbytes) / t.DType.Size(), nil
}

// f16ToF32 converts IEEE 754 half-precision bits to float32, exactly.
func f16ToF32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0 && mant == 0: // ±0
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: mant × 2⁻²⁴, exact in float32
		f := float32(mant) * (1.0 / (1 << 24))
		if sign != 0 {
			f = -f
		}
		return f
	case exp == 0x1f: // ±Inf, NaN (payload kept)
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// tensorBytes returns the byte size of a tensor of the given shape and
// dtype, or a *FormatError (Offset and Key unset) if the dtype is unknown,
// a dimension is negative, or the size overflows an int.
func tensorBytes(shape []int, dtype DType) (uint64, *FormatError) {
	size := dtype.Size()
	if size == 0 {
		return 0, &FormatError{Field: "dtype", Want: "a known dtype", Got: quoteTrunc(string(dtype))}
	}
	n := uint64(size)
	for _, d := range shape {
		if d < 0 {
			return 0, &FormatError{Field: "shape", Want: "non-negative dimensions", Got: shapeString(shape)}
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt {
			return 0, &FormatError{Field: "shape", Want: "a size that fits in an int",
				Got: shapeString(shape) + " × " + plural(uint64(size), "byte") + " overflows"}
		}
		n = lo
	}
	return n, nil
}
