package losses

import (
	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// Huber is the Huber loss (Huber 1964): per element, with x = pred −
// target and δ = Delta,
//
//	L = ½x²            where |x| ≤ δ
//	L = δ·(|x| − ½δ)   elsewhere
//
// averaged over all elements (Keras's mean over the last axis, then over
// samples). It is quadratic near zero and linear in the tails, so an
// outlier's gradient is bounded by δ. Keras's Huber and PyTorch's
// huber_loss agree (PyTorch's smooth_l1_loss is Huber divided by its
// beta). Delta 0 means Keras's default, 1.
type Huber struct {
	Delta float64 // where the loss turns from quadratic to linear; 0 means 1
}

// Name returns "huber".
func (Huber) Name() string { return "huber" }

// Compute returns the mean Huber loss of pred against target. It is
// computed as ½q² + δ·(|x| − q) with q = min(|x|, δ), which is the
// formula above on both sides of δ.
func (l Huber) Compute(tp *autodiff.Tape, pred *autodiff.Var, target *tensor.Tensor) *autodiff.Var {
	d := l.Delta
	if d == 0 {
		d = 1
	}
	t := like(tp, "losses.Huber", pred, target)
	a := nn.Abs(tp, nn.Sub(tp, pred, tp.Const(t)))
	q := nn.Clip(tp, a, 0, d)
	quad := nn.Scale(tp, nn.Square(tp, q), 0.5)
	lin := nn.Scale(tp, nn.Sub(tp, a, q), d)
	return nn.Mean(tp, nn.Add(tp, quad, lin), nn.AllAxes)
}
