package nn

import (
	"math/rand/v2"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/tensor"
)

type dropoutOp struct{}

func (dropoutOp) Name() string { return "nn.Dropout" }

// Dropout zeroes each element of x with probability rate, drawn from rng,
// and scales the kept ones by 1/(1−rate) (inverted dropout), so inference
// needs no rescaling and simply skips this op.
func Dropout(tp *autodiff.Tape, x *autodiff.Var, rate float64, rng *rand.Rand) *autodiff.Var {
	if rate < 0 || rate >= 1 {
		tensor.Panicf("nn.Dropout", shapes(x), "rate %g outside [0, 1)", rate)
	}
	dt := x.DType()
	mask := tp.Alloc(dt, x.Shape()...)
	out := tp.Alloc(dt, x.Shape()...)
	keep := 1 / (1 - rate)
	for i := range mask.Len() {
		if rng.Float64() < rate {
			mask.SetIndex(i, 0)
		} else {
			mask.SetIndex(i, keep)
		}
	}
	if is32(out) {
		binaryFwd(opMul, bcNone, 1, out.Float32s(), x.Value.Float32s(), mask.Float32s())
	} else {
		binaryFwd(opMul, bcNone, 1, out.Float64s(), x.Value.Float64s(), mask.Float64s())
	}
	return tp.Output(out, autodiff.Record{Op: dropoutOp{}, In: [4]*autodiff.Var{x}, Aux: [4]*tensor.Tensor{mask}})
}

func (dropoutOp) Backward(tp *autodiff.Tape, r *autodiff.Record) {
	dx := tp.GradOf(r.In[0])
	if is32(dx) {
		mulAdd(dx.Float32s(), r.Out.Grad.Float32s(), r.Aux[0].Float32s())
	} else {
		mulAdd(dx.Float64s(), r.Out.Grad.Float64s(), r.Aux[0].Float64s())
	}
}

// mulAdd adds a⊙b to dst.
func mulAdd[T Float](dst, a, b []T) {
	for i, v := range a {
		dst[i] += v * b[i]
	}
}
