package nn

import (
	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/internal/kernel"
	"github.com/myelin-go/myelin/tensor"
)

// Conv2DOptions are a convolution's strides, dilation and padding. Zero
// strides or dilations mean 1.
type Conv2DOptions struct {
	Strides  [2]int // pixels the window moves per output pixel, (rows, columns)
	Dilation [2]int // pixels between the window's taps, (rows, columns)
	Padding  Padding
}

func orOne(v int) int {
	if v == 0 {
		return 1
	}
	return v
}

type conv2DOp struct{}

func (conv2DOp) Name() string { return "nn.Conv2D" }

// Conv2D returns act(conv(x, w) + b) in one op, channels last, as Keras's
// Conv2D computes it (a cross-correlation, like every deep-learning
// library's "convolution"):
//
//	y[n][oh][ow][f] = act(b[f] + Σ_{i,j,c} x[n][oh·sh−pt+i·dh][ow·sw−pl+j·dw][c] · w[i][j][c][f])
//
// x is (batch, height, width, channels), w is (kh, kw, channels, filters)
// (Keras's layout; PyTorch's is (filters, channels, kh, kw)), b is
// (filters,) or nil. Padding pixels are zero; see OutSize for the
// geometry.
//
// The product runs on the GEMM: the windows are copied into a tape buffer
// (im2col), one row per output pixel, which the backward pass reuses for
// the kernel's gradient; a 1×1 kernel with unit strides reads x directly.
func Conv2D(tp *autodiff.Tape, x, w, b *autodiff.Var, o Conv2DOptions, act Activation) *autodiff.Var {
	g := convWindow("nn.Conv2D", x, w, b, o)
	sh, sw, dh, dw := g.SH, g.SW, g.DH, g.DW
	m, k, f := g.Rows(), g.Cols(), w.Shape()[3]
	cols := im2col(tp, x.Value, &g)
	out := tp.Alloc(x.DType(), g.N, g.OH, g.OW, f)
	gemm(false, false, m, f, k, 1, cols, w.Value, 0, out)
	biasActivate(out, b, f, act)
	return tp.Output(out, autodiff.Record{
		Op: conv2DOp{}, In: [4]*autodiff.Var{x, w, b}, Aux: [4]*tensor.Tensor{cols},
		F: [4]float64{float64(sh), float64(sw), float64(dh), float64(dw)},
		I: [4]int{int(o.Padding), int(act)},
	})
}

// convWindow checks Conv2D's operands for op and returns the geometry.
func convWindow(op string, x, w, b *autodiff.Var, o Conv2DOptions) kernel.Window {
	sameDType(op, x, w, b)
	ws := w.Shape()
	if len(ws) != 4 || x.Value.Rank() != 4 || x.Shape()[3] != ws[2] {
		tensor.Panicf(op, shapes(x, w), "want x (batch, height, width, channels) and a kernel (kh, kw, channels, filters) with equal channels")
	}
	if b != nil && (b.Value.Rank() != 1 || b.Value.Len() != ws[3]) {
		tensor.Panicf(op, shapes(x, w, b), "bias must have shape (%d,)", ws[3])
	}
	sh, sw, dh, dw := orOne(o.Strides[0]), orOne(o.Strides[1]), orOne(o.Dilation[0]), orOne(o.Dilation[1])
	return window(op, x.Shape(), ws[0], ws[1], sh, sw, dh, dw, o.Padding)
}

// direct reports whether the im2col matrix of g is the input itself: a
// 1×1 window that visits every pixel once, in order.
func direct(g *kernel.Window) bool {
	return g.KH == 1 && g.KW == 1 && g.SH == 1 && g.SW == 1 && g.OH == g.H && g.OW == g.W
}

// im2col returns the im2col matrix of x (x itself when direct).
func im2col(tp *autodiff.Tape, x *tensor.Tensor, g *kernel.Window) *tensor.Tensor {
	if direct(g) {
		return x
	}
	cols := tp.Alloc(x.DType(), g.Rows(), g.Cols())
	if is32(x) {
		kernel.Im2col(cols.Float32s(), x.Float32s(), g)
	} else {
		kernel.Im2col(cols.Float64s(), x.Float64s(), g)
	}
	return cols
}

// biasActivate adds the bias row b (when not nil) to each row of the
// rows×n matrix out and applies act, in place, as Dense does.
func biasActivate(out *tensor.Tensor, b *autodiff.Var, n int, act Activation) {
	if y := out.Float32s(); y != nil && (act == ActReLU || act == Linear) {
		if b != nil {
			kernel.AddRowTo(y, y, b.Value.Float32s(), n)
		}
		if act == ActReLU {
			kernel.ReluTo(y, y)
		}
	} else if is32(out) {
		biasAct(out.Float32s(), valF32(b), n, act)
	} else {
		biasAct(out.Float64s(), valF64(b), n, act)
	}
}

// preActGrad returns the gradient of the pre-activation from the output y
// and its gradient dy (dy itself for Linear).
func preActGrad(tp *autodiff.Tape, y, dy *tensor.Tensor, n int, act Activation) *tensor.Tensor {
	if act == Linear {
		return dy
	}
	dz := tp.Alloc(y.DType(), y.Shape()...)
	if is32(dz) && act == ActReLU {
		kernel.ReluGradTo(dz.Float32s(), dy.Float32s(), y.Float32s())
	} else if is32(dz) {
		actGrad(dz.Float32s(), dy.Float32s(), y.Float32s(), n, act)
	} else {
		actGrad(dz.Float64s(), dy.Float64s(), y.Float64s(), n, act)
	}
	return dz
}

func (conv2DOp) Backward(tp *autodiff.Tape, r *autodiff.Record) {
	x, w, b, cols := r.In[0], r.In[1], r.In[2], r.Aux[0]
	ws := w.Shape()
	g := window("nn.Conv2D", x.Shape(), ws[0], ws[1], int(r.F[0]), int(r.F[1]), int(r.F[2]), int(r.F[3]), Padding(r.I[0]))
	m, k, f := g.Rows(), g.Cols(), ws[3]
	dz := preActGrad(tp, r.Out.Value, r.Out.Grad, f, Activation(r.I[1]))
	if dw, dirty := tp.GradLazy(w); dw != nil {
		gemm(true, false, k, f, m, 1, cols, dz, accumulate(dirty), dw) // colsᵀ·dz
	}
	addBiasGrad(tp, b, dz, f)
	dx, dirty := tp.GradLazy(x)
	if dx == nil {
		return
	}
	if direct(&g) {
		gemm(false, true, m, k, f, 1, dz, w.Value, accumulate(dirty), dx)
		return
	}
	dcols := tp.Alloc(x.DType(), m, k)
	gemm(false, true, m, k, f, 1, dz, w.Value, 0, dcols) // dz·wᵀ
	if is32(dx) {
		col2imAdd(dx.Float32s(), dcols.Float32s(), &g, dirty)
	} else {
		col2imAdd(dx.Float64s(), dcols.Float64s(), &g, dirty)
	}
}

// col2imAdd is kernel.Col2imAdd into dx, which when dirty (GradLazy's
// uncleared buffer) is cleared one image at a time, just before.
func col2imAdd[T float32 | float64](dx, cols []T, g *kernel.Window, dirty bool) {
	if !dirty {
		kernel.Col2imAdd(dx, cols, g)
		return
	}
	one := *g
	one.N = 1
	in, rows := g.H*g.W*g.C, g.OH*g.OW*g.Cols()
	for n := 0; n < g.N; n++ {
		clear(dx[n*in : (n+1)*in])
		kernel.Col2imAdd(dx[n*in:(n+1)*in], cols[n*rows:(n+1)*rows], &one)
	}
}
