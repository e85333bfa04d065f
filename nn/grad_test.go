package nn_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/internal/gradcheck"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// project returns Σ y⊙r for a random r that is the same at every
// evaluation, so that every output element weighs in differently.
func project(tp *autodiff.Tape, y *autodiff.Var) *autodiff.Var {
	rng := rand.New(rand.NewPCG(3, 4))
	r := tensor.New(tensor.Float64, y.Shape()...)
	for i := range r.Float64s() {
		r.Float64s()[i] = rng.NormFloat64()
	}
	return nn.Sum(tp, nn.Mul(tp, y, tp.Const(r)), nn.AllAxes)
}

type unaryCase struct {
	name   string
	f      func(tp *autodiff.Tape, x *autodiff.Var) *autodiff.Var
	lo, hi float64 // input range; away from kinks
}

func TestUnaryGradients(t *testing.T) {
	cases := []unaryCase{
		{"ReLU", nn.ReLU, -2, 2},
		{"Sigmoid", nn.Sigmoid, -4, 4},
		{"Tanh", nn.Tanh, -3, 3},
		{"Exp", nn.Exp, -2, 2},
		{"Log", nn.Log, 0.2, 3},
		{"Sqrt", nn.Sqrt, 0.2, 3},
		{"Square", nn.Square, -2, 2},
		{"Softplus", nn.Softplus, -5, 5},
		{"Neg", nn.Neg, -2, 2},
		{"Abs", nn.Abs, -2, 2},
		{"Scale", func(tp *autodiff.Tape, x *autodiff.Var) *autodiff.Var { return nn.Scale(tp, x, -2.5) }, -2, 2},
		{"Clip", func(tp *autodiff.Tape, x *autodiff.Var) *autodiff.Var { return nn.Clip(tp, x, -0.5, 0.7) }, -2, 2},
		{"Softmax", nn.Softmax, -3, 3},
		{"LogSoftmax", nn.LogSoftmax, -3, 3},
	}
	for _, c := range cases {
		for _, shape := range []tensor.Shape{{1, 3}, {3, 4}, {7, 5}} {
			t.Run(c.name+shape.String(), func(t *testing.T) {
				x := gradcheck.Uniform(c.lo, c.hi, shape...)
				// Keep inputs away from the kinks of ReLU, Abs and Clip,
				// where central differences straddle two slopes.
				for i, v := range x.Float64s() {
					for _, k := range []float64{0, -0.5, 0.7} {
						if v-k < 1e-3 && k-v < 1e-3 {
							x.Float64s()[i] = k + 0.01
						}
					}
				}
				gradcheck.Central(t, func(tp *autodiff.Tape, v []*autodiff.Var) *autodiff.Var {
					return project(tp, c.f(tp, v[0]))
				}, 1e-6, x)
			})
		}
	}
}

func TestBinaryGradients(t *testing.T) {
	ops := map[string]func(*autodiff.Tape, *autodiff.Var, *autodiff.Var) *autodiff.Var{
		"Add": nn.Add, "Sub": nn.Sub, "Mul": nn.Mul, "Div": nn.Div,
	}
	for name, f := range ops {
		for _, bshape := range []tensor.Shape{{4, 3}, {3}, {1, 3}, {1}} {
			t.Run(name+"/b"+bshape.String(), func(t *testing.T) {
				a := gradcheck.Randn(4, 3)
				b := gradcheck.Uniform(0.5, 2, bshape...) // away from 0 for Div
				gradcheck.Central(t, func(tp *autodiff.Tape, v []*autodiff.Var) *autodiff.Var {
					return project(tp, f(tp, v[0], v[1]))
				}, 1e-6, a, b)
			})
		}
	}
}

func TestReuseAccumulates(t *testing.T) {
	// y = x⊙x + x uses x three times; its gradient is 2x + 1.
	x := gradcheck.Randn(3, 2)
	gradcheck.Central(t, func(tp *autodiff.Tape, v []*autodiff.Var) *autodiff.Var {
		return project(tp, nn.Add(tp, nn.Mul(tp, v[0], v[0]), v[0]))
	}, 1e-6, x)
	g := gradcheck.Analytic(func(tp *autodiff.Tape, v []*autodiff.Var) *autodiff.Var {
		return nn.Sum(tp, nn.Add(tp, nn.Mul(tp, v[0], v[0]), v[0]), nn.AllAxes)
	}, x)[0]
	for i, xv := range x.Float64s() {
		if got, want := g.Float64s()[i], 2*xv+1; math.Abs(got-want) > 1e-12 {
			t.Errorf("grad[%d] = %g, want %g", i, got, want)
		}
	}
}

func TestReduceGradients(t *testing.T) {
	for _, axis := range []int{nn.AllAxes, 0, 1, 2} {
		for _, mean := range []bool{false, true} {
			t.Run("", func(t *testing.T) {
				x := gradcheck.Randn(2, 3, 4)
				gradcheck.Central(t, func(tp *autodiff.Tape, v []*autodiff.Var) *autodiff.Var {
					if mean {
						return project(tp, nn.Mean(tp, v[0], axis))
					}
					return project(tp, nn.Sum(tp, v[0], axis))
				}, 1e-6, x)
			})
		}
	}
}

func TestMatMulGradients(t *testing.T) {
	for _, ta := range []bool{false, true} {
		for _, tb := range []bool{false, true} {
			t.Run("", func(t *testing.T) {
				m, k, n := 3, 5, 4
				a, b := gradcheck.Randn(m, k), gradcheck.Randn(k, n)
				if ta {
					a = gradcheck.Randn(k, m)
				}
				if tb {
					b = gradcheck.Randn(n, k)
				}
				gradcheck.Central(t, func(tp *autodiff.Tape, v []*autodiff.Var) *autodiff.Var {
					return project(tp, nn.MatMul(tp, v[0], v[1], ta, tb))
				}, 1e-6, a, b)
			})
		}
	}
}

func TestDenseGradients(t *testing.T) {
	for _, act := range []nn.Activation{nn.Linear, nn.ActReLU, nn.ActSigmoid, nn.ActTanh, nn.ActSoftmax} {
		t.Run(act.String(), func(t *testing.T) {
			x, w, b := gradcheck.Randn(6, 5), gradcheck.Randn(5, 4), gradcheck.Randn(4)
			gradcheck.Central(t, func(tp *autodiff.Tape, v []*autodiff.Var) *autodiff.Var {
				return project(tp, nn.Dense(tp, v[0], v[1], v[2], act))
			}, 1e-6, x, w, b)
		})
	}
	t.Run("nobias", func(t *testing.T) {
		x, w := gradcheck.Randn(3, 2), gradcheck.Randn(2, 4)
		gradcheck.Central(t, func(tp *autodiff.Tape, v []*autodiff.Var) *autodiff.Var {
			return project(tp, nn.Dense(tp, v[0], v[1], nil, nn.ActTanh))
		}, 1e-6, x, w)
	})
}

func TestDenseMatchesComposition(t *testing.T) {
	x, w, b := gradcheck.Randn(6, 5), gradcheck.Randn(5, 4), gradcheck.Randn(4)
	tp := autodiff.NewTape()
	fused := nn.Dense(tp, tp.Const(x), tp.Const(w), tp.Const(b), nn.ActSigmoid)
	comp := nn.Sigmoid(tp, nn.Add(tp, nn.MatMul(tp, tp.Const(x), tp.Const(w), false, false), tp.Const(b)))
	for i := range fused.Value.Len() {
		if d := fused.Value.Index(i) - comp.Value.Index(i); d > 1e-12 || d < -1e-12 {
			t.Fatalf("element %d: fused %g, composed %g", i, fused.Value.Index(i), comp.Value.Index(i))
		}
	}
}

func TestBatchNormGradient(t *testing.T) {
	for _, shape := range []tensor.Shape{{2, 3}, {7, 5}, {32, 8}, {4, 3, 2}} {
		t.Run(shape.String(), func(t *testing.T) {
			c := shape[len(shape)-1]
			x, g, b := gradcheck.Randn(shape...), gradcheck.Randn(c), gradcheck.Randn(c)
			// Project on a random r: under BN, Σy has a zero x-gradient.
			gradcheck.Central(t, func(tp *autodiff.Tape, v []*autodiff.Var) *autodiff.Var {
				y, _, _ := nn.BatchNorm(tp, v[0], v[1], v[2], 1e-3)
				return project(tp, y)
			}, 1e-6, x, g, b)
			gradcheck.Central(t, func(tp *autodiff.Tape, v []*autodiff.Var) *autodiff.Var {
				y, _, _ := nn.BatchNorm(tp, v[0], nil, nil, 1e-3)
				return project(tp, y)
			}, 1e-6, x)
		})
	}
}

func TestNormalizeGradient(t *testing.T) {
	x, g, b := gradcheck.Randn(5, 3), gradcheck.Randn(3), gradcheck.Randn(3)
	mean, variance := gradcheck.Randn(3), gradcheck.Uniform(0.5, 2, 3)
	gradcheck.Central(t, func(tp *autodiff.Tape, v []*autodiff.Var) *autodiff.Var {
		return project(tp, nn.Normalize(tp, v[0], mean, variance, v[1], v[2], 1e-3))
	}, 1e-6, x, g, b)
}

func TestBatchNormRejectsBatchOfOne(t *testing.T) {
	defer func() {
		e, ok := recover().(*tensor.ShapeError)
		if !ok {
			t.Fatalf("want *tensor.ShapeError panic, got %v", e)
		}
	}()
	tp := autodiff.NewTape()
	nn.BatchNorm(tp, tp.Const(tensor.New(tensor.Float64, 1, 4)), nil, nil, 1e-3)
}

func TestSoftmaxCrossEntropyGradient(t *testing.T) {
	for _, sparse := range []bool{false, true} {
		x := gradcheck.Randn(5, 4)
		var target *tensor.Tensor
		if sparse {
			target = tensor.FromFloat64([]float64{0, 3, 1, 1, 2}, 5)
		} else {
			target = gradcheck.Uniform(0, 1, 5, 4) // soft targets
		}
		gradcheck.Central(t, func(tp *autodiff.Tape, v []*autodiff.Var) *autodiff.Var {
			return nn.SoftmaxCrossEntropy(tp, v[0], target, sparse)
		}, 1e-6, x)
	}
}

func TestSoftmaxCrossEntropyMatchesComposition(t *testing.T) {
	x := gradcheck.Randn(6, 3)
	target := tensor.New(tensor.Float64, 6, 3)
	for i := range 6 {
		target.Set(1, i, i%3)
	}
	tp := autodiff.NewTape()
	fused := nn.SoftmaxCrossEntropy(tp, tp.Const(x), target, false).Value.Item()
	ls := nn.LogSoftmax(tp, tp.Const(x))
	comp := -nn.Mean(tp, nn.Sum(tp, nn.Mul(tp, ls, tp.Const(target)), 1), nn.AllAxes).Value.Item()
	if d := fused - comp; d > 1e-12 || d < -1e-12 {
		t.Fatalf("fused %g, composed %g", fused, comp)
	}
}

func TestDropoutGradient(t *testing.T) {
	x := gradcheck.Randn(6, 5)
	gradcheck.Central(t, func(tp *autodiff.Tape, v []*autodiff.Var) *autodiff.Var {
		rng := rand.New(rand.NewPCG(7, 7)) // same mask at every evaluation
		return project(tp, nn.Dropout(tp, v[0], 0.4, rng))
	}, 1e-6, x)
}
