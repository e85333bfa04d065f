//go:build amd64 && !noasm

package kernel

// convDirectMaxK is the most taps (KH·KW·C) convDirectAsm takes. Up to
// it the direct kernel beats Im2col, Sgemm and ApplyEpilogue run one after
// the other (BenchmarkConvDirect); it must stay at most the GEMM's k
// block (256), since the bits match only while the product sums each
// element in one block.
const convDirectMaxK = 64

// convDirectAsm is the AVX-512 direct convolution; see ConvDirect. It
// takes the windows that lie inside the image (no padding is read) of
// at most convDirectMaxK taps, for f a multiple of 16 up to 64, and runs
// one assembly call per image and group of up to 32 filters. Each output
// value is summed from +0 by one FMA per tap in tap order, with the
// operands in the registers the GEMM's AVX-512 micro-kernels use, and
// the epilogue then rounds each stage apart: the bits of Im2col, Sgemm
// and ApplyEpilogue.
func convDirectAsm(y, x []float32, g *Window, w []float32, f int, e *Epilogue) bool {
	if !convDirectFits(g, f, e) {
		return false
	}
	var offs [convDirectMaxK]int // on the stack: it does not escape
	t := convDirectOffsets(g, &offs)
	img, out := g.H*g.W*g.C, g.OH*g.OW*f
	_ = y[g.N*out-1]
	_ = x[g.N*img-1]
	_ = w[t*f-1]
	for n := 0; n < g.N; n++ {
		convDirectRows(y[n*out:], x[n*img:], g, g.OH, w, f, e, &offs, t)
	}
	return true
}

// convDirectRows runs the kernels over oh output rows of one image, from
// the window row x starts at, into y.
func convDirectRows(y, x []float32, g *Window, oh int, w []float32, f int, e *Epilogue, offs *[convDirectMaxK]int, t int) {
	pix, row := g.SW*g.C*4, g.SH*g.W*g.C*4
	for j := 0; j < f; j += 32 {
		flags, bias, mean, invstd, gamma, beta := e.asmArgs(j)
		// Direct calls: through a func value offs would escape.
		if f-j == 16 {
			convDirect16AVX512(&y[j], &x[0], &w[j], &offs[0], t, oh, g.OW, pix, row, f*4,
				bias, mean, invstd, gamma, beta, flags)
		} else {
			convDirect32AVX512(&y[j], &x[0], &w[j], &offs[0], t, oh, g.OW, pix, row, f*4,
				bias, mean, invstd, gamma, beta, flags)
		}
	}
}

// convPool2Band is the most floats of convolution output convDirectPool2Asm
// holds at once: 16 KiB, with room in a 48 KiB first-level cache for the
// windows and the weights.
const convPool2Band = 4096

// convDirectPool2Asm is convDirectAsm then maxPool2 (see
// ConvDirectMaxPool2), a band of pooled rows at a time through a buffer
// on the stack.
func convDirectPool2Asm(y, x []float32, g *Window, w []float32, f int, e *Epilogue) bool {
	if !convDirectFits(g, f, e) || 2*g.OW*f > convPool2Band {
		return false
	}
	var offs [convDirectMaxK]int
	t := convDirectOffsets(g, &offs)
	var band [convPool2Band]float32
	ph, pw := g.OH/2, g.OW/2
	rows := convPool2Band / (2 * g.OW * f) // pooled rows per band
	img, rowIn := g.H*g.W*g.C, 2*g.SH*g.W*g.C
	_ = y[g.N*ph*pw*f-1]
	_ = x[g.N*img-1]
	_ = w[t*f-1]
	for n := 0; n < g.N; n++ {
		for p0 := 0; p0 < ph; p0 += rows {
			r := min(rows, ph-p0)
			convDirectRows(band[:], x[n*img+p0*rowIn:], g, 2*r, w, f, e, &offs, t)
			for q := range r {
				r0 := band[2*q*g.OW*f:]
				r1 := band[(2*q+1)*g.OW*f:]
				o := ((n*ph + p0 + q) * pw) * f
				// impl.maxPool2 wherever this runs, called directly so
				// that band stays on the stack.
				maxPool2Asm(y[o:o+pw*f], r0[:2*pw*f], r1[:2*pw*f], pw, f)
			}
		}
	}
	return true
}

// convDirectOffsets fills offs with the byte offset of each tap from its
// window's top-left value, in Im2col's column order, and returns the taps.
func convDirectOffsets(g *Window, offs *[convDirectMaxK]int) int {
	t := 0
	for i := 0; i < g.KH; i++ {
		for j := 0; j < g.KW; j++ {
			for c := 0; c < g.C; c++ {
				offs[t] = ((i*g.DH*g.W+j*g.DW)*g.C + c) * 4
				t++
			}
		}
	}
	return t
}

// convDirectFits reports whether convDirectAsm takes the convolution:
// windows wholly inside the image (the kernel has no padding to read),
// few taps (beyond convDirectMaxK the GEMM's packed panels win), whole
// 16-lane groups of filters that fit in registers, and a normalization
// with both its scale and shift (the kernel always applies both).
func convDirectFits(g *Window, f int, e *Epilogue) bool {
	k := g.Cols()
	switch {
	case k < 1 || k > convDirectMaxK || f%16 != 0 || f > 64:
		return false
	case g.N < 1 || g.OH < 1 || g.OW < 1 || g.Rows() <= smallMMax:
		// Empty, or so few rows that Sgemm takes its one-row kernel,
		// whose FMAs order their operands otherwise (it decides which of
		// two NaNs survives).
		return false
	case g.SH < 1 || g.SW < 1 || g.DH < 1 || g.DW < 1 || g.PadTop != 0 || g.PadLeft != 0:
		return false
	case (g.OH-1)*g.SH+(g.KH-1)*g.DH >= g.H || (g.OW-1)*g.SW+(g.KW-1)*g.DW >= g.W:
		return false
	case e.Mean != nil && (e.Gamma == nil || e.Beta == nil):
		return false
	}
	return true
}

// The kernels compute one image's outputs for 32 (or 16) filters, 8
// output pixels at a time: the oh×ow outputs in row-major order, output
// (r, c) reading its window at x + r·row + c·pix bytes, tap t offs[t]
// bytes on from there, and writing y[(r·ow+c)·ld/4:] from the weights at
// w[t·ld/4:] and the epilogue stages in flags (the vectors point at the
// group's first filter; a nil one is not read).

//go:noescape
func convDirect32AVX512(y, x, w *float32, offs *int, k, oh, ow, pix, row, ld int, bias, mean, invstd, gamma, beta *float32, flags int)

//go:noescape
func convDirect16AVX512(y, x, w *float32, offs *int, k, oh, ow, pix, row, ld int, bias, mean, invstd, gamma, beta *float32, flags int)
