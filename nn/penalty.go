package nn

import (
	"github.com/myelin-go/myelin/autodiff"
)

type penaltyOp struct{}

func (penaltyOp) Name() string { return "nn.Penalty" }

// Penalty returns the elastic-net weight penalty l1·Σ|w| + l2·Σw², a
// scalar, as Keras's L1L2 regularizer computes it: no ½ on the square, so
// its gradient is l1·sign(w) + 2·l2·w (sign(0) = 0, as for |w| in
// TensorFlow and PyTorch). It is one fused op, so that a regularized
// training step records one op per weight and allocates nothing once the
// tape is warm.
func Penalty(tp *autodiff.Tape, w *autodiff.Var, l1, l2 float64) *autodiff.Var {
	out := tp.Alloc(w.DType())
	var s float64
	if is32(out) {
		s = penaltyFwd(w.Value.Float32s(), l1, l2)
		out.Float32s()[0] = float32(s)
	} else {
		s = penaltyFwd(w.Value.Float64s(), l1, l2)
		out.Float64s()[0] = s
	}
	return tp.Output(out, autodiff.Record{Op: penaltyOp{}, In: [4]*autodiff.Var{w}, F: [4]float64{l1, l2}})
}

// penaltyFwd sums in float64 whatever the element type.
func penaltyFwd[T Float](w []T, l1, l2 float64) float64 {
	var a, q float64
	for _, v := range w {
		f := float64(v)
		if f < 0 {
			a -= f
		} else {
			a += f
		}
		q += f * f
	}
	return l1*a + l2*q
}

func (penaltyOp) Backward(tp *autodiff.Tape, r *autodiff.Record) {
	dw := tp.GradOf(r.In[0])
	if dw == nil {
		return
	}
	g := r.Out.Grad.Index(0)
	if is32(dw) {
		penaltyBwd(dw.Float32s(), r.In[0].Value.Float32s(), g*r.F[0], 2*g*r.F[1])
	} else {
		penaltyBwd(dw.Float64s(), r.In[0].Value.Float64s(), g*r.F[0], 2*g*r.F[1])
	}
}

// penaltyBwd adds a·sign(w) + b·w into dw.
func penaltyBwd[T Float](dw, w []T, a, b float64) {
	sa, sb := T(a), T(b)
	for i, v := range w {
		d := sb * v
		switch {
		case v > 0:
			d += sa
		case v < 0:
			d -= sa
		}
		dw[i] += d
	}
}
