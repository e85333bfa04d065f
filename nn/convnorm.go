package nn

import (
	"math"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/internal/kernel"
	"github.com/myelin-go/myelin/tensor"
)

// Norm is batch normalization's inference form, as Normalize takes it:
// fixed statistics, and a scale and shift that may be nil.
type Norm struct {
	Mean, Variance *tensor.Tensor
	Gamma, Beta    *autodiff.Var
	Epsilon        float64
}

// Conv2DNormalize returns Normalize(Conv2D(x, w, b, o, Linear), n), or
// NormalizeReLU of it when relu, with the same values to the bit. When
// nothing needs a gradient (inference) and x is float32 it takes fewer
// passes over memory: the bias, the normalization and the ReLU run in one
// pass over the product (kernel.ApplyEpilogue), and where the kernel
// package has a direct kernel for the window (a first layer's few input
// channels) the windows are read in place, with no im2col matrix, and the
// rest runs on the product while it is in registers. Otherwise it runs the
// two ops, which record their backward passes.
func Conv2DNormalize(tp *autodiff.Tape, x, w, b *autodiff.Var, o Conv2DOptions, n Norm, relu bool) *autodiff.Var {
	const op = "nn.Conv2DNormalize"
	if !is32(x.Value) || needsGrad(tp, x, w, b, n.Gamma, n.Beta) {
		return normalize(tp, Conv2D(tp, x, w, b, o, Linear), n.Mean, n.Variance, n.Gamma, n.Beta, n.Epsilon, relu)
	}
	g := convWindow(op, x, w, b, o)
	f := w.Shape()[3]
	sameDType(op, x, n.Gamma, n.Beta)
	if !perFeature(n.Gamma, f) || !perFeature(n.Beta, f) {
		tensor.Panicf(op, shapes(x, w, n.Gamma, n.Beta), "gamma and beta must have shape (%d,)", f)
	}
	if n.Mean == nil || n.Variance == nil || n.Mean.Len() != f || n.Variance.Len() != f || n.Mean.DType() != x.DType() || n.Variance.DType() != x.DType() {
		tensor.Panicf(op, shapes(x, w), "mean and variance must be %s of shape (%d,)", x.DType(), f)
	}
	invstd := tp.Alloc(tensor.Float32, f).Float32s()
	for j, v := range n.Variance.Float32s() {
		invstd[j] = float32(1 / math.Sqrt(float64(v)+n.Epsilon)) // as normalize computes it
	}
	e := kernel.Epilogue{Bias: valF32(b), Mean: n.Mean.Float32s(), InvStd: invstd, Gamma: valF32(n.Gamma), Beta: valF32(n.Beta), ReLU: relu}
	out := tp.Alloc(tensor.Float32, g.N, g.OH, g.OW, f)
	y := out.Float32s()
	if !kernel.ConvDirect(y, x.Value.Float32s(), &g, w.Value.Float32s(), f, &e) {
		cols := im2col(tp, x.Value, &g)
		gemm(false, false, g.Rows(), f, g.Cols(), 1, cols, w.Value, 0, out)
		kernel.ApplyEpilogue(y, y, f, &e)
	}
	return tp.Const(out)
}

// perFeature reports whether v is nil or of shape (f,).
func perFeature(v *autodiff.Var, f int) bool {
	return v == nil || (v.Value.Rank() == 1 && v.Value.Len() == f)
}

// needsGrad reports whether tp records an op on any of vs.
func needsGrad(tp *autodiff.Tape, vs ...*autodiff.Var) bool {
	if tp.NoGrad {
		return false
	}
	for _, v := range vs {
		if v != nil && v.NeedsGrad() {
			return true
		}
	}
	return false
}
