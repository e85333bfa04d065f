// Package nn holds the differentiable functions of myelin: each takes
// *autodiff.Var inputs, computes its output into a tape buffer, and records
// itself with a Backward method written beside the forward.
//
// Primitives: MatMul, Add, Sub, Mul, Div (a row vector or a scalar
// broadcasts as the second operand), Sum, Mean, ReLU, Sigmoid, Tanh, Exp,
// Log, Sqrt, Square, Softplus, Neg, Scale, Clip, Softmax, LogSoftmax.
// Fused ops with an analytic backward, for speed and stability: Dense
// (x·W + b then an activation), Conv2D (im2col and the GEMM, channels
// last), DepthwiseConv2D (direct loops), MaxPool2D, AvgPool2D,
// GlobalAvgPool2D, BatchNorm and Normalize (and BatchNormReLU and kin,
// which a model uses for batch norm followed by ReLU), LayerNorm,
// GroupNorm, Penalty (L1/L2 weight penalties), SoftmaxCrossEntropy,
// Dropout; Reshape and Rescale.
//
// Functions here panic with a *tensor.ShapeError on mismatched inputs; the
// model package turns that into an error at its door. Weights are passed
// in: the layers package owns them.
package nn

import (
	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/internal/kernel"
	"github.com/myelin-go/myelin/tensor"
)

// Float is the element type of the generic loops.
type Float interface{ ~float32 | ~float64 }

func is32(t *tensor.Tensor) bool { return t.DType() == tensor.Float32 }

func sameDType(op string, vs ...*autodiff.Var) {
	var dt tensor.DType
	for _, v := range vs {
		if v == nil {
			continue
		}
		if dt == 0 {
			dt = v.DType()
		} else if v.DType() != dt {
			shapes := make([]tensor.Shape, 0, len(vs))
			for _, w := range vs {
				if w != nil {
					shapes = append(shapes, w.Shape())
				}
			}
			tensor.Panicf(op, shapes, "dtypes differ: %s and %s", dt, v.DType())
		}
	}
}

func shapes(vs ...*autodiff.Var) []tensor.Shape {
	s := make([]tensor.Shape, 0, len(vs))
	for _, v := range vs {
		if v != nil {
			s = append(s, v.Shape())
		}
	}
	return s
}

// lastDim returns (rows, cols) viewing a tensor of rank ≥ 1 as a matrix
// whose columns are its last axis.
func lastDim(s tensor.Shape) (rows, cols int) {
	if len(s) == 0 {
		return 1, 1
	}
	cols = s[len(s)-1]
	if cols == 0 {
		return 0, 0
	}
	return s.Len() / cols, cols
}

// lazyChunk is how many gradient elements an op given a dirty buffer by
// Tape.GradLazy clears and then adds into at a time: 16 KB of float32, so
// the cleared piece is still in L1 when the add reads it.
const lazyChunk = 4096

// addBiasGrad adds to b's gradient, when b has one, the column sums of
// the rows×n pre-activation gradient dz (kernel.AddColSums).
func addBiasGrad(tp *autodiff.Tape, b *autodiff.Var, dz *tensor.Tensor, n int) {
	db := tp.GradOf(b)
	switch {
	case db == nil:
	case is32(db):
		kernel.AddColSums(db.Float32s(), dz.Float32s(), n)
	default:
		kernel.AddColSums(db.Float64s(), dz.Float64s(), n)
	}
}
