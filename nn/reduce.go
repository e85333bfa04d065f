package nn

import (
	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/tensor"
)

// AllAxes as the axis of Sum or Mean reduces every axis to a scalar.
const AllAxes = -1

type sumOp struct{}

func (sumOp) Name() string { return "nn.Sum" }

// Sum adds x's elements along axis (dropping it), or all of them when axis
// is AllAxes, giving a scalar of shape ().
func Sum(tp *autodiff.Tape, x *autodiff.Var, axis int) *autodiff.Var {
	return sumAxis(tp, x, axis, false)
}

// Mean averages x's elements along axis, or all of them when axis is AllAxes.
func Mean(tp *autodiff.Tape, x *autodiff.Var, axis int) *autodiff.Var {
	return sumAxis(tp, x, axis, true)
}

func sumAxis(tp *autodiff.Tape, x *autodiff.Var, axis int, mean bool) *autodiff.Var {
	s := x.Shape()
	outer, n, inner := s.Len(), 1, 1
	var out *tensor.Tensor
	if axis == AllAxes {
		n, outer = outer, 1
		out = tp.Alloc(x.DType())
	} else {
		if axis < 0 || axis >= len(s) {
			op := "nn.Sum"
			if mean {
				op = "nn.Mean"
			}
			tensor.Panicf(op, shapes(x), "axis %d out of range for rank %d", axis, len(s))
		}
		outer, n, inner = 1, s[axis], 1
		for _, d := range s[:axis] {
			outer *= d
		}
		for _, d := range s[axis+1:] {
			inner *= d
		}
		var buf [8]int
		outShape := append(append(buf[:0], s[:axis]...), s[axis+1:]...)
		out = tp.Alloc(x.DType(), outShape...)
	}
	scale := 1.0
	if mean && n > 0 {
		scale = 1 / float64(n)
	}
	if is32(out) {
		sumFwd(out.Float32s(), x.Value.Float32s(), outer, n, inner, float32(scale))
	} else {
		sumFwd(out.Float64s(), x.Value.Float64s(), outer, n, inner, scale)
	}
	return tp.Output(out, autodiff.Record{Op: sumOp{}, In: [4]*autodiff.Var{x}, I: [4]int{outer, n, inner}, F: [4]float64{scale}})
}

// sumFwd views x as outer×n×inner and sums the middle axis.
func sumFwd[T Float](y, x []T, outer, n, inner int, scale T) {
	clear(y)
	for o := range outer {
		yo := y[o*inner : (o+1)*inner]
		for k := range n {
			xo := x[(o*n+k)*inner : (o*n+k+1)*inner]
			for i, v := range xo {
				yo[i] += v
			}
		}
		for i := range yo {
			yo[i] *= scale
		}
	}
}

func (sumOp) Backward(tp *autodiff.Tape, r *autodiff.Record) {
	dx := tp.GradOf(r.In[0])
	outer, n, inner := r.I[0], r.I[1], r.I[2]
	if is32(dx) {
		sumBwd(dx.Float32s(), r.Out.Grad.Float32s(), outer, n, inner, float32(r.F[0]))
	} else {
		sumBwd(dx.Float64s(), r.Out.Grad.Float64s(), outer, n, inner, r.F[0])
	}
}

func sumBwd[T Float](dx, dy []T, outer, n, inner int, scale T) {
	for o := range outer {
		g := dy[o*inner : (o+1)*inner]
		for k := range n {
			d := dx[(o*n+k)*inner : (o*n+k+1)*inner]
			for i, v := range g {
				d[i] += scale * v
			}
		}
	}
}
