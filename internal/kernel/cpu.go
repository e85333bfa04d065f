package kernel

import "os"

// asmOff reports whether MYELIN_NOASM=1 was set at process start; it
// keeps every kernel on its plain Go reference.
var asmOff = os.Getenv("MYELIN_NOASM") == "1"

// asmGemmKernels lists the assembly micro-kernels this CPU can run, each
// small one before its big one, for tests and benchmarks (filled by
// archBackend, also under MYELIN_NOASM=1).
var asmGemmKernels []*gemmKernel

// init is the package's only one: it reads the CPU's features once (in
// archBackend) and installs the fastest implementations they allow.
func init() {
	fast := archBackend()
	if !asmOff {
		impl = fast
	}
}
