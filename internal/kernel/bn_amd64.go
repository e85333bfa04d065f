//go:build amd64 && !noasm

package kernel

// The batch-norm loops: the first c &^ 7 columns in 8-wide vectors (same
// operations in the same order as the references, no fused multiply-adds),
// the rest by the reference's own loop from that column on, which is
// skipped when no column is left (it would still walk every row).

func colSumsAsm(s []float64, x []float32, c int) {
	c8 := vecCols(len(x), c)
	if c8 > 0 {
		colSumsAVX2(s, x, len(x)/c, c, c8)
	}
	if c8 < c {
		colSumsFrom(s, x, c, c8)
	}
}

func colSqDevAsm(s []float64, x, mean []float32, c int) {
	c8 := vecCols(len(x), c)
	if c8 > 0 {
		colSqDevAVX2(s, x, mean, len(x)/c, c, c8)
	}
	if c8 < c {
		colSqDevFrom(s, x, mean, c, c8)
	}
}

func normRowsAsm(y, xhat, x, mean, invstd, gamma, beta []float32, c int) {
	c8 := affineCols(len(x), c, gamma, beta)
	if c8 > 0 {
		normRowsAVX2(y, xhat, x, mean, invstd, gamma, beta, len(x)/c, c, c8)
	}
	if c8 < c {
		normRowsFrom(y, xhat, x, mean, invstd, gamma, beta, c, c8, false)
	}
}

func bnBwdSumsAsm(sdy, sdyx, dy, xhat []float32, c int) {
	c8 := vecCols(len(dy), c)
	if c8 > 0 {
		bnBwdSumsAVX2(sdy, sdyx, dy, xhat, len(dy)/c, c, c8)
	}
	if c8 < c {
		bnBwdSumsFrom(sdy, sdyx, dy, xhat, c, c8)
	}
}

func bnBwdInputAsm(dx, dy, xhat, k, sdy, sdyx []float32, c int) {
	c8 := vecCols(len(dy), c)
	if c8 > 0 {
		bnBwdInputAVX2(dx, dy, xhat, k, sdy, sdyx, len(dy)/c, c, c8)
	}
	if c8 < c {
		bnBwdInputFrom(dx, dy, xhat, k, sdy, sdyx, c, c8)
	}
}

// vecCols returns how many columns of a matrix of n values in rows of c
// the vector loops take: c &^ 7, or 0 when there is no whole row.
func vecCols(n, c int) int {
	if c < 8 || n < c {
		return 0
	}
	return c &^ 7
}

// affineCols is vecCols for the loops that scale by gamma and shift by
// beta: the assembly always does both, so without either it takes none.
func affineCols(n, c int, gamma, beta []float32) int {
	if gamma == nil || beta == nil {
		return 0
	}
	return vecCols(n, c)
}

// The assembly loops take rows ≥ 1 and c8, a positive multiple of 8 no
// larger than c; the exported functions have checked the lengths.

//go:noescape
func colSumsAVX2(s []float64, x []float32, rows, c, c8 int)

//go:noescape
func colSqDevAVX2(s []float64, x, mean []float32, rows, c, c8 int)

//go:noescape
func normRowsAVX2(y, xhat, x, mean, invstd, gamma, beta []float32, rows, c, c8 int)

//go:noescape
func bnBwdSumsAVX2(sdy, sdyx, dy, xhat []float32, rows, c, c8 int)

//go:noescape
func bnBwdInputAVX2(dx, dy, xhat, k, sdy, sdyx []float32, rows, c, c8 int)

func normRowsReLUAsm(y, xhat, x, mean, invstd, gamma, beta []float32, c int) {
	c8 := affineCols(len(x), c, gamma, beta)
	if c8 > 0 {
		normRowsReLUAVX2(y, xhat, x, mean, invstd, gamma, beta, len(x)/c, c, c8)
	}
	if c8 < c {
		normRowsFrom(y, xhat, x, mean, invstd, gamma, beta, c, c8, true)
	}
}

func bnBwdSumsReLUAsm(sdy, sdyx, dy, xhat, gamma, beta []float32, c int) {
	c8 := affineCols(len(dy), c, gamma, beta)
	if c8 > 0 {
		bnBwdSumsReLUAVX2(sdy, sdyx, dy, xhat, gamma, beta, len(dy)/c, c, c8)
	}
	if c8 < c {
		bnBwdSumsReLUFrom(sdy, sdyx, dy, xhat, gamma, beta, c, c8)
	}
}

func bnBwdInputReLUAsm(dx, dy, xhat, k, sdy, sdyx, gamma, beta []float32, c int, add bool) {
	c8 := affineCols(len(dy), c, gamma, beta)
	if c8 > 0 {
		bnBwdInputReLUAVX2(dx, dy, xhat, k, sdy, sdyx, gamma, beta, len(dy)/c, c, c8, add)
	}
	if c8 < c {
		bnBwdInputReLUFrom(dx, dy, xhat, k, sdy, sdyx, gamma, beta, c, c8, add)
	}
}

//go:noescape
func normRowsReLUAVX2(y, xhat, x, mean, invstd, gamma, beta []float32, rows, c, c8 int)

//go:noescape
func bnBwdSumsReLUAVX2(sdy, sdyx, dy, xhat, gamma, beta []float32, rows, c, c8 int)

//go:noescape
func bnBwdInputReLUAVX2(dx, dy, xhat, k, sdy, sdyx, gamma, beta []float32, rows, c, c8 int, add bool)

func addColSumsAsm(dst, x []float32, c int) {
	c8 := vecCols(len(x), c)
	if c8 > 0 {
		addColSumsAVX2(dst, x, len(x)/c, c, c8)
	}
	if c8 < c {
		addColSumsFrom(dst, x, c, c8)
	}
}

// addColSumsAVX2 keeps the sums of up to 32 columns in registers while it
// walks the rows, so each column's adds stay in row order.
//
//go:noescape
func addColSumsAVX2(dst, x []float32, rows, c, c8 int)
