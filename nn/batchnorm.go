package nn

import (
	"math"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/internal/kernel"
	"github.com/myelin-go/myelin/tensor"
)

// Batch normalization (Ioffe and Szegedy 2015, arXiv:1502.03167). Features
// are the last axis; statistics are taken over all other axes (m values per
// feature).
//
//	μ = mean(x)   σ² = mean((x − μ)²)   (biased)   x̂ = (x − μ)/√(σ² + ε)   y = γ·x̂ + β
//
// The backward pass keeps the two terms that come from μ and σ² depending on
// x (dropping them is the classic bug):
//
//	dx = γ/√(σ²+ε) · (dy − mean(dy) − x̂·mean(dy·x̂))

type batchNormOp struct{}

func (batchNormOp) Name() string { return "nn.BatchNorm" }

// BatchNorm normalizes x with its own batch statistics, then scales by gamma
// and shifts by beta (either may be nil: scale 1, shift 0). It returns y and
// the batch mean and biased variance per feature, for the caller's moving
// averages (tape buffers, valid until Reset). A batch with one value per
// feature is rejected, as in PyTorch: its variance is zero and x̂ would be 0.
func BatchNorm(tp *autodiff.Tape, x, gamma, beta *autodiff.Var, eps float64) (y *autodiff.Var, mean, variance *tensor.Tensor) {
	return batchNormPost(tp, x, gamma, beta, eps, postNone)
}

// BatchNormReLU is ReLU(BatchNorm(x, gamma, beta)) in one op, with the
// same values and gradients to the bit: one pass over memory fewer in
// each direction, and no buffer for the ReLU's input, which the backward
// recomputes from x̂.
func BatchNormReLU(tp *autodiff.Tape, x, gamma, beta *autodiff.Var, eps float64) (y *autodiff.Var, mean, variance *tensor.Tensor) {
	return batchNormPost(tp, x, gamma, beta, eps, postReLU)
}

// post is what a batch-norm op runs after its affine map, in the same op.
type post int

const (
	postNone     post = iota
	postReLU          // a ReLU
	postReLUPool      // a ReLU, then a 2×2, stride-2 max pool (bnpool.go)
)

// The ops' names, by post (constants: a concatenation would allocate).
var (
	bnNames     = [...]string{"nn.BatchNorm", "nn.BatchNormReLU", "nn.BatchNormReLUMaxPool2"}
	bnSyncNames = [...]string{"nn.BatchNormSync", "nn.BatchNormSyncReLU", "nn.BatchNormSyncReLUMaxPool2"}
	normNames   = [...]string{"nn.Normalize", "nn.NormalizeReLU", "nn.NormalizeReLUMaxPool2"}
)

// relu reports whether p starts with a ReLU.
func (p post) relu() bool { return p >= postReLU }

// alloc returns the op's output buffer: x's shape, or the pool's.
func (p post) alloc(tp *autodiff.Tape, op string, x, gamma, beta *autodiff.Var) *tensor.Tensor {
	if p == postReLUPool {
		checkPool2(op, x, gamma, beta)
		xs := x.Shape()
		return tp.Alloc(x.DType(), xs[0], xs[1]/2, xs[2]/2, xs[3])
	}
	return tp.Alloc(x.DType(), x.Shape()...)
}

// poolFor returns the fused pool of an op with post p whose input has
// shape xs and whose output is out, or nil when p has none.
func poolFor[T Float](tp *autodiff.Tape, p post, xs tensor.Shape, out *tensor.Tensor, back bool) poolRows[T] {
	if p != postReLUPool {
		return poolRows[T]{}
	}
	return newPoolRows[T](tp, xs, out, back)
}

func batchNormPost(tp *autodiff.Tape, x, gamma, beta *autodiff.Var, eps float64, p post) (y *autodiff.Var, mean, variance *tensor.Tensor) {
	op := bnNames[p]
	m, c := checkNorm(op, x, gamma, beta)
	if m < 2 {
		tensor.Panicf(op, shapes(x, gamma, beta), "training needs more than one value per feature (batch of %d); use a larger batch or inference mode", m)
	}
	dt := x.DType()
	out := p.alloc(tp, op, x, gamma, beta)
	xhat := tp.Alloc(dt, x.Shape()...)
	mean, variance = tp.Alloc(dt, c), tp.Alloc(dt, c)
	invstd := tp.Alloc(dt, c)
	acc := tp.Alloc(tensor.Float64, c).Float64s() // float64 sums, per feature
	if is32(out) {
		bnFwd(acc, out.Float32s(), xhat.Float32s(), mean.Float32s(), variance.Float32s(), invstd.Float32s(),
			x.Value.Float32s(), valF32(gamma), valF32(beta), c, float32(eps), p.relu(), poolFor[float32](tp, p, x.Shape(), out, false))
	} else {
		bnFwd(acc, out.Float64s(), xhat.Float64s(), mean.Float64s(), variance.Float64s(), invstd.Float64s(),
			x.Value.Float64s(), valF64(gamma), valF64(beta), c, eps, p.relu(), poolFor[float64](tp, p, x.Shape(), out, false))
	}
	y = tp.Output(out, autodiff.Record{Op: batchNormOp{}, In: [4]*autodiff.Var{x, gamma, beta}, Aux: [4]*tensor.Tensor{xhat, invstd}, I: [4]int{m, c, int(p)}})
	return y, mean, variance
}

func checkNorm(op string, x, gamma, beta *autodiff.Var) (m, c int) {
	sameDType(op, x, gamma, beta)
	if x.Value.Rank() < 1 {
		tensor.Panicf(op, shapes(x, gamma, beta), "want rank ≥ 1 with features last")
	}
	m, c = lastDim(x.Shape())
	for _, p := range []*autodiff.Var{gamma, beta} {
		if p != nil && (p.Value.Rank() != 1 || p.Value.Len() != c) {
			tensor.Panicf(op, shapes(x, gamma, beta), "gamma and beta must have shape (%d,)", c)
		}
	}
	return m, c
}

func valF32(v *autodiff.Var) []float32 {
	if v == nil {
		return nil
	}
	return v.Value.Float32s()
}

func valF64(v *autodiff.Var) []float64 {
	if v == nil {
		return nil
	}
	return v.Value.Float64s()
}

// bnFwd computes the statistics in two passes (mean, then the mean squared
// deviation, so the variance is never negative), accumulating in float64.
//
// acc is scratch of c float64s; it comes from the tape rather than the
// stack because the kernel's loops are called through function values,
// which make any stack array passed to them escape. The column loops are
// the kernel package's (vectorized for float32, the same bits either way).
// With pl, y is the pool's output (see poolRows).
func bnFwd[T Float](acc []float64, y, xhat, mean, variance, invstd, x, gamma, beta []T, c int, eps T, relu bool, pl poolRows[T]) {
	m := len(x) / c
	clear(acc)
	kernel.ColSums(acc, x, c)
	for j := range c {
		mean[j] = T(acc[j] / float64(m))
	}
	clear(acc)
	kernel.ColSqDev(acc, x, mean, c)
	for j := range c {
		variance[j] = T(acc[j] / float64(m))
		invstd[j] = T(1 / math.Sqrt(float64(variance[j]+eps)))
	}
	if pl.on() {
		pl.normalize(xhat, x, mean, invstd, gamma, beta, true)
		return
	}
	normalizeRows(y, xhat, x, mean, invstd, gamma, beta, c, relu)
}

// normalizeRows is kernel.NormalizeRows, or NormalizeRowsReLU when relu.
func normalizeRows[T Float](y, xhat, x, mean, invstd, gamma, beta []T, c int, relu bool) {
	if relu {
		kernel.NormalizeRowsReLU(y, xhat, x, mean, invstd, gamma, beta, c)
	} else {
		kernel.NormalizeRows(y, xhat, x, mean, invstd, gamma, beta, c)
	}
}

func (batchNormOp) Backward(tp *autodiff.Tape, r *autodiff.Record) {
	x, gamma, beta := r.In[0], r.In[1], r.In[2]
	dx, dirty := tp.GradLazy(x)
	dg, db := tp.GradOf(gamma), tp.GradOf(beta)
	m, c, p := r.I[0], r.I[1], post(r.I[2])
	dt := x.DType()
	// Σdy and Σdy·x̂ are needed for dx even when gamma and beta are frozen.
	sdy, sdyx, k := tp.Alloc(dt, c), tp.Alloc(dt, c), tp.Alloc(dt, c)
	if is32(sdy) {
		bnBwd(f32s(dx), f32s(dg), f32s(db), sdy.Float32s(), sdyx.Float32s(), k.Float32s(), r.Out.Grad.Float32s(), r.Aux[0].Float32s(), r.Aux[1].Float32s(), valF32(gamma), valF32(beta), m, c, dirty, p.relu(), poolFor[float32](tp, p, x.Shape(), r.Out.Value, true))
	} else {
		bnBwd(f64s(dx), f64s(dg), f64s(db), sdy.Float64s(), sdyx.Float64s(), k.Float64s(), r.Out.Grad.Float64s(), r.Aux[0].Float64s(), r.Aux[1].Float64s(), valF64(gamma), valF64(beta), m, c, dirty, p.relu(), poolFor[float64](tp, p, x.Shape(), r.Out.Value, true))
	}
}

// bnBwd accumulates the gradients of m rows; dirty says dx is GradLazy's
// uncleared buffer, relu that a ReLU follows in the same op
// (BatchNormReLU), pl that a pool follows it, whose output gradient dy is.
func bnBwd[T Float](dx, dg, db, sdy, sdyx, k, dy, xhat, invstd, gamma, beta []T, rows, c int, dirty, relu bool, pl poolRows[T]) {
	m := T(rows)
	clear(sdy)
	clear(sdyx)
	bnBackwardSums(sdy, sdyx, dy, xhat, gamma, beta, c, relu, pl)
	if dg != nil {
		for j, v := range sdyx {
			dg[j] += v
		}
	}
	if db != nil {
		for j, v := range sdy {
			db[j] += v
		}
	}
	if dx == nil {
		return
	}
	for j := range c { // fold the per-feature factors: k = γ·invstd, means of the sums
		k[j] = invstd[j]
		if gamma != nil {
			k[j] *= gamma[j]
		}
		sdy[j] /= m
		sdyx[j] /= m
	}
	bnBackwardInput(dx, dy, xhat, k, sdy, sdyx, gamma, beta, c, dirty, relu, pl)
}

// bnBackwardSums is kernel.BNBackwardSums, or BNBackwardSumsReLU when
// relu, of the pool's input gradient with pl.
func bnBackwardSums[T Float](sdy, sdyx, dy, xhat, gamma, beta []T, c int, relu bool, pl poolRows[T]) {
	if pl.on() {
		pl.sums(sdy, sdyx, dy, xhat, gamma, beta)
		return
	}
	if relu {
		kernel.BNBackwardSumsReLU(sdy, sdyx, dy, xhat, gamma, beta, c)
	} else {
		kernel.BNBackwardSums(sdy, sdyx, dy, xhat, c)
	}
}

// bnBackwardInput is kernel.BNBackwardInput into dx, which when dirty is
// cleared a piece at a time just before; with relu, BNBackwardInputReLU,
// which sets a dirty dx without clearing it; of the pool's input gradient
// with pl.
func bnBackwardInput[T Float](dx, dy, xhat, k, sdy, sdyx, gamma, beta []T, c int, dirty, relu bool, pl poolRows[T]) {
	if pl.on() {
		pl.input(dx, dy, xhat, k, sdy, sdyx, gamma, beta, dirty)
		return
	}
	if relu {
		kernel.BNBackwardInputReLU(dx, dy, xhat, k, sdy, sdyx, gamma, beta, c, !dirty)
		return
	}
	if !dirty {
		kernel.BNBackwardInput(dx, dy, xhat, k, sdy, sdyx, c)
		return
	}
	step := max(1, lazyChunk/c) * c
	for lo := 0; lo < len(dx); lo += step {
		hi := min(lo+step, len(dx))
		clear(dx[lo:hi])
		kernel.BNBackwardInput(dx[lo:hi], dy[lo:hi], xhat[lo:hi], k, sdy, sdyx, c)
	}
}

type normalizeOp struct{}

func (normalizeOp) Name() string { return "nn.Normalize" }

// Normalize is batch normalization's inference form: it normalizes x with
// the given mean and variance (the moving statistics), then scales by gamma
// and shifts by beta (either may be nil). No statistic depends on x, so the
// backward pass has no cross-sample terms.
func Normalize(tp *autodiff.Tape, x *autodiff.Var, mean, variance *tensor.Tensor, gamma, beta *autodiff.Var, eps float64) *autodiff.Var {
	return normalizePost(tp, x, mean, variance, gamma, beta, eps, postNone)
}

// NormalizeReLU is ReLU(Normalize(...)) in one op, as BatchNormReLU is
// for BatchNorm.
func NormalizeReLU(tp *autodiff.Tape, x *autodiff.Var, mean, variance *tensor.Tensor, gamma, beta *autodiff.Var, eps float64) *autodiff.Var {
	return normalizePost(tp, x, mean, variance, gamma, beta, eps, postReLU)
}

func normalizePost(tp *autodiff.Tape, x *autodiff.Var, mean, variance *tensor.Tensor, gamma, beta *autodiff.Var, eps float64, p post) *autodiff.Var {
	op := normNames[p]
	_, c := checkNorm(op, x, gamma, beta)
	if mean.Len() != c || variance.Len() != c || mean.DType() != x.DType() || variance.DType() != x.DType() {
		tensor.Panicf(op, []tensor.Shape{x.Shape(), mean.Shape(), variance.Shape()}, "mean and variance must be %s of shape (%d,)", x.DType(), c)
	}
	dt := x.DType()
	out := p.alloc(tp, op, x, gamma, beta)
	xhat := out // without a backward pass x̂ is not kept: the kernels write it, then y over it
	if !tp.NoGrad {
		xhat = tp.Alloc(dt, x.Shape()...)
	}
	invstd := tp.Alloc(dt, c)
	if is32(out) {
		is := invstd.Float32s()
		for j, v := range variance.Float32s() {
			is[j] = float32(1 / math.Sqrt(float64(v)+eps))
		}
		normalizeFwd(out.Float32s(), xhat.Float32s(), x.Value.Float32s(), mean.Float32s(), is, valF32(gamma), valF32(beta), c, p.relu(), poolFor[float32](tp, p, x.Shape(), out, false), !tp.NoGrad)
	} else {
		is := invstd.Float64s()
		for j, v := range variance.Float64s() {
			is[j] = 1 / math.Sqrt(v+eps)
		}
		normalizeFwd(out.Float64s(), xhat.Float64s(), x.Value.Float64s(), mean.Float64s(), is, valF64(gamma), valF64(beta), c, p.relu(), poolFor[float64](tp, p, x.Shape(), out, false), !tp.NoGrad)
	}
	return tp.Output(out, autodiff.Record{Op: normalizeOp{}, In: [4]*autodiff.Var{x, gamma, beta}, Aux: [4]*tensor.Tensor{xhat, invstd}, I: [4]int{0, c, int(p)}})
}

// normalizeFwd is normalizeRows, or with pl the pool's normalize, which
// keeps x̂ when keep.
func normalizeFwd[T Float](y, xhat, x, mean, invstd, gamma, beta []T, c int, relu bool, pl poolRows[T], keep bool) {
	if pl.on() {
		pl.normalize(xhat, x, mean, invstd, gamma, beta, keep)
		return
	}
	normalizeRows(y, xhat, x, mean, invstd, gamma, beta, c, relu)
}

func (normalizeOp) Backward(tp *autodiff.Tape, r *autodiff.Record) {
	x, gamma, beta := r.In[0], r.In[1], r.In[2]
	dx, dg, db := tp.GradOf(x), tp.GradOf(gamma), tp.GradOf(beta)
	c, p := r.I[1], post(r.I[2])
	if is32(r.Out.Grad) {
		normBwdPost(f32s(dx), f32s(dg), f32s(db), r.Out.Grad.Float32s(), r.Aux[0].Float32s(), r.Aux[1].Float32s(), valF32(gamma), valF32(beta), c, p.relu(), poolFor[float32](tp, p, x.Shape(), r.Out.Value, true))
	} else {
		normBwdPost(f64s(dx), f64s(dg), f64s(db), r.Out.Grad.Float64s(), r.Aux[0].Float64s(), r.Aux[1].Float64s(), valF64(gamma), valF64(beta), c, p.relu(), poolFor[float64](tp, p, x.Shape(), r.Out.Value, true))
	}
}

// normBwdPost is normBwd, a band of rows at a time with the pool's input
// gradient with pl.
func normBwdPost[T Float](dx, dg, db, dy, xhat, invstd, gamma, beta []T, c int, relu bool, pl poolRows[T]) {
	if !pl.on() {
		normBwd(dx, dg, db, dy, xhat, invstd, gamma, beta, c, relu)
		return
	}
	pl.bands(xhat, gamma, beta, dy, func(lo, hi int, d []T) {
		var dxb []T
		if dx != nil {
			dxb = dx[lo:hi]
		}
		normBwd(dxb, dg, db, d, xhat[lo:hi], invstd, gamma, beta, c, true)
	})
}

// normBwd adds Normalize's gradients; with relu, of the ReLU after it,
// whose input it recomputes from x̂ as the forward computed it.
func normBwd[T Float](dx, dg, db, dy, xhat, invstd, gamma, beta []T, c int, relu bool) {
	for i := 0; i < len(dy); i += c {
		g, h := dy[i:i+c], xhat[i:i+c]
		for j, v := range g {
			if relu {
				z := h[j]
				if gamma != nil {
					z *= gamma[j]
				}
				if beta != nil {
					z += beta[j]
				}
				if !(z > 0) {
					continue
				}
			}
			if dg != nil {
				dg[j] += v * h[j]
			}
			if db != nil {
				db[j] += v
			}
			if dx != nil {
				k := invstd[j]
				if gamma != nil {
					k *= gamma[j]
				}
				dx[i+j] += v * k
			}
		}
	}
}
