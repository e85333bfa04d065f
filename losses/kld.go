package losses

import (
	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// KLDivergence is the Kullback–Leibler divergence of the predicted
// distribution from the target one, per sample over the last axis, as
// Keras computes it:
//
//	t = clip(target, ε, 1),  p = clip(pred, ε, 1),  L = Σ t·log(t/p)
//
// with ε = ClipEpsilon, averaged over samples. PyTorch's
// kl_div(log(pred), target, reduction="batchmean") is the same sum without
// the clipping (it takes log-probabilities and skips target zeros). pred
// and target have the same shape, (..., classes); a pred below ε gets no
// gradient.
type KLDivergence struct{}

// Name returns "kl_divergence".
func (KLDivergence) Name() string { return "kl_divergence" }

// Compute returns the mean over samples of the divergence of pred from
// target.
func (KLDivergence) Compute(tp *autodiff.Tape, pred *autodiff.Var, target *tensor.Tensor) *autodiff.Var {
	ps := pred.Shape()
	if len(ps) == 0 || !target.Shape().Equal(ps) {
		tensor.Panicf("losses.KLDivergence", []tensor.Shape{ps, target.Shape()}, "want equal shapes (..., classes)")
	}
	t := tp.Alloc(pred.DType(), ps...)
	convert(t, target)
	// t·log t is a constant of the target; computed here once.
	tlogt := tp.Alloc(pred.DType(), ps...)
	if t.DType() == tensor.Float32 {
		clipLogs(t.Float32s(), tlogt.Float32s())
	} else {
		clipLogs(t.Float64s(), tlogt.Float64s())
	}
	logP := nn.Log(tp, nn.Clip(tp, pred, ClipEpsilon, 1))
	per := nn.Sub(tp, tp.Const(tlogt), nn.Mul(tp, logP, tp.Const(t)))
	return nn.Mean(tp, nn.Sum(tp, per, len(ps)-1), nn.AllAxes)
}

// clipLogs clips t to [ClipEpsilon, 1] in place and writes t·log t into
// tlogt.
func clipLogs[T float](t, tlogt []T) {
	for i, v := range t {
		v = min(max(v, T(ClipEpsilon)), 1)
		t[i] = v
		tlogt[i] = v * T(logf(float64(v)))
	}
}
