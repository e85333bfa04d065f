//go:build amd64 && !noasm

package kernel

// convDirectAsm is the AVX-512 direct convolution; see ConvDirect.
func convDirectAsm(y, x []float32, g *Window, w []float32, f int, e *Epilogue) bool {
	return false // TODO(helper): the kernel
}
