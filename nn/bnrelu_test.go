package nn_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/internal/gradcheck"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/reduce"
	"github.com/myelin-go/myelin/tensor"
)

// TestBatchNormReLUGradient checks the fused ops against central
// differences in float64 (random inputs keep the ReLU's inputs away from
// its kink).
func TestBatchNormReLUGradient(t *testing.T) {
	var grp reduce.Group
	l := reduce.NewLocal(1, 1, func(g reduce.Group) { grp = g })
	stepWithin(t, l)
	defer l.Close()
	for _, shape := range []tensor.Shape{{7, 5}, {32, 8}, {4, 3, 2, 9}} {
		t.Run(shape.String(), func(t *testing.T) {
			c := shape[len(shape)-1]
			x, g, b := gradcheck.Randn(shape...), gradcheck.Randn(c), gradcheck.Randn(c)
			gradcheck.Central(t, func(tp *autodiff.Tape, v []*autodiff.Var) *autodiff.Var {
				y, _, _ := nn.BatchNormReLU(tp, v[0], v[1], v[2], 1e-3)
				return project(tp, y)
			}, 1e-6, x, g, b)
			gradcheck.Central(t, func(tp *autodiff.Tape, v []*autodiff.Var) *autodiff.Var {
				y, _, _ := nn.BatchNormReLU(tp, v[0], nil, nil, 1e-3)
				return project(tp, y)
			}, 1e-6, x)
			gradcheck.Central(t, func(tp *autodiff.Tape, v []*autodiff.Var) *autodiff.Var {
				y, _, _, _ := nn.BatchNormSyncReLU(tp, v[0], v[1], v[2], 1e-3, grp)
				return project(tp, y)
			}, 1e-6, x, g, b)
			mean, variance := gradcheck.Randn(c), gradcheck.Uniform(0.5, 2, c)
			gradcheck.Central(t, func(tp *autodiff.Tape, v []*autodiff.Var) *autodiff.Var {
				return project(tp, nn.NormalizeReLU(tp, v[0], mean, variance, v[1], v[2], 1e-3))
			}, 1e-6, x, g, b)
		})
	}
}

// TestBatchNormReLUSameBits checks that each fused op gives, in float32,
// the bits of the batch norm op followed by nn.ReLU: the output and the
// gradients of x, gamma and beta. Sharded batches (BatchNormSyncReLU over
// a group of three) are compared with the sharded separate ops.
func TestBatchNormReLUSameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	randn := func(shape ...int) *tensor.Tensor {
		x := tensor.New(tensor.Float32, shape...)
		for i := range x.Float32s() {
			x.Float32s()[i] = float32(rng.NormFloat64())
		}
		return x
	}
	type result struct{ y, dx, dg, db *tensor.Tensor }
	run := func(x, g, b, r *tensor.Tensor, f func(tp *autodiff.Tape, x, g, b *autodiff.Var) *autodiff.Var) result {
		tp := autodiff.NewTape()
		xv, gv, bv := tp.Variable(x), autodiff.NewParam(g.Clone(), "gamma"), autodiff.NewParam(b.Clone(), "beta")
		y := f(tp, xv, gv, bv)
		tp.BackwardFrom(y, r)
		return result{y.Value.Clone(), xv.Grad.Clone(), gv.Grad.Clone(), bv.Grad.Clone()}
	}
	for _, shape := range []tensor.Shape{{16, 5}, {64, 32}, {3, 5, 4, 64}, {2, 3, 3, 17}} {
		c := shape[len(shape)-1]
		x, g, b, r := randn(shape...), randn(c), randn(c), randn(shape...)
		mean, variance := randn(c), randn(c)
		for i := range variance.Float32s() {
			variance.Float32s()[i] = 0.5 + variance.Float32s()[i]*variance.Float32s()[i]
		}
		cases := []struct {
			name         string
			fused, apart func(tp *autodiff.Tape, x, g, b *autodiff.Var) *autodiff.Var
		}{
			{"BatchNorm",
				func(tp *autodiff.Tape, x, g, b *autodiff.Var) *autodiff.Var {
					y, _, _ := nn.BatchNormReLU(tp, x, g, b, 1e-3)
					return y
				},
				func(tp *autodiff.Tape, x, g, b *autodiff.Var) *autodiff.Var {
					y, _, _ := nn.BatchNorm(tp, x, g, b, 1e-3)
					return nn.ReLU(tp, y)
				}},
			{"Normalize",
				func(tp *autodiff.Tape, x, g, b *autodiff.Var) *autodiff.Var {
					return nn.NormalizeReLU(tp, x, mean, variance, g, b, 1e-3)
				},
				func(tp *autodiff.Tape, x, g, b *autodiff.Var) *autodiff.Var {
					return nn.ReLU(tp, nn.Normalize(tp, x, mean, variance, g, b, 1e-3))
				}},
		}
		for _, tc := range cases {
			got, want := run(x, g, b, r, tc.fused), run(x, g, b, r, tc.apart)
			name := fmt.Sprintf("%s %v", tc.name, shape)
			sameBits32(t, name+" y", got.y, want.y)
			sameBits32(t, name+" dx", got.dx, want.dx)
			sameBits32(t, name+" dgamma", got.dg, want.dg)
			sameBits32(t, name+" dbeta", got.db, want.db)
		}

		// Three shards of the batch, fused and apart.
		cuts := []int{0, shape[0] / 3, shape[0] - 1, shape[0]}
		sharded := func(relu bool) []result {
			out := make([]result, 3)
			l := reduce.NewLocal(3, 2, func(grp reduce.Group) {
				k := grp.Rank()
				lo, hi := cuts[k], cuts[k+1]
				out[k] = run(x.Rows(lo, hi).Clone(), g, b, r.Rows(lo, hi).Clone(), func(tp *autodiff.Tape, x, g, b *autodiff.Var) *autodiff.Var {
					if relu {
						y, _, _, _ := nn.BatchNormSyncReLU(tp, x, g, b, 1e-3, grp)
						return y
					}
					y, _, _, _ := nn.BatchNormSync(tp, x, g, b, 1e-3, grp)
					return nn.ReLU(tp, y)
				})
			})
			stepWithin(t, l)
			l.Close()
			return out
		}
		fused, apart := sharded(true), sharded(false)
		for k := range fused {
			name := fmt.Sprintf("BatchNormSync %v shard %d", shape, k)
			sameBits32(t, name+" y", fused[k].y, apart[k].y)
			sameBits32(t, name+" dx", fused[k].dx, apart[k].dx)
			sameBits32(t, name+" dgamma", fused[k].dg, apart[k].dg)
			sameBits32(t, name+" dbeta", fused[k].db, apart[k].db)
		}
	}
}

func sameBits32(t *testing.T, what string, got, want *tensor.Tensor) {
	t.Helper()
	if !got.Shape().Equal(want.Shape()) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape(), want.Shape())
	}
	for i, w := range want.Float32s() {
		if g := got.Float32s()[i]; math.Float32bits(g) != math.Float32bits(w) {
			t.Fatalf("%s: [%d] fused %v, separate ops %v", what, i, g, w)
		}
	}
}
