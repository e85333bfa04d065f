package nn_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/internal/gradcheck"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

type convCase struct {
	x, k     [4]int // x (n, h, w, c); kernel (kh, kw, c, f)
	strides  [2]int
	dilation [2]int
	pad      nn.Padding
}

var convCases = []convCase{
	{[4]int{2, 5, 5, 2}, [4]int{3, 3, 2, 3}, [2]int{1, 1}, [2]int{1, 1}, nn.Valid},
	{[4]int{2, 5, 6, 2}, [4]int{3, 3, 2, 3}, [2]int{1, 1}, [2]int{1, 1}, nn.Same},
	{[4]int{2, 6, 6, 2}, [4]int{2, 2, 2, 2}, [2]int{1, 1}, [2]int{1, 1}, nn.Same}, // odd total padding: the odd pixel at the end
	{[4]int{2, 7, 6, 3}, [4]int{3, 2, 3, 2}, [2]int{2, 2}, [2]int{1, 1}, nn.Valid},
	{[4]int{2, 7, 8, 1}, [4]int{3, 3, 1, 2}, [2]int{2, 3}, [2]int{1, 1}, nn.Same},
	{[4]int{1, 7, 7, 2}, [4]int{3, 3, 2, 2}, [2]int{1, 1}, [2]int{2, 2}, nn.Valid},
	{[4]int{2, 7, 6, 2}, [4]int{3, 2, 2, 2}, [2]int{1, 1}, [2]int{2, 3}, nn.Same},
	{[4]int{2, 3, 5, 4}, [4]int{1, 1, 4, 3}, [2]int{1, 1}, [2]int{1, 1}, nn.Valid},
	{[4]int{2, 5, 5, 3}, [4]int{1, 1, 3, 2}, [2]int{2, 2}, [2]int{1, 1}, nn.Same},
}

func (c convCase) String() string {
	return fmt.Sprintf("x%v/k%v/s%v/d%v/%s", c.x, c.k, c.strides, c.dilation, c.pad)
}

func (c convCase) opts() nn.Conv2DOptions {
	return nn.Conv2DOptions{Strides: c.strides, Dilation: c.dilation, Padding: c.pad}
}

// TestConv2DGradient checks the three gradients of Conv2D (input, kernel,
// bias) against central differences for valid and same padding, odd
// sizes, strides, dilations and 1×1 kernels.
func TestConv2DGradient(t *testing.T) {
	for _, c := range convCases {
		for _, act := range []nn.Activation{nn.Linear, nn.ActTanh} {
			t.Run(c.String()+"/"+act.String(), func(t *testing.T) {
				x := spatialRandn(c.x[:]...)
				w := spatialRandn(c.k[:]...)
				b := spatialRandn(c.k[3])
				gradcheck.Central(t, func(tp *autodiff.Tape, v []*autodiff.Var) *autodiff.Var {
					return project(tp, nn.Conv2D(tp, v[0], v[1], v[2], c.opts(), act))
				}, 1e-6, x, w, b)
			})
		}
	}
}

// conv2DNaive is the definition, one output at a time, in float64.
func conv2DNaive(x, w *tensor.Tensor, c convCase) *tensor.Tensor {
	xs, ws := x.Shape(), w.Shape()
	sh, sw, dh, dw := c.strides[0], c.strides[1], c.dilation[0], c.dilation[1]
	oh, pt := nn.OutSize(xs[1], ws[0], sh, dh, c.pad)
	ow, pl := nn.OutSize(xs[2], ws[1], sw, dw, c.pad)
	y := tensor.New(tensor.Float64, xs[0], oh, ow, ws[3])
	for n := range xs[0] {
		for i := range oh {
			for j := range ow {
				for f := range ws[3] {
					var s float64
					for a := range ws[0] {
						for b := range ws[1] {
							ih, iw := i*sh-pt+a*dh, j*sw-pl+b*dw
							if ih < 0 || ih >= xs[1] || iw < 0 || iw >= xs[2] {
								continue
							}
							for ch := range xs[3] {
								s += x.At(n, ih, iw, ch) * w.At(a, b, ch, f)
							}
						}
					}
					y.Set(s, n, i, j, f)
				}
			}
		}
	}
	return y
}

// TestConv2DMatchesDefinition compares the im2col-and-GEMM forward with the
// sum that defines it, in float64 and float32.
func TestConv2DMatchesDefinition(t *testing.T) {
	for _, c := range convCases {
		t.Run(c.String(), func(t *testing.T) {
			x, w := spatialRandn(c.x[:]...), spatialRandn(c.k[:]...)
			want := conv2DNaive(x, w, c)
			for _, dt := range []struct {
				dt  tensor.DType
				tol float64
			}{{tensor.Float64, 1e-12}, {tensor.Float32, 1e-5}} {
				tp := autodiff.NewTape()
				y := nn.Conv2D(tp, tp.Const(x.As(dt.dt)), tp.Const(w.As(dt.dt)), nil, c.opts(), nn.Linear)
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

func abs(v float64) float64 { return max(v, -v) }

// TestOutSize pins TensorFlow's "same" and "valid" formulas, including the
// cases other libraries have got wrong: strides that do not divide the
// input, dilation, and windows larger than the input.
func TestOutSize(t *testing.T) {
	for _, c := range []struct {
		n, k, s, d  int
		p           nn.Padding
		out, before int
	}{
		{28, 3, 1, 1, nn.Valid, 26, 0},
		{13, 2, 2, 1, nn.Valid, 6, 0},
		{5, 3, 2, 2, nn.Valid, 1, 0},
		{4, 5, 1, 1, nn.Valid, 0, 0},
		{28, 3, 1, 1, nn.Same, 28, 1},
		{6, 2, 1, 1, nn.Same, 6, 0},  // total 1: the odd pixel after
		{7, 3, 2, 1, nn.Same, 4, 1},  // total 2
		{8, 3, 2, 1, nn.Same, 4, 0},  // total (4−1)·2+3−8 = 1
		{7, 3, 1, 2, nn.Same, 7, 2},  // dilated span 5: total 4
		{5, 1, 2, 1, nn.Same, 3, 0},  // total max(−0, 0)
		{2, 5, 1, 1, nn.Same, 2, 2},  // window larger than the input: total 4
		{10, 3, 3, 1, nn.Same, 4, 1}, // total (4−1)·3+3−10 = 2
	} {
		out, before := nn.OutSize(c.n, c.k, c.s, c.d, c.p)
		if out != c.out || before != c.before {
			t.Errorf("OutSize(n=%d, k=%d, s=%d, d=%d, %s) = %d, %d; want %d, %d", c.n, c.k, c.s, c.d, c.p, out, before, c.out, c.before)
		}
	}
}

// spatialRng feeds the tests of the spatial ops from its own stream, so
// that adding them leaves gradcheck's shared stream, and the inputs the
// older tests draw from it, as they were.
var spatialRng = rand.New(rand.NewPCG(5, 6))

// spatialRandn returns a float64 tensor of standard normal values.
func spatialRandn(shape ...int) *tensor.Tensor {
	t := tensor.New(tensor.Float64, shape...)
	for i := range t.Float64s() {
		t.Float64s()[i] = spatialRng.NormFloat64()
	}
	return t
}
