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
	return batchNorm(tp, x, gamma, beta, eps, false)
}

// BatchNormReLU is ReLU(BatchNorm(x, gamma, beta)) in one op, with the
// same values and gradients to the bit: one pass over memory fewer in
// each direction, and no buffer for the ReLU's input, which the backward
// recomputes from x̂.
func BatchNormReLU(tp *autodiff.Tape, x, gamma, beta *autodiff.Var, eps float64) (y *autodiff.Var, mean, variance *tensor.Tensor) {
	return batchNorm(tp, x, gamma, beta, eps, true)
}

func batchNorm(tp *autodiff.Tape, x, gamma, beta *autodiff.Var, eps float64, relu bool) (y *autodiff.Var, mean, variance *tensor.Tensor) {
	op := "nn.BatchNorm"
	if relu {
		op = "nn.BatchNormReLU"
	}
	m, c := checkNorm(op, x, gamma, beta)
	if m < 2 {
		tensor.Panicf(op, shapes(x, gamma, beta), "training needs more than one value per feature (batch of %d); use a larger batch or inference mode", m)
	}
	dt := x.DType()
	out := tp.Alloc(dt, x.Shape()...)
	xhat := tp.Alloc(dt, x.Shape()...)
	mean, variance = tp.Alloc(dt, c), tp.Alloc(dt, c)
	invstd := tp.Alloc(dt, c)
	acc := tp.Alloc(tensor.Float64, c).Float64s() // float64 sums, per feature
	if is32(out) {
		bnFwd(acc, out.Float32s(), xhat.Float32s(), mean.Float32s(), variance.Float32s(), invstd.Float32s(),
			x.Value.Float32s(), valF32(gamma), valF32(beta), c, float32(eps), relu)
	} else {
		bnFwd(acc, out.Float64s(), xhat.Float64s(), mean.Float64s(), variance.Float64s(), invstd.Float64s(),
			x.Value.Float64s(), valF64(gamma), valF64(beta), c, eps, relu)
	}
	y = tp.Output(out, autodiff.Record{Op: batchNormOp{}, In: [4]*autodiff.Var{x, gamma, beta}, Aux: [4]*tensor.Tensor{xhat, invstd}, I: [4]int{m, c, b2i(relu)}})
	return y, mean, variance
}

func checkNorm(op string, x, gamma, beta *autodiff.Var) (m, c int) {
	sameDType(op, x, gamma, beta)
	if x.Value.Rank() < 1 {
		tensor.Panicf(op, shapes(x, gamma, beta), "want rank ≥ 1 with features last")
	}
	m, c = lastDim(x.Shape())
	if !perFeature(gamma, c) || !perFeature(beta, c) {
		tensor.Panicf(op, shapes(x, gamma, beta), "gamma and beta must have shape (%d,)", c)
	}
	return m, c
}

// perFeature reports whether v is nil or of shape (c,).
func perFeature(v *autodiff.Var, c int) bool {
	return v == nil || (v.Value.Rank() == 1 && v.Value.Len() == c)
}

// movingInvStd checks op's fixed statistics against c features of dtype
// dt (in is the input's shape, for the message) and returns
// 1/√(variance + eps) per feature, computed in float64 and rounded to dt.
func movingInvStd(tp *autodiff.Tape, op string, in tensor.Shape, dt tensor.DType, mean, variance *tensor.Tensor, c int, eps float64) *tensor.Tensor {
	if mean == nil || variance == nil {
		tensor.Panicf(op, []tensor.Shape{in}, "mean and variance must be %s of shape (%d), not nil", dt, c)
	}
	if mean.Len() != c || variance.Len() != c || mean.DType() != dt || variance.DType() != dt {
		tensor.Panicf(op, []tensor.Shape{in, mean.Shape(), variance.Shape()}, "mean and variance must be %s of shape (%d,)", dt, c)
	}
	invstd := tp.Alloc(dt, c)
	if is := invstd.Float32s(); is != nil {
		for j, v := range variance.Float32s() {
			is[j] = float32(1 / math.Sqrt(float64(v)+eps))
		}
	} else {
		is := invstd.Float64s()
		for j, v := range variance.Float64s() {
			is[j] = 1 / math.Sqrt(v+eps)
		}
	}
	return invstd
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
func bnFwd[T Float](acc []float64, y, xhat, mean, variance, invstd, x, gamma, beta []T, c int, eps T, relu bool) {
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
	c := r.I[1]
	dt := x.DType()
	// Σdy and Σdy·x̂ are needed for dx even when gamma and beta are frozen.
	sdy, sdyx, k := tp.Alloc(dt, c), tp.Alloc(dt, c), tp.Alloc(dt, c)
	relu := r.I[2] == 1
	if is32(sdy) {
		bnBwd(f32s(dx), f32s(dg), f32s(db), sdy.Float32s(), sdyx.Float32s(), k.Float32s(), r.Out.Grad.Float32s(), r.Aux[0].Float32s(), r.Aux[1].Float32s(), valF32(gamma), valF32(beta), c, dirty, relu)
	} else {
		bnBwd(f64s(dx), f64s(dg), f64s(db), sdy.Float64s(), sdyx.Float64s(), k.Float64s(), r.Out.Grad.Float64s(), r.Aux[0].Float64s(), r.Aux[1].Float64s(), valF64(gamma), valF64(beta), c, dirty, relu)
	}
}

// bnBwd accumulates the gradients; dirty says dx is GradLazy's uncleared
// buffer, relu that a ReLU follows in the same op (BatchNormReLU).
func bnBwd[T Float](dx, dg, db, sdy, sdyx, k, dy, xhat, invstd, gamma, beta []T, c int, dirty, relu bool) {
	m := T(len(dy) / c)
	clear(sdy)
	clear(sdyx)
	bnBackwardSums(sdy, sdyx, dy, xhat, gamma, beta, c, relu)
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
	bnBackwardInput(dx, dy, xhat, k, sdy, sdyx, gamma, beta, c, dirty, relu)
}

// bnBackwardSums is kernel.BNBackwardSums, or BNBackwardSumsReLU when
// relu.
func bnBackwardSums[T Float](sdy, sdyx, dy, xhat, gamma, beta []T, c int, relu bool) {
	if relu {
		kernel.BNBackwardSumsReLU(sdy, sdyx, dy, xhat, gamma, beta, c)
	} else {
		kernel.BNBackwardSums(sdy, sdyx, dy, xhat, c)
	}
}

// bnBackwardInput is kernel.BNBackwardInput into dx, which when dirty is
// cleared a piece at a time just before; with relu, BNBackwardInputReLU,
// which sets a dirty dx without clearing it.
func bnBackwardInput[T Float](dx, dy, xhat, k, sdy, sdyx, gamma, beta []T, c int, dirty, relu bool) {
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
	return normalize(tp, x, mean, variance, gamma, beta, eps, false)
}

// NormalizeReLU is ReLU(Normalize(...)) in one op, as BatchNormReLU is
// for BatchNorm.
func NormalizeReLU(tp *autodiff.Tape, x *autodiff.Var, mean, variance *tensor.Tensor, gamma, beta *autodiff.Var, eps float64) *autodiff.Var {
	return normalize(tp, x, mean, variance, gamma, beta, eps, true)
}

func normalize(tp *autodiff.Tape, x *autodiff.Var, mean, variance *tensor.Tensor, gamma, beta *autodiff.Var, eps float64, relu bool) *autodiff.Var {
	op := "nn.Normalize"
	if relu {
		op = "nn.NormalizeReLU"
	}
	_, c := checkNorm(op, x, gamma, beta)
	dt := x.DType()
	invstd := movingInvStd(tp, op, x.Shape(), dt, mean, variance, c, eps)
	out := tp.Alloc(dt, x.Shape()...)
	xhat := out // without a backward pass x̂ is not kept: the kernels write it, then y over it
	if !tp.NoGrad {
		xhat = tp.Alloc(dt, x.Shape()...)
	}
	if is32(out) {
		normalizeRows(out.Float32s(), xhat.Float32s(), x.Value.Float32s(), mean.Float32s(), invstd.Float32s(), valF32(gamma), valF32(beta), c, relu)
	} else {
		normalizeRows(out.Float64s(), xhat.Float64s(), x.Value.Float64s(), mean.Float64s(), invstd.Float64s(), valF64(gamma), valF64(beta), c, relu)
	}
	return tp.Output(out, autodiff.Record{Op: normalizeOp{}, In: [4]*autodiff.Var{x, gamma, beta}, Aux: [4]*tensor.Tensor{xhat, invstd}, I: [4]int{0, c, b2i(relu)}})
}

func (normalizeOp) Backward(tp *autodiff.Tape, r *autodiff.Record) {
	x, gamma, beta := r.In[0], r.In[1], r.In[2]
	dx, dg, db := tp.GradOf(x), tp.GradOf(gamma), tp.GradOf(beta)
	c, relu := r.I[1], r.I[2] == 1
	if is32(r.Out.Grad) {
		normBwd(f32s(dx), f32s(dg), f32s(db), r.Out.Grad.Float32s(), r.Aux[0].Float32s(), r.Aux[1].Float32s(), valF32(gamma), valF32(beta), c, relu)
	} else {
		normBwd(f64s(dx), f64s(dg), f64s(db), r.Out.Grad.Float64s(), r.Aux[0].Float64s(), r.Aux[1].Float64s(), valF64(gamma), valF64(beta), c, relu)
	}
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
