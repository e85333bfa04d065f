//go:build amd64 && !noasm

package kernel

// Flags of epilogueAVX512.
const (
	epBias = 1 << iota
	epNorm
	epReLU
)

// epilogueAsm runs whole 16-column blocks in AVX-512 and the rest in Go.
// The assembly always scales and shifts when it normalizes, so without
// gamma or beta it takes no columns.
func epilogueAsm(y, x []float32, c int, e *Epilogue) {
	c16 := 0
	if c >= 16 && len(x) >= c && (e.Mean == nil || (e.Gamma != nil && e.Beta != nil)) {
		c16 = c &^ 15
	}
	if c16 > 0 {
		var fl uintptr
		var bias, mean, invstd, gamma, beta *float32
		if e.Bias != nil {
			fl, bias = fl|epBias, &e.Bias[0]
		}
		if e.Mean != nil {
			fl |= epNorm
			mean, invstd, gamma, beta = &e.Mean[0], &e.InvStd[0], &e.Gamma[0], &e.Beta[0]
		}
		if e.ReLU {
			fl |= epReLU
		}
		epilogueAVX512(&y[0], &x[0], len(x)/c, c, c16, bias, mean, invstd, gamma, beta, fl)
	}
	if c16 < c {
		epilogueFrom(y, x, c, e, c16)
	}
}

//go:noescape
func epilogueAVX512(y, x *float32, rows, c, c16 int, bias, mean, invstd, gamma, beta *float32, flags uintptr)
