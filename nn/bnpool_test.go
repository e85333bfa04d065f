package nn_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/internal/gradcheck"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/reduce"
	"github.com/myelin-go/myelin/tensor"
)

// pool2 is the 2×2, stride-2, "valid" max pool the fused ops end with.
func pool2(tp *autodiff.Tape, y *autodiff.Var) *autodiff.Var {
	return nn.MaxPool2D(tp, y, [2]int{2, 2}, [2]int{2, 2}, nn.Valid)
}

// TestBatchNormReLUMaxPool2Gradient checks the ops fused with a pool
// against central differences in float64, odd sizes included (a last
// row and column that no window reads).
func TestBatchNormReLUMaxPool2Gradient(t *testing.T) {
	// Its own generator: drawing from gradcheck's would change what the
	// package's later tests draw.
	rng := rand.New(rand.NewPCG(9, 10))
	uniform := func(lo, hi float64, shape ...int) *tensor.Tensor {
		x := tensor.New(tensor.Float64, shape...)
		for i := range x.Float64s() {
			x.Float64s()[i] = lo + (hi-lo)*rng.Float64()
		}
		return x
	}
	randn := func(shape ...int) *tensor.Tensor {
		x := tensor.New(tensor.Float64, shape...)
		for i := range x.Float64s() {
			x.Float64s()[i] = rng.NormFloat64()
		}
		return x
	}
	var grp reduce.Group
	l := reduce.NewLocal(1, 1, func(g reduce.Group) { grp = g })
	stepWithin(t, l)
	defer l.Close()
	for _, shape := range []tensor.Shape{{2, 4, 4, 3}, {3, 5, 3, 2}, {1, 2, 7, 4}} {
		t.Run(shape.String(), func(t *testing.T) {
			c := shape[3]
			x, g, b := randn(shape...), randn(c), randn(c)
			gradcheck.Central(t, func(tp *autodiff.Tape, v []*autodiff.Var) *autodiff.Var {
				y, _, _ := nn.BatchNormReLUMaxPool2(tp, v[0], v[1], v[2], 1e-3)
				return project(tp, y)
			}, 1e-6, x, g, b)
			gradcheck.Central(t, func(tp *autodiff.Tape, v []*autodiff.Var) *autodiff.Var {
				y, _, _ := nn.BatchNormReLUMaxPool2(tp, v[0], nil, nil, 1e-3)
				return project(tp, y)
			}, 1e-6, x)
			gradcheck.Central(t, func(tp *autodiff.Tape, v []*autodiff.Var) *autodiff.Var {
				y, _, _, _ := nn.BatchNormSyncReLUMaxPool2(tp, v[0], v[1], v[2], 1e-3, grp)
				return project(tp, y)
			}, 1e-6, x, g, b)
			// A positive shift keeps most of the ReLU's inputs positive, so
			// that gradients flow whatever the moving statistics.
			mean, variance, shift := randn(c), uniform(0.5, 2, c), uniform(0.5, 1.5, c)
			gradcheck.Central(t, func(tp *autodiff.Tape, v []*autodiff.Var) *autodiff.Var {
				return project(tp, nn.NormalizeReLUMaxPool2(tp, v[0], mean, variance, v[1], v[2], 1e-3))
			}, 1e-6, x, g, shift)
		})
	}
}

// TestBatchNormReLUMaxPool2SameBits checks that each op fused with a pool
// gives, in float32, the bits of the ops it replaces (batch norm with
// the ReLU, then MaxPool2D): the output, the batch statistics and the
// gradients of x, gamma and beta, for whole and sharded batches, with and
// without gamma and beta, and with vector and scalar channel counts.
func TestBatchNormReLUMaxPool2SameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	randn := func(shape ...int) *tensor.Tensor {
		x := tensor.New(tensor.Float32, shape...)
		for i := range x.Float32s() {
			x.Float32s()[i] = float32(rng.NormFloat64())
		}
		return x
	}
	type result struct{ y, dx, dg, db, mean, variance *tensor.Tensor }
	run := func(x, g, b, r *tensor.Tensor, f func(tp *autodiff.Tape, x, g, b *autodiff.Var) (y *autodiff.Var, mean, variance *tensor.Tensor)) result {
		tp := autodiff.NewTape()
		xv := tp.Variable(x)
		var gv, bv *autodiff.Var
		if g != nil {
			gv, bv = autodiff.NewParam(g.Clone(), "gamma"), autodiff.NewParam(b.Clone(), "beta")
		}
		y, mean, variance := f(tp, xv, gv, bv)
		tp.BackwardFrom(y, r)
		res := result{y: y.Value.Clone(), dx: xv.Grad.Clone()}
		if gv != nil {
			res.dg, res.db = gv.Grad.Clone(), bv.Grad.Clone()
		}
		if mean != nil {
			res.mean, res.variance = mean.Clone(), variance.Clone()
		}
		return res
	}
	same := func(name string, got, want result) {
		t.Helper()
		sameBits32(t, name+" y", got.y, want.y)
		sameBits32(t, name+" dx", got.dx, want.dx)
		if want.dg != nil {
			sameBits32(t, name+" dgamma", got.dg, want.dg)
			sameBits32(t, name+" dbeta", got.db, want.db)
		}
		if want.mean != nil {
			sameBits32(t, name+" mean", got.mean, want.mean)
			sameBits32(t, name+" variance", got.variance, want.variance)
		}
	}
	for _, shape := range []tensor.Shape{{4, 6, 6, 32}, {3, 11, 11, 64}, {2, 5, 7, 8}, {3, 4, 5, 5}, {2, 3, 2, 17}} {
		c := shape[3]
		x, g, b := randn(shape...), randn(c), randn(c)
		r := randn(shape[0], shape[1]/2, shape[2]/2, c)
		mean, variance := randn(c), randn(c)
		for i := range variance.Float32s() {
			variance.Float32s()[i] = 0.5 + variance.Float32s()[i]*variance.Float32s()[i]
		}
		for _, affine := range []bool{true, false} {
			gg, bb := g, b
			if !affine {
				gg, bb = nil, nil
			}
			name := fmt.Sprintf("%v affine=%v", shape, affine)
			same("BatchNorm "+name, run(x, gg, bb, r, func(tp *autodiff.Tape, x, g, b *autodiff.Var) (*autodiff.Var, *tensor.Tensor, *tensor.Tensor) {
				return nn.BatchNormReLUMaxPool2(tp, x, g, b, 1e-3)
			}), run(x, gg, bb, r, func(tp *autodiff.Tape, x, g, b *autodiff.Var) (*autodiff.Var, *tensor.Tensor, *tensor.Tensor) {
				y, m, v := nn.BatchNormReLU(tp, x, g, b, 1e-3)
				return pool2(tp, y), m, v
			}))
			same("BatchNorm (three ops) "+name, run(x, gg, bb, r, func(tp *autodiff.Tape, x, g, b *autodiff.Var) (*autodiff.Var, *tensor.Tensor, *tensor.Tensor) {
				return nn.BatchNormReLUMaxPool2(tp, x, g, b, 1e-3)
			}), run(x, gg, bb, r, func(tp *autodiff.Tape, x, g, b *autodiff.Var) (*autodiff.Var, *tensor.Tensor, *tensor.Tensor) {
				y, m, v := nn.BatchNorm(tp, x, g, b, 1e-3)
				return pool2(tp, nn.ReLU(tp, y)), m, v
			}))
			same("Normalize "+name, run(x, gg, bb, r, func(tp *autodiff.Tape, x, g, b *autodiff.Var) (*autodiff.Var, *tensor.Tensor, *tensor.Tensor) {
				return nn.NormalizeReLUMaxPool2(tp, x, mean, variance, g, b, 1e-3), nil, nil
			}), run(x, gg, bb, r, func(tp *autodiff.Tape, x, g, b *autodiff.Var) (*autodiff.Var, *tensor.Tensor, *tensor.Tensor) {
				return pool2(tp, nn.NormalizeReLU(tp, x, mean, variance, g, b, 1e-3)), nil, nil
			}))
			// Inference keeps no x̂.
			inf := func(fused bool) *tensor.Tensor {
				tp := autodiff.NewTape()
				tp.NoGrad = true
				var gv, bv *autodiff.Var
				if gg != nil {
					gv, bv = tp.Const(gg), tp.Const(bb)
				}
				if fused {
					return nn.NormalizeReLUMaxPool2(tp, tp.Const(x), mean, variance, gv, bv, 1e-3).Value.Clone()
				}
				return pool2(tp, nn.NormalizeReLU(tp, tp.Const(x), mean, variance, gv, bv, 1e-3)).Value.Clone()
			}
			sameBits32(t, "Normalize inference "+name, inf(true), inf(false))

			// Three shards of the batch (the middle one may be empty).
			cuts := []int{0, shape[0] / 3, shape[0] - 1, shape[0]}
			sharded := func(fused bool) []result {
				out := make([]result, 3)
				l := reduce.NewLocal(3, 2, func(grp reduce.Group) {
					k := grp.Rank()
					lo, hi := cuts[k], cuts[k+1]
					out[k] = run(x.Rows(lo, hi).Clone(), gg, bb, r.Rows(lo, hi).Clone(), func(tp *autodiff.Tape, x, g, b *autodiff.Var) (*autodiff.Var, *tensor.Tensor, *tensor.Tensor) {
						if fused {
							y, m, v, _ := nn.BatchNormSyncReLUMaxPool2(tp, x, g, b, 1e-3, grp)
							return y, m, v
						}
						y, m, v, _ := nn.BatchNormSyncReLU(tp, x, g, b, 1e-3, grp)
						return pool2(tp, y), m, v
					})
				})
				stepWithin(t, l)
				l.Close()
				return out
			}
			fused, apart := sharded(true), sharded(false)
			for k := range fused {
				same(fmt.Sprintf("BatchNormSync %s shard %d", name, k), fused[k], apart[k])
			}
		}
	}
}

// TestBatchNormReLUMaxPool2Shapes checks the errors for inputs the fused
// pool cannot take.
func TestBatchNormReLUMaxPool2Shapes(t *testing.T) {
	for _, shape := range []tensor.Shape{{4, 8}, {2, 1, 4, 3}, {2, 4, 1, 3}} {
		func() {
			defer func() {
				if _, ok := recover().(*tensor.ShapeError); !ok {
					t.Errorf("%v: want a *tensor.ShapeError panic", shape)
				}
			}()
			tp := autodiff.NewTape()
			nn.BatchNormReLUMaxPool2(tp, tp.Variable(tensor.New(tensor.Float32, shape...)), nil, nil, 1e-3)
		}()
	}
}
