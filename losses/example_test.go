package losses_test

import (
	"fmt"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// Cross-entropy of two samples from logits, and its gradient
// (softmax − one-hot)/samples.
func Example() {
	logits := tensor.FromFloat64([]float64{2, 0, 0, 1, 1, 1}, 2, 3)
	labels := tensor.FromFloat64([]float64{0, 2}, 2) // class indices
	loss := losses.SparseCategoricalCrossentropy{FromLogits: true}

	tp := autodiff.NewTape()
	x := tp.Variable(logits)
	l := loss.Compute(tp, x, labels)
	tp.Backward(l)
	fmt.Printf("%s: %.4f\n", loss.Name(), l.Value.Item())
	fmt.Printf("gradient: %.4f\n", x.Grad.Float64s())
	// Output:
	// sparse_categorical_crossentropy: 0.6691
	// gradient: [-0.1065 0.0533 0.0533 0.1667 0.1667 -0.3333]
}

// A model whose last activation is softmax asks its loss for the fused
// form, and applies it to the logits.
func ExampleFuser() {
	var l losses.Loss = losses.CategoricalCrossentropy{}
	if f, ok := l.(losses.Fuser); ok {
		if fused, ok := f.Fuse(nn.ActSoftmax); ok {
			l = fused
		}
	}
	fmt.Printf("%s %+v\n", l.Name(), l)
	// Output: categorical_crossentropy {FromLogits:true KerasClip:false}
}

// On probabilities, a confident wrong prediction costs −log(1e-7): Keras
// clips probabilities to [1e-7, 1−1e-7].
func ExampleCategoricalCrossentropy() {
	probs := tensor.FromFloat64([]float64{1, 0}, 1, 2)
	target := tensor.FromFloat64([]float64{0, 1}, 1, 2)
	tp := autodiff.NewTape()
	l := losses.CategoricalCrossentropy{}.Compute(tp, tp.Const(probs), target)
	fmt.Printf("%.4f\n", l.Value.Item())
	// Output: 16.1181
}

func ExampleByName() {
	l, err := losses.ByName("mse")
	fmt.Println(l.Name(), err)
	// Output: mean_squared_error <nil>
}

// ToCategorical turns class indices into one-hot rows; OneHot does the
// same for labels of any ordered type and returns the class of each
// column.
func ExampleToCategorical() {
	rows, err := losses.ToCategorical(tensor.FromFloat64([]float64{2, 0}, 2), 3)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rows.Float64s())
	words, classes := losses.OneHot([]string{"dog", "cat"})
	fmt.Println(words.Float64s(), classes)
	// Output:
	// [0 0 1 1 0 0]
	// [0 1 1 0] [cat dog]
}
