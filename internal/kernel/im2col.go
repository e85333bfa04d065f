package kernel

// Window is the geometry of a 2-D convolution or pooling window sliding
// over a batch of images stored channels last (NHWC): N images of H×W
// pixels with C channels, a KH×KW window whose taps are DH, DW pixels
// apart (dilation), moved SH, SW pixels per output pixel (strides), over
// an input padded with PadTop rows above and PadLeft columns to the left
// (the rows and columns padded below and to the right are implied by OH
// and OW). Output pixel (oh, ow)'s tap (i, j) reads input pixel
//
//	(oh·SH − PadTop + i·DH, ow·SW − PadLeft + j·DW)
//
// and a tap outside the image reads padding.
type Window struct {
	N, H, W, C      int
	KH, KW          int
	SH, SW          int
	DH, DW          int
	PadTop, PadLeft int
	OH, OW          int
}

// Rows returns the number of output pixels, N·OH·OW: the rows of the
// im2col matrix.
func (g *Window) Rows() int { return g.N * g.OH * g.OW }

// Cols returns KH·KW·C: the columns of the im2col matrix, one per tap and
// channel, in the order of a kernel stored (KH, KW, C, filters).
func (g *Window) Cols() int { return g.KH * g.KW * g.C }

// Im2col writes into cols, a Rows()×Cols() row-major matrix, the input
// values each output pixel's window sees, zero for padding, so that a
// convolution is cols·kernel with the kernel viewed as a Cols()×filters
// matrix:
//
//	cols[(n·OH + oh)·OW + ow][(i·KW + j)·C + c] = x[n][oh·SH−PadTop+i·DH][ow·SW−PadLeft+j·DW][c]
//
// A window row inside the image with DW = 1 is KW·C contiguous values and
// is copied at once; a short one (the first layer's single channel) by a
// loop, since a call to copy costs more than a few moves. In float32, the
// windows of an output row that lie wholly inside the image go to the
// backend's im2colWindows in one call.
func Im2col[T float32 | float64](cols, x []T, g *Window) {
	c, k := g.C, g.Cols()
	_ = cols[g.Rows()*k-1]
	kwc := g.KW * c
	cols32, _ := any(cols).([]float32)
	x32, _ := any(x).([]float32)
	lo, hi := 0, 0 // the output columns whose windows im2colWindows copies
	if x32 != nil && g.DW == 1 && kwc > 16 && kwc <= im2colWindowsMax {
		lo, hi = insideCols(g)
	}
	row := 0
	for n := 0; n < g.N; n++ {
		img := x[n*g.H*g.W*c : (n+1)*g.H*g.W*c]
		for oh := 0; oh < g.OH; oh++ {
			if kwc <= 16 && im2colRowInside(img, cols[row*k:(row+g.OW)*k], g, oh) {
				row += g.OW
				continue
			}
			ih0 := oh*g.SH - g.PadTop
			run := lo < hi && ih0 >= 0 && ih0+(g.KH-1)*g.DH < g.H
			for ow := 0; ow < g.OW; ow++ {
				if run && ow == lo {
					m := hi - lo
					off := n*g.H*g.W*c + (ih0*g.W+lo*g.SW-g.PadLeft)*c
					span := (m-1)*g.SW*c + (g.KH-1)*g.DH*g.W*c + kwc
					impl.im2colWindows(cols32[row*k:(row+m)*k], x32[off:off+span], m, g.KH, kwc, g.SW*c, g.DH*g.W*c)
					row += m
					ow = hi - 1
					continue
				}
				dst := cols[row*k : (row+1)*k]
				row++
				iw0 := ow*g.SW - g.PadLeft
				inside := g.DW == 1 && iw0 >= 0 && iw0+g.KW <= g.W
				for i := 0; i < g.KH; i++ {
					ih := oh*g.SH - g.PadTop + i*g.DH
					seg := dst[i*kwc : (i+1)*kwc]
					if ih < 0 || ih >= g.H {
						clear(seg)
						continue
					}
					if inside {
						src := img[(ih*g.W+iw0)*c:][:kwc]
						if kwc <= 16 {
							//lint:ignore S1001 a call to copy costs more than moving a few values
							for t, v := range src {
								seg[t] = v
							}
						} else {
							copy(seg, src)
						}
						continue
					}
					for j := 0; j < g.KW; j++ {
						iw := iw0 + j*g.DW
						tap := seg[j*c : (j+1)*c]
						if iw < 0 || iw >= g.W {
							clear(tap)
						} else {
							copy(tap, img[(ih*g.W+iw)*c:])
						}
					}
				}
			}
		}
	}
}

// im2colWindowsMax is the longest window row (KW·C values) Im2col hands
// to im2colWindows; longer rows amortize copy's call.
const im2colWindowsMax = 512

// insideCols returns the output columns lo ≤ ow < hi whose windows lie
// inside the image horizontally, for DW = 1 (lo == hi when none does).
func insideCols(g *Window) (lo, hi int) {
	if g.PadLeft > 0 {
		lo = (g.PadLeft + g.SW - 1) / g.SW
	}
	if last := g.W - g.KW + g.PadLeft; last >= 0 {
		hi = min(last/g.SW+1, g.OW)
	}
	return min(lo, hi), hi
}

// im2colWindowsGeneric is the reference im2colWindows: it copies n
// windows of kh rows of kwc values, window p's row i from
// src[p·step+i·rowStride:] to dst[(p·kh+i)·kwc:]:
//
//	for p := 0; p < n; p++ {
//		for i := 0; i < kh; i++ {
//			copy(dst[(p*kh+i)*kwc:][:kwc], src[p*step+i*rowStride:][:kwc])
//		}
//	}
func im2colWindowsGeneric(dst, src []float32, n, kh, kwc, step, rowStride int) {
	for p := 0; p < n; p++ {
		d, s := dst[p*kh*kwc:(p+1)*kh*kwc], src[p*step:]
		for i := 0; i < kh; i++ {
			copy(d[i*kwc:(i+1)*kwc], s[i*rowStride:][:kwc])
		}
	}
}

// im2colRowInside writes the im2col rows of output row oh of one image
// into dst and reports true when every window of the row lies inside the
// image; it reports false, writing nothing, otherwise. It is for short
// window rows (KW·C ≤ 16, a first layer's few channels), where Im2col's
// per-window bookkeeping costs more than the copies: here each window row
// moves as a fixed-size block in a loop over the output row.
func im2colRowInside[T float32 | float64](img, dst []T, g *Window, oh int) bool {
	c, k, kwc := g.C, g.Cols(), g.KW*g.C
	if g.DW != 1 || g.PadLeft > 0 || (g.OW-1)*g.SW+g.KW > g.W {
		return false
	}
	ih0 := oh*g.SH - g.PadTop
	if ih0 < 0 || ih0+(g.KH-1)*g.DH >= g.H {
		return false
	}
	step := g.SW * c
	if kwc == 3 && g.KH == 3 {
		// The first layer of most image models: one pass writes each
		// 9-value row whole, where three passes would each touch it.
		rs := g.DH * g.W * c
		span := (g.OW-1)*step + 3
		s0 := img[ih0*g.W*c:][:span]
		s1 := img[ih0*g.W*c+rs:][:span]
		s2 := img[ih0*g.W*c+2*rs:][:span]
		for ow := 0; ow < g.OW; ow++ {
			p := ow * step
			d := dst[ow*9 : ow*9+9 : ow*9+9]
			a, b, e := s0[p:p+3:p+3], s1[p:p+3:p+3], s2[p:p+3:p+3]
			d[0], d[1], d[2] = a[0], a[1], a[2]
			d[3], d[4], d[5] = b[0], b[1], b[2]
			d[6], d[7], d[8] = e[0], e[1], e[2]
		}
		return true
	}
	for i := 0; i < g.KH; i++ {
		src := img[(ih0+i*g.DH)*g.W*c:]
		src = src[:(g.OW-1)*step+kwc]
		d := dst[i*kwc:]
		switch kwc {
		case 3:
			for ow := 0; ow < g.OW; ow++ {
				*(*[3]T)(d[ow*k:]) = *(*[3]T)(src[ow*step:])
			}
		default: // a loop: a call to copy costs more than moving a few values
			for ow := 0; ow < g.OW; ow++ {
				for t, v := range src[ow*step : ow*step+kwc] {
					d[ow*k+t] = v
				}
			}
		}
	}
	return true
}

// Col2imAdd is Im2col's transpose: it adds each entry of cols to the
// input pixel it was read from, dropping those read from padding. With
// cols the gradient of Im2col's output, it accumulates the gradient of x.
// The order of the additions is fixed, so the result does not depend on
// the number of threads; a contiguous window row is added with the
// vector add, which keeps each element's order of additions.
func Col2imAdd[T float32 | float64](dx, cols []T, g *Window) {
	c, k := g.C, g.Cols()
	_ = cols[g.Rows()*k-1]
	kwc := g.KW * c
	row := 0
	for n := 0; n < g.N; n++ {
		img := dx[n*g.H*g.W*c : (n+1)*g.H*g.W*c]
		for oh := 0; oh < g.OH; oh++ {
			for ow := 0; ow < g.OW; ow++ {
				src := cols[row*k : (row+1)*k]
				row++
				iw0 := ow*g.SW - g.PadLeft
				inside := g.DW == 1 && iw0 >= 0 && iw0+g.KW <= g.W
				for i := 0; i < g.KH; i++ {
					ih := oh*g.SH - g.PadTop + i*g.DH
					if ih < 0 || ih >= g.H {
						continue
					}
					if inside {
						addInto(img[(ih*g.W+iw0)*c:][:kwc], src[i*kwc:(i+1)*kwc])
						continue
					}
					for j := 0; j < g.KW; j++ {
						iw := iw0 + j*g.DW
						if iw < 0 || iw >= g.W {
							continue
						}
						addInto(img[(ih*g.W+iw)*c:(ih*g.W+iw+1)*c], src[(i*g.KW+j)*c:(i*g.KW+j+1)*c])
					}
				}
			}
		}
	}
}

// addInto adds src to dst element by element: with the vector add for
// float32 rows long enough to pay for the call.
func addInto[T float32 | float64](dst, src []T) {
	if d, ok := any(dst).([]float32); ok && len(d) >= 16 {
		impl.add(d, d, any(src).([]float32))
		return
	}
	for i, v := range src {
		dst[i] += v
	}
}
