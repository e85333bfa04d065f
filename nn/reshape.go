package nn

import (
	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/tensor"
)

type reshapeOp struct{}

func (reshapeOp) Name() string { return "nn.Reshape" }

// maxRank bounds Reshape's output rank, so that its shape is built on the
// stack.
const maxRank = 8

// Reshape returns x with its first (batch) axis kept and the others
// replaced by tail, which must hold as many elements; -1 in tail stands for
// the length that makes the counts agree. The values are copied into a tape
// buffer rather than shared, so that the step allocates nothing.
func Reshape(tp *autodiff.Tape, x *autodiff.Var, tail tensor.Shape) *autodiff.Var {
	const op = "nn.Reshape"
	xs := x.Shape()
	if len(xs) == 0 || len(tail)+1 > maxRank {
		tensor.Panicf(op, []tensor.Shape{xs, tail}, "want an input with a batch axis and at most %d output axes", maxRank)
	}
	var buf [maxRank]int
	s := append(buf[:0], xs[0])
	s = append(s, tail...)
	known, free := 1, -1
	for i, d := range s[1:] {
		switch {
		case d == -1 && free < 0:
			free = i + 1
		case d >= 0:
			known *= d
		default:
			tensor.Panicf(op, []tensor.Shape{xs, tail}, "bad target shape")
		}
	}
	row := x.Value.Len() / max(xs[0], 1)
	if free >= 0 && known > 0 {
		s[free] = row / known
		known *= s[free]
	}
	if known != row && xs[0] != 0 {
		tensor.Panicf(op, []tensor.Shape{xs, tail}, "%d values per sample cannot take the target shape", row)
	}
	out := tp.Alloc(x.DType(), s...)
	out.CopyFrom(x.Value)
	return tp.Output(out, autodiff.Record{Op: reshapeOp{}, In: [4]*autodiff.Var{x}})
}

func (reshapeOp) Backward(tp *autodiff.Tape, r *autodiff.Record) {
	if dx := tp.GradOf(r.In[0]); dx != nil {
		if is32(dx) {
			addTo(dx.Float32s(), r.Out.Grad.Float32s())
		} else {
			addTo(dx.Float64s(), r.Out.Grad.Float64s())
		}
	}
}

func addTo[T Float](dst, src []T) {
	for i, v := range src {
		dst[i] += v
	}
}

type rescaleOp struct{}

func (rescaleOp) Name() string { return "nn.Rescale" }

// Rescale returns x·scale + offset, elementwise (Keras's Rescaling: scale
// 1/255 maps bytes to [0, 1]).
func Rescale(tp *autodiff.Tape, x *autodiff.Var, scale, offset float64) *autodiff.Var {
	out := tp.Alloc(x.DType(), x.Shape()...)
	if is32(out) {
		scaleShift(out.Float32s(), x.Value.Float32s(), float32(scale), float32(offset))
	} else {
		scaleShift(out.Float64s(), x.Value.Float64s(), scale, offset)
	}
	return tp.Output(out, autodiff.Record{Op: rescaleOp{}, In: [4]*autodiff.Var{x}, F: [4]float64{scale}})
}

func scaleShift[T Float](dst, x []T, scale, offset T) {
	for i, v := range x {
		dst[i] = v*scale + offset
	}
}

func (rescaleOp) Backward(tp *autodiff.Tape, r *autodiff.Record) {
	if dx := tp.GradOf(r.In[0]); dx != nil {
		if is32(dx) {
			scaleAdd(dx.Float32s(), r.Out.Grad.Float32s(), float32(r.F[0]))
		} else {
			scaleAdd(dx.Float64s(), r.Out.Grad.Float64s(), r.F[0])
		}
	}
}

func scaleAdd[T Float](dst, src []T, a T) {
	for i, v := range src {
		dst[i] += a * v
	}
}
