package nn_test

import (
	"fmt"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// BatchNorm normalizes each feature (column) with the batch's mean and
// biased variance, then scales by gamma and shifts by beta.
func ExampleBatchNorm() {
	tp := autodiff.NewTape()
	x := tp.Variable(tensor.FromFloat64([]float64{1, 10, 3, 30}, 2, 2))
	gamma := tp.Variable(tensor.FromFloat64([]float64{1, 2}, 2))
	beta := tp.Variable(tensor.FromFloat64([]float64{0, 5}, 2))
	y, mean, variance := nn.BatchNorm(tp, x, gamma, beta, 0)
	fmt.Println(mean.Float64s(), variance.Float64s())
	fmt.Println(y.Value.Float64s())

	// With ε = 0 and two samples each normalized value is ±1, whatever the
	// input's scale; the gradients of gamma and beta follow from that.
	tp.Backward(nn.Sum(tp, nn.Mul(tp, y, tp.Const(tensor.FromFloat64([]float64{1, 0, 0, 0}, 2, 2))), nn.AllAxes))
	fmt.Println(gamma.Grad.Float64s(), beta.Grad.Float64s())
	// Output:
	// [2 20] [1 100]
	// [-1 3 1 7]
	// [-1 0] [1 0]
}

// SoftmaxCrossEntropy takes logits: the softmax and the log never round
// a probability to zero, so a confident mistake gives a large finite loss.
func ExampleSoftmaxCrossEntropy() {
	tp := autodiff.NewTape()
	logits := tp.Variable(tensor.FromFloat64([]float64{0, 0, 200}, 1, 3))
	labels := tensor.FromFloat64([]float64{0}, 1) // sparse: class 0
	loss := nn.SoftmaxCrossEntropy(tp, logits, labels, true)
	tp.Backward(loss)
	fmt.Printf("loss %.1f, gradient %.1f\n", loss.Value.Item(), logits.Grad.Float64s())
	// Output: loss 200.0, gradient [-1.0 0.0 1.0]
}
