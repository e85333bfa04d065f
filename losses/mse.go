package losses

import (
	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// MeanSquaredError is the mean over all elements of (pred − target)²
// (Keras mean_squared_error, PyTorch mse_loss with reduction="mean"); its
// gradient is 2(pred − target)/elements. The target's shape must equal
// pred's, up to a trailing axis of 1 ((samples, 1) against (samples,)).
type MeanSquaredError struct{}

// Name returns "mean_squared_error".
func (MeanSquaredError) Name() string { return "mean_squared_error" }

// Compute returns the mean squared error of pred against target.
func (MeanSquaredError) Compute(tp *autodiff.Tape, pred *autodiff.Var, target *tensor.Tensor) *autodiff.Var {
	t := like(tp, "losses.MeanSquaredError", pred, target)
	return nn.Mean(tp, nn.Square(tp, nn.Sub(tp, pred, tp.Const(t))), nn.AllAxes)
}
