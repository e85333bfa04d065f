package losses

import (
	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// MeanAbsoluteError is the mean over all elements of |pred − target|
// (Keras mean_absolute_error, PyTorch l1_loss with reduction="mean"); its
// gradient is sign(pred − target)/elements, 0 where they are equal (as
// both frameworks take it). The target's shape must equal pred's, up to a
// trailing axis of 1.
type MeanAbsoluteError struct{}

// Name returns "mean_absolute_error".
func (MeanAbsoluteError) Name() string { return "mean_absolute_error" }

// Compute returns the mean absolute error of pred against target.
func (MeanAbsoluteError) Compute(tp *autodiff.Tape, pred *autodiff.Var, target *tensor.Tensor) *autodiff.Var {
	t := like(tp, "losses.MeanAbsoluteError", pred, target)
	return nn.Mean(tp, nn.Abs(tp, nn.Sub(tp, pred, tp.Const(t))), nn.AllAxes)
}
