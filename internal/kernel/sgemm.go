package kernel

import "fmt"

// Sgemm computes C = alpha*op(A)*op(B) + beta*C for row-major matrices.
// op(A) is m×k (A is m×k with row stride lda, or k×m if transA), op(B) is k×n
// (B is k×n with stride ldb, or n×k if transB); C is m×n with stride ldc.
// beta == 0 means C is overwritten (NaNs in C are not propagated).
//
// It panics if a dimension is negative, a stride is too small or a slice
// too short.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	impl.sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Dgemm is Sgemm for float64. It is plain Go and exists for float64
// gradient checks, not for speed.
func Dgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	checkGemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	dgemmGeneric(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// scaleC sets C = beta*C, or C = 0 when beta == 0 (so NaNs are dropped).
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		if beta != 1 {
			for j := range row {
				row[j] *= beta
			}
		}
	}
}

// checkGemm panics on arguments that would make Sgemm/Dgemm index out of
// range; the assembly paths rely on it.
func checkGemm(transA, transB bool, m, n, k, la, lda, lb, ldb, lc, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("kernel: negative dimension m=%d n=%d k=%d", m, n, k))
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	checkMat("A", ar, ac, la, lda)
	checkMat("B", br, bc, lb, ldb)
	checkMat("C", m, n, lc, ldc)
}

func checkMat(name string, rows, cols, length, ld int) {
	if ld < max(1, cols) {
		panic(fmt.Sprintf("kernel: ld%s=%d < max(1, %d)", name, ld, cols))
	}
	if rows == 0 || cols == 0 {
		return
	}
	if need := (rows-1)*ld + cols; length < need {
		panic(fmt.Sprintf("kernel: len(%s)=%d < %d for %d×%d with stride %d", name, length, need, rows, cols, ld))
	}
}

// sgemmGeneric is the reference Sgemm, the test oracle and the fallback.
// For m, n, k > 0 it computes exactly this loop in float32:
//
//	for i := 0; i < m; i++ {
//		for j := 0; j < n; j++ {
//			var s float32
//			for p := 0; p < k; p++ {
//				s += opA(i, p) * opB(p, j)
//			}
//			if beta == 0 {
//				C[i,j] = alpha * s
//			} else {
//				C[i,j] = alpha*s + beta*C[i,j]
//			}
//		}
//	}
//
// For !transB the sums of a row run side by side in a stack buffer so the
// inner loop walks B's rows; the order of each sum is unchanged.
func sgemmGeneric(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if transB {
		for i := 0; i < m; i++ {
			crow := c[i*ldc : i*ldc+n]
			for j := range crow {
				brow := b[j*ldb : j*ldb+k]
				var s float32
				if transA {
					for p, bv := range brow {
						s += a[p*lda+i] * bv
					}
				} else {
					arow := a[i*lda : i*lda+k]
					for p, bv := range brow {
						s += arow[p] * bv
					}
				}
				crow[j] = gemmOut(alpha, s, beta, crow[j])
			}
		}
		return
	}
	const chunk = 256
	var acc [chunk]float32
	for i := 0; i < m; i++ {
		for j0 := 0; j0 < n; j0 += chunk {
			w := min(chunk, n-j0)
			s := acc[:w]
			clear(s)
			for p := 0; p < k; p++ {
				var av float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				brow := b[p*ldb+j0 : p*ldb+j0+w]
				for j, bv := range brow {
					s[j] += av * bv
				}
			}
			crow := c[i*ldc+j0 : i*ldc+j0+w]
			for j, v := range s {
				crow[j] = gemmOut(alpha, v, beta, crow[j])
			}
		}
	}
}

func gemmOut(alpha, s, beta, c float32) float32 {
	if beta == 0 {
		return alpha * s
	}
	return alpha*s + beta*c
}

// dgemmGeneric is sgemmGeneric for float64.
func dgemmGeneric(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				var av, bv float64
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += av * bv
			}
			if beta == 0 {
				c[i*ldc+j] = alpha * s
			} else {
				c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
			}
		}
	}
}
