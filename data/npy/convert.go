package npy

import (
	"fmt"
	"math"
	"strconv"
)

// Len returns the number of elements, the product of Shape (1 for a 0-d
// array), or -1 when a dimension is negative or the product overflows.
func (a *Array) Len() int {
	if a == nil {
		return -1
	}
	n, ok := dataSize(a.Shape, 1)
	if !ok {
		return -1
	}
	return n
}

// check validates a (which may have been built by hand) and returns its
// dtype and element count.
func (a *Array) check() (dtype, int, error) {
	if a == nil {
		return dtype{}, 0, &FormatError{Offset: -1, Field: "array", Want: "an *Array", Got: "nil"}
	}
	d, want := parseDType(a.DType)
	if want != "" {
		return dtype{}, 0, &FormatError{Offset: -1, Field: "descr", Want: want, Got: strconv.Quote(a.DType)}
	}
	if len(a.Shape) > MaxDims {
		return dtype{}, 0, &FormatError{Offset: -1, Field: "shape", Want: fmt.Sprintf("at most %d dimensions", MaxDims), Got: strconv.Itoa(len(a.Shape))}
	}
	nbytes, ok := dataSize(a.Shape, d.size)
	if !ok || nbytes != len(a.Data) {
		return dtype{}, 0, &FormatError{Offset: -1, Field: "data",
			Want: fmt.Sprintf("the data size of shape %v of %s", a.Shape, a.DType),
			Got:  fmt.Sprintf("%d bytes", len(a.Data))}
	}
	return d, nbytes / d.size, nil
}

// visit calls f(c, i) for every element, c its index in C order and i its
// index in the data.
func visit(shape []int, fortran bool, n int, f func(c, i int)) {
	if !fortran || len(shape) < 2 {
		for c := range n {
			f(c, c)
		}
		return
	}
	// In Fortran order the first index varies fastest: element
	// (i0, i1, ...) is at i0 + d0*(i1 + d1*(i2 + ...)).
	k := len(shape)
	stride := make([]int, k)
	s := 1
	for j := range k {
		stride[j] = s
		s *= shape[j]
	}
	idx := make([]int, k)
	i := 0
	for c := range n {
		f(c, i)
		for j := k - 1; j >= 0; j-- {
			idx[j]++
			i += stride[j]
			if idx[j] < shape[j] {
				break
			}
			i -= stride[j] * shape[j]
			idx[j] = 0
		}
	}
}

// Float64s returns the elements converted to float64, in C (row-major)
// order whatever the file's order. 64-bit integers beyond 2^53 are rounded;
// booleans are 0 or 1. It fails only for an Array built by hand with an
// unsupported DType or Data of the wrong size.
func (a *Array) Float64s() ([]float64, error) {
	d, n, err := a.check()
	if err != nil {
		return nil, err
	}
	out := make([]float64, n)
	b, o := a.Data, d.order
	var get func(i int) float64
	switch d.code {
	case "b1":
		get = func(i int) float64 { return float64(min(b[i], 1)) }
	case "u1":
		get = func(i int) float64 { return float64(b[i]) }
	case "i1":
		get = func(i int) float64 { return float64(int8(b[i])) }
	case "u2":
		get = func(i int) float64 { return float64(o.Uint16(b[2*i:])) }
	case "i2":
		get = func(i int) float64 { return float64(int16(o.Uint16(b[2*i:]))) }
	case "u4":
		get = func(i int) float64 { return float64(o.Uint32(b[4*i:])) }
	case "i4":
		get = func(i int) float64 { return float64(int32(o.Uint32(b[4*i:]))) }
	case "f4":
		get = func(i int) float64 { return float64(math.Float32frombits(o.Uint32(b[4*i:]))) }
	case "u8":
		get = func(i int) float64 { return float64(o.Uint64(b[8*i:])) }
	case "i8":
		get = func(i int) float64 { return float64(int64(o.Uint64(b[8*i:]))) }
	case "f8":
		get = func(i int) float64 { return math.Float64frombits(o.Uint64(b[8*i:])) }
	}
	visit(a.Shape, a.FortranOrder, n, func(c, i int) { out[c] = get(i) })
	return out, nil
}

// Float32s returns the elements converted to float32, in C (row-major)
// order whatever the file's order. float64 values and integers that a
// float32 cannot hold exactly are rounded to nearest (float64 values beyond
// its range become ±Inf); booleans are 0 or 1. It fails only for an Array
// built by hand with an unsupported DType or Data of the wrong size.
func (a *Array) Float32s() ([]float32, error) {
	d, n, err := a.check()
	if err != nil {
		return nil, err
	}
	out := make([]float32, n)
	b, o := a.Data, d.order
	if d.kind == 'f' && d.size == 4 && (!a.FortranOrder || len(a.Shape) < 2) {
		for i := range out {
			out[i] = math.Float32frombits(o.Uint32(b[4*i:]))
		}
		return out, nil
	}
	var get func(i int) float32
	switch d.code {
	case "b1":
		get = func(i int) float32 { return float32(min(b[i], 1)) }
	case "u1":
		get = func(i int) float32 { return float32(b[i]) }
	case "i1":
		get = func(i int) float32 { return float32(int8(b[i])) }
	case "u2":
		get = func(i int) float32 { return float32(o.Uint16(b[2*i:])) }
	case "i2":
		get = func(i int) float32 { return float32(int16(o.Uint16(b[2*i:]))) }
	case "u4":
		get = func(i int) float32 { return float32(o.Uint32(b[4*i:])) }
	case "i4":
		get = func(i int) float32 { return float32(int32(o.Uint32(b[4*i:]))) }
	case "f4":
		get = func(i int) float32 { return math.Float32frombits(o.Uint32(b[4*i:])) }
	case "u8":
		get = func(i int) float32 { return float32(o.Uint64(b[8*i:])) }
	case "i8":
		get = func(i int) float32 { return float32(int64(o.Uint64(b[8*i:]))) }
	case "f8":
		get = func(i int) float32 { return float32(math.Float64frombits(o.Uint64(b[8*i:]))) }
	}
	visit(a.Shape, a.FortranOrder, n, func(c, i int) { out[c] = get(i) })
	return out, nil
}
