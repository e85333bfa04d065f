package nn_test

import (
	"testing"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/internal/golden"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

var goldenDTypes = []struct {
	dt         tensor.DType
	rtol, atol float64
}{{tensor.Float64, 1e-12, 1e-13}, {tensor.Float32, 1e-4, 1e-5}}

func pair(t *testing.T, c golden.Case, key string) [2]int {
	t.Helper()
	v := c.MustTensor(t, key).Data
	if len(v) != 2 {
		t.Fatalf("%s: %d values, want 2", key, len(v))
	}
	return [2]int{int(v[0]), int(v[1])}
}

func padding(t *testing.T, c golden.Case) nn.Padding {
	t.Helper()
	s, err := c.String("padding")
	if err != nil {
		t.Fatal(err)
	}
	var p nn.Padding
	if err := p.UnmarshalText([]byte(s)); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkGolden compares each got tensor with the case's field of that name.
func checkGolden(t *testing.T, c golden.Case, rtol, atol float64, got map[string]*tensor.Tensor) {
	t.Helper()
	for field, g := range got {
		if g == nil {
			t.Fatalf("%s: no value", field)
		}
		want := c.MustTensor(t, field)
		if !g.Shape().Equal(tensor.Shape(want.Shape)) {
			t.Fatalf("%s: got shape %v, want %v", field, g.Shape(), want.Shape)
		}
		if i, ok := golden.Close(flat(g), want.Data, rtol, atol); !ok {
			t.Errorf("%s element %d: got %.17g, want %.17g", field, i, g.Index(i), want.Data[i])
		}
	}
}

// TestConv2DGolden compares nn.Conv2D, forward and backward, with PyTorch
// in testdata/golden/conv2d.json: NHWC inputs, Keras's kernel layout,
// TensorFlow's "same" padding (the odd pixel at the bottom and right),
// strides, dilations and 1×1 kernels.
func TestConv2DGolden(t *testing.T) {
	f, err := golden.Load("conv2d")
	if err != nil {
		t.Fatal(err)
	}
	cases := f.Kind("conv2d")
	if len(cases) < 10 {
		t.Fatalf("conv2d.json has %d conv2d cases, want at least 10", len(cases))
	}
	for _, c := range cases {
		act, err := nn.ParseActivation(must(t, c, "activation"))
		if err != nil {
			t.Fatal(err)
		}
		o := nn.Conv2DOptions{Strides: pair(t, c, "strides"), Dilation: pair(t, c, "dilation"), Padding: padding(t, c)}
		for _, d := range goldenDTypes {
			t.Run(c.Name()+"/"+d.dt.String(), func(t *testing.T) {
				tp := autodiff.NewTape()
				x := tp.Variable(fromGolden(c.MustTensor(t, "x"), d.dt))
				w := autodiff.NewParam(fromGolden(c.MustTensor(t, "w"), d.dt), "w")
				b := autodiff.NewParam(fromGolden(c.MustTensor(t, "b"), d.dt), "b")
				y := nn.Conv2D(tp, x, w, b, o, act)
				tp.Backward(nn.Sum(tp, nn.Mul(tp, y, tp.Const(fromGolden(c.MustTensor(t, "r"), d.dt))), nn.AllAxes))
				checkGolden(t, c, d.rtol, d.atol, map[string]*tensor.Tensor{"y": y.Value, "dx": x.Grad, "dw": w.Grad, "db": b.Grad})
			})
		}
	}
}

// TestPool2DGolden compares max, average and global average pooling with
// PyTorch in testdata/golden/conv2d.json, built to Keras's conventions:
// padding never wins a maximum and is not counted in an average.
func TestPool2DGolden(t *testing.T) {
	f, err := golden.Load("conv2d")
	if err != nil {
		t.Fatal(err)
	}
	cases := f.Kind("pool2d")
	if len(cases) < 9 {
		t.Fatalf("conv2d.json has %d pool2d cases, want at least 9", len(cases))
	}
	for _, c := range cases {
		pool, size, strides, pad := must(t, c, "pool"), pair(t, c, "pool_size"), pair(t, c, "strides"), padding(t, c)
		for _, d := range goldenDTypes {
			t.Run(c.Name()+"/"+d.dt.String(), func(t *testing.T) {
				tp := autodiff.NewTape()
				x := tp.Variable(fromGolden(c.MustTensor(t, "x"), d.dt))
				var y *autodiff.Var
				switch pool {
				case "max":
					y = nn.MaxPool2D(tp, x, size, strides, pad)
				case "avg":
					y = nn.AvgPool2D(tp, x, size, strides, pad)
				case "global_avg":
					y = nn.GlobalAvgPool2D(tp, x)
				default:
					t.Fatalf("unknown pool %q", pool)
				}
				tp.Backward(nn.Sum(tp, nn.Mul(tp, y, tp.Const(fromGolden(c.MustTensor(t, "r"), d.dt))), nn.AllAxes))
				checkGolden(t, c, d.rtol, d.atol, map[string]*tensor.Tensor{"y": y.Value, "dx": x.Grad})
			})
		}
	}
}

func must(t *testing.T, c golden.Case, key string) string {
	t.Helper()
	s, err := c.String(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
