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
