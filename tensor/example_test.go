package tensor_test

import (
	"fmt"

	"github.com/myelin-go/myelin/tensor"
)

func Example() {
	x := tensor.FromFloat32([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	fmt.Println(x.Shape(), x.DType(), x.At(1, 0))

	// Rows and Reshape are views: writes go to x.
	x.Rows(1, 2).Set(-4, 0, 0)
	fmt.Println(x)

	// A shape mismatch panics with a *tensor.ShapeError naming op and shapes.
	defer func() { fmt.Println(recover()) }()
	x.Reshape(4, 2)
	// Output:
	// (2, 3) float32 4
	// Tensor(2, 3) float32 [1 2 3 -4 5 6]
	// tensor.Reshape: (2, 3) and (4, 2): element counts differ
}

// Pixels stay bytes; their values are the bytes over 255, in float32.
func ExampleFromUint8() {
	x := tensor.FromUint8([]uint8{0, 51, 255, 128}, 255, 2, 2)
	fmt.Println(x.DType(), x.At(0, 1), x.Rows(1, 2))
	fmt.Println(x.As(tensor.Float32).Float32s())
	// Output:
	// uint8 0.20000000298023224 Tensor(1, 2) uint8/255 [1 0.501961]
	// [0 0.2 1 0.5019608]
}
