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
	if y32, ok := any(y).([]float32); ok && pool2Rows(g) {
		x32 := any(x).([]float32)
		for n := 0; n < g.N; n++ {
			for oh := 0; oh < g.OH; oh++ {
				r := (n*g.H + 2*oh) * g.W * c
				o := (n*g.OH + oh) * g.OW * c
				impl.maxPool2(y32[o:o+g.OW*c], x32[r:r+2*g.OW*c], x32[r+g.W*c:r+g.W*c+2*g.OW*c], g.OW, c)
			}
		}
		return
	}
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

// MaxPoolBackwardSet sets dx to the gradient MaxPoolBackwardAdd would add
// to a cleared dx, with the same bits, writing each element once where
// the windows tile the image (2×2, stride 2) instead of clearing first.
func MaxPoolBackwardSet[T float32 | float64](dx, dy, x, y []T, g *Window) {
	dx32, ok := any(dx).([]float32)
	if !ok || !pool2Rows(g) {
		clear(dx[:g.N*g.H*g.W*g.C])
		MaxPoolBackwardAdd(dx, dy, x, y, g)
		return
	}
	c := g.C
	x32, y32, dy32 := any(x).([]float32), any(y).([]float32), any(dy).([]float32)
	rowLen, w := g.W*c, 2*g.OW*c
	for n := 0; n < g.N; n++ {
		img := n * g.H * rowLen
		for oh := 0; oh < g.OH; oh++ {
			r0 := img + 2*oh*rowLen
			r1 := r0 + rowLen
			o := (n*g.OH + oh) * g.OW * c
			impl.maxPool2BackSet(dx32[r0:r0+w], dx32[r1:r1+w], x32[r0:r0+w], x32[r1:r1+w], y32[o:o+g.OW*c], dy32[o:o+g.OW*c], g.OW, c)
			clear(dx32[r0+w : r0+rowLen]) // columns no window reads
			clear(dx32[r1+w : r1+rowLen])
		}
		clear(dx32[img+2*g.OH*rowLen : img+g.H*rowLen]) // rows no window reads
	}
}

// MaxPoolBackwardAdd adds each output gradient dy to the gradient dx of
// the first pixel, in row-major window order, whose value equals the
// window's maximum y (PyTorch's choice on ties; with no ties every rule
// agrees). A NaN maximum equals no pixel and passes no gradient.
//
// Each output pixel's valid taps are listed once as offsets into the
// image, so the channel loop inside compares values and does no geometry.
func MaxPoolBackwardAdd[T float32 | float64](dx, dy, x, y []T, g *Window) {
	c := g.C
	if dx32, ok := any(dx).([]float32); ok && pool2Rows(g) {
		x32, y32, dy32 := any(x).([]float32), any(y).([]float32), any(dy).([]float32)
		for n := 0; n < g.N; n++ {
			for oh := 0; oh < g.OH; oh++ {
				r0 := (n*g.H + 2*oh) * g.W * c
				r1, w := r0+g.W*c, 2*g.OW*c
				o := (n*g.OH + oh) * g.OW * c
				impl.maxPool2Back(dx32[r0:r0+w], dx32[r1:r1+w], x32[r0:r0+w], x32[r1:r1+w], y32[o:o+g.OW*c], dy32[o:o+g.OW*c], g.OW, c)
			}
		}
		return
	}
	var buf [64]int
	offs := buf[:0]
	if g.KH*g.KW > len(buf) {
		offs = make([]int, 0, g.KH*g.KW)
	}
	for n := 0; n < g.N; n++ {
		img := x[n*g.H*g.W*c : (n+1)*g.H*g.W*c]
		dimg := dx[n*g.H*g.W*c : (n+1)*g.H*g.W*c]
		for oh := 0; oh < g.OH; oh++ {
			h0, h1 := span(oh, g.KH, g.SH, g.PadTop, g.H)
			for ow := 0; ow < g.OW; ow++ {
				w0, w1 := span(ow, g.KW, g.SW, g.PadLeft, g.W)
				offs = offs[:0]
				for ih := h0; ih < h1; ih++ {
					for iw := w0; iw < w1; iw++ {
						offs = append(offs, (ih*g.W+iw)*c)
					}
				}
				o := ((n*g.OH+oh)*g.OW + ow) * c
				maxBackward(dimg, img, y[o:o+c], dy[o:o+c], offs)
			}
		}
	}
}

// maxBackward adds dy[ch] to dimg[off+ch] at the first offset whose
// img[off+ch] equals m[ch], for each channel ch.
func maxBackward[T float32 | float64](dimg, img, m, dy []T, offs []int) {
	if len(offs) == 4 { // the 2×2 pool of most networks
		o0, o1, o2, o3 := offs[0], offs[1], offs[2], offs[3]
		a, b, cc, d := img[o0:o0+len(m)], img[o1:o1+len(m)], img[o2:o2+len(m)], img[o3:o3+len(m)]
		da, db, dc, dd := dimg[o0:o0+len(m)], dimg[o1:o1+len(m)], dimg[o2:o2+len(m)], dimg[o3:o3+len(m)]
		for ch, v := range m {
			switch v {
			case a[ch]:
				da[ch] += dy[ch]
			case b[ch]:
				db[ch] += dy[ch]
			case cc[ch]:
				dc[ch] += dy[ch]
			case d[ch]:
				dd[ch] += dy[ch]
			}
		}
		return
	}
	for ch, v := range m {
		for _, off := range offs {
			if img[off+ch] == v {
				dimg[off+ch] += dy[ch]
				break
			}
		}
	}
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
