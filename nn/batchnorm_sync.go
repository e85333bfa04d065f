package nn

import (
	"math"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/internal/kernel"
	"github.com/myelin-go/myelin/reduce"
	"github.com/myelin-go/myelin/tensor"
)

type batchNormSyncOp struct{}

func (batchNormSyncOp) Name() string { return "nn.BatchNormSync" }

// BatchNormSync is BatchNorm for one shard of a batch that g's members
// hold between them (the shards on a process's goroutines, processes, or
// both): every member calls it at the same point of its pass, and each
// normalizes its rows with the statistics of the whole batch. The sums
// it shares are per-feature float64s: Σx (with the row count), then
// Σ(x − μ)² — the same two passes as BatchNorm, so the variance is never
// negative — and in backward Σdy and Σdy·x̂. The gradients of gamma and
// beta are this shard's part only; adding the shards' parameter
// gradients, as data-parallel training does, completes them.
//
// Every member must run its backward pass too, since that meets the
// others again; a shard with no rows takes part with zeros.
func BatchNormSync(tp *autodiff.Tape, x, gamma, beta *autodiff.Var, eps float64, g reduce.Group) (y *autodiff.Var, mean, variance *tensor.Tensor, count int) {
	return batchNormSync(tp, x, gamma, beta, eps, g, false)
}

// BatchNormSyncReLU is ReLU(BatchNormSync(...)) in one op, as
// BatchNormReLU is for BatchNorm.
func BatchNormSyncReLU(tp *autodiff.Tape, x, gamma, beta *autodiff.Var, eps float64, g reduce.Group) (y *autodiff.Var, mean, variance *tensor.Tensor, count int) {
	return batchNormSync(tp, x, gamma, beta, eps, g, true)
}

func batchNormSync(tp *autodiff.Tape, x, gamma, beta *autodiff.Var, eps float64, g reduce.Group, relu bool) (y *autodiff.Var, mean, variance *tensor.Tensor, count int) {
	op := "nn.BatchNormSync"
	if relu {
		op = "nn.BatchNormSyncReLU"
	}
	m, c := checkNorm(op, x, gamma, beta)
	dt := x.DType()
	out := tp.Alloc(dt, x.Shape()...)
	xhat := tp.Alloc(dt, x.Shape()...)
	mean, variance = tp.Alloc(dt, c), tp.Alloc(dt, c)
	invstd := tp.Alloc(dt, c)
	acc := tp.Alloc(tensor.Float64, c+1).Float64s()
	if is32(out) {
		count = bnSyncFwd(g, acc, out.Float32s(), xhat.Float32s(), mean.Float32s(), variance.Float32s(), invstd.Float32s(),
			x.Value.Float32s(), valF32(gamma), valF32(beta), m, c, float32(eps), relu)
	} else {
		count = bnSyncFwd(g, acc, out.Float64s(), xhat.Float64s(), mean.Float64s(), variance.Float64s(), invstd.Float64s(),
			x.Value.Float64s(), valF64(gamma), valF64(beta), m, c, eps, relu)
	}
	if count < 2 {
		tensor.Panicf(op, shapes(x, gamma, beta), "training needs more than one value per feature (batch of %d); use a larger batch or inference mode", count)
	}
	y = tp.Output(out, autodiff.Record{Op: batchNormSyncOp{}, In: [4]*autodiff.Var{x, gamma, beta},
		Aux: [4]*tensor.Tensor{xhat, invstd}, I: [4]int{count, c, b2i(relu)}, Ctx: g})
	return y, mean, variance, count
}

func bnSyncFwd[T Float](g reduce.Group, acc []float64, y, xhat, mean, variance, invstd, x, gamma, beta []T, m, c int, eps T, relu bool) int {
	s := acc[:c]
	clear(acc)
	if m > 0 {
		kernel.ColSums(s, x, c)
	}
	acc[c] = float64(m)
	g.AllReduce(acc)
	n := acc[c]
	for j := range c {
		mean[j] = T(s[j] / n)
	}
	clear(acc)
	if m > 0 {
		kernel.ColSqDev(s, x, mean, c)
	}
	g.AllReduce(acc)
	for j := range c {
		variance[j] = T(s[j] / n)
		invstd[j] = T(1 / math.Sqrt(float64(variance[j]+eps)))
	}
	if m > 0 {
		normalizeRows(y, xhat, x, mean, invstd, gamma, beta, c, relu)
	}
	return int(n)
}

func (batchNormSyncOp) Backward(tp *autodiff.Tape, r *autodiff.Record) {
	x, gamma, beta := r.In[0], r.In[1], r.In[2]
	dx, dirty := tp.GradLazy(x)
	dg, db := tp.GradOf(gamma), tp.GradOf(beta)
	n, c := r.I[0], r.I[1]
	dt := x.DType()
	sdy, sdyx, k := tp.Alloc(dt, c), tp.Alloc(dt, c), tp.Alloc(dt, c)
	acc := tp.Alloc(tensor.Float64, 2*c).Float64s()
	g := r.Ctx.(reduce.Group)
	relu := r.I[2] == 1
	if is32(sdy) {
		bnSyncBwd(g, acc, f32s(dx), f32s(dg), f32s(db), sdy.Float32s(), sdyx.Float32s(), k.Float32s(), r.Out.Grad.Float32s(), r.Aux[0].Float32s(), r.Aux[1].Float32s(), valF32(gamma), valF32(beta), n, c, dirty, relu)
	} else {
		bnSyncBwd(g, acc, f64s(dx), f64s(dg), f64s(db), sdy.Float64s(), sdyx.Float64s(), k.Float64s(), r.Out.Grad.Float64s(), r.Aux[0].Float64s(), r.Aux[1].Float64s(), valF64(gamma), valF64(beta), n, c, dirty, relu)
	}
}

func bnSyncBwd[T Float](g reduce.Group, acc []float64, dx, dg, db, sdy, sdyx, k, dy, xhat, invstd, gamma, beta []T, n, c int, dirty, relu bool) {
	clear(sdy)
	clear(sdyx)
	if len(dy) > 0 {
		bnBackwardSums(sdy, sdyx, dy, xhat, gamma, beta, c, relu)
	}
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
	for j := range c {
		acc[j], acc[c+j] = float64(sdy[j]), float64(sdyx[j])
	}
	g.AllReduce(acc)
	if dx == nil || len(dy) == 0 {
		if dirty {
			clear(dx)
		}
		return
	}
	fn := float64(n)
	for j := range c {
		k[j] = invstd[j]
		if gamma != nil {
			k[j] *= gamma[j]
		}
		sdy[j] = T(acc[j] / fn)
		sdyx[j] = T(acc[c+j] / fn)
	}
	bnBackwardInput(dx, dy, xhat, k, sdy, sdyx, gamma, beta, c, dirty, relu)
}
