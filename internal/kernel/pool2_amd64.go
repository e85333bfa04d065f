//go:build amd64 && !noasm

package kernel

// maxPool2Asm runs maxPool2AVX2 when the channels fill whole vectors.
func maxPool2Asm(y, r0, r1 []float32, ow, c int) {
	if c%8 != 0 || ow == 0 {
		maxPool2Generic(y, r0, r1, ow, c)
		return
	}
	_, _, _ = y[ow*c-1], r0[2*ow*c-1], r1[2*ow*c-1]
	maxPool2AVX2(y, r0, r1, ow, c)
}

// maxPool2BackAsm runs maxPool2BackAVX2 when the channels fill whole
// vectors.
func maxPool2BackAsm(d0, d1, r0, r1, y, dy []float32, ow, c int) {
	if c%8 != 0 || ow == 0 {
		maxPool2BackGeneric(d0, d1, r0, r1, y, dy, ow, c)
		return
	}
	_, _, _, _, _, _ = d0[2*ow*c-1], d1[2*ow*c-1], r0[2*ow*c-1], r1[2*ow*c-1], y[ow*c-1], dy[ow*c-1]
	maxPool2BackAVX2(d0, d1, r0, r1, y, dy, ow, c)
}

// maxPool2AVX2 is maxPool2Generic for c a multiple of 8.
//
//go:noescape
func maxPool2AVX2(y, r0, r1 []float32, ow, c int)

// maxPool2BackAVX2 is maxPool2BackGeneric for c a multiple of 8.
//
//go:noescape
func maxPool2BackAVX2(d0, d1, r0, r1, y, dy []float32, ow, c int)

// maxPool2BackSetAsm runs maxPool2BackSetAVX2 when the channels fill
// whole vectors.
func maxPool2BackSetAsm(d0, d1, r0, r1, y, dy []float32, ow, c int) {
	if c%8 != 0 || ow == 0 {
		maxPool2BackSetGeneric(d0, d1, r0, r1, y, dy, ow, c)
		return
	}
	_, _, _, _, _, _ = d0[2*ow*c-1], d1[2*ow*c-1], r0[2*ow*c-1], r1[2*ow*c-1], y[ow*c-1], dy[ow*c-1]
	maxPool2BackSetAVX2(d0, d1, r0, r1, y, dy, ow, c)
}

// maxPool2BackSetAVX2 is maxPool2BackSetGeneric for c a multiple of 8.
//
//go:noescape
func maxPool2BackSetAVX2(d0, d1, r0, r1, y, dy []float32, ow, c int)
