package nn_test

import (
	"testing"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/internal/golden"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

func fromGolden(g golden.Tensor, dt tensor.DType) *tensor.Tensor {
	return tensor.FromFloat64(append([]float64(nil), g.Data...), g.Shape...).As(dt)
}

func flat(t *tensor.Tensor) []float64 {
	out := make([]float64, t.Len())
	for i := range out {
		out[i] = t.Index(i)
	}
	return out
}

// TestDenseGolden compares nn.Dense, forward and backward, with PyTorch's
// values in testdata/golden/dense.json: y = activation(x @ w + b) with w in
// Keras's (in, out) layout, and the gradients of Σ y⊙r with respect to x,
// w and b, for every activation, in float64 and float32.
func TestDenseGolden(t *testing.T) {
	f, err := golden.Load("dense")
	if err != nil {
		t.Fatal(err)
	}
	cases := f.Kind("dense")
	if len(cases) != 5 {
		t.Fatalf("dense.json has %d dense cases, want 5 (one per activation)", len(cases))
	}
	for _, c := range cases {
		name, err := c.String("activation")
		if err != nil {
			t.Fatal(err)
		}
		act, err := nn.ParseActivation(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, dt := range []struct {
			dt         tensor.DType
			rtol, atol float64
		}{{tensor.Float64, 1e-12, 1e-14}, {tensor.Float32, 1e-5, 1e-6}} {
			t.Run(c.Name()+"/"+dt.dt.String(), func(t *testing.T) {
				tp := autodiff.NewTape()
				x := tp.Variable(fromGolden(c.MustTensor(t, "x"), dt.dt))
				w := autodiff.NewParam(fromGolden(c.MustTensor(t, "w"), dt.dt), "w")
				b := autodiff.NewParam(fromGolden(c.MustTensor(t, "b"), dt.dt), "b")
				y := nn.Dense(tp, x, w, b, act)
				r := tp.Const(fromGolden(c.MustTensor(t, "r"), dt.dt))
				tp.Backward(nn.Sum(tp, nn.Mul(tp, y, r), nn.AllAxes))
				for _, v := range []struct {
					field string
					got   *tensor.Tensor
				}{{"y", y.Value}, {"dx", x.Grad}, {"dw", w.Grad}, {"db", b.Grad}} {
					if v.got == nil {
						t.Fatalf("%s: no value", v.field)
					}
					want := c.MustTensor(t, v.field)
					if !v.got.Shape().Equal(tensor.Shape(want.Shape)) {
						t.Fatalf("%s: got shape %v, want %v", v.field, v.got.Shape(), want.Shape)
					}
					got := flat(v.got)
					if i, ok := golden.Close(got, want.Data, dt.rtol, dt.atol); !ok {
						t.Errorf("%s element %d: got %.17g, want %.17g", v.field, i, got[i], want.Data[i])
					}
				}
			})
		}
	}
}
