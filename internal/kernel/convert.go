package kernel

import "fmt"

// Uint8ToFloat32 sets dst[i] = float32(src[i]) / div: bytes of input data
// (pixels) turned into the float32 values a model computes with. It panics
// unless len(dst) == len(src). Each element is one correctly rounded
// division, so every backend gives the reference's bits; multiplying by
// 1/div would not (for div 255 it differs in 126 of the 256 bytes).
func Uint8ToFloat32(dst []float32, src []uint8, div float32) {
	if len(dst) != len(src) {
		panic(fmt.Sprintf("kernel: Uint8ToFloat32: len(dst)=%d len(src)=%d", len(dst), len(src)))
	}
	impl.u8ToF32(dst, src, div)
}

// Uint8ToFloat64 sets dst[i] = float64(float32(src[i]) / div), the float32
// value of Uint8ToFloat32 widened, so that a float64 model sees the same
// numbers as a float32 one. It panics unless len(dst) == len(src).
func Uint8ToFloat64(dst []float64, src []uint8, div float32) {
	if len(dst) != len(src) {
		panic(fmt.Sprintf("kernel: Uint8ToFloat64: len(dst)=%d len(src)=%d", len(dst), len(src)))
	}
	for i, q := range src {
		dst[i] = float64(float32(q) / div)
	}
}

// uint8ToFloat32Generic is the reference Uint8ToFloat32 over len(src)
// elements, dst at least as long:
//
//	for i, q := range src {
//		dst[i] = float32(q) / div
//	}
func uint8ToFloat32Generic(dst []float32, src []uint8, div float32) {
	dst = dst[:len(src)]
	for i, q := range src {
		dst[i] = float32(q) / div
	}
}
