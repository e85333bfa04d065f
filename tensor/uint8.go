package tensor

import (
	"fmt"
	"math"
)

// Uint8 tensors: input data (image pixels) kept at one byte per element.
// Each stands for the float32 values byte/divisor; the other files handle
// them in every accessor and conversion, and refuse to write them.

// FromUint8 wraps data (not copied) as a read-only uint8 tensor of the
// given shape whose element i is the float32 value float32(data[i]) / div:
// the x.astype("float32") / 255 of Keras tutorials at one byte per
// element. div must be positive and finite, and not so small that 255/div
// overflows. Computing with the tensor means converting it (As, or model's
// batches), by division, so the values are the same bits as dividing the
// bytes in float32 by hand.
func FromUint8(data []uint8, div float32, shape ...int) *Tensor {
	if !(div > 0) || math.IsInf(float64(div), 0) || math.IsInf(float64(float32(255)/div), 0) {
		panic(fmt.Sprintf("tensor.FromUint8: divisor %g: want a positive, finite number with 255/divisor finite", div))
	}
	if n := checkShape("tensor.FromUint8", shape); n != len(data) {
		Panicf("tensor.FromUint8", []Shape{Shape(shape).Clone()}, "shape holds %d elements, data has %d", n, len(data))
	}
	return &Tensor{shape: Shape(shape).Clone(), u8: data, div: div}
}

// Uint8s returns the bytes of a uint8 tensor (nil for other dtypes); the
// elements' values are these divided by Divisor. The caller must not
// modify them while the tensor is in use.
func (t *Tensor) Uint8s() []uint8 { return t.u8 }

// Divisor returns the divisor of a uint8 tensor, 0 for other dtypes.
func (t *Tensor) Divisor() float32 { return t.div }

// readOnly panics for op on a uint8 tensor.
func (t *Tensor) readOnly(op string) {
	if t.div != 0 {
		panic(op + ": uint8 tensors are read-only input data; convert with As(tensor.Float32) to get a tensor you can write")
	}
}
