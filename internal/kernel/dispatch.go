package kernel

// The implementations behind the exported API. They start as the plain Go
// versions; on amd64 without the noasm tag, init in dispatch_amd64.go may
// replace them, once, before any call.
var (
	sgemmImpl    = sgemmGeneric
	axpyImpl     = axpyGeneric
	scalImpl     = scalGeneric
	dotImpl      = dotGeneric
	sumImpl      = sumGeneric
	addImpl      = addGeneric
	reluImpl     = reluGeneric
	reluGradImpl = reluGradGeneric
	adamImpl     = adamGeneric
)

// asmGemmKernels lists the assembly micro-kernels this CPU can run, for
// tests and benchmarks; gemmKernelInUse is the one Sgemm uses, nil if none,
// and gemmSmallKernel the one it uses for m <= smallMMax (see pickKernel).
var (
	asmGemmKernels  []*gemmKernel
	gemmKernelInUse *gemmKernel
	gemmSmallKernel *gemmKernel
)

// GemmKernel names the micro-kernel Sgemm uses, e.g. "avx512-8x32", or
// "generic" for the plain Go loops (noasm builds, MYELIN_NOASM=1, or a CPU
// without AVX2 and FMA). Benchmarks print it beside their figures.
func GemmKernel() string {
	if gemmKernelInUse == nil {
		return "generic"
	}
	return gemmKernelInUse.name
}
