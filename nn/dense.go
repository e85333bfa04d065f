package nn

import (
	"fmt"
	"math"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/internal/kernel"
	"github.com/myelin-go/myelin/tensor"
)

// Activation names an elementwise (or, for softmax, row-wise) function
// applied after a Dense layer's affine map.
type Activation uint8

// The activations, by their Keras names.
const (
	Linear Activation = iota
	ActReLU
	ActSigmoid
	ActTanh
	ActSoftmax
)

var activationNames = [...]string{"linear", "relu", "sigmoid", "tanh", "softmax"}

// String returns the Keras name: "linear", "relu", "sigmoid", "tanh", "softmax".
func (a Activation) String() string {
	if int(a) < len(activationNames) {
		return activationNames[a]
	}
	return fmt.Sprintf("activation(%d)", int(a))
}

// ParseActivation returns the activation with Keras name s ("" is linear).
func ParseActivation(s string) (Activation, error) {
	if s == "" || s == "None" {
		return Linear, nil
	}
	for i, n := range activationNames {
		if n == s {
			return Activation(i), nil
		}
	}
	return 0, fmt.Errorf("nn: unknown activation %q (want one of linear, relu, sigmoid, tanh, softmax)", s)
}

// Apply applies a to x as a separate op.
func (a Activation) Apply(tp *autodiff.Tape, x *autodiff.Var) *autodiff.Var {
	switch a {
	case ActReLU:
		return ReLU(tp, x)
	case ActSigmoid:
		return Sigmoid(tp, x)
	case ActTanh:
		return Tanh(tp, x)
	case ActSoftmax:
		return Softmax(tp, x)
	}
	return x
}

type denseOp struct{}

func (denseOp) Name() string { return "nn.Dense" }

// Dense returns act(x·w + b) in one op: a matrix product into the output,
// then one pass adding the bias and applying the activation in place; the
// backward pass turns dy into the pre-activation gradient in one pass too.
// x is (samples, in), w is (in, out), b is (out,) or nil.
func Dense(tp *autodiff.Tape, x, w, b *autodiff.Var, act Activation) *autodiff.Var {
	const op = "nn.Dense"
	sameDType(op, x, w, b)
	xs, ws := x.Shape(), w.Shape()
	if len(xs) != 2 || len(ws) != 2 || xs[1] != ws[0] {
		tensor.Panicf(op, shapes(x, w), "want inputs (samples, %d) for a kernel of shape %s", lastOr1(ws[:1]), ws)
	}
	if b != nil && (b.Value.Rank() != 1 || b.Value.Len() != ws[1]) {
		tensor.Panicf(op, shapes(x, w, b), "bias must have shape (%d,)", ws[1])
	}
	m, k, n := xs[0], xs[1], ws[1]
	out := tp.Alloc(x.DType(), m, n)
	gemm(false, false, m, n, k, 1, x.Value, w.Value, 0, out)
	if y := out.Float32s(); y != nil && (act == ActReLU || act == Linear) {
		// The vector kernels: a scalar max(v, 0) branches on signs that
		// are random, and the Go compiler does not vectorize the bias add.
		if b != nil {
			kernel.AddRowTo(y, y, b.Value.Float32s(), n)
		}
		if act == ActReLU {
			kernel.ReluTo(y, y)
		}
	} else if is32(out) {
		biasAct(out.Float32s(), valF32(b), n, act)
	} else {
		biasAct(out.Float64s(), valF64(b), n, act)
	}
	return tp.Output(out, autodiff.Record{Op: denseOp{}, In: [4]*autodiff.Var{x, w, b}, I: [4]int{int(act)}})
}

// biasAct adds the bias row to each row of y and applies act in place.
func biasAct[T Float](y, b []T, n int, act Activation) {
	for i := 0; i < len(y); i += n {
		r := y[i : i+n]
		for j, v := range b {
			r[j] += v
		}
		switch act {
		case ActReLU:
			for j, v := range r {
				r[j] = max(v, 0)
			}
		case ActSigmoid:
			for j, v := range r {
				r[j] = sigmoid(v)
			}
		case ActTanh:
			for j, v := range r {
				r[j] = T(math.Tanh(float64(v)))
			}
		}
	}
	if act == ActSoftmax {
		softmaxRows(y, y, n, false)
	}
}

func (denseOp) Backward(tp *autodiff.Tape, r *autodiff.Record) {
	x, w, b := r.In[0], r.In[1], r.In[2]
	act := Activation(r.I[0])
	y, dy := r.Out.Value, r.Out.Grad
	m, n := y.Dim(0), y.Dim(1)
	k := x.Value.Dim(1)
	dz := dy
	if act != Linear {
		dz = tp.Alloc(y.DType(), m, n)
		if is32(dz) && act == ActReLU {
			kernel.ReluGradTo(dz.Float32s(), dy.Float32s(), y.Float32s()) // branch-free: signs are random
		} else if is32(dz) {
			actGrad(dz.Float32s(), dy.Float32s(), y.Float32s(), n, act)
		} else {
			actGrad(dz.Float64s(), dy.Float64s(), y.Float64s(), n, act)
		}
	}
	// A gradient touched for the first time is overwritten (beta 0)
	// rather than cleared and added into: the same bits, one pass less.
	if dw, dirty := tp.GradLazy(w); dw != nil {
		gemm(true, false, k, n, m, 1, x.Value, dz, accumulate(dirty), dw)
	}
	addBiasGrad(tp, b, dz, n)
	if dx, dirty := tp.GradLazy(x); dx != nil {
		gemm(false, true, m, k, n, 1, dz, w.Value, accumulate(dirty), dx)
	}
}

// actGrad writes the pre-activation gradient dz from dy and the output y.
func actGrad[T Float](dz, dy, y []T, n int, act Activation) {
	switch act {
	case ActReLU:
		for i, v := range y {
			if v > 0 {
				dz[i] = dy[i]
			} else {
				dz[i] = 0
			}
		}
	case ActSigmoid:
		for i, v := range y {
			dz[i] = dy[i] * v * (1 - v)
		}
	case ActTanh:
		for i, v := range y {
			dz[i] = dy[i] * (1 - v*v)
		}
	case ActSoftmax:
		clear(dz)
		softmaxBwd(dz, dy, y, n, false)
	}
}

// MarshalText writes the Keras name.
func (a Activation) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText reads a Keras name.
func (a *Activation) UnmarshalText(b []byte) error {
	v, err := ParseActivation(string(b))
	*a = v
	return err
}
