package autodiff_test

import (
	"fmt"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// A function composed from nn ops needs no hand-written backward: the tape
// records each op and Backward applies their vector-Jacobian products.
func Example() {
	tp := autodiff.NewTape()
	x := tp.Variable(tensor.FromFloat64([]float64{1, 2, 3}, 3))
	// f(x) = Σ x² + x, so ∂f/∂x = 2x + 1; x is used three times.
	f := nn.Sum(tp, nn.Add(tp, nn.Mul(tp, x, x), x), nn.AllAxes)
	tp.Backward(f)
	fmt.Println(f.Value.Item(), x.Grad.Float64s())
	// Output: 20 [3 5 7]
}
