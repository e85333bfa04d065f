//go:build amd64 && !noasm

package kernel

// The assembly micro-kernels (sgemm_amd64.s) and the blocking each uses.
var (
	avx512Kernel = gemmKernel{name: "avx512-8x32", mr: 8, nr: 32, kc: 256, nc: 512, edge: true, fn: sgemmKernel8x32AVX512, packBT: packBTAVX, tall: &avx512TallKernel}
	avx2Kernel   = gemmKernel{name: "avx2-6x16", mr: 6, nr: 16, kc: 256, nc: 512, fn: sgemmKernel6x16AVX2, packBT: packBTAVX}
	// The small-m kernels keep kc at 256 so that a row of C gets the same
	// bits whichever kernel computes it (same k blocks, same FMA order).
	avx512SmallKernel = gemmKernel{name: "avx512-1x64", mr: 1, nr: 64, kc: 256, nc: 512, edge: true, fn: sgemmKernel1x64AVX512, packBT: packBTAVX}
	avx2SmallKernel   = gemmKernel{name: "avx2-1x32", mr: 1, nr: 32, kc: 256, nc: 512, fn: sgemmKernel1x32AVX2, packBT: packBTAVX}

	// The tall kernel for few rows (see pickKernel), with the same kc so
	// that an element gets the same bits from it as from the 8×32 one.
	avx512TallKernel = gemmKernel{name: "avx512-12x32", mr: 12, nr: 32, kc: 256, nc: 512, edge: true, exactRows: true, fn: sgemmKernel12x32AVX512, packBT: packBTAVX}
)

// sgemmAsm is the blocked driver with the backend's micro-kernels, on the
// shared worker pool.
func sgemmAsm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemmBlocked(defaultPool, pickKernel(impl.gemm, impl.gemmSmall, m), transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Micro-kernels; see microKernel for the contract.

//go:noescape
func sgemmKernel8x32AVX512(kc int, a *float32, rsa, ksa uintptr, b *float32, ksb uintptr, c *float32, ldc uintptr, alpha, beta float32, flags uint64)

//go:noescape
func sgemmKernel12x32AVX512(kc int, a *float32, rsa, ksa uintptr, b *float32, ksb uintptr, c *float32, ldc uintptr, alpha, beta float32, flags uint64)

//go:noescape
func sgemmKernel1x64AVX512(kc int, a *float32, rsa, ksa uintptr, b *float32, ksb uintptr, c *float32, ldc uintptr, alpha, beta float32, flags uint64)

//go:noescape
func sgemmKernel1x32AVX2(kc int, a *float32, rsa, ksa uintptr, b *float32, ksb uintptr, c *float32, ldc uintptr, alpha, beta float32, flags uint64)

//go:noescape
func sgemmKernel6x16AVX2(kc int, a *float32, rsa, ksa uintptr, b *float32, ksb uintptr, c *float32, ldc uintptr, alpha, beta float32, flags uint64)

//go:noescape
func packBT8x8AVX(dst *float32, src *float32, ldb int, kc8 int, w8 int, nr int)

// packBTAVX is packBTGeneric by 8×8 transposes in registers for the
// whole 8×8 blocks; the Go loops do the rest and the zero padding.
func packBTAVX(d, b []float32, ldb, kc, w, nr int) {
	kc8, w8 := kc&^7, w&^7
	if kc8 == 0 || w8 == 0 || nr%8 != 0 {
		packBTGeneric(d, b, ldb, kc, w, nr)
		return
	}
	_ = d[(kc8-1)*nr+w8-1]
	_ = b[(w8-1)*ldb+kc8-1]
	packBT8x8AVX(&d[0], &b[0], ldb, kc8, w8, nr)
	for c := 0; c < w8; c++ {
		for q := kc8; q < kc; q++ {
			d[q*nr+c] = b[c*ldb+q]
		}
	}
	for c := w8; c < w; c++ {
		for q, v := range b[c*ldb : c*ldb+kc] {
			d[q*nr+c] = v
		}
	}
	if w < nr {
		for q := 0; q < kc; q++ {
			clear(d[q*nr+w : q*nr+nr])
		}
	}
}
