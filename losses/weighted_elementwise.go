package losses

import (
	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// The elementwise losses weigh samples by multiplying each sample's
// elements by its weight before the mean over all elements: with k
// elements per sample, Σᵢⱼ wᵢ·Eᵢⱼ / (n·k) = Σᵢ wᵢ·Lᵢ / n, where Lᵢ is the
// mean over the sample's elements, as Keras takes it. Multiplying by 1 is
// exact, so weights of 1 give Compute's value bit for bit.

// weighedMean returns the mean over all elements of e, a (samples, ...)
// loss per element, with sample i's elements multiplied by w[i]; nil w
// gives the plain mean. The weights are spread over a tape buffer, so a
// warm step allocates nothing.
func weighedMean(tp *autodiff.Tape, op string, e *autodiff.Var, w *tensor.Tensor) *autodiff.Var {
	w = sampleWeights(tp, op, e, w)
	if w == nil {
		return nn.Mean(tp, e, nn.AllAxes)
	}
	b := tp.Alloc(e.DType(), e.Shape()...)
	per := b.Len() / max(e.Shape()[0], 1)
	if b.DType() == tensor.Float32 {
		spread(b.Float32s(), w.Float32s(), per)
	} else {
		spread(b.Float64s(), w.Float64s(), per)
	}
	return nn.Mean(tp, nn.Mul(tp, e, tp.Const(b)), nn.AllAxes)
}

// spread writes w[i] into the per elements of dst's row i.
func spread[T float](dst, w []T, per int) {
	for i, v := range w {
		r := dst[i*per : (i+1)*per]
		for j := range r {
			r[j] = v
		}
	}
}

// ComputeWeighted returns the mean squared error with sample i's term
// weighed by w[i] (see Weighted).
func (MeanSquaredError) ComputeWeighted(tp *autodiff.Tape, pred *autodiff.Var, target, w *tensor.Tensor) *autodiff.Var {
	const op = "losses.MeanSquaredError"
	t := like(tp, op, pred, target)
	return weighedMean(tp, op, nn.Square(tp, nn.Sub(tp, pred, tp.Const(t))), w)
}

// ComputeWeighted returns the mean absolute error with sample i's term
// weighed by w[i] (see Weighted).
func (MeanAbsoluteError) ComputeWeighted(tp *autodiff.Tape, pred *autodiff.Var, target, w *tensor.Tensor) *autodiff.Var {
	const op = "losses.MeanAbsoluteError"
	t := like(tp, op, pred, target)
	return weighedMean(tp, op, nn.Abs(tp, nn.Sub(tp, pred, tp.Const(t))), w)
}

// ComputeWeighted returns the binary cross-entropy with sample i's term
// weighed by w[i] (see Weighted).
func (l BinaryCrossentropy) ComputeWeighted(tp *autodiff.Tape, pred *autodiff.Var, target, w *tensor.Tensor) *autodiff.Var {
	const op = "losses.BinaryCrossentropy"
	t := like(tp, op, pred, target)
	if l.FromLogits {
		return weighedMean(tp, op, nn.Sub(tp, nn.Softplus(tp, pred), nn.Mul(tp, pred, tp.Const(t))), w)
	}
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
	return nn.Neg(tp, weighedMean(tp, op, ll, w))
}
