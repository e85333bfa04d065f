//go:build amd64 && !noasm

package kernel

import (
	"os"

	"golang.org/x/sys/cpu"
)

var (
	avx512Kernel = gemmKernel{name: "avx512-8x32", mr: 8, nr: 32, kc: 256, nc: 512, edge: true, fn: sgemmKernel8x32AVX512}
	avx2Kernel   = gemmKernel{name: "avx2-6x16", mr: 6, nr: 16, kc: 256, nc: 512, fn: sgemmKernel6x16AVX2}
)

func init() {
	hasAVX2 := cpu.X86.HasAVX2 && cpu.X86.HasFMA
	if hasAVX2 {
		asmGemmKernels = append(asmGemmKernels, &avx2Kernel)
	}
	if cpu.X86.HasAVX512F && hasAVX2 {
		asmGemmKernels = append(asmGemmKernels, &avx512Kernel)
	}
	if os.Getenv("MYELIN_NOASM") == "1" || !hasAVX2 {
		return
	}
	gemmKernelInUse = asmGemmKernels[len(asmGemmKernels)-1]
	sgemmImpl = sgemmAsm
}

func sgemmAsm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemmBlocked(gemmKernelInUse, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Micro-kernels; see microKernel for the contract.

//go:noescape
func sgemmKernel8x32AVX512(kc int, a *float32, rsa, ksa uintptr, b *float32, ksb uintptr, c *float32, ldc uintptr, alpha, beta float32, flags uint64)

//go:noescape
func sgemmKernel6x16AVX2(kc int, a *float32, rsa, ksa uintptr, b *float32, ksb uintptr, c *float32, ldc uintptr, alpha, beta float32, flags uint64)
