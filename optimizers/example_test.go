package optimizers_test

import (
	"fmt"
	"math"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/tensor"
)

// Minimise (w − 3)² with Adam, one tape pass per step.
func Example() {
	w := autodiff.NewParam(tensor.FromFloat64([]float64{0}, 1), "w")
	three := tensor.FromFloat64([]float64{3}, 1)
	opt := optimizers.NewAdam()
	opt.LR = 0.1
	tp := autodiff.NewTape()
	for range 200 {
		tp.Reset()
		loss := nn.Square(tp, nn.Sub(tp, w, tp.Const(three)))
		tp.Backward(loss)
		if err := opt.Step([]*autodiff.Var{w}); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Printf("w = %.3f after %d steps\n", w.Value.Item(), opt.Iterations())
	// Output: w = 3.000 after 200 steps
}

// Clip rejects a step whose gradient holds a NaN, leaving the parameters
// and the optimizer's state as they were.
func ExampleClip() {
	w := autodiff.NewParam(tensor.FromFloat64([]float64{1, 2}, 2), "dense/kernel")
	w.Grad = tensor.FromFloat64([]float64{0.5, math.NaN()}, 2)
	opt := &optimizers.SGD{LR: 0.1}
	opt.RejectNonFinite = true
	err := opt.Step([]*autodiff.Var{w})
	fmt.Println(err)
	fmt.Println(w.Value.Float64s(), opt.Iterations())
	// Output:
	// optimizers: non-finite gradient: sgd: parameter "dense/kernel" has gradient norm NaN
	// [1 2] 0
}

func ExampleByName() {
	opt, err := optimizers.ByName("rmsprop", 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(opt.Name(), opt.LearningRate(), opt.SlotNames())
	_, err = optimizers.ByName("adadelta", 0)
	fmt.Println(err)
	// Output:
	// rmsprop 0.001 [velocity]
	// optimizers: unknown optimizer "adadelta" (want one of sgd, adam, adamw, nadam, rmsprop, adagrad)
}

// A bare struct literal leaves β1, β2 and ε at zero, which cannot train;
// Validate (which Step calls first) says so, and the constructor is the
// way to Keras's defaults.
func ExampleAdam_Validate() {
	fmt.Println((&optimizers.Adam{LR: 0.01}).Validate())
	opt := optimizers.NewAdam()
	opt.LR = 0.01
	fmt.Println(opt.Validate())
	// Output:
	// optimizers: adam: beta_1, beta_2 and epsilon are all 0, as in a bare Adam{} literal; start from NewAdam(), which sets Keras's defaults (0.9, 0.999, 1e-7), and change fields from there
	// <nil>
}

// AdamW shrinks a kernel by lr·weight_decay before each update and leaves
// a bias alone (Decay's default rule); with a zero gradient only the decay
// moves the kernel: 2·(1 − 0.1·0.5) = 1.9.
func ExampleAdamW() {
	kernel := autodiff.NewParam(tensor.FromFloat64([]float64{2}, 1), "dense/kernel")
	bias := autodiff.NewParam(tensor.FromFloat64([]float64{2}, 1), "dense/bias")
	kernel.Grad, bias.Grad = tensor.New(tensor.Float64, 1), tensor.New(tensor.Float64, 1)
	opt := optimizers.NewAdamW()
	opt.LR, opt.WeightDecay = 0.1, 0.5
	if err := opt.Step([]*autodiff.Var{kernel, bias}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("kernel %.2f, bias %.2f, decays bias: %v\n", kernel.Value.Item(), bias.Value.Item(), opt.Decays(bias))
	// Output: kernel 1.90, bias 2.00, decays bias: false
}
