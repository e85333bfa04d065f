package nn

import (
	"math"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/tensor"
)

// Layer and group normalization (Ba, Kiros and Hinton 2016,
// arXiv:1607.06450; Wu and He 2018, arXiv:1803.08494). Unlike batch
// normalization, the statistics are taken per sample, so training and
// inference compute the same thing and a batch of one is fine.
//
// Both are one loop here. View x as (B, S, C): B independent samples, S
// positions and C channels last. The C channels split into G groups of
// C/G neighbours; each (sample, group) pair is normalized over its S·C/G
// values (m of them) with its biased variance, and each channel is then
// scaled by γ and shifted by β:
//
//	x̂ = (x − μ)/√(σ² + ε)   y = γ·x̂ + β
//
// LayerNorm is the case S = 1, G = 1 (every row of the last axis alone);
// GroupNorm takes B as the first axis and S as all axes between. The
// backward pass, per group, with g = γ·dy:
//
//	dx = 1/√(σ²+ε) · (g − mean(g) − x̂·mean(g·x̂))

type groupNormOp struct{}

func (groupNormOp) Name() string { return "nn.GroupNorm" }

// LayerNorm normalizes each row of x's last axis over that axis, then
// scales by gamma and shifts by beta (either may be nil: scale 1, shift 0;
// else of shape (C,) for C the last axis). It is
// torch.nn.functional.layer_norm(x, (C,), gamma, beta, eps) and Keras's
// LayerNormalization(axis=-1).
func LayerNorm(tp *autodiff.Tape, x, gamma, beta *autodiff.Var, eps float64) *autodiff.Var {
	const op = "nn.LayerNorm"
	rows, c := checkNorm(op, x, gamma, beta)
	return groupNorm(tp, x, gamma, beta, eps, rows, 1, c, 1)
}

// GroupNorm normalizes x, shaped (N, ..., C) with channels last, in groups:
// the C channels split into groups runs of C/groups neighbours, and each
// sample's group is normalized over its channels and every position of
// the axes between N and C. Then each channel is scaled by gamma and
// shifted by beta (either may be nil, else of shape (C,)). groups must
// divide C. It is torch.nn.functional.group_norm on the channels-first
// transpose of x, and Keras's GroupNormalization(axis=-1).
func GroupNorm(tp *autodiff.Tape, x, gamma, beta *autodiff.Var, groups int, eps float64) *autodiff.Var {
	const op = "nn.GroupNorm"
	rows, c := checkNorm(op, x, gamma, beta)
	if x.Value.Rank() < 2 {
		tensor.Panicf(op, shapes(x, gamma, beta), "want rank ≥ 2: (batch, ..., channels)")
	}
	if groups <= 0 || c%groups != 0 {
		tensor.Panicf(op, shapes(x, gamma, beta), "%d groups do not divide %d channels", groups, c)
	}
	n := x.Shape()[0]
	return groupNorm(tp, x, gamma, beta, eps, n, rows/max(n, 1), c, groups)
}

func groupNorm(tp *autodiff.Tape, x, gamma, beta *autodiff.Var, eps float64, b, s, c, g int) *autodiff.Var {
	dt := x.DType()
	out := tp.Alloc(dt, x.Shape()...)
	xhat := tp.Alloc(dt, x.Shape()...)
	invstd := tp.Alloc(dt, b*g)
	if is32(out) {
		gnFwd(out.Float32s(), xhat.Float32s(), invstd.Float32s(), x.Value.Float32s(), valF32(gamma), valF32(beta), s, c, g, eps)
	} else {
		gnFwd(out.Float64s(), xhat.Float64s(), invstd.Float64s(), x.Value.Float64s(), valF64(gamma), valF64(beta), s, c, g, eps)
	}
	return tp.Output(out, autodiff.Record{Op: groupNormOp{}, In: [4]*autodiff.Var{x, gamma, beta},
		Aux: [4]*tensor.Tensor{xhat, invstd}, I: [4]int{b, s, c, g}})
}

// gnFwd writes y, x̂ and 1/√(σ²+ε) per (sample, group). Each sample is a
// block of s·c values; statistics take two passes (mean, then the mean
// squared deviation, never negative) and accumulate in float64.
func gnFwd[T Float](y, xhat, invstd, x, gamma, beta []T, s, c, g int, eps float64) {
	cg := c / g
	m := float64(s * cg)
	for blk := 0; blk*s*c < len(x); blk++ {
		xb := x[blk*s*c : (blk+1)*s*c]
		hb, yb := xhat[blk*s*c:(blk+1)*s*c], y[blk*s*c:(blk+1)*s*c]
		for k := range g {
			j0, j1 := k*cg, (k+1)*cg
			var sum float64
			for p := 0; p < len(xb); p += c {
				for _, v := range xb[p+j0 : p+j1] {
					sum += float64(v)
				}
			}
			mean := sum / m
			var sq float64
			for p := 0; p < len(xb); p += c {
				for _, v := range xb[p+j0 : p+j1] {
					d := float64(v) - mean
					sq += d * d
				}
			}
			is := 1 / math.Sqrt(sq/m+eps)
			invstd[blk*g+k] = T(is)
			for p := 0; p < len(xb); p += c {
				for j := j0; j < j1; j++ {
					h := T((float64(xb[p+j]) - mean) * is)
					hb[p+j] = h
					if gamma != nil {
						h *= gamma[j]
					}
					if beta != nil {
						h += beta[j]
					}
					yb[p+j] = h
				}
			}
		}
	}
}

func (groupNormOp) Backward(tp *autodiff.Tape, r *autodiff.Record) {
	x, gamma, beta := r.In[0], r.In[1], r.In[2]
	dx, dg, db := tp.GradOf(x), tp.GradOf(gamma), tp.GradOf(beta)
	s, c, g := r.I[1], r.I[2], r.I[3]
	if is32(r.Out.Grad) {
		gnBwd(f32s(dx), f32s(dg), f32s(db), r.Out.Grad.Float32s(), r.Aux[0].Float32s(), r.Aux[1].Float32s(), valF32(gamma), s, c, g)
	} else {
		gnBwd(f64s(dx), f64s(dg), f64s(db), r.Out.Grad.Float64s(), r.Aux[0].Float64s(), r.Aux[1].Float64s(), valF64(gamma), s, c, g)
	}
}

// gnBwd accumulates the gradients into dx, dgamma and dbeta (any may be
// nil). The per-group means of γ·dy and γ·dy·x̂ accumulate in float64.
func gnBwd[T Float](dx, dg, db, dy, xhat, invstd, gamma []T, s, c, g int) {
	for i := 0; i < len(dy); i += c {
		gr, hr := dy[i:i+c], xhat[i:i+c]
		for j, v := range gr {
			if dg != nil {
				dg[j] += v * hr[j]
			}
			if db != nil {
				db[j] += v
			}
		}
	}
	if dx == nil {
		return
	}
	cg := c / g
	m := float64(s * cg)
	gam := func(j int) float64 {
		if gamma == nil {
			return 1
		}
		return float64(gamma[j])
	}
	for blk := 0; blk*s*c < len(dy); blk++ {
		lo, hi := blk*s*c, (blk+1)*s*c
		yb, hb, xb := dy[lo:hi], xhat[lo:hi], dx[lo:hi]
		for k := range g {
			j0, j1 := k*cg, (k+1)*cg
			var sg, sgh float64 // Σγ·dy and Σγ·dy·x̂ over the group
			for p := 0; p < len(yb); p += c {
				for j := j0; j < j1; j++ {
					v := gam(j) * float64(yb[p+j])
					sg += v
					sgh += v * float64(hb[p+j])
				}
			}
			sg, sgh = sg/m, sgh/m
			is := float64(invstd[blk*g+k])
			for p := 0; p < len(yb); p += c {
				for j := j0; j < j1; j++ {
					v := gam(j) * float64(yb[p+j])
					xb[p+j] += T(is * (v - sg - float64(hb[p+j])*sgh))
				}
			}
		}
	}
}
