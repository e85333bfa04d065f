// Package kernel holds the hot loops of myelin: matrix multiply (Sgemm),
// the elementwise helpers of the training step, the batch-norm column
// loops, the Adam update, the sums of squares the monitors read and the
// conversion of uint8 input data to float32.
//
// # The dispatch contract
//
// Every kernel is three things, as in gonum's internal/asm and the standard
// library's hash/crc32:
//
//   - an exported function (Sum, AdamStep, ColSums, ...) that checks its
//     arguments, panics with a message naming itself when they are wrong,
//     and then hands the whole input to the implementation in use;
//   - a plain Go reference, named fooGeneric, whose doc comment is the loop
//     it computes. It is the fallback, the documentation and the test
//     oracle;
//   - per-architecture implementations (foo_amd64.go and .s), each of which
//     computes exactly what the reference computes, bit for bit unless the
//     exported function's doc says otherwise, for every input the exported
//     function accepts. An implementation may vectorize a prefix and finish
//     the tail in Go, or fall back to the reference for cases it does not
//     cover (AdamStep with a clip value), but it always does the whole job:
//     callers never see "how much was handled".
//
// The implementations in use are the fields of one value of type backend,
// impl. It starts as generic, the references; the package's single init
// (cpu.go) reads the CPU's features once, through golang.org/x/sys/cpu,
// and replaces the fields this CPU can run faster (cpu_amd64.go says which
// features each needs). Nothing changes impl
// afterwards, so one process always computes the same bits for the same
// inputs. The references stay in use everywhere when the package is built
// with the "noasm" tag, on other architectures, or when the environment
// variable MYELIN_NOASM=1 is set at process start.
//
// A second backend (another instruction set, later a GPU) slots in the same
// way: a function that returns a backend with the fields it implements
// replaced, each field honouring the exported function's doc, chosen in
// cpu.go's init. Callers of the exported functions do not change. Tests
// compare every field of impl with the reference (see the cross-check
// tests) and, on a CPU that has the features, check that the fast field is
// the one in use (TestFastPathInUse).
//
// # Determinism
//
// Results never depend on GOMAXPROCS. Sgemm splits work across goroutines
// only over blocks of the output; each element of C is accumulated by one
// goroutine in a fixed order (k ascending in blocks fixed by k alone). Sum
// and the other reductions are single-threaded with a fixed order.
// Different backends (assembly or not, AVX-512 or AVX2) may round Sgemm
// and Sum differently; the other kernels give the reference's bits.
package kernel

// Float is the element type of the kernels that also run in float64 (for
// gradient checks); only their float32 form is dispatched.
type Float interface{ ~float32 | ~float64 }

// backend is one implementation of every dispatched kernel. Each field
// does the whole job of its exported function, on arguments that function
// has already checked; the comment names the reference each must match.
type backend struct {
	// gemm and gemmSmall are the micro-kernels sgemm runs in the blocked
	// driver, gemmSmall for C with at most smallMMax rows; nil when sgemm
	// is not the blocked driver.
	gemm, gemmSmall *gemmKernel

	sgemm           func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) // sgemmGeneric, within rounding
	sum             func(x []float32) float32                                                                                                             // sumGeneric, within rounding
	add             func(dst, a, b []float32)                                                                                                             // addGeneric
	addRows         func(dst, a, row []float32, cols int)                                                                                                 // addRowsGeneric
	relu            func(dst, x []float32)                                                                                                                // reluGeneric
	reluGrad        func(dst, dy, y []float32)                                                                                                            // reluGradGeneric
	reluGradAdd     func(dst, dy, x []float32)                                                                                                            // reluGradAddGeneric
	adam            func(w, g, m, v []float32, a, r, eps, c1, c2, s, cv float32)                                                                          // adamGeneric
	sumSq           func(x []float32) float64                                                                                                             // sumSqGeneric
	updateSums      func(w, prev []float32) (w2, d2, p2 float64)                                                                                          // updateSumsGeneric
	colSums         func(s []float64, x []float32, c int)                                                                                                 // colSumsGeneric
	addColSums      func(dst, x []float32, c int)                                                                                                         // addColSumsGeneric
	colSqDev        func(s []float64, x, mean []float32, c int)                                                                                           // colSqDevGeneric
	normRows        func(y, xhat, x, mean, invstd, gamma, beta []float32, c int)                                                                          // normRowsGeneric
	bnBwdSums       func(sdy, sdyx, dy, xhat []float32, c int)                                                                                            // bnBwdSumsGeneric
	bnBwdInput      func(dx, dy, xhat, k, sdy, sdyx []float32, c int)                                                                                     // bnBwdInputGeneric
	normRowsReLU    func(y, xhat, x, mean, invstd, gamma, beta []float32, c int)                                                                          // normRowsReLUGeneric
	bnBwdSumsReLU   func(sdy, sdyx, dy, xhat, gamma, beta []float32, c int)                                                                               // bnBwdSumsReLUGeneric
	bnBwdInputReLU  func(dx, dy, xhat, k, sdy, sdyx, gamma, beta []float32, c int, add bool)                                                              // bnBwdInputReLUGeneric
	maxPool2        func(y, r0, r1 []float32, ow, c int)                                                                                                  // maxPool2Generic, NaNs as NaNs
	maxPool2Back    func(d0, d1, r0, r1, y, dy []float32, ow, c int)                                                                                      // maxPool2BackGeneric
	maxPool2BackSet func(d0, d1, r0, r1, y, dy []float32, ow, c int)                                                                                      // maxPool2BackSetGeneric
	u8ToF32         func(dst []float32, src []uint8, div float32)                                                                                         // uint8ToFloat32Generic
	im2colWindows   func(dst, src []float32, n, kh, kwc, step, rowStride int)                                                                             // im2colWindowsGeneric
	// The fused inference kernels are called directly, not through
	// function values, so that their pointer arguments stay on the
	// caller's stack: these say whether this CPU runs them.
	epilogueAsm, convDirectAsm bool
}

// generic is the backend of plain Go references.
var generic = backend{
	sgemm:           sgemmGeneric,
	sum:             sumGeneric,
	add:             addGeneric,
	addRows:         addRowsGeneric,
	relu:            reluGeneric,
	reluGrad:        reluGradGeneric,
	reluGradAdd:     reluGradAddGeneric,
	adam:            adamPlain,
	sumSq:           sumSqGeneric,
	updateSums:      updateSumsGeneric,
	colSums:         colSumsGeneric[float32],
	addColSums:      addColSumsGeneric[float32],
	colSqDev:        colSqDevGeneric[float32],
	normRows:        normRowsGeneric[float32],
	bnBwdSums:       bnBwdSumsGeneric[float32],
	bnBwdInput:      bnBwdInputGeneric[float32],
	normRowsReLU:    normRowsReLUGeneric[float32],
	bnBwdSumsReLU:   bnBwdSumsReLUGeneric[float32],
	bnBwdInputReLU:  bnBwdInputReLUGeneric[float32],
	maxPool2:        maxPool2Generic,
	maxPool2Back:    maxPool2BackGeneric,
	maxPool2BackSet: maxPool2BackSetGeneric,
	u8ToF32:         uint8ToFloat32Generic,
	im2colWindows:   im2colWindowsGeneric,
}

// impl is the backend in use, set once by init in cpu.go.
var impl = generic

// GemmKernel names the micro-kernel Sgemm uses, e.g. "avx512-8x32", or
// "generic" for the plain Go loops (noasm builds, MYELIN_NOASM=1, or a CPU
// without AVX2 and FMA). Benchmarks print it beside their figures.
func GemmKernel() string {
	if impl.gemm == nil {
		return "generic"
	}
	return impl.gemm.name
}
