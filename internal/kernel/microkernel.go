package kernel

import "unsafe"

// microKernel computes one mr×nr tile of C from kc steps:
//
//	acc[r][c] = Σ_{p<kc} A(r,p)*B(p,c)   (p ascending, one accumulator each)
//	C(r,c) = alpha*acc[r][c]              if flags&kfBeta0
//	C(r,c) = alpha*acc[r][c] + beta*C(r,c) otherwise (fused in assembly)
//
// with A(r,p) at a + r*rsa + p*ksa, B(p,c) at b + p*ksb + 4c and C(r,c) at
// c + r*ldc + 4c (byte offsets). Strides on A let it read A in place, in
// either orientation, or from a packed tile.
//
// flags bits 8-15 hold the number of rows to write, bits 16-23 the number
// of columns to read from B and write in C, and bits 32-63 the same columns
// as a mask (of the first 32 only: kernels with nr > 32 use the count).
// Kernels with edge == false are only given full tiles; the others must not
// touch memory outside the rows and columns given.
type microKernel func(kc int, a *float32, rsa, ksa uintptr, b *float32, ksb uintptr, c *float32, ldc uintptr, alpha, beta float32, flags uint64)

// kfBeta0 tells a micro-kernel not to read C.
const kfBeta0 = 1

// tileFlags encodes the rows and columns of a tile for a microKernel
// (cols <= 64).
func tileFlags(rows, cols int) uint64 {
	return uint64(rows)<<8 | uint64(cols)<<16 | (1<<uint(min(cols, 32))-1)<<32
}

// gemmKernel describes a micro-kernel and the blocking that suits it.
type gemmKernel struct {
	name   string
	mr, nr int  // register tile
	kc     int  // largest k block
	nc     int  // largest packed block of B columns (multiple of nr)
	edge   bool // fn handles partial tiles itself (see microKernel)
	// exactRows: fn reads only the rows of A that flags gives, so the
	// driver reads an edge tile's A in place instead of packing it.
	exactRows bool
	fn        microKernel
	// packBT packs one panel of a transposed B (see packBTGeneric);
	// nil means packBTGeneric.
	packBT func(d, b []float32, ldb, kc, w, nr int)
	// tall, when not nil, is a taller kernel with the same kc (and the
	// same bits per element) for products of few rows; see pickKernel.
	tall *gemmKernel
}

// pickKernel returns small for m <= smallMMax when there is one, big's
// tall kernel for other m up to tallMMax that big's mr does not divide,
// else big. With the same kc all sum each element over the same k blocks
// in the same order; where all also handle edges themselves (AVX-512) a
// row of C gets the same bits from any (TestSmallKernelSameBits,
// TestTallKernelSameBits).
func pickKernel(big, small *gemmKernel, m int) *gemmKernel {
	if small != nil && m <= smallMMax {
		return small
	}
	if big.tall != nil && m <= tallMMax && m%big.mr != 0 {
		return big.tall
	}
	return big
}

// goKernel is the plain Go twin of the assembly micro-kernels, for any
// mr×nr up to 16×64, honouring the row and column counts in flags: it
// reads only those rows of A and columns of B. Tests run the driver with
// it on every platform.
func goKernel(mr, nr int) microKernel {
	return func(kc int, a *float32, rsa, ksa uintptr, b *float32, ksb uintptr, c *float32, ldc uintptr, alpha, beta float32, flags uint64) {
		rows := min(mr, int(flags>>8&0xff))
		cols := min(nr, int(flags>>16&0xff))
		var acc [16][64]float32
		for p := 0; p < kc; p++ {
			ap := unsafe.Add(unsafe.Pointer(a), uintptr(p)*ksa)
			bp := unsafe.Add(unsafe.Pointer(b), uintptr(p)*ksb)
			for r := 0; r < rows; r++ {
				av := *(*float32)(unsafe.Add(ap, uintptr(r)*rsa))
				for q := 0; q < cols; q++ {
					acc[r][q] += av * *(*float32)(unsafe.Add(bp, q*4))
				}
			}
		}
		for r := 0; r < rows; r++ {
			for q := 0; q < cols; q++ {
				cp := (*float32)(unsafe.Add(unsafe.Pointer(c), uintptr(r)*ldc+uintptr(q)*4))
				if flags&kfBeta0 != 0 {
					*cp = alpha * acc[r][q]
				} else {
					*cp = alpha*acc[r][q] + beta**cp
				}
			}
		}
	}
}
