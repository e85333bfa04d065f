package nn_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/internal/gradcheck"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

type depthwiseCase struct {
	x, k     [4]int // x (n, h, w, c); kernel (kh, kw, c, depth_multiplier)
	strides  [2]int
	dilation [2]int
	pad      nn.Padding
}

var depthwiseCases = []depthwiseCase{
	{[4]int{2, 5, 5, 2}, [4]int{3, 3, 2, 1}, [2]int{1, 1}, [2]int{1, 1}, nn.Valid},
	{[4]int{2, 5, 5, 2}, [4]int{3, 3, 2, 2}, [2]int{1, 1}, [2]int{1, 1}, nn.Valid},
	{[4]int{2, 5, 6, 3}, [4]int{3, 3, 3, 2}, [2]int{1, 1}, [2]int{1, 1}, nn.Same},
	{[4]int{2, 6, 6, 2}, [4]int{2, 2, 2, 1}, [2]int{1, 1}, [2]int{1, 1}, nn.Same}, // odd total padding: the odd pixel at the end
	{[4]int{2, 7, 6, 3}, [4]int{3, 2, 3, 2}, [2]int{2, 2}, [2]int{1, 1}, nn.Valid},
	{[4]int{2, 7, 8, 1}, [4]int{3, 3, 1, 2}, [2]int{2, 3}, [2]int{1, 1}, nn.Same},
	{[4]int{1, 7, 7, 2}, [4]int{3, 3, 2, 2}, [2]int{1, 1}, [2]int{2, 2}, nn.Valid},
	{[4]int{2, 7, 6, 2}, [4]int{3, 2, 2, 1}, [2]int{1, 1}, [2]int{2, 3}, nn.Same},
	{[4]int{2, 3, 5, 4}, [4]int{1, 1, 4, 2}, [2]int{1, 1}, [2]int{1, 1}, nn.Valid},
	{[4]int{2, 5, 5, 3}, [4]int{1, 1, 3, 1}, [2]int{2, 2}, [2]int{1, 1}, nn.Same},
	{[4]int{1, 3, 3, 2}, [4]int{5, 4, 2, 2}, [2]int{3, 1}, [2]int{1, 1}, nn.Same}, // window larger than the image
}

func (c depthwiseCase) String() string {
	return fmt.Sprintf("x%v/k%v/s%v/d%v/%s", c.x, c.k, c.strides, c.dilation, c.pad)
}

func (c depthwiseCase) opts() nn.Conv2DOptions {
	return nn.Conv2DOptions{Strides: c.strides, Dilation: c.dilation, Padding: c.pad}
}

// TestDepthwiseConv2DGradient checks the gradients of DepthwiseConv2D
// (input, kernel and, when present, bias) against central differences,
// for every case, with and without a bias, linear and ReLU.
func TestDepthwiseConv2DGradient(t *testing.T) {
	for _, c := range depthwiseCases {
		for _, act := range []nn.Activation{nn.Linear, nn.ActReLU} {
			for _, bias := range []bool{true, false} {
				t.Run(fmt.Sprintf("%s/%s/bias=%v", c, act, bias), func(t *testing.T) {
					x := dwRandn(c.x[:]...)
					w := dwRandn(c.k[:]...)
					b := dwRandn(c.k[2] * c.k[3])
					if act == nn.ActReLU {
						w = awayFromKink(t, x, w, b, c, bias)
					}
					gradcheck.Central(t, func(tp *autodiff.Tape, v []*autodiff.Var) *autodiff.Var {
						var bv *autodiff.Var
						if bias {
							bv = v[2]
						}
						return project(tp, nn.DepthwiseConv2D(tp, v[0], v[1], bv, c.opts(), act))
					}, 1e-6, x, w, b)
				})
			}
		}
	}
}

// awayFromKink returns w, or a fresh draw of its shape, such that no
// pre-activation lies within 1e-3 of ReLU's kink, where central
// differences would straddle both slopes.
func awayFromKink(t *testing.T, x, w, b *tensor.Tensor, c depthwiseCase, bias bool) *tensor.Tensor {
	t.Helper()
	if !bias {
		b = nil
	}
	for range 100 {
		ok := true
		for _, v := range depthwiseNaive(x, w, b, c).Float64s() {
			if v > -1e-3 && v < 1e-3 {
				ok = false
				break
			}
		}
		if ok {
			return w
		}
		w = dwRandn(w.Shape()...)
	}
	t.Fatal("could not move the pre-activations off ReLU's kink")
	return nil
}

// depthwiseNaive is the definition, one output at a time, in float64,
// with the optional bias b added (no activation).
func depthwiseNaive(x, w, b *tensor.Tensor, c depthwiseCase) *tensor.Tensor {
	xs, ws := x.Shape(), w.Shape()
	sh, sw, dh, dw := c.strides[0], c.strides[1], c.dilation[0], c.dilation[1]
	oh, pt := nn.OutSize(xs[1], ws[0], sh, dh, c.pad)
	ow, pl := nn.OutSize(xs[2], ws[1], sw, dw, c.pad)
	y := tensor.New(tensor.Float64, xs[0], oh, ow, ws[2]*ws[3])
	for n := range xs[0] {
		for i := range oh {
			for j := range ow {
				for ch := range ws[2] {
					for m := range ws[3] {
						var s float64
						for a := range ws[0] {
							for bb := range ws[1] {
								ih, iw := i*sh-pt+a*dh, j*sw-pl+bb*dw
								if ih < 0 || ih >= xs[1] || iw < 0 || iw >= xs[2] {
									continue
								}
								s += x.At(n, ih, iw, ch) * w.At(a, bb, ch, m)
							}
						}
						if b != nil {
							s += b.At(ch*ws[3] + m)
						}
						y.Set(s, n, i, j, ch*ws[3]+m)
					}
				}
			}
		}
	}
	return y
}

// TestDepthwiseConv2DMatchesDefinition compares the forward, with and
// without a bias, with the sum that defines it, in float64 and float32.
func TestDepthwiseConv2DMatchesDefinition(t *testing.T) {
	for _, c := range depthwiseCases {
		for _, bias := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/bias=%v", c, bias), func(t *testing.T) {
				x, w := dwRandn(c.x[:]...), dwRandn(c.k[:]...)
				var b *tensor.Tensor
				if bias {
					b = dwRandn(c.k[2] * c.k[3])
				}
				want := depthwiseNaive(x, w, b, c)
				for _, dt := range []struct {
					dt  tensor.DType
					tol float64
				}{{tensor.Float64, 1e-12}, {tensor.Float32, 1e-5}} {
					tp := autodiff.NewTape()
					var bv *autodiff.Var
					if b != nil {
						bv = tp.Const(b.As(dt.dt))
					}
					y := nn.DepthwiseConv2D(tp, tp.Const(x.As(dt.dt)), tp.Const(w.As(dt.dt)), bv, c.opts(), nn.Linear)
					if !y.Shape().Equal(want.Shape()) {
						t.Fatalf("%s: got shape %s, want %s", dt.dt, y.Shape(), want.Shape())
					}
					for i := range want.Len() {
						if g, e := y.Value.Index(i), want.Index(i); !(abs(g-e) <= dt.tol*max(1, abs(e))) {
							t.Fatalf("%s: element %d: got %.9g, want %.9g", dt.dt, i, g, e)
						}
					}
				}
			})
		}
	}
}

// TestDepthwiseConv2DOneChannelIsConv2D checks that on one input channel
// a depthwise convolution with multiplier M is a Conv2D with M filters:
// the same kernel tensor, (kh, kw, 1, M), in both layouts. Values and all
// three gradients must agree to rounding (the two sum in different
// orders).
func TestDepthwiseConv2DOneChannelIsConv2D(t *testing.T) {
	for _, c := range depthwiseCases {
		c.x[3], c.k[2] = 1, 1
		t.Run(c.String(), func(t *testing.T) {
			x, w, b := dwRandn(c.x[:]...), dwRandn(c.k[:]...), dwRandn(c.k[3])
			run := func(f func(tp *autodiff.Tape, x, w, b *autodiff.Var) *autodiff.Var) []*tensor.Tensor {
				tp := autodiff.NewTape()
				xv, wv, bv := tp.Variable(x), tp.Variable(w), tp.Variable(b)
				y := f(tp, xv, wv, bv)
				tp.Backward(project(tp, y))
				return []*tensor.Tensor{y.Value.Clone(), xv.Grad.Clone(), wv.Grad.Clone(), bv.Grad.Clone()}
			}
			got := run(func(tp *autodiff.Tape, x, w, b *autodiff.Var) *autodiff.Var {
				return nn.DepthwiseConv2D(tp, x, w, b, c.opts(), nn.ActTanh)
			})
			want := run(func(tp *autodiff.Tape, x, w, b *autodiff.Var) *autodiff.Var {
				return nn.Conv2D(tp, x, w, b, c.opts(), nn.ActTanh)
			})
			for k, name := range []string{"y", "dx", "dw", "db"} {
				if !got[k].Shape().Equal(want[k].Shape()) {
					t.Fatalf("%s: shape %s, want %s", name, got[k].Shape(), want[k].Shape())
				}
				for i := range want[k].Len() {
					if g, e := got[k].Index(i), want[k].Index(i); !(abs(g-e) <= 1e-12*max(1, abs(e))) {
						t.Fatalf("%s element %d: depthwise %.17g, Conv2D %.17g", name, i, g, e)
					}
				}
			}
		})
	}
}

// TestDepthwiseConv2DFloat32Gradients checks the float32 backward against
// the float64 one, which the central differences above vouch for.
func TestDepthwiseConv2DFloat32Gradients(t *testing.T) {
	c := depthwiseCases[2]
	x, w, b := dwRandn(c.x[:]...), dwRandn(c.k[:]...), dwRandn(c.k[2]*c.k[3])
	oh, _ := nn.OutSize(c.x[1], c.k[0], 1, 1, c.pad)
	ow, _ := nn.OutSize(c.x[2], c.k[1], 1, 1, c.pad)
	r := dwRandn(c.x[0], oh, ow, c.k[2]*c.k[3])
	run := func(dt tensor.DType) []*tensor.Tensor {
		tp := autodiff.NewTape()
		xv, wv, bv := tp.Variable(x.As(dt)), tp.Variable(w.As(dt)), tp.Variable(b.As(dt))
		y := nn.DepthwiseConv2D(tp, xv, wv, bv, c.opts(), nn.ActTanh)
		tp.Backward(nn.Sum(tp, nn.Mul(tp, y, tp.Const(r.As(dt))), nn.AllAxes))
		return []*tensor.Tensor{xv.Grad.Clone(), wv.Grad.Clone(), bv.Grad.Clone()}
	}
	want, got := run(tensor.Float64), run(tensor.Float32)
	for k, name := range []string{"dx", "dw", "db"} {
		for i := range want[k].Len() {
			if g, e := got[k].Index(i), want[k].Index(i); !(abs(g-e) <= 1e-4*max(1, abs(e))) {
				t.Fatalf("%s element %d: float32 %.9g, float64 %.9g", name, i, g, e)
			}
		}
	}
}

// TestDepthwiseConv2DPartialGrads checks that gradients are only written
// where wanted, and that a gradient already holding a value from another
// use is added to, not overwritten.
func TestDepthwiseConv2DPartialGrads(t *testing.T) {
	c := depthwiseCases[4]
	x, w := dwRandn(c.x[:]...), dwRandn(c.k[:]...)
	// Only the kernel needs a gradient: x is a constant, and there is no bias.
	tp := autodiff.NewTape()
	xv, wv := tp.Const(x), tp.Variable(w)
	tp.Backward(project(tp, nn.DepthwiseConv2D(tp, xv, wv, nil, c.opts(), nn.Linear)))
	if tp.HasGrad(xv) || !tp.HasGrad(wv) {
		t.Fatalf("HasGrad: x %v, w %v; want false, true", tp.HasGrad(xv), tp.HasGrad(wv))
	}
	// x used twice: once through the convolution, once directly. The
	// gradient of Σ depthwise(x)⊙r + Σ x is the first's plus one.
	f := func(twice bool) *tensor.Tensor {
		tp := autodiff.NewTape()
		xv := tp.Variable(x)
		y := project(tp, nn.DepthwiseConv2D(tp, xv, tp.Const(w), nil, c.opts(), nn.Linear))
		if twice {
			y = nn.Add(tp, y, nn.Sum(tp, xv, nn.AllAxes))
		}
		tp.Backward(y)
		return xv.Grad.Clone()
	}
	once, both := f(false), f(true)
	for i := range once.Len() {
		if g, e := both.Index(i), once.Index(i)+1; abs(g-e) > 1e-12*max(1, abs(e)) {
			t.Fatalf("dx element %d: %.17g, want %.17g", i, g, e)
		}
	}
}

// TestDepthwiseConv2DShapeErrors checks that bad shapes panic with a
// *tensor.ShapeError naming the op.
func TestDepthwiseConv2DShapeErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		x, w []int
		b    []int // nil: no bias
		o    nn.Conv2DOptions
	}{
		{"x rank 3", []int{5, 5, 2}, []int{3, 3, 2, 1}, nil, nn.Conv2DOptions{}},
		{"kernel rank 3", []int{1, 5, 5, 2}, []int{3, 3, 2}, nil, nn.Conv2DOptions{}},
		{"channels differ", []int{1, 5, 5, 2}, []int{3, 3, 3, 1}, nil, nn.Conv2DOptions{}},
		{"zero multiplier", []int{1, 5, 5, 2}, []int{3, 3, 2, 0}, nil, nn.Conv2DOptions{}},
		{"bias of filters", []int{1, 5, 5, 2}, []int{3, 3, 2, 2}, []int{2}, nn.Conv2DOptions{}},
		{"bias rank 2", []int{1, 5, 5, 2}, []int{3, 3, 2, 2}, []int{1, 4}, nn.Conv2DOptions{}},
		{"window too large", []int{1, 2, 5, 2}, []int{3, 3, 2, 1}, nil, nn.Conv2DOptions{}},
		{"dilated window too large", []int{1, 4, 5, 2}, []int{3, 3, 2, 1}, nil, nn.Conv2DOptions{Dilation: [2]int{2, 1}}},
		{"negative stride", []int{1, 5, 5, 2}, []int{3, 3, 2, 1}, nil, nn.Conv2DOptions{Strides: [2]int{-1, 1}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				var se *tensor.ShapeError
				err, _ := recover().(error)
				if !errors.As(err, &se) {
					t.Fatalf("got panic %v, want a *tensor.ShapeError", err)
				}
				if se.Op != "nn.DepthwiseConv2D" {
					t.Errorf("error names op %q, want nn.DepthwiseConv2D", se.Op)
				}
			}()
			tp := autodiff.NewTape()
			var b *autodiff.Var
			if c.b != nil {
				b = tp.Const(tensor.New(tensor.Float64, c.b...))
			}
			nn.DepthwiseConv2D(tp, tp.Const(tensor.New(tensor.Float64, c.x...)), tp.Const(tensor.New(tensor.Float64, c.w...)), b, c.o, nn.Linear)
		})
	}
	t.Run("dtypes differ", func(t *testing.T) {
		defer func() {
			if err, _ := recover().(error); !errors.As(err, new(*tensor.ShapeError)) {
				t.Fatalf("got panic %v, want a *tensor.ShapeError", err)
			}
		}()
		tp := autodiff.NewTape()
		nn.DepthwiseConv2D(tp, tp.Const(tensor.New(tensor.Float32, 1, 5, 5, 2)), tp.Const(tensor.New(tensor.Float64, 3, 3, 2, 1)), nil, nn.Conv2DOptions{}, nn.Linear)
	})
}

// dwRng feeds these tests from a stream of their own, so that they leave
// the inputs the other spatial tests draw from spatialRng as they were.
var dwRng = rand.New(rand.NewPCG(9, 10))

// dwRandn returns a float64 tensor of standard normal values.
func dwRandn(shape ...int) *tensor.Tensor {
	t := tensor.New(tensor.Float64, shape...)
	for i := range t.Float64s() {
		t.Float64s()[i] = dwRng.NormFloat64()
	}
	return t
}

// TestDepthwiseConv2DLazyGradsOnReusedTape runs DepthwiseConv2D on a tape
// whose gradient buffers hold the previous pass's values (Tape.GradLazy),
// and requires the bits a new tape gives. Strides 3 over a 2×2 window
// leave pixels no window reads, whose gradient must still be cleared.
func TestDepthwiseConv2DLazyGradsOnReusedTape(t *testing.T) {
	f32 := func(shape ...int) *tensor.Tensor { return dwRandn(shape...).As(tensor.Float32) }
	w1, b1 := autodiff.NewParam(f32(2, 2, 3, 2), "w1"), autodiff.NewParam(f32(6), "b1")
	w2 := autodiff.NewParam(f32(3, 3, 3, 1), "w2")
	r1, r2 := f32(2, 2, 3, 6), f32(2, 7, 8, 3)
	pass := func(tp *autodiff.Tape, x *tensor.Tensor) []float32 {
		xv := tp.Variable(x)
		// ReLU's output gradient is first written by the strided op; xv's
		// by the second op, recorded later and so run first backward.
		y1 := nn.DepthwiseConv2D(tp, nn.ReLU(tp, xv), w1, b1, nn.Conv2DOptions{Strides: [2]int{3, 3}}, nn.Linear)
		y2 := nn.DepthwiseConv2D(tp, xv, w2, nil, nn.Conv2DOptions{Padding: nn.Same}, nn.ActTanh)
		tp.Backward(nn.Add(tp, nn.Sum(tp, nn.Mul(tp, y1, tp.Const(r1)), nn.AllAxes), nn.Sum(tp, nn.Mul(tp, y2, tp.Const(r2)), nn.AllAxes)))
		var g []float32
		for _, v := range []*autodiff.Var{xv, w1, b1, w2} {
			g = append(g, v.Grad.Float32s()...)
		}
		return g
	}
	x := f32(2, 7, 8, 3)
	want := pass(autodiff.NewTape(), x)
	tp := autodiff.NewTape()
	pass(tp, f32(2, 7, 8, 3)) // leaves other gradients in the tape's buffers
	tp.Reset()
	got := pass(tp, x)
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("gradient element %d: %v on a reused tape, %v on a new one", i, got[i], want[i])
		}
	}
}
