package kernel

import "fmt"

// The batch-norm column loops, over a row-major matrix of rows×c values
// (rows = len(x)/c for the matrix argument x or dy). They are generic so
// that float64 batch norm runs the same loops; float32 goes to the backend
// in use, which gives the reference's bits. Each panics when c does not
// divide the matrix's length or a slice is shorter than its shape says.

// ColSums adds to s[j] float64(x[i,j]) for each row i in order.
func ColSums[T Float](s []float64, x []T, c int) {
	checkCols("ColSums", c, len(x), []int{len(x)}, len(s))
	if x32, ok := any(x).([]float32); ok {
		impl.colSums(s, x32, c)
		return
	}
	colSumsGeneric(s, x, c)
}

// ColSqDev adds to s[j] the square, in float64, of float64(x[i,j] −
// mean[j]) (the difference in T) for each row i in order.
func ColSqDev[T Float](s []float64, x, mean []T, c int) {
	checkCols("ColSqDev", c, len(x), []int{len(x)}, len(s), len(mean))
	if x32, ok := any(x).([]float32); ok {
		impl.colSqDev(s, x32, any(mean).([]float32), c)
		return
	}
	colSqDevGeneric(s, x, mean, c)
}

// NormalizeRows sets xhat[i,j] = (x[i,j] − mean[j])·invstd[j] and y[i,j]
// = xhat[i,j]·gamma[j] + beta[j]; a nil gamma scales by 1, a nil beta
// shifts by 0. xhat may be y itself (inference keeps no x̂): each element
// is written as x̂, then as y.
func NormalizeRows[T Float](y, xhat, x, mean, invstd, gamma, beta []T, c int) {
	checkCols("NormalizeRows", c, len(x), []int{len(x), len(y), len(xhat)}, len(mean), len(invstd), lenOr(gamma, c), lenOr(beta, c))
	if x32, ok := any(x).([]float32); ok {
		impl.normRows(any(y).([]float32), any(xhat).([]float32), x32, any(mean).([]float32), any(invstd).([]float32),
			any(gamma).([]float32), any(beta).([]float32), c)
		return
	}
	normRowsGeneric(y, xhat, x, mean, invstd, gamma, beta, c)
}

// BNBackwardSums adds dy[i,j] to sdy[j] and dy[i,j]·xhat[i,j] to
// sdyx[j] for each row i in order.
func BNBackwardSums[T Float](sdy, sdyx, dy, xhat []T, c int) {
	checkCols("BNBackwardSums", c, len(dy), []int{len(dy), len(xhat)}, len(sdy), len(sdyx))
	if dy32, ok := any(dy).([]float32); ok {
		impl.bnBwdSums(any(sdy).([]float32), any(sdyx).([]float32), dy32, any(xhat).([]float32), c)
		return
	}
	bnBwdSumsGeneric(sdy, sdyx, dy, xhat, c)
}

// BNBackwardInput adds k[j]·((dy[i,j] − sdy[j]) − xhat[i,j]·sdyx[j]) to
// dx[i,j].
func BNBackwardInput[T Float](dx, dy, xhat, k, sdy, sdyx []T, c int) {
	checkCols("BNBackwardInput", c, len(dy), []int{len(dy), len(dx), len(xhat)}, len(k), len(sdy), len(sdyx))
	if dy32, ok := any(dy).([]float32); ok {
		impl.bnBwdInput(any(dx).([]float32), dy32, any(xhat).([]float32), any(k).([]float32),
			any(sdy).([]float32), any(sdyx).([]float32), c)
		return
	}
	bnBwdInputGeneric(dx, dy, xhat, k, sdy, sdyx, c)
}

// checkCols panics unless c divides n (the matrix's length; c == 0 only
// with n == 0), each matrix length is at least n and each per-column
// length at least c.
func checkCols(op string, c, n int, mats []int, cols ...int) {
	if c < 0 || (c == 0 && n != 0) || (c > 0 && n%c != 0) {
		panic(fmt.Sprintf("kernel: %s: %d values do not make rows of %d", op, n, c))
	}
	for _, l := range mats {
		if l < n {
			panic(fmt.Sprintf("kernel: %s: a matrix has %d values, want %d", op, l, n))
		}
	}
	for _, l := range cols {
		if l < c {
			panic(fmt.Sprintf("kernel: %s: a per-column slice has %d values, want %d", op, l, c))
		}
	}
}

// lenOr returns len(s), or c for a nil s (an absent gamma or beta).
func lenOr[T Float](s []T, c int) int {
	if s == nil {
		return c
	}
	return len(s)
}

// The references. Each takes the columns from j0 on (0 for the whole
// matrix), so that a vector version can do a prefix of the columns and
// hand the rest to the same loop, which gives each column the same bits
// whoever computes it.

// colSumsGeneric is the reference ColSums:
//
//	for i := 0; i < len(x); i += c {
//		for j := j0; j < c; j++ {
//			s[j] += float64(x[i+j])
//		}
//	}
func colSumsGeneric[T Float](s []float64, x []T, c int) { colSumsFrom(s, x, c, 0) }

func colSumsFrom[T Float](s []float64, x []T, c, j0 int) {
	for i := 0; i < len(x); i += c {
		for j, v := range x[i+j0 : i+c] {
			s[j0+j] += float64(v)
		}
	}
}

// colSqDevGeneric is the reference ColSqDev:
//
//	for i := 0; i < len(x); i += c {
//		for j := j0; j < c; j++ {
//			d := float64(x[i+j] - mean[j])
//			s[j] += d * d
//		}
//	}
func colSqDevGeneric[T Float](s []float64, x, mean []T, c int) { colSqDevFrom(s, x, mean, c, 0) }

func colSqDevFrom[T Float](s []float64, x, mean []T, c, j0 int) {
	for i := 0; i < len(x); i += c {
		for j, v := range x[i+j0 : i+c] {
			d := float64(v - mean[j0+j])
			s[j0+j] += d * d
		}
	}
}

// normRowsGeneric is the reference NormalizeRows:
//
//	for i := 0; i < len(x); i += c {
//		for j := j0; j < c; j++ {
//			h := (x[i+j] - mean[j]) * invstd[j]
//			xhat[i+j] = h
//			if gamma != nil {
//				h *= gamma[j]
//			}
//			if beta != nil {
//				h += beta[j]
//			}
//			y[i+j] = h
//		}
//	}
func normRowsGeneric[T Float](y, xhat, x, mean, invstd, gamma, beta []T, c int) {
	normRowsFrom(y, xhat, x, mean, invstd, gamma, beta, c, 0, false)
}

// normRowsFrom is normRowsGeneric from column j0, or with relu
// normRowsReLUGeneric: y is then clamped at 0 as ReluTo clamps.
func normRowsFrom[T Float](y, xhat, x, mean, invstd, gamma, beta []T, c, j0 int, relu bool) {
	if j0 == c {
		return
	}
	for i := 0; i < len(x); i += c {
		xr, hr, yr := x[i:i+c], xhat[i:i+c], y[i:i+c]
		for j := j0; j < c; j++ {
			h := (xr[j] - mean[j]) * invstd[j]
			hr[j] = h
			z := affine(h, gamma, beta, j)
			if relu && z < 0 {
				z = 0
			}
			yr[j] = z
		}
	}
}

// bnBwdSumsGeneric is the reference BNBackwardSums:
//
//	for i := 0; i < len(dy); i += c {
//		for j := j0; j < c; j++ {
//			sdy[j] += dy[i+j]
//			sdyx[j] += dy[i+j] * xhat[i+j]
//		}
//	}
func bnBwdSumsGeneric[T Float](sdy, sdyx, dy, xhat []T, c int) {
	bnBwdSumsFrom(sdy, sdyx, dy, xhat, c, 0)
}

func bnBwdSumsFrom[T Float](sdy, sdyx, dy, xhat []T, c, j0 int) {
	for i := 0; i < len(dy); i += c {
		g, h := dy[i:i+c], xhat[i:i+c]
		for j := j0; j < c; j++ {
			v := g[j]
			sdy[j] += v
			sdyx[j] += v * h[j]
		}
	}
}

// bnBwdInputGeneric is the reference BNBackwardInput:
//
//	for i := 0; i < len(dy); i += c {
//		for j := j0; j < c; j++ {
//			dx[i+j] += k[j] * (dy[i+j] - sdy[j] - xhat[i+j]*sdyx[j])
//		}
//	}
func bnBwdInputGeneric[T Float](dx, dy, xhat, k, sdy, sdyx []T, c int) {
	bnBwdInputFrom(dx, dy, xhat, k, sdy, sdyx, c, 0)
}

func bnBwdInputFrom[T Float](dx, dy, xhat, k, sdy, sdyx []T, c, j0 int) {
	for i := 0; i < len(dy); i += c {
		g, h, d := dy[i:i+c], xhat[i:i+c], dx[i:i+c]
		for j := j0; j < c; j++ {
			d[j] += k[j] * (g[j] - sdy[j] - h[j]*sdyx[j])
		}
	}
}

// AddColSums adds each row of the rows×c matrix x to dst, row by row in
// order, in T (a bias's gradient).
func AddColSums[T Float](dst, x []T, c int) {
	checkCols("AddColSums", c, len(x), []int{len(x)}, len(dst))
	if x32, ok := any(x).([]float32); ok {
		impl.addColSums(any(dst).([]float32), x32, c)
		return
	}
	addColSumsGeneric(dst, x, c)
}

// addColSumsFrom is the reference AddColSums from column j0:
//
//	for i := 0; i < len(x); i += c {
//		for j := j0; j < c; j++ {
//			dst[j] += x[i+j]
//		}
//	}
func addColSumsFrom[T Float](dst, x []T, c, j0 int) {
	for i := 0; i < len(x); i += c {
		for j, v := range x[i+j0 : i+c] {
			dst[j0+j] += v
		}
	}
}

func addColSumsGeneric[T Float](dst, x []T, c int) { addColSumsFrom(dst, x, c, 0) }
