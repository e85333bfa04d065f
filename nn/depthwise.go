package nn

import (
	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/internal/kernel"
	"github.com/myelin-go/myelin/tensor"
)

type depthwiseOp struct{}

func (depthwiseOp) Name() string { return "nn.DepthwiseConv2D" }

// DepthwiseConv2D returns act(depthwise_conv(x, w) + b) in one op, channels
// last, as Keras's DepthwiseConv2D computes it: each input channel is
// convolved with its own depth_multiplier filters, and no sum runs across
// channels:
//
//	y[n][oh][ow][c·M+m] = act(b[c·M+m] + Σ_{i,j} x[n][oh·sh−pt+i·dh][ow·sw−pl+j·dw][c] · w[i][j][c][m])
//
// x is (batch, height, width, channels), w is (kh, kw, channels, M) with M
// the depth multiplier (Keras's layout for a depthwise kernel), b is
// (channels·M,) or nil. Strides, dilation and padding are Conv2D's.
//
// With one tap per output channel, im2col would copy the input kh·kw times
// to feed a GEMM of inner dimension kh·kw; direct loops read x in place.
func DepthwiseConv2D(tp *autodiff.Tape, x, w, b *autodiff.Var, o Conv2DOptions, act Activation) *autodiff.Var {
	const op = "nn.DepthwiseConv2D"
	sameDType(op, x, w, b)
	ws := w.Shape()
	if len(ws) != 4 || x.Value.Rank() != 4 || x.Shape()[3] != ws[2] {
		tensor.Panicf(op, shapes(x, w), "want x (batch, height, width, channels) and a depthwise kernel (kh, kw, channels, depth_multiplier) with equal channels")
	}
	if ws[3] < 1 {
		tensor.Panicf(op, shapes(x, w), "depth multiplier %d must be positive", ws[3])
	}
	cm := ws[2] * ws[3]
	if b != nil && (b.Value.Rank() != 1 || b.Value.Len() != cm) {
		tensor.Panicf(op, shapes(x, w, b), "bias must have shape (%d,), channels·depth_multiplier", cm)
	}
	sh, sw, dh, dw := orOne(o.Strides[0]), orOne(o.Strides[1]), orOne(o.Dilation[0]), orOne(o.Dilation[1])
	g := window(op, x.Shape(), ws[0], ws[1], sh, sw, dh, dw, o.Padding)
	out := tp.Alloc(x.DType(), g.N, g.OH, g.OW, cm)
	if is32(out) {
		depthwiseFwd(out.Float32s(), x.Value.Float32s(), w.Value.Float32s(), &g, ws[3])
	} else {
		depthwiseFwd(out.Float64s(), x.Value.Float64s(), w.Value.Float64s(), &g, ws[3])
	}
	biasActivate(out, b, cm, act)
	return tp.Output(out, autodiff.Record{
		Op: depthwiseOp{}, In: [4]*autodiff.Var{x, w, b},
		F: [4]float64{float64(sh), float64(sw), float64(dh), float64(dw)},
		I: [4]int{int(o.Padding), int(act)},
	})
}

// depthwiseFwd sets y, (N, OH, OW, C·m), to the depthwise convolution of x
// with w, (KH, KW, C, m). Each output pixel sums its taps in window order,
// row by row, so the result does not depend on the batch size or on
// anything else outside the pixel.
func depthwiseFwd[T Float](y, x, w []T, g *kernel.Window, m int) {
	c := g.C
	cm := c * m
	for n := range g.N {
		for i := range g.OH {
			for j := range g.OW {
				row := y[((n*g.OH+i)*g.OW+j)*cm:][:cm]
				clear(row)
				for a := range g.KH {
					ih := i*g.SH - g.PadTop + a*g.DH
					if ih < 0 || ih >= g.H {
						continue
					}
					for bb := range g.KW {
						iw := j*g.SW - g.PadLeft + bb*g.DW
						if iw < 0 || iw >= g.W {
							continue
						}
						px := x[((n*g.H+ih)*g.W+iw)*c:][:c]
						tap := w[(a*g.KW+bb)*cm:][:cm]
						if m == 1 {
							for ch, v := range px {
								row[ch] += v * tap[ch]
							}
							continue
						}
						for ch, v := range px {
							r, t := row[ch*m:][:m], tap[ch*m:][:m]
							for k := range r {
								r[k] += v * t[k]
							}
						}
					}
				}
			}
		}
	}
}

func (depthwiseOp) Backward(tp *autodiff.Tape, r *autodiff.Record) {
	x, w, b := r.In[0], r.In[1], r.In[2]
	ws := w.Shape()
	g := window("nn.DepthwiseConv2D", x.Shape(), ws[0], ws[1], int(r.F[0]), int(r.F[1]), int(r.F[2]), int(r.F[3]), Padding(r.I[0]))
	m, cm := ws[3], ws[2]*ws[3]
	dz := preActGrad(tp, r.Out.Value, r.Out.Grad, cm, Activation(r.I[1]))
	addBiasGrad(tp, b, dz, cm)
	dw := tp.GradOf(w)
	dx, dirty := tp.GradLazy(x)
	if dw == nil && dx == nil {
		return
	}
	if is32(dz) {
		depthwiseBwd(f32s(dx), f32s(dw), dz.Float32s(), x.Value.Float32s(), w.Value.Float32s(), &g, m, dirty)
	} else {
		depthwiseBwd(f64s(dx), f64s(dw), dz.Float64s(), x.Value.Float64s(), w.Value.Float64s(), &g, m, dirty)
	}
}

// depthwiseBwd adds the gradients of x and w into dx and dw from the
// pre-activation gradient dz; a nil dx or dw is not wanted. When dirty
// (GradLazy's uncleared buffer), dx is cleared one image at a time, just
// before its first add. The kernel's gradient sums over pixels in output
// order, a fixed order.
func depthwiseBwd[T Float](dx, dw, dz, x, w []T, g *kernel.Window, m int, dirty bool) {
	c := g.C
	cm := c * m
	in := g.H * g.W * c
	for n := range g.N {
		if dx != nil && dirty {
			clear(dx[n*in : (n+1)*in])
		}
		for i := range g.OH {
			for j := range g.OW {
				d := dz[((n*g.OH+i)*g.OW+j)*cm:][:cm]
				for a := range g.KH {
					ih := i*g.SH - g.PadTop + a*g.DH
					if ih < 0 || ih >= g.H {
						continue
					}
					for bb := range g.KW {
						iw := j*g.SW - g.PadLeft + bb*g.DW
						if iw < 0 || iw >= g.W {
							continue
						}
						off, toff := ((n*g.H+ih)*g.W+iw)*c, (a*g.KW+bb)*cm
						if dw != nil {
							px, dt := x[off:][:c], dw[toff:][:cm]
							for ch, v := range px {
								r, e := dt[ch*m:][:m], d[ch*m:][:m]
								for k := range r {
									r[k] += v * e[k]
								}
							}
						}
						if dx != nil {
							dp, tap := dx[off:][:c], w[toff:][:cm]
							for ch := range dp {
								t, e := tap[ch*m:][:m], d[ch*m:][:m]
								var s T
								for k := range t {
									s += t[k] * e[k]
								}
								dp[ch] += s
							}
						}
					}
				}
			}
		}
	}
}
