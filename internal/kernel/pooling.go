package kernel

// Pooling loops over NHWC images with the geometry of a Window (DH and DW
// must be 1). Windows at the border of a "same"-padded image hold fewer
// pixels: padding is never a candidate for the maximum and is not counted
// in the average, as in TensorFlow and Keras (PyTorch's avg_pool2d counts
// it unless count_include_pad=False). Each output pixel's window holds at
// least one pixel for the geometries Keras's "valid" and "same" give.

// MaxPool writes the maximum of each window into y, shaped (N, OH, OW, C).
func MaxPool[T float32 | float64](y, x []T, g *Window) {
	c := g.C
	for n := 0; n < g.N; n++ {
		img := x[n*g.H*g.W*c : (n+1)*g.H*g.W*c]
		for oh := 0; oh < g.OH; oh++ {
			for ow := 0; ow < g.OW; ow++ {
				dst := y[((n*g.OH+oh)*g.OW+ow)*c : ((n*g.OH+oh)*g.OW+ow+1)*c]
				first := true
				for i := 0; i < g.KH; i++ {
					ih := oh*g.SH - g.PadTop + i
					if ih < 0 || ih >= g.H {
						continue
					}
					for j := 0; j < g.KW; j++ {
						iw := ow*g.SW - g.PadLeft + j
						if iw < 0 || iw >= g.W {
							continue
						}
						src := img[(ih*g.W+iw)*c : (ih*g.W+iw+1)*c]
						if first {
							copy(dst, src)
							first = false
							continue
						}
						for ch, v := range src {
							dst[ch] = max(dst[ch], v)
						}
					}
				}
			}
		}
	}
}

// MaxPoolBackwardAdd adds each output gradient dy to the gradient dx of
// the first pixel, in row-major window order, whose value equals the
// window's maximum y (PyTorch's choice on ties; with no ties every rule
// agrees).
func MaxPoolBackwardAdd[T float32 | float64](dx, dy, x, y []T, g *Window) {
	c := g.C
	for n := 0; n < g.N; n++ {
		img := x[n*g.H*g.W*c : (n+1)*g.H*g.W*c]
		dimg := dx[n*g.H*g.W*c : (n+1)*g.H*g.W*c]
		for oh := 0; oh < g.OH; oh++ {
			for ow := 0; ow < g.OW; ow++ {
				o := ((n*g.OH+oh)*g.OW + ow) * c
				for ch := 0; ch < c; ch++ {
					if at := maxAt(img, y[o+ch], g, oh, ow, ch); at >= 0 {
						dimg[at] += dy[o+ch]
					}
				}
			}
		}
	}
}

// maxAt returns the index in img of the first pixel of output (oh, ow)'s
// window whose channel ch equals m, or −1 (m is NaN).
func maxAt[T float32 | float64](img []T, m T, g *Window, oh, ow, ch int) int {
	for i := 0; i < g.KH; i++ {
		ih := oh*g.SH - g.PadTop + i
		if ih < 0 || ih >= g.H {
			continue
		}
		for j := 0; j < g.KW; j++ {
			iw := ow*g.SW - g.PadLeft + j
			if iw < 0 || iw >= g.W {
				continue
			}
			if at := (ih*g.W+iw)*g.C + ch; img[at] == m {
				return at
			}
		}
	}
	return -1
}

// span returns the valid input rows [lo, hi) of output row o's window of
// k taps, given stride s, padding before p and input size n.
func span(o, k, s, p, n int) (lo, hi int) {
	lo, hi = o*s-p, o*s-p+k
	return max(lo, 0), min(hi, n)
}

// AvgPool writes the mean of each window's pixels (padding excluded) into
// y, shaped (N, OH, OW, C).
func AvgPool[T float32 | float64](y, x []T, g *Window) {
	c := g.C
	for n := 0; n < g.N; n++ {
		img := x[n*g.H*g.W*c : (n+1)*g.H*g.W*c]
		for oh := 0; oh < g.OH; oh++ {
			h0, h1 := span(oh, g.KH, g.SH, g.PadTop, g.H)
			for ow := 0; ow < g.OW; ow++ {
				w0, w1 := span(ow, g.KW, g.SW, g.PadLeft, g.W)
				dst := y[((n*g.OH+oh)*g.OW+ow)*c : ((n*g.OH+oh)*g.OW+ow+1)*c]
				clear(dst)
				for ih := h0; ih < h1; ih++ {
					for iw := w0; iw < w1; iw++ {
						for ch, v := range img[(ih*g.W+iw)*c : (ih*g.W+iw+1)*c] {
							dst[ch] += v
						}
					}
				}
				cnt := T((h1 - h0) * (w1 - w0))
				for ch := range dst {
					dst[ch] /= cnt
				}
			}
		}
	}
}

// AvgPoolBackwardAdd adds dy/count to the gradient of every pixel of each
// window, count being the window's pixels (padding excluded).
func AvgPoolBackwardAdd[T float32 | float64](dx, dy []T, g *Window) {
	c := g.C
	for n := 0; n < g.N; n++ {
		dimg := dx[n*g.H*g.W*c : (n+1)*g.H*g.W*c]
		for oh := 0; oh < g.OH; oh++ {
			h0, h1 := span(oh, g.KH, g.SH, g.PadTop, g.H)
			for ow := 0; ow < g.OW; ow++ {
				w0, w1 := span(ow, g.KW, g.SW, g.PadLeft, g.W)
				src := dy[((n*g.OH+oh)*g.OW+ow)*c : ((n*g.OH+oh)*g.OW+ow+1)*c]
				cnt := T((h1 - h0) * (w1 - w0))
				for ih := h0; ih < h1; ih++ {
					for iw := w0; iw < w1; iw++ {
						d := dimg[(ih*g.W+iw)*c : (ih*g.W+iw+1)*c]
						for ch, v := range src {
							d[ch] += v / cnt
						}
					}
				}
			}
		}
	}
}
