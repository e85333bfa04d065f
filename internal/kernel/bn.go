package kernel

// Batch-norm loops over a row-major (rows, c) float32 matrix. Each works
// column by column with the arithmetic of the nn package's plain Go loops
// (the same operations in the same order, no fused multiply-adds), so a
// column gets the same bits whichever computes it. Each handles the first
// c &^ 7 columns, in 8-wide vectors, and returns how many it handled: 0
// when no vector version is in use, or c < 8. The caller does the rest.
//
// They panic when a slice is shorter than its shape says.

var (
	colSumsImpl    func(s []float64, x []float32, rows, c, c8 int)
	colSqDevImpl   func(s []float64, x, mean []float32, rows, c, c8 int)
	normRowsImpl   func(y, xhat, x, mean, invstd, gamma, beta []float32, rows, c, c8 int)
	bnBwdSumsImpl  func(sdy, sdyx, dy, xhat []float32, rows, c, c8 int)
	bnBwdInputImpl func(dx, dy, xhat, k, sdy, sdyx []float32, rows, c, c8 int)
)

// vecCols returns the number of columns the vector loops take for a
// (len/c, c) matrix, checking the lengths, and the number of rows.
func vecCols(name string, impl bool, n, c int, rowSlices []int, colSlices ...int) (c8, rows int) {
	if !impl || c < 8 || n == 0 {
		return 0, 0
	}
	rows = n / c
	for _, l := range rowSlices {
		if l < rows*c {
			panic("kernel: " + name + ": a matrix is shorter than rows×c")
		}
	}
	for _, l := range colSlices {
		if l < c {
			panic("kernel: " + name + ": a per-column slice is shorter than c")
		}
	}
	return c &^ 7, rows
}

// ColSums adds to s[j], for the columns it handles, float64(x[i,j]) for
// each row i in order.
func ColSums(s []float64, x []float32, c int) int {
	c8, rows := vecCols("ColSums", colSumsImpl != nil, len(x), c, []int{len(x)}, len(s))
	if c8 > 0 {
		colSumsImpl(s, x, rows, c, c8)
	}
	return c8
}

// ColSqDev adds to s[j] the square, in float64, of float64(x[i,j] −
// mean[j]) (the difference in float32) for each row i in order.
func ColSqDev(s []float64, x, mean []float32, c int) int {
	c8, rows := vecCols("ColSqDev", colSqDevImpl != nil, len(x), c, []int{len(x)}, len(s), len(mean))
	if c8 > 0 {
		colSqDevImpl(s, x, mean, rows, c, c8)
	}
	return c8
}

// NormalizeRows sets xhat[i,j] = (x[i,j] − mean[j])·invstd[j] and y[i,j]
// = xhat[i,j]·gamma[j] + beta[j]. gamma and beta must not be nil.
func NormalizeRows(y, xhat, x, mean, invstd, gamma, beta []float32, c int) int {
	c8, rows := vecCols("NormalizeRows", normRowsImpl != nil, len(x), c, []int{len(x), len(y), len(xhat)}, len(mean), len(invstd), len(gamma), len(beta))
	if c8 > 0 {
		normRowsImpl(y, xhat, x, mean, invstd, gamma, beta, rows, c, c8)
	}
	return c8
}

// BNBackwardSums adds dy[i,j] to sdy[j] and dy[i,j]·xhat[i,j] to
// sdyx[j] for each row i in order.
func BNBackwardSums(sdy, sdyx, dy, xhat []float32, c int) int {
	c8, rows := vecCols("BNBackwardSums", bnBwdSumsImpl != nil, len(dy), c, []int{len(dy), len(xhat)}, len(sdy), len(sdyx))
	if c8 > 0 {
		bnBwdSumsImpl(sdy, sdyx, dy, xhat, rows, c, c8)
	}
	return c8
}

// BNBackwardInput adds k[j]·((dy[i,j] − sdy[j]) − xhat[i,j]·sdyx[j]) to
// dx[i,j].
func BNBackwardInput(dx, dy, xhat, k, sdy, sdyx []float32, c int) int {
	c8, rows := vecCols("BNBackwardInput", bnBwdInputImpl != nil, len(dy), c, []int{len(dy), len(dx), len(xhat)}, len(k), len(sdy), len(sdyx))
	if c8 > 0 {
		bnBwdInputImpl(dx, dy, xhat, k, sdy, sdyx, rows, c, c8)
	}
	return c8
}
