//go:build amd64 && !noasm

package kernel

import "golang.org/x/sys/cpu"

// The CPU features the assembly needs, read once.
var (
	hasAVX2    = cpu.X86.HasAVX2                                     // the Adam, batch-norm, bias-add, im2col and uint8 conversion loops
	hasAVX2FMA = hasAVX2 && cpu.X86.HasFMA                           // GEMM, the elementwise loops, SumSq/UpdateSums
	hasAVX512  = hasAVX2FMA && cpu.X86.HasAVX512F && cpu.X86.HasBMI2 // the AVX-512 GEMM micro-kernels
)

// archBackend returns generic with every field this CPU has a faster
// implementation of replaced, and fills asmGemmKernels.
func archBackend() backend {
	b := generic
	if hasAVX2 {
		b.adam = adamAsm
		b.addRows = addRowsAsm
		b.colSums = colSumsAsm
		b.addColSums = addColSumsAsm
		b.colSqDev = colSqDevAsm
		b.normRows = normRowsAsm
		b.bnBwdSums = bnBwdSumsAsm
		b.bnBwdInput = bnBwdInputAsm
		b.normRowsReLU = normRowsReLUAsm
		b.bnBwdSumsReLU = bnBwdSumsReLUAsm
		b.bnBwdInputReLU = bnBwdInputReLUAsm
		b.maxPool2 = maxPool2Asm
		b.maxPool2Back = maxPool2BackAsm
		b.maxPool2BackSet = maxPool2BackSetAsm
		b.u8ToF32 = uint8ToFloat32Asm
		b.im2colWindows = im2colWindowsAsm
	}
	if hasAVX2FMA {
		asmGemmKernels = append(asmGemmKernels, &avx2SmallKernel, &avx2Kernel)
		b.gemm, b.gemmSmall = &avx2Kernel, &avx2SmallKernel
		b.sgemm = sgemmAsm
		b.sum = sumAVX2
		b.add = addAVX2
		b.relu = reluAVX2
		b.reluGrad = reluGradAVX2
		b.reluGradAdd = reluGradAddAVX2
		b.sumSq = sumSqAsm
		b.updateSums = updateSumsAsm
	}
	if hasAVX512 {
		asmGemmKernels = append(asmGemmKernels, &avx512SmallKernel, &avx512Kernel, &avx512TallKernel)
		b.gemm, b.gemmSmall = &avx512Kernel, &avx512SmallKernel
		b.epilogueAsm, b.convDirectAsm = true, true
	}
	return b
}
