package nn

import (
	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/internal/kernel"
	"github.com/myelin-go/myelin/tensor"
)

type poolOp struct{ avg bool }

func (o poolOp) Name() string {
	if o.avg {
		return "nn.AvgPool2D"
	}
	return "nn.MaxPool2D"
}

// MaxPool2D returns the maximum of each pool[0]×pool[1] window of x,
// shaped (batch, height, width, channels), moved by strides (zero means
// the pool size, Keras's default). Padding pixels are never the maximum.
// The gradient flows to the first pixel of each window holding the
// maximum.
func MaxPool2D(tp *autodiff.Tape, x *autodiff.Var, pool, strides [2]int, p Padding) *autodiff.Var {
	return pool2D(tp, x, pool, strides, p, false)
}

// AvgPool2D returns the mean of each window of x, as MaxPool2D's maximum.
// As in Keras (TensorFlow), a window that overlaps "same" padding is the
// mean of its image pixels only: the padding is not counted (PyTorch's
// avg_pool2d counts it unless count_include_pad=False).
func AvgPool2D(tp *autodiff.Tape, x *autodiff.Var, pool, strides [2]int, p Padding) *autodiff.Var {
	return pool2D(tp, x, pool, strides, p, true)
}

func pool2D(tp *autodiff.Tape, x *autodiff.Var, pool, strides [2]int, p Padding, avg bool) *autodiff.Var {
	op := poolOp{avg}
	sh, sw := strides[0], strides[1]
	if sh == 0 {
		sh = pool[0]
	}
	if sw == 0 {
		sw = pool[1]
	}
	g := window(op.Name(), x.Shape(), pool[0], pool[1], sh, sw, 1, 1, p)
	out := tp.Alloc(x.DType(), g.N, g.OH, g.OW, g.C)
	poolFwd(out, x.Value, &g, avg)
	return tp.Output(out, autodiff.Record{Op: op, In: [4]*autodiff.Var{x}, I: [4]int{pool[0], pool[1], sh, sw}, F: [4]float64{float64(p)}})
}

func poolFwd(out, x *tensor.Tensor, g *kernel.Window, avg bool) {
	switch {
	case avg && is32(x):
		kernel.AvgPool(out.Float32s(), x.Float32s(), g)
	case avg:
		kernel.AvgPool(out.Float64s(), x.Float64s(), g)
	case is32(x):
		kernel.MaxPool(out.Float32s(), x.Float32s(), g)
	default:
		kernel.MaxPool(out.Float64s(), x.Float64s(), g)
	}
}

func (o poolOp) Backward(tp *autodiff.Tape, r *autodiff.Record) {
	x := r.In[0]
	dx, dirty := tp.GradLazy(x)
	if dx == nil {
		return
	}
	g := window(o.Name(), x.Shape(), r.I[0], r.I[1], r.I[2], r.I[3], 1, 1, Padding(r.F[0]))
	if is32(dx) {
		poolBwdT(dx.Float32s(), r.Out.Grad.Float32s(), x.Value.Float32s(), r.Out.Value.Float32s(), &g, o.avg, dirty)
	} else {
		poolBwdT(dx.Float64s(), r.Out.Grad.Float64s(), x.Value.Float64s(), r.Out.Value.Float64s(), &g, o.avg, dirty)
	}
}

func poolBwd(dx, dy, x, y *tensor.Tensor, g *kernel.Window, avg bool) {
	if is32(x) {
		poolBwdT(dx.Float32s(), dy.Float32s(), x.Float32s(), y.Float32s(), g, avg, false)
	} else {
		poolBwdT(dx.Float64s(), dy.Float64s(), x.Float64s(), y.Float64s(), g, avg, false)
	}
}

// poolBwdT adds the pooling's input gradient into dx; when dirty (GradLazy's
// uncleared buffer) a max pool sets it (kernel.MaxPoolBackwardSet), an
// average pool clears one image at a time just before adding.
func poolBwdT[T float32 | float64](dx, dy, x, y []T, g *kernel.Window, avg, dirty bool) {
	if dirty && !avg {
		kernel.MaxPoolBackwardSet(dx, dy, x, y, g)
		return
	}
	add := func(dx, dy, x, y []T, g *kernel.Window) {
		if avg {
			kernel.AvgPoolBackwardAdd(dx, dy, g)
		} else {
			kernel.MaxPoolBackwardAdd(dx, dy, x, y, g)
		}
	}
	if !dirty {
		add(dx, dy, x, y, g)
		return
	}
	one := *g
	one.N = 1
	in, out := g.H*g.W*g.C, g.OH*g.OW*g.C
	for n := 0; n < g.N; n++ {
		clear(dx[n*in : (n+1)*in])
		add(dx[n*in:(n+1)*in], dy[n*out:(n+1)*out], x[n*in:(n+1)*in], y[n*out:(n+1)*out], &one)
	}
}

type globalAvgPoolOp struct{}

func (globalAvgPoolOp) Name() string { return "nn.GlobalAvgPool2D" }

// GlobalAvgPool2D returns the mean of each channel of x over its height
// and width: (batch, height, width, channels) → (batch, channels).
func GlobalAvgPool2D(tp *autodiff.Tape, x *autodiff.Var) *autodiff.Var {
	g := globalWindow(x.Shape())
	out := tp.Alloc(x.DType(), g.N, g.C)
	poolFwd(out, x.Value, &g, true)
	return tp.Output(out, autodiff.Record{Op: globalAvgPoolOp{}, In: [4]*autodiff.Var{x}})
}

func globalWindow(xs tensor.Shape) kernel.Window {
	if len(xs) != 4 || xs[1] == 0 || xs[2] == 0 {
		tensor.Panicf("nn.GlobalAvgPool2D", []tensor.Shape{xs}, "want a nonempty input (batch, height, width, channels)")
	}
	return kernel.Window{N: xs[0], H: xs[1], W: xs[2], C: xs[3], KH: xs[1], KW: xs[2], SH: 1, SW: 1, DH: 1, DW: 1, OH: 1, OW: 1}
}

func (globalAvgPoolOp) Backward(tp *autodiff.Tape, r *autodiff.Record) {
	x := r.In[0]
	if dx := tp.GradOf(x); dx != nil {
		g := globalWindow(x.Shape())
		poolBwd(dx, r.Out.Grad, x.Value, r.Out.Value, &g, true)
	}
}
