package losses_test

import (
	"math"
	"testing"

	"github.com/myelin-go/myelin/internal/golden"
	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/tensor"
)

// TestGoldenLosses2 compares MeanAbsoluteError, Huber and KLDivergence,
// value and gradient, with PyTorch's (losses2.json) in float64 to 1e-12
// and in float32 to float32's precision.
func TestGoldenLosses2(t *testing.T) {
	f, err := golden.Load("losses2")
	if err != nil {
		t.Fatal(err)
	}
	cases := f.Kind("loss")
	if len(cases) < 4 {
		t.Fatalf("got %d loss cases, want at least 4", len(cases))
	}
	for _, c := range cases {
		name, _ := c.String("loss")
		l, err := losses.ByName(name)
		if err != nil {
			t.Fatal(err)
		}
		if c.Has("delta") {
			l = losses.Huber{Delta: c.MustFloat(t, "delta")}
		}
		for _, dt := range []tensor.DType{tensor.Float64, tensor.Float32} {
			t.Run(c.Name()+"/"+dt.String(), func(t *testing.T) {
				rtol := map[tensor.DType]float64{tensor.Float64: 1e-12, tensor.Float32: 1e-5}[dt]
				pred := tensor.FromFloat64(c.MustTensor(t, "pred").Data, c.MustTensor(t, "pred").Shape...).As(dt)
				target := tensor.FromFloat64(c.MustTensor(t, "target").Data, c.MustTensor(t, "target").Shape...).As(dt)
				got, grad := lossAndGrad(l, pred, target)
				if want := c.MustFloat(t, "value"); math.Abs(got-want) > rtol*math.Abs(want) {
					t.Errorf("value: got %.17g, want %.17g", got, want)
				}
				want := c.MustTensor(t, "grad").Data
				if i, ok := golden.Close(grad, want, rtol, rtol*1e-3); !ok {
					t.Errorf("gradient element %d: got %.17g, want %.17g", i, grad[i], want[i])
				}
			})
		}
	}
}
