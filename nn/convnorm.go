package nn

import (
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
// NormalizeReLU of it when relu, then with pool MaxPool2D over 2×2
// windows of stride 2 without padding, with the same values to the bit.
// When nothing needs a gradient (inference) and x is float32 it takes
// fewer passes over memory: the bias, the normalization and the ReLU run
// in one pass over the product (kernel.ApplyEpilogue), and where the
// kernel package has a direct kernel for the window (a first layer's few
// input channels) the windows are read in place, with no im2col matrix,
// the rest runs on the product while it is in registers, and the pool
// reads it from the first-level cache. Otherwise it runs the ops one by
// one, which record their backward passes.
func Conv2DNormalize(tp *autodiff.Tape, x, w, b *autodiff.Var, o Conv2DOptions, n Norm, relu, pool bool) *autodiff.Var {
	const op = "nn.Conv2DNormalize"
	if !is32(x.Value) || needsGrad(tp, x, w, b, n.Gamma, n.Beta) {
		y := normalize(tp, Conv2D(tp, x, w, b, o, Linear), n.Mean, n.Variance, n.Gamma, n.Beta, n.Epsilon, relu)
		if pool {
			y = MaxPool2D(tp, y, [2]int{2, 2}, [2]int{2, 2}, Valid)
		}
		return y
	}
	g := convWindow(op, x, w, b, o)
	f := w.Shape()[3]
	sameDType(op, x, n.Gamma, n.Beta)
	if !perFeature(n.Gamma, f) || !perFeature(n.Beta, f) {
		tensor.Panicf(op, shapes(x, w, n.Gamma, n.Beta), "gamma and beta must have shape (%d,)", f)
	}
	invstd := movingInvStd(tp, op, x.Shape(), tensor.Float32, n.Mean, n.Variance, f, n.Epsilon).Float32s()
	e := kernel.Epilogue{Bias: valF32(b), Mean: n.Mean.Float32s(), InvStd: invstd, Gamma: valF32(n.Gamma), Beta: valF32(n.Beta), ReLU: relu}
	xs, ws := x.Value.Float32s(), w.Value.Float32s()
	if !pool {
		return tp.Const(convEpilogue(tp, x.Value, ws, &g, f, &e))
	}
	if g.OH < 2 || g.OW < 2 {
		tensor.Panicf(op, shapes(x, w), "a 2×2 pool does not fit the convolution's %d×%d output", g.OH, g.OW)
	}
	// window would check this too, but its shape argument escapes: every
	// call would allocate.
	pg := kernel.Window{N: g.N, H: g.OH, W: g.OW, C: f, KH: 2, KW: 2, SH: 2, SW: 2, DH: 1, DW: 1, OH: g.OH / 2, OW: g.OW / 2}
	out := tp.Alloc(tensor.Float32, pg.N, pg.OH, pg.OW, f)
	if !kernel.ConvDirectMaxPool2(out.Float32s(), xs, &g, ws, f, &e) {
		kernel.MaxPool(out.Float32s(), convEpilogue(tp, x.Value, ws, &g, f, &e).Float32s(), &pg)
	}
	return tp.Const(out)
}

// convEpilogue returns e applied to the convolution of x by the kernel w
// (f filters), directly where the kernel package can.
func convEpilogue(tp *autodiff.Tape, x *tensor.Tensor, w []float32, g *kernel.Window, f int, e *kernel.Epilogue) *tensor.Tensor {
	out := tp.Alloc(tensor.Float32, g.N, g.OH, g.OW, f)
	y := out.Float32s()
	if !kernel.ConvDirect(y, x.Float32s(), g, w, f, e) {
		cols := im2col(tp, x, g)
		kernel.Sgemm(false, false, g.Rows(), f, g.Cols(), 1, cols.Float32s(), g.Cols(), w, f, 0, y, f)
		kernel.ApplyEpilogue(y, y, f, e)
	}
	return out
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
