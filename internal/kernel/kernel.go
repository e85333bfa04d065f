// Package kernel holds the hot float32 loops of myelin: matrix multiply
// (Sgemm) and the elementwise helpers of the training step.
//
// Every routine has a plain Go version (the *Generic functions), which is
// the reference and the fallback. On amd64 some have assembly versions.
//
// Dispatch contract: the implementation behind each exported function is
// chosen once, at package init, from the CPU features reported by
// golang.org/x/sys/cpu (AVX-512F and BMI2 for the 8×32 GEMM micro-kernel
// and the 1×64 one used when C has at most smallMMax rows, else AVX2+FMA
// for the 6×16 and 1×32 ones; AVX2 for the elementwise loops). It never changes
// afterwards, so one process always computes the same bits for the same
// inputs. The plain Go versions are used everywhere when the package is
// built with the "noasm" tag, on other architectures, or when the
// environment variable MYELIN_NOASM=1 is set at process start.
//
// Determinism: results never depend on GOMAXPROCS. Sgemm splits work across
// goroutines only over blocks of the output; each element of C is
// accumulated by one goroutine in a fixed order (k ascending in blocks fixed
// by k alone). Sum and the other reductions are single-threaded with a fixed
// order. Different dispatch choices (assembly or not, AVX-512 or AVX2) may
// round differently.
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
	sgemmImpl(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
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

// AxpyUnitary computes y += alpha*x. It panics if len(y) < len(x).
func AxpyUnitary(alpha float32, x, y []float32) {
	if len(y) < len(x) {
		panic("kernel: AxpyUnitary: len(y) < len(x)")
	}
	axpyImpl(alpha, x, y[:len(x)])
}

// ScalUnitary computes x *= alpha.
func ScalUnitary(alpha float32, x []float32) {
	scalImpl(alpha, x)
}

// DotUnitary returns the dot product of x and y[:len(x)]. It panics if
// len(y) < len(x). The summation order is fixed for a given dispatch.
func DotUnitary(x, y []float32) float32 {
	if len(y) < len(x) {
		panic("kernel: DotUnitary: len(y) < len(x)")
	}
	return dotImpl(x, y[:len(x)])
}

// Sum returns the sum of x. The order of summation depends only on len(x)
// (and the dispatch), never on the number of threads.
func Sum(x []float32) float32 {
	return sumImpl(x)
}

// AddRowTo sets dst[i,j] = a[i,j] + row[j] for row-major dst and a with
// cols columns and no padding (a bias add). It panics unless len(row) ==
// cols, len(dst) == len(a) and cols divides len(a).
func AddRowTo(dst, a, row []float32, cols int) {
	if len(row) != cols || len(dst) != len(a) || (cols == 0 && len(a) != 0) || (cols != 0 && len(a)%cols != 0) {
		panic(fmt.Sprintf("kernel: AddRowTo: len(dst)=%d len(a)=%d len(row)=%d cols=%d", len(dst), len(a), len(row), cols))
	}
	for i := 0; i < len(a); i += cols {
		addImpl(dst[i:i+cols], a[i:i+cols], row)
	}
}

// ReluTo sets dst[i] = 0 where x[i] < 0 and x[i] otherwise, so NaN and -0
// pass through unchanged. It panics if len(dst) != len(x).
func ReluTo(dst, x []float32) {
	if len(dst) != len(x) {
		panic("kernel: ReluTo: len(dst) != len(x)")
	}
	reluImpl(dst, x)
}

// ReluGradTo sets dst[i] = dy[i] where y[i] > 0 and 0 otherwise (also for
// NaN y). It panics unless the three lengths are equal.
func ReluGradTo(dst, dy, y []float32) {
	if len(dst) != len(dy) || len(dst) != len(y) {
		panic("kernel: ReluGradTo: lengths differ")
	}
	reluGradImpl(dst, dy, y)
}

// AdamUpdate applies one Adam step to w in place, updating the moment
// estimates m and v. For each i, with float32 arithmetic in this order:
//
//	m[i] = beta1*m[i] + (1-beta1)*g[i]
//	v[i] = beta2*v[i] + (1-beta2)*g[i]*g[i]
//	w[i] -= lr * (m[i]/biasC1) / (sqrt(v[i]/biasC2) + eps)
//
// The textbook form passes biasC1 = 1-beta1^t and biasC2 = 1-beta2^t. The
// Keras/TensorFlow "epsilon-hat" form, w -= lr_t*m/(sqrt(v)+eps) with
// lr_t = lr*sqrt(1-beta2^t)/(1-beta1^t), is obtained by passing
// lr*sqrt(1-beta2^t) as lr, 1-beta1^t as biasC1 and 1 as biasC2.
// It panics unless w, g, m and v have the same length.
func AdamUpdate(w, g, m, v []float32, lr, beta1, beta2, eps, biasC1, biasC2 float32) {
	if len(g) != len(w) || len(m) != len(w) || len(v) != len(w) {
		panic("kernel: AdamUpdate: lengths differ")
	}
	adamImpl(w, g, m, v, lr, beta1, beta2, eps, biasC1, biasC2)
}
