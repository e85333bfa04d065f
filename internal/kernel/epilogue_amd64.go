//go:build amd64 && !noasm

package kernel

// The epilogue stages the assembly runs (epilogueAVX512 and the direct
// convolutions), one flag bit each.
const (
	epBias = 1 << iota // add bias
	epNorm             // subtract mean, scale by invstd, then gamma, shift by beta
	epReLU             // clamp below at 0
)

// asmArgs returns the flags of e's stages and its vectors from column j
// on, nil where e has none, as the assembly takes them. The assembly
// always applies gamma and beta when it normalizes: callers check that
// e has both.
func (e *Epilogue) asmArgs(j int) (flags int, bias, mean, invstd, gamma, beta *float32) {
	if e.Bias != nil {
		flags, bias = flags|epBias, &e.Bias[j]
	}
	if e.Mean != nil {
		flags |= epNorm
		mean, invstd, gamma, beta = &e.Mean[j], &e.InvStd[j], &e.Gamma[j], &e.Beta[j]
	}
	if e.ReLU {
		flags |= epReLU
	}
	return flags, bias, mean, invstd, gamma, beta
}

// epilogueAsm runs whole 16-column blocks in AVX-512 and the rest in Go.
// The assembly always scales and shifts when it normalizes, so without
// gamma or beta it takes no columns.
func epilogueAsm(y, x []float32, c int, e *Epilogue) {
	c16 := 0
	if c >= 16 && len(x) >= c && (e.Mean == nil || (e.Gamma != nil && e.Beta != nil)) {
		c16 = c &^ 15
	}
	if c16 > 0 {
		fl, bias, mean, invstd, gamma, beta := e.asmArgs(0)
		epilogueAVX512(&y[0], &x[0], len(x)/c, c, c16, bias, mean, invstd, gamma, beta, fl)
	}
	if c16 < c {
		epilogueFrom(y, x, c, e, c16)
	}
}

//go:noescape
func epilogueAVX512(y, x *float32, rows, c, c16 int, bias, mean, invstd, gamma, beta *float32, flags int)
