package nn_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/internal/gradcheck"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// TestConv2DNormalizeSameBits checks that the fused inference op gives
// the bits of Conv2D followed by Normalize (or NormalizeReLU) and, with
// pool, MaxPool2D over 2×2 windows of stride 2, for the
// convolution cases of the gradient checks and for the CNN's two layers
// (the first on the direct kernel where the CPU has one, the second on
// the GEMM and the epilogue), with and without bias, gamma and beta.
func TestConv2DNormalizeSameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	randn := func(shape ...int) *tensor.Tensor {
		x := tensor.New(tensor.Float32, shape...)
		for i := range x.Float32s() {
			x.Float32s()[i] = float32(rng.NormFloat64())
		}
		return x
	}
	cases := append([]convCase{
		{[4]int{10, 28, 28, 1}, [4]int{3, 3, 1, 32}, [2]int{1, 1}, [2]int{1, 1}, nn.Valid},
		{[4]int{3, 13, 13, 32}, [4]int{3, 3, 32, 64}, [2]int{1, 1}, [2]int{1, 1}, nn.Valid},
		{[4]int{2, 9, 11, 3}, [4]int{3, 3, 3, 16}, [2]int{2, 1}, [2]int{1, 2}, nn.Valid},
		{[4]int{2, 9, 11, 3}, [4]int{3, 3, 3, 48}, [2]int{1, 1}, [2]int{1, 1}, nn.Same},
	}, convCases...)
	for _, c := range cases {
		f := c.k[3]
		x, w, b := randn(c.x[:]...), randn(c.k[:]...), randn(f)
		mean, variance := randn(f), tensor.New(tensor.Float32, f)
		for i := range variance.Float32s() {
			variance.Float32s()[i] = float32(0.5 + rng.Float64())
		}
		gamma, beta := randn(f), randn(f)
		for combo := range 16 {
			relu, withBias, affine, pool := combo&1 != 0, combo&2 != 0, combo&4 != 0, combo&8 != 0
			t.Run(fmt.Sprintf("%v/relu=%v/bias=%v/affine=%v/pool=%v", c, relu, withBias, affine, pool), func(t *testing.T) {
				tp := autodiff.NewTape()
				tp.NoGrad = true
				var bv, gv, bev *autodiff.Var
				if withBias {
					bv = tp.Const(b)
				}
				if affine {
					gv, bev = tp.Const(gamma), tp.Const(beta)
				}
				xv, wv := tp.Const(x), tp.Const(w)
				n := nn.Norm{Mean: mean, Variance: variance, Gamma: gv, Beta: bev, Epsilon: 1e-3}
				y := nn.Conv2D(tp, xv, wv, bv, c.opts(), nn.Linear)
				if pool && (y.Shape()[1] < 2 || y.Shape()[2] < 2) {
					defer func() {
						if se, ok := recover().(*tensor.ShapeError); !ok || se.Op != "nn.Conv2DNormalize" {
							t.Errorf("a 2×2 pool on a %v output: want a *tensor.ShapeError from nn.Conv2DNormalize", y.Shape())
						}
					}()
					nn.Conv2DNormalize(tp, xv, wv, bv, c.opts(), n, relu, pool)
					return
				}
				got := nn.Conv2DNormalize(tp, xv, wv, bv, c.opts(), n, relu, pool).Value
				if relu {
					y = nn.NormalizeReLU(tp, y, mean, variance, gv, bev, 1e-3)
				} else {
					y = nn.Normalize(tp, y, mean, variance, gv, bev, 1e-3)
				}
				if pool {
					y = nn.MaxPool2D(tp, y, [2]int{2, 2}, [2]int{2, 2}, nn.Valid)
				}
				want := y.Value
				if !got.Shape().Equal(want.Shape()) {
					t.Fatalf("shape %v, want %v", got.Shape(), want.Shape())
				}
				for i, v := range want.Float32s() {
					if g := got.Float32s()[i]; math.Float32bits(g) != math.Float32bits(v) {
						t.Fatalf("[%d] = %v, want %v, the separate ops' bits", i, g, v)
					}
				}
			})
		}
	}
}

// TestConv2DNormalizeGradient: where gradients are recorded the op runs
// the separate ops, so its gradients are theirs; checked here against
// central differences in float64.
func TestConv2DNormalizeGradient(t *testing.T) {
	c := convCases[1]
	f := c.k[3]
	mean, variance := gradcheck.Randn(f), gradcheck.Uniform(0.5, 2, f)
	for combo := range 4 {
		relu, pool := combo&1 != 0, combo&2 != 0
		gradcheck.Central(t, func(tp *autodiff.Tape, v []*autodiff.Var) *autodiff.Var {
			n := nn.Norm{Mean: mean, Variance: variance, Gamma: v[3], Beta: v[4], Epsilon: 1e-3}
			return project(tp, nn.Conv2DNormalize(tp, v[0], v[1], v[2], c.opts(), n, relu, pool))
		}, 1e-6, spatialRandn(c.x[:]...), spatialRandn(c.k[:]...), gradcheck.Randn(f), gradcheck.Randn(f), gradcheck.Randn(f))
	}
}

// TestConv2DNormalizeErrors: bad statistics are refused with the op's name.
func TestConv2DNormalizeErrors(t *testing.T) {
	tp := autodiff.NewTape()
	tp.NoGrad = true
	x := tp.Const(tensor.New(tensor.Float32, 1, 5, 5, 2))
	w := tp.Const(tensor.New(tensor.Float32, 3, 3, 2, 4))
	for _, tc := range []struct {
		name string
		n    nn.Norm
	}{
		{"short mean", nn.Norm{Mean: tensor.New(tensor.Float32, 3), Variance: tensor.New(tensor.Float32, 4)}},
		{"float64 variance", nn.Norm{Mean: tensor.New(tensor.Float32, 4), Variance: tensor.New(tensor.Float64, 4)}},
		{"short gamma", nn.Norm{Mean: tensor.New(tensor.Float32, 4), Variance: tensor.New(tensor.Float32, 4), Gamma: tp.Const(tensor.New(tensor.Float32, 2))}},
	} {
		func() {
			defer func() {
				se, ok := recover().(*tensor.ShapeError)
				if !ok || se.Op != "nn.Conv2DNormalize" {
					t.Errorf("%s: want a *tensor.ShapeError from nn.Conv2DNormalize, got %v", tc.name, se)
				}
			}()
			nn.Conv2DNormalize(tp, x, w, nil, nn.Conv2DOptions{}, tc.n, true, false)
		}()
	}
}
