package nn

import (
	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/internal/kernel"
	"github.com/myelin-go/myelin/reduce"
	"github.com/myelin-go/myelin/tensor"
)

// Batch norm, ReLU and a 2×2, stride-2 max pool in one op: the block
// every small CNN repeats. The ReLU's output, four times the pool's, never
// reaches memory: the forward normalizes two image rows at a time into a
// scratch buffer and pools them from there, and the backward recomputes
// those two rows from x̂ (with the forward's roundings), runs the pool's
// backward into scratch and hands each band of rows to batch norm's loops.
// The kernels and their order are the separate ops', so the bits are too:
// only the buffers in between shrink to two rows.

// poolRows is the fused pool of one op: x is (n, h, w, c), the pool's
// output p is (n, h/2, w/2, c); a last row or column that no window reads
// gets no gradient from the pool, as in MaxPool2D.
type poolRows[T Float] struct {
	n, h, w, c int
	p          []T // the pool's output
	y, d       []T // scratch: two rows of the ReLU's output and of its gradient
	zero, one  []T // c zeros and c ones: the mean and invstd that keep x̂
}

// newPoolRows returns the fused pool for x of shape xs and the pool's
// output p, with scratch from tp; back adds the backward's scratch.
func newPoolRows[T Float](tp *autodiff.Tape, xs tensor.Shape, p *tensor.Tensor, back bool) poolRows[T] {
	dt := p.DType()
	r := poolRows[T]{n: xs[0], h: xs[1], w: xs[2], c: xs[3], p: vals[T](p)}
	r.y = vals[T](tp.Alloc(dt, 2, r.w, r.c))
	if back {
		r.d = vals[T](tp.Alloc(dt, 2, r.w, r.c))
		r.zero, r.one = vals[T](tp.Alloc(dt, r.c)), vals[T](tp.Alloc(dt, r.c))
		clear(r.zero)
		for j := range r.one {
			r.one[j] = 1
		}
	}
	return r
}

// vals returns t's elements as []T.
func vals[T Float](t *tensor.Tensor) []T {
	if s, ok := any(t.Float32s()).([]T); ok && s != nil {
		return s
	}
	s, _ := any(t.Float64s()).([]T)
	return s
}

// on reports whether r is a pool (the zero poolRows is none).
func (r *poolRows[T]) on() bool { return r.y != nil }

// window is the pool over one pair of rows.
func (r *poolRows[T]) window() kernel.Window {
	return kernel.Window{N: 1, H: 2, W: r.w, C: r.c, KH: 2, KW: 2, SH: 2, SW: 2, DH: 1, DW: 1, OH: 1, OW: r.w / 2}
}

// normalize writes x̂ (when keep) and the pool of ReLU(γ·x̂ + β) into
// r.p, two rows at a time; without keep x̂ goes to scratch and a last row
// no window reads is skipped.
func (r *poolRows[T]) normalize(xhat, x, mean, invstd, gamma, beta []T, keep bool) {
	row, oh, ow := r.w*r.c, r.h/2, r.w/2
	win := r.window()
	for n := range r.n {
		for i := range oh {
			lo := (n*r.h + 2*i) * row
			h := r.y
			if keep {
				h = xhat[lo : lo+2*row]
			}
			kernel.NormalizeRowsReLU(r.y, h, x[lo:lo+2*row], mean, invstd, gamma, beta, r.c)
			o := (n*oh + i) * ow * r.c
			kernel.MaxPool(r.p[o:o+ow*r.c], r.y, &win)
		}
		if keep && r.h%2 == 1 {
			lo := (n*r.h + r.h - 1) * row
			kernel.NormalizeRowsReLU(r.y[:row], xhat[lo:lo+row], x[lo:lo+row], mean, invstd, gamma, beta, r.c)
		}
	}
}

// bands calls f for each band of rows [lo, hi) of x in order, two rows
// under a row of windows or a last row that no window reads, with dy, the
// gradient of the ReLU's output there: the pool's backward of dp, into
// scratch, from the ReLU's output recomputed from x̂.
func (r *poolRows[T]) bands(xhat, gamma, beta, dp []T, f func(lo, hi int, dy []T)) {
	row, oh, ow := r.w*r.c, r.h/2, r.w/2
	win := r.window()
	for n := range r.n {
		for i := range oh {
			lo := (n*r.h + 2*i) * row
			// (x̂ − 0)·1 is x̂ to the bit, so y is the forward's.
			kernel.NormalizeRowsReLU(r.y, r.y, xhat[lo:lo+2*row], r.zero, r.one, gamma, beta, r.c)
			o := (n*oh + i) * ow * r.c
			kernel.MaxPoolBackwardSet(r.d, dp[o:o+ow*r.c], r.y, r.p[o:o+ow*r.c], &win)
			f(lo, lo+2*row, r.d)
		}
		if r.h%2 == 1 {
			lo := (n*r.h + r.h - 1) * row
			clear(r.d[:row])
			f(lo, lo+row, r.d[:row])
		}
	}
}

// sums is bnBackwardSums with a ReLU of the pool's input gradient.
func (r *poolRows[T]) sums(sdy, sdyx, dp, xhat, gamma, beta []T) {
	r.bands(xhat, gamma, beta, dp, func(lo, hi int, dy []T) {
		kernel.BNBackwardSumsReLU(sdy, sdyx, dy, xhat[lo:hi], gamma, beta, r.c)
	})
}

// input is bnBackwardInput with a ReLU of the pool's input gradient.
func (r *poolRows[T]) input(dx, dp, xhat, k, sdy, sdyx, gamma, beta []T, dirty bool) {
	r.bands(xhat, gamma, beta, dp, func(lo, hi int, dy []T) {
		kernel.BNBackwardInputReLU(dx[lo:hi], dy, xhat[lo:hi], k, sdy, sdyx, gamma, beta, r.c, !dirty)
	})
}

// checkPool2 checks that x suits a fused 2×2 pool.
func checkPool2(op string, x, gamma, beta *autodiff.Var) {
	if xs := x.Shape(); len(xs) != 4 || xs[1] < 2 || xs[2] < 2 {
		tensor.Panicf(op, shapes(x, gamma, beta), "want x (batch, height, width, channels) of at least 2×2 pixels")
	}
}

// BatchNormReLUMaxPool2 is MaxPool2D(ReLU(BatchNorm(x)), 2×2, strides 2,
// "valid") in one op, with the same values and gradients to the bit: x is
// (batch, height, width, channels), the output (batch, height/2, width/2,
// channels); mean and variance are BatchNorm's. The ReLU's output, four
// times the size of the pool's, is never stored.
func BatchNormReLUMaxPool2(tp *autodiff.Tape, x, gamma, beta *autodiff.Var, eps float64) (y *autodiff.Var, mean, variance *tensor.Tensor) {
	return batchNormPost(tp, x, gamma, beta, eps, postReLUPool)
}

// BatchNormSyncReLUMaxPool2 is BatchNormReLUMaxPool2 for one shard of a
// batch, as BatchNormSync is for BatchNorm.
func BatchNormSyncReLUMaxPool2(tp *autodiff.Tape, x, gamma, beta *autodiff.Var, eps float64, g reduce.Group) (y *autodiff.Var, mean, variance *tensor.Tensor, count int) {
	return batchNormSyncPost(tp, x, gamma, beta, eps, g, postReLUPool)
}

// NormalizeReLUMaxPool2 is MaxPool2D(ReLU(Normalize(x)), 2×2, strides 2,
// "valid") in one op, as BatchNormReLUMaxPool2 is for BatchNorm.
func NormalizeReLUMaxPool2(tp *autodiff.Tape, x *autodiff.Var, mean, variance *tensor.Tensor, gamma, beta *autodiff.Var, eps float64) *autodiff.Var {
	return normalizePost(tp, x, mean, variance, gamma, beta, eps, postReLUPool)
}
