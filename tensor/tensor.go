// Package tensor holds dense, row-major arrays of float32 or float64, and
// read-only uint8 arrays of input data.
//
// Training runs in float32; float64 exists so that gradients can be checked
// against finite differences to 1e-6. Uint8 holds data such as image pixels
// at one byte per element: a uint8 tensor made by FromUint8 stands for the
// float32 values byte/divisor, which is what its accessors return and what
// As converts it to, and it cannot be written. Operations compute in
// float32 or float64 only; model converts uint8 inputs batch by batch.
//
// A Tensor owns one flat slice of its element type and a shape. Shapes are
// checked where tensors meet: a mismatch panics with a *ShapeError naming
// the op and every shape, the way a slice index out of range panics.
// Packages at the door (model, data) turn that panic into an error.
package tensor

// This file holds the Tensor type itself (fields, construction, views,
// conversions), uint8.go what only uint8 tensors have; it is over 400
// lines because each accessor is a few lines, with a case per dtype, and
// they belong together.

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/myelin-go/myelin/internal/kernel"
)

// DType is the element type of a tensor.
type DType uint8

// The element types.
const (
	Float32 DType = iota + 1
	Float64
	Uint8 // read-only input data, each byte standing for byte/divisor (FromUint8)
)

// String returns "float32", "float64" or "uint8".
func (d DType) String() string {
	switch d {
	case Float32:
		return "float32"
	case Float64:
		return "float64"
	case Uint8:
		return "uint8"
	}
	return "dtype(" + strconv.Itoa(int(d)) + ")"
}

// Size returns the number of bytes of one element.
func (d DType) Size() int {
	switch d {
	case Float64:
		return 8
	case Uint8:
		return 1
	}
	return 4
}

// Shape lists the size of each axis, outermost first. The empty shape is a scalar.
type Shape []int

// Len returns the number of elements a tensor of this shape holds.
func (s Shape) Len() int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// Equal reports whether s and o have the same rank and sizes.
func (s Shape) Equal(o Shape) bool {
	if len(s) != len(o) {
		return false
	}
	for i := range s {
		if s[i] != o[i] {
			return false
		}
	}
	return true
}

// EqualUpToTrailingOne reports whether s and o are equal, or equal once a
// trailing axis of size 1 is dropped from the longer one: Keras's rule for
// a target of shape (samples, 1) against a prediction of (samples,), and
// back, in losses and metrics.
func (s Shape) EqualUpToTrailingOne(o Shape) bool {
	switch {
	case len(s) == len(o)+1 && s[len(s)-1] == 1:
		s = s[:len(o)]
	case len(o) == len(s)+1 && o[len(o)-1] == 1:
		o = o[:len(s)]
	}
	return s.Equal(o)
}

// Clone returns a copy of s.
func (s Shape) Clone() Shape { return append(Shape(nil), s...) }

// String formats s as (2, 3), Keras's way; a scalar is ().
func (s Shape) String() string {
	var b strings.Builder
	b.WriteByte('(')
	for i, d := range s {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(d))
	}
	if len(s) == 1 {
		b.WriteByte(',')
	}
	b.WriteByte(')')
	return b.String()
}

// ShapeError reports tensors whose shapes do not fit an operation.
type ShapeError struct {
	Op     string  // the operation, e.g. "nn.MatMul"
	Shapes []Shape // the shapes involved, in argument order
	Msg    string  // what was expected
}

// Error names the op, every shape and what was expected.
func (e *ShapeError) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	b.WriteString(": ")
	for i, s := range e.Shapes {
		if i > 0 {
			b.WriteString(" and ")
		}
		b.WriteString(s.String())
	}
	if e.Msg != "" {
		b.WriteString(": ")
		b.WriteString(e.Msg)
	}
	return b.String()
}

// Panicf panics with a *ShapeError for op and the given shapes.
func Panicf(op string, shapes []Shape, format string, args ...any) {
	panic(&ShapeError{Op: op, Shapes: shapes, Msg: fmt.Sprintf(format, args...)})
}

// Tensor is a dense row-major array. Exactly one of its slices is in use,
// chosen by its DType.
type Tensor struct {
	shape Shape
	f32   []float32
	f64   []float64
	u8    []uint8
	div   float32 // a uint8 tensor's divisor; > 0 marks the dtype Uint8
}

func checkShape(op string, shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			Panicf(op, []Shape{Shape(shape).Clone()}, "negative dimension") // cloned: shape stays on the caller's stack
		}
		if d != 0 && n > math.MaxInt32/d {
			Panicf(op, []Shape{Shape(shape).Clone()}, "too many elements")
		}
		n *= d
	}
	return n
}

// New returns a zero tensor of type dt and the given shape.
func New(dt DType, shape ...int) *Tensor {
	n := checkShape("tensor.New", shape)
	t := &Tensor{shape: Shape(shape).Clone()}
	switch dt {
	case Float32:
		t.f32 = make([]float32, n)
	case Float64:
		t.f64 = make([]float64, n)
	case Uint8:
		panic("tensor.New: uint8 tensors wrap input data: use FromUint8")
	default:
		panic("tensor.New: unknown dtype " + dt.String())
	}
	return t
}

// Zeros is New: a tensor of zeros.
func Zeros(dt DType, shape ...int) *Tensor { return New(dt, shape...) }

// Ones returns a tensor filled with 1.
func Ones(dt DType, shape ...int) *Tensor {
	t := New(dt, shape...)
	t.Fill(1)
	return t
}

// FromFloat32 wraps data (not copied) as a tensor of the given shape.
func FromFloat32(data []float32, shape ...int) *Tensor {
	if n := checkShape("tensor.FromFloat32", shape); n != len(data) {
		Panicf("tensor.FromFloat32", []Shape{Shape(shape).Clone()}, "shape holds %d elements, data has %d", n, len(data))
	}
	return &Tensor{shape: Shape(shape).Clone(), f32: data}
}

// FromFloat64 wraps data (not copied) as a tensor of the given shape.
func FromFloat64(data []float64, shape ...int) *Tensor {
	if n := checkShape("tensor.FromFloat64", shape); n != len(data) {
		Panicf("tensor.FromFloat64", []Shape{Shape(shape).Clone()}, "shape holds %d elements, data has %d", n, len(data))
	}
	return &Tensor{shape: Shape(shape).Clone(), f64: data}
}

// DType returns the element type.
func (t *Tensor) DType() DType {
	switch {
	case t.div != 0:
		return Uint8
	case t.f64 != nil:
		return Float64
	}
	return Float32
}

// Shape returns the shape. The caller must not modify it.
func (t *Tensor) Shape() Shape { return t.shape }

// Rank returns the number of axes.
func (t *Tensor) Rank() int { return len(t.shape) }

// Dim returns the size of axis i; negative i counts from the end.
func (t *Tensor) Dim(i int) int {
	if i < 0 {
		i += len(t.shape)
	}
	return t.shape[i]
}

// Len returns the number of elements.
func (t *Tensor) Len() int {
	switch {
	case t.div != 0:
		return len(t.u8)
	case t.f64 != nil:
		return len(t.f64)
	}
	return len(t.f32)
}

// Float32s returns the data of a float32 tensor (nil for other dtypes). Writes go to the tensor.
func (t *Tensor) Float32s() []float32 { return t.f32 }

// Float64s returns the data of a float64 tensor (nil for other dtypes). Writes go to the tensor.
func (t *Tensor) Float64s() []float64 { return t.f64 }

// Item returns the single element of a one-element tensor as float64.
func (t *Tensor) Item() float64 {
	if t.Len() != 1 {
		Panicf("tensor.Item", []Shape{t.shape}, "want one element")
	}
	return t.Index(0)
}

// Index returns element i of the flat data as float64 (for a uint8
// tensor, the float32 value byte/divisor, widened).
func (t *Tensor) Index(i int) float64 {
	switch {
	case t.div != 0:
		return float64(float32(t.u8[i]) / t.div)
	case t.f64 != nil:
		return t.f64[i]
	}
	return float64(t.f32[i])
}

// SetIndex sets element i of the flat data. It panics for a uint8 tensor.
func (t *Tensor) SetIndex(i int, v float64) {
	t.readOnly("tensor.SetIndex")
	if t.f64 != nil {
		t.f64[i] = v
	} else {
		t.f32[i] = float32(v)
	}
}

// At returns the element at the given indices, one per axis.
func (t *Tensor) At(idx ...int) float64 { return t.Index(t.offset("tensor.At", idx)) }

// Set sets the element at the given indices. It panics for a uint8 tensor.
func (t *Tensor) Set(v float64, idx ...int) {
	t.readOnly("tensor.Set")
	t.SetIndex(t.offset("tensor.Set", idx), v)
}

func (t *Tensor) offset(op string, idx []int) int {
	if len(idx) != len(t.shape) {
		Panicf(op, []Shape{t.shape}, "%d indices for rank %d", len(idx), len(t.shape))
	}
	off := 0
	for i, x := range idx {
		if x < 0 || x >= t.shape[i] {
			Panicf(op, []Shape{t.shape}, "index %d out of range on axis %d", x, i)
		}
		off = off*t.shape[i] + x
	}
	return off
}

// Fill sets every element to v. It panics for a uint8 tensor.
func (t *Tensor) Fill(v float64) {
	t.readOnly("tensor.Fill")
	if t.f64 != nil {
		for i := range t.f64 {
			t.f64[i] = v
		}
		return
	}
	f := float32(v)
	for i := range t.f32 {
		t.f32[i] = f
	}
}

// Zero sets every element to 0. It panics for a uint8 tensor.
func (t *Tensor) Zero() {
	t.readOnly("tensor.Zero")
	clear(t.f32)
	clear(t.f64)
}

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	c := &Tensor{shape: t.shape.Clone(), div: t.div}
	switch {
	case t.div != 0:
		c.u8 = append(make([]uint8, 0, len(t.u8)), t.u8...)
	case t.f64 != nil:
		// make, not nil: an empty float64 tensor must stay float64.
		c.f64 = append(make([]float64, 0, len(t.f64)), t.f64...)
	default:
		c.f32 = append(make([]float32, 0, len(t.f32)), t.f32...)
	}
	return c
}

// CopyFrom copies src's elements into t; shapes must have the same length and dtype.
// It panics when t is a uint8 tensor.
func (t *Tensor) CopyFrom(src *Tensor) {
	t.readOnly("tensor.CopyFrom")
	if t.Len() != src.Len() || t.DType() != src.DType() {
		Panicf("tensor.CopyFrom", []Shape{t.shape, src.shape}, "want %s with %d elements", t.DType(), t.Len())
	}
	copy(t.f32, src.f32)
	copy(t.f64, src.f64)
}

// Reshape returns a tensor sharing t's data with a new shape of the same length.
func (t *Tensor) Reshape(shape ...int) *Tensor {
	if n := checkShape("tensor.Reshape", shape); n != t.Len() {
		Panicf("tensor.Reshape", []Shape{t.shape, Shape(shape).Clone()}, "element counts differ")
	}
	return &Tensor{shape: Shape(shape).Clone(), f32: t.f32, f64: t.f64, u8: t.u8, div: t.div}
}

// Rows returns rows [i, j) of a tensor of rank ≥ 1, sharing its data.
func (t *Tensor) Rows(i, j int) *Tensor {
	if len(t.shape) == 0 || i < 0 || j < i || j > t.shape[0] {
		Panicf("tensor.Rows", []Shape{t.shape}, "rows [%d, %d) out of range", i, j)
	}
	row := t.Len() / max(t.shape[0], 1)
	s := t.shape.Clone()
	s[0] = j - i
	r := &Tensor{shape: s, div: t.div}
	switch {
	case t.div != 0:
		r.u8 = t.u8[i*row : j*row : j*row]
	case t.f64 != nil:
		r.f64 = t.f64[i*row : j*row : j*row]
	default:
		r.f32 = t.f32[i*row : j*row : j*row]
	}
	return r
}

// As returns a copy of t converted to dt (t itself when it already is dt).
// A uint8 tensor converts to its float32 values (widened for Float64);
// converting to Uint8 panics: there is no rounding of floats to bytes.
func (t *Tensor) As(dt DType) *Tensor {
	if t.DType() == dt {
		return t
	}
	if dt == Uint8 {
		panic("tensor.As: cannot convert " + t.DType().String() + " to uint8; wrap bytes with FromUint8")
	}
	c := New(dt, t.shape...)
	if t.div != 0 {
		if dt == Float32 {
			kernel.Uint8ToFloat32(c.f32, t.u8, t.div)
		} else {
			kernel.Uint8ToFloat64(c.f64, t.u8, t.div)
		}
		return c
	}
	for i := range t.Len() {
		c.SetIndex(i, t.Index(i))
	}
	return c
}

// SameShape panics with a *ShapeError for op unless a and b have equal shapes and dtypes.
func SameShape(op string, a, b *Tensor) {
	if !a.shape.Equal(b.shape) {
		Panicf(op, []Shape{a.shape, b.shape}, "shapes differ")
	}
	if a.DType() != b.DType() {
		Panicf(op, []Shape{a.shape, b.shape}, "dtypes differ: %s and %s", a.DType(), b.DType())
	}
}

// Lerp moves dst toward src by w: dst += w*(src-dst). Moving averages use it.
// It panics when dst is a uint8 tensor.
func Lerp(dst, src *Tensor, w float64) {
	dst.readOnly("tensor.Lerp")
	SameShape("tensor.Lerp", dst, src)
	if dst.f64 != nil {
		for i, s := range src.f64 {
			dst.f64[i] += w * (s - dst.f64[i])
		}
		return
	}
	w32 := float32(w)
	for i, s := range src.f32 {
		dst.f32[i] += w32 * (s - dst.f32[i])
	}
}

// AllFinite reports whether no element is NaN or ±Inf (always true for
// uint8: FromUint8 refuses divisors that would make 255/divisor infinite).
func (t *Tensor) AllFinite() bool {
	if t.div != 0 {
		return true
	}
	if t.f32 != nil {
		return kernel.AllFinite(t.f32)
	}
	for _, v := range t.f64 {
		if v-v != 0 {
			return false
		}
	}
	return true
}

// String prints the shape, dtype and up to 8 leading values; a uint8
// tensor's dtype reads e.g. uint8/255, and its values are the quotients.
func (t *Tensor) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Tensor%s %s", t.shape, t.DType())
	if t.div != 0 {
		fmt.Fprintf(&b, "/%g", t.div)
	}
	b.WriteString(" [")
	n := min(t.Len(), 8)
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatFloat(t.Index(i), 'g', 6, 64))
	}
	if t.Len() > n {
		b.WriteString(" ...")
	}
	b.WriteByte(']')
	return b.String()
}
