package nn_test

import (
	"math"
	"testing"
	"time"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/internal/gradcheck"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/reduce"
	"github.com/myelin-go/myelin/tensor"
)

// TestBatchNormSyncIsWholeBatch: shards of a batch that normalize through
// a group compute, row for row, what BatchNorm computes on the whole
// batch, forward and backward, and their gamma and beta gradients add up
// to the whole batch's. Rank-4 input (NHWC) normalizes each channel.
func TestBatchNormSyncIsWholeBatch(t *testing.T) {
	for _, tc := range []struct {
		shape tensor.Shape
		cuts  []int // shard boundaries along the first axis
	}{
		{tensor.Shape{12, 5}, []int{0, 4, 8, 12}},
		{tensor.Shape{12, 5}, []int{0, 5, 12}},
		{tensor.Shape{9, 3}, []int{0, 1, 2, 9}},
		{tensor.Shape{6, 3, 2, 4}, []int{0, 2, 3, 6}},
		{tensor.Shape{8, 4}, []int{0, 8, 8}}, // a shard without rows
	} {
		t.Run(tc.shape.String(), func(t *testing.T) {
			c := tc.shape[len(tc.shape)-1]
			x, g, b := gradcheck.Randn(tc.shape...), gradcheck.Randn(c), gradcheck.Randn(c)
			r := gradcheck.Randn(tc.shape...) // the upstream gradient

			// The whole batch.
			tp := autodiff.NewTape()
			xv, gv, bv := tp.Variable(x), tp.Variable(g), tp.Variable(b)
			y, mean, variance := nn.BatchNorm(tp, xv, gv, bv, 1e-3)
			tp.Backward(nn.Sum(tp, nn.Mul(tp, y, tp.Const(r)), nn.AllAxes))
			rowLen := x.Len() / tc.shape[0]

			n := len(tc.cuts) - 1
			ys := make([]*tensor.Tensor, n)
			dxs := make([]*tensor.Tensor, n)
			dgs, dbs := make([]*tensor.Tensor, n), make([]*tensor.Tensor, n)
			means := make([]*tensor.Tensor, n)
			vars := make([]*tensor.Tensor, n)
			counts := make([]int, n)
			l := reduce.NewLocal(n, 2, func(grp reduce.Group) {
				k := grp.Rank()
				lo, hi := tc.cuts[k], tc.cuts[k+1]
				tp := autodiff.NewTape()
				xk := tp.Variable(x.Rows(lo, hi).Clone())
				gk, bk := tp.Variable(g), tp.Variable(b)
				y, m, v, cnt := nn.BatchNormSync(tp, xk, gk, bk, 1e-3, grp)
				ys[k], means[k], vars[k], counts[k] = y.Value.Clone(), m.Clone(), v.Clone(), cnt
				tp.Backward(nn.Sum(tp, nn.Mul(tp, y, tp.Const(r.Rows(lo, hi).Clone())), nn.AllAxes))
				dxs[k] = xk.Grad.Clone()
				dgs[k], dbs[k] = gk.Grad.Clone(), bk.Grad.Clone()
			})
			stepWithin(t, l)
			l.Close()
			dg, db := make([]float64, c), make([]float64, c)
			for k := range n {
				for i := range c {
					dg[i] += dgs[k].Float64s()[i]
					db[i] += dbs[k].Float64s()[i]
				}
			}
			close := func(what string, got, want float64) {
				t.Helper()
				if math.Abs(got-want) > 1e-12*(1+math.Abs(want)) {
					t.Fatalf("%s: shards %.17g, whole batch %.17g", what, got, want)
				}
			}
			for k := range n {
				lo, hi := tc.cuts[k], tc.cuts[k+1]
				if counts[k] != x.Len()/c {
					t.Fatalf("shard %d: count %d, want %d", k, counts[k], x.Len()/c)
				}
				for i := range c {
					close("mean", means[k].Float64s()[i], mean.Float64s()[i])
					close("variance", vars[k].Float64s()[i], variance.Float64s()[i])
				}
				for i := range (hi - lo) * rowLen {
					close("y", ys[k].Float64s()[i], y.Value.Float64s()[lo*rowLen+i])
					close("dx", dxs[k].Float64s()[i], xv.Grad.Float64s()[lo*rowLen+i])
				}
			}
			for i := range c {
				close("dgamma", dg[i], gv.Grad.Float64s()[i])
				close("dbeta", db[i], bv.Grad.Float64s()[i])
			}
		})
	}
}

// TestBatchNormSyncGradient checks the op's own backward against central
// differences, in a group of one (where it is BatchNorm with its sums
// taken through the group).
func TestBatchNormSyncGradient(t *testing.T) {
	for _, shape := range []tensor.Shape{{7, 5}, {4, 3, 2}} {
		t.Run(shape.String(), func(t *testing.T) {
			c := shape[len(shape)-1]
			x, g, b := gradcheck.Randn(shape...), gradcheck.Randn(c), gradcheck.Randn(c)
			var grp reduce.Group
			l := reduce.NewLocal(1, 1, func(g reduce.Group) { grp = g })
			stepWithin(t, l)
			defer l.Close()
			gradcheck.Central(t, func(tp *autodiff.Tape, v []*autodiff.Var) *autodiff.Var {
				y, _, _, _ := nn.BatchNormSync(tp, v[0], v[1], v[2], 1e-3, grp)
				return project(tp, y)
			}, 1e-6, x, g, b)
		})
	}
}

// stepWithin runs l.Step, failing the test if it has not returned within a
// minute (a member that never reaches a sync would hang it), and passes on
// its panic.
func stepWithin(t *testing.T, l *reduce.Local) {
	t.Helper()
	done := make(chan any, 1)
	go func() {
		defer func() { done <- recover() }()
		l.Step()
	}()
	select {
	case p := <-done:
		if p != nil {
			panic(p)
		}
	case <-time.After(time.Minute):
		t.Fatal("Local.Step did not return within a minute")
	}
}
