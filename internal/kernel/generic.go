package kernel

import "math"

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

func axpyGeneric(alpha float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}

func scalGeneric(alpha float32, x []float32) {
	for i := range x {
		x[i] *= alpha
	}
}

func dotGeneric(x, y []float32) float32 {
	y = y[:len(x)]
	var s float32
	for i, v := range x {
		s += v * y[i]
	}
	return s
}

func sumGeneric(x []float32) float32 {
	var s float32
	for _, v := range x {
		s += v
	}
	return s
}

// addGeneric sets dst = a + b elementwise (len(a) elements).
func addGeneric(dst, a, b []float32) {
	dst = dst[:len(a)]
	b = b[:len(a)]
	for i, v := range a {
		dst[i] = v + b[i]
	}
}

func reluGeneric(dst, x []float32) {
	dst = dst[:len(x)]
	for i, v := range x {
		if v < 0 {
			v = 0
		}
		dst[i] = v
	}
}

func reluGradGeneric(dst, dy, y []float32) {
	dy = dy[:len(dst)]
	y = y[:len(dst)]
	for i := range dst {
		if y[i] > 0 {
			dst[i] = dy[i]
		} else {
			dst[i] = 0
		}
	}
}

func adamGeneric(w, g, m, v []float32, lr, beta1, beta2, eps, biasC1, biasC2 float32) {
	g = g[:len(w)]
	m = m[:len(w)]
	v = v[:len(w)]
	c1, c2 := 1-beta1, 1-beta2
	for i, gi := range g {
		mi := beta1*m[i] + c1*gi
		vi := beta2*v[i] + c2*gi*gi
		m[i], v[i] = mi, vi
		w[i] -= lr * (mi / biasC1) / (float32(math.Sqrt(float64(vi/biasC2))) + eps)
	}
}
