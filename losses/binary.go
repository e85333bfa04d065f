package losses

import (
	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// BinaryCrossentropy is the cross-entropy of independent yes/no
// predictions: each element of pred is a probability (or, with
// FromLogits, a logit) and the element of target at the same place is its
// label, 0 or 1 (soft labels in [0, 1] work too). Per element, on
// probabilities (Keras 3, from_logits=False):
//
//	c = clip(p, ε, 1−ε),   L = −(t·log c + (1−t)·log(1−c)),   ε = ClipEpsilon
//
// and from logits x (FromLogits; PyTorch's binary_cross_entropy_with_logits):
//
//	L = softplus(x) − x·t = max(x, 0) − x·t + log(1 + e^−|x|)
//
// which never overflows and has gradient σ(x) − t. Compute returns the
// mean over all elements, which is Keras's mean over the last axis and
// then over samples. The target's shape must equal pred's, up to a
// trailing axis of 1 ((samples, 1) against (samples,)).
type BinaryCrossentropy struct {
	FromLogits bool // pred holds logits, not probabilities
}

// Name returns "binary_crossentropy".
func (BinaryCrossentropy) Name() string { return "binary_crossentropy" }

// Compute returns the mean binary cross-entropy of pred against target.
func (l BinaryCrossentropy) Compute(tp *autodiff.Tape, pred *autodiff.Var, target *tensor.Tensor) *autodiff.Var {
	t := like(tp, "losses.BinaryCrossentropy", pred, target)
	if l.FromLogits {
		return nn.Mean(tp, nn.Sub(tp, nn.Softplus(tp, pred), nn.Mul(tp, pred, tp.Const(t))), nn.AllAxes)
	}
	// 1 − t, for the second term.
	u := tp.Alloc(t.DType(), t.Shape()...)
	if u.DType() == tensor.Float32 {
		oneMinus(u.Float32s(), t.Float32s())
	} else {
		oneMinus(u.Float64s(), t.Float64s())
	}
	c := nn.Clip(tp, pred, ClipEpsilon, 1-ClipEpsilon)
	logC := nn.Log(tp, c)
	log1mC := nn.Log(tp, nn.Add(tp, nn.Neg(tp, c), tp.Const(scalarOne(tp, c.DType()))))
	ll := nn.Add(tp, nn.Mul(tp, logC, tp.Const(t)), nn.Mul(tp, log1mC, tp.Const(u)))
	return nn.Neg(tp, nn.Mean(tp, ll, nn.AllAxes))
}

func oneMinus[T float](dst, t []T) {
	for i, v := range t {
		dst[i] = 1 - v
	}
}

// Fuse returns BinaryCrossentropy{FromLogits: true} and true for a
// sigmoid activation when l is on probabilities.
func (l BinaryCrossentropy) Fuse(act nn.Activation) (Loss, bool) {
	if act == nn.ActSigmoid && !l.FromLogits {
		return BinaryCrossentropy{FromLogits: true}, true
	}
	return l, false
}
