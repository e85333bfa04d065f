package kernel

// Batch norm with a ReLU after it, in the same passes. The forward keeps
// x̂, not the ReLU's input z = γ·x̂ + β: the backward recomputes z from x̂
// with the same two roundings, so its sign, and with it the ReLU's mask,
// is the forward's. The gradient reaching batch norm is then
//
//	dz = 0 + dy where z > 0, +0 elsewhere
//
// which is what a separate ReLU's backward leaves in a cleared buffer
// (ReluGradAddTo), so the fused and separate ops give the same bits.

// NormalizeRowsReLU is NormalizeRows followed by ReluTo on y: xhat gets
// x̂, y gets max(γ·x̂ + β, 0) with NaN and −0 passed through.
func NormalizeRowsReLU[T Float](y, xhat, x, mean, invstd, gamma, beta []T, c int) {
	checkCols("NormalizeRowsReLU", c, len(x), []int{len(x), len(y), len(xhat)}, len(mean), len(invstd), lenOr(gamma, c), lenOr(beta, c))
	if x32, ok := any(x).([]float32); ok {
		impl.normRowsReLU(any(y).([]float32), any(xhat).([]float32), x32, any(mean).([]float32), any(invstd).([]float32),
			any(gamma).([]float32), any(beta).([]float32), c)
		return
	}
	normRowsReLUGeneric(y, xhat, x, mean, invstd, gamma, beta, c)
}

// BNBackwardSumsReLU is BNBackwardSums of dz, the gradient of ReLU's
// input z = γ·x̂ + β (a nil gamma scales by 1, a nil beta shifts by 0),
// given dy, the gradient of its output.
func BNBackwardSumsReLU[T Float](sdy, sdyx, dy, xhat, gamma, beta []T, c int) {
	checkCols("BNBackwardSumsReLU", c, len(dy), []int{len(dy), len(xhat)}, len(sdy), len(sdyx), lenOr(gamma, c), lenOr(beta, c))
	if dy32, ok := any(dy).([]float32); ok {
		impl.bnBwdSumsReLU(any(sdy).([]float32), any(sdyx).([]float32), dy32, any(xhat).([]float32),
			any(gamma).([]float32), any(beta).([]float32), c)
		return
	}
	bnBwdSumsReLUGeneric(sdy, sdyx, dy, xhat, gamma, beta, c)
}

// BNBackwardInputReLU is BNBackwardInput of dz (see BNBackwardSumsReLU).
// With add false it sets dx instead, to the bits that clearing dx and
// then adding would give, without the clearing pass.
func BNBackwardInputReLU[T Float](dx, dy, xhat, k, sdy, sdyx, gamma, beta []T, c int, add bool) {
	checkCols("BNBackwardInputReLU", c, len(dy), []int{len(dy), len(dx), len(xhat)}, len(k), len(sdy), len(sdyx), lenOr(gamma, c), lenOr(beta, c))
	if dy32, ok := any(dy).([]float32); ok {
		impl.bnBwdInputReLU(any(dx).([]float32), dy32, any(xhat).([]float32), any(k).([]float32),
			any(sdy).([]float32), any(sdyx).([]float32), any(gamma).([]float32), any(beta).([]float32), c, add)
		return
	}
	bnBwdInputReLUGeneric(dx, dy, xhat, k, sdy, sdyx, gamma, beta, c, add)
}

// affine returns h·gamma[j] + beta[j], skipping a nil gamma or beta, as
// NormalizeRows computes y from x̂.
func affine[T Float](h T, gamma, beta []T, j int) T {
	if gamma != nil {
		h *= gamma[j]
	}
	if beta != nil {
		h += beta[j]
	}
	return h
}

// reluMasked returns dz for ReLU's input z and output gradient g: 0 + g
// where z > 0 (the add of a cleared buffer, which turns −0 into +0), else
// +0.
func reluMasked[T Float](z, g T) T {
	var d T
	if z > 0 {
		d += g
	}
	return d
}

// normRowsReLUGeneric is the reference NormalizeRowsReLU:
//
//	for i := 0; i < len(x); i += c {
//		for j := j0; j < c; j++ {
//			h := (x[i+j] - mean[j]) * invstd[j]
//			xhat[i+j] = h
//			z := affine(h, gamma, beta, j)
//			if z < 0 {
//				z = 0
//			}
//			y[i+j] = z
//		}
//	}
func normRowsReLUGeneric[T Float](y, xhat, x, mean, invstd, gamma, beta []T, c int) {
	normRowsFrom(y, xhat, x, mean, invstd, gamma, beta, c, 0, true)
}

// bnBwdSumsReLUFrom is the reference BNBackwardSumsReLU from column j0:
//
//	for i := 0; i < len(dy); i += c {
//		for j := j0; j < c; j++ {
//			h := xhat[i+j]
//			v := reluMasked(affine(h, gamma, beta, j), dy[i+j])
//			sdy[j] += v
//			sdyx[j] += v * h
//		}
//	}
func bnBwdSumsReLUFrom[T Float](sdy, sdyx, dy, xhat, gamma, beta []T, c, j0 int) {
	for i := 0; i < len(dy); i += c {
		g, hr := dy[i:i+c], xhat[i:i+c]
		for j := j0; j < c; j++ {
			h := hr[j]
			v := reluMasked(affine(h, gamma, beta, j), g[j])
			sdy[j] += v
			sdyx[j] += v * h
		}
	}
}

// bnBwdInputReLUFrom is the reference BNBackwardInputReLU from column j0:
//
//	for i := 0; i < len(dy); i += c {
//		if !add {
//			clear(dx[i+j0 : i+c])
//		}
//		for j := j0; j < c; j++ {
//			h := xhat[i+j]
//			v := reluMasked(affine(h, gamma, beta, j), dy[i+j])
//			dx[i+j] += k[j] * (v - sdy[j] - h*sdyx[j])
//		}
//	}
func bnBwdInputReLUFrom[T Float](dx, dy, xhat, k, sdy, sdyx, gamma, beta []T, c, j0 int, add bool) {
	for i := 0; i < len(dy); i += c {
		g, hr, d := dy[i:i+c], xhat[i:i+c], dx[i:i+c]
		if !add {
			clear(d[j0:])
		}
		for j := j0; j < c; j++ {
			h := hr[j]
			v := reluMasked(affine(h, gamma, beta, j), g[j])
			d[j] += k[j] * (v - sdy[j] - h*sdyx[j])
		}
	}
}

func bnBwdSumsReLUGeneric[T Float](sdy, sdyx, dy, xhat, gamma, beta []T, c int) {
	bnBwdSumsReLUFrom(sdy, sdyx, dy, xhat, gamma, beta, c, 0)
}

func bnBwdInputReLUGeneric[T Float](dx, dy, xhat, k, sdy, sdyx, gamma, beta []T, c int, add bool) {
	bnBwdInputReLUFrom(dx, dy, xhat, k, sdy, sdyx, gamma, beta, c, 0, add)
}
