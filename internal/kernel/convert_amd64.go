//go:build amd64 && !noasm

package kernel

// uint8ToFloat32Asm is uint8ToFloat32Generic: whole vectors of 8 in
// assembly, the last few elements in Go.
func uint8ToFloat32Asm(dst []float32, src []uint8, div float32) {
	n := len(src) &^ 7
	if n > 0 {
		uint8ToFloat32AVX2(dst[:n], src[:n], div)
	}
	uint8ToFloat32Generic(dst[n:len(src)], src[n:], div)
}

// uint8ToFloat32AVX2 is uint8ToFloat32Generic for len(src) a multiple of
// 8, dst at least as long.
//
//go:noescape
func uint8ToFloat32AVX2(dst []float32, src []uint8, div float32)
