//go:build amd64 && !noasm

package kernel

// im2colWindowsAsm is im2colWindowsGeneric: each window row moves in
// vector loads and stores with no call, where copy pays a call of
// runtime.memmove per row (KH per output pixel).
func im2colWindowsAsm(dst, src []float32, n, kh, kwc, step, rowStride int) {
	if n == 0 || kh == 0 || kwc < 8 {
		im2colWindowsGeneric(dst, src, n, kh, kwc, step, rowStride)
		return
	}
	_, _ = dst[n*kh*kwc-1], src[(n-1)*step+(kh-1)*rowStride+kwc-1]
	im2colWindowsAVX2(dst, src, n, kh, kwc, step, rowStride)
}

// im2colWindowsAVX2 is im2colWindowsGeneric for n, kh ≥ 1 and kwc ≥ 8,
// on slices the caller has checked.
//
//go:noescape
func im2colWindowsAVX2(dst, src []float32, n, kh, kwc, step, rowStride int)
