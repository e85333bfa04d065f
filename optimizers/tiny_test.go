package optimizers_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/tensor"
)

// TestRMSpropCenteredTinyGradient is issue 11's repro: one parameter whose
// gradient has been tiny since the first step, centered RMSprop with
// PyTorch's ε. Before the fix v was flushed to zero while a² was not, and
// √(v − a²) of a negative number made the weight NaN with Step returning
// nil. It sweeps the gradient over the range the issue names (1e-37 to
// 3e-19) and beyond, in both dtypes and all four forms, for 200 steps.
func TestRMSpropCenteredTinyGradient(t *testing.T) {
	grads := []float64{1e-20, -1e-20, 1e-37, -3e-19, 1e-30, 1e-25, 1e-19, 1e-40, 1e-300, 0}
	for _, dt := range []tensor.DType{tensor.Float64, tensor.Float32} {
		for _, torchEps := range []bool{true, false} {
			for _, mom := range []float64{0, 0.9} {
				name := fmt.Sprintf("%s/pytorch-eps=%v/momentum=%g", dt, torchEps, mom)
				t.Run(name, func(t *testing.T) {
					o := optimizers.NewRMSprop()
					o.Centered, o.PyTorchEpsilon, o.Momentum = true, torchEps, mom
					p := autodiff.NewParam(tensor.New(dt, len(grads)), "w")
					p.Grad = tensor.New(dt, len(grads))
					for i, g := range grads {
						p.Grad.SetIndex(i, g)
					}
					for step := 1; step <= 200; step++ {
						if err := o.Step([]*autodiff.Var{p}); err != nil {
							t.Fatalf("step %d: %v", step, err)
						}
						for i, g := range grads {
							if w := p.Value.Index(i); math.IsNaN(w) || math.IsInf(w, 0) {
								t.Fatalf("step %d, gradient %g: got weight %g, want a finite one", step, g, w)
							}
						}
					}
					// A constant gradient moves the weight against its sign,
					// never with it.
					for i, g := range grads {
						if w := p.Value.Index(i); w*g > 0 {
							t.Errorf("gradient %g: weight %g moved with the gradient", g, w)
						}
					}
				})
			}
		}
	}
}

// TestFlushAtEachTypesSmallestNormal checks where moments are flushed:
// below 2⁻¹²⁶ in float32 and below 2⁻¹⁰²² in float64, so that float64
// keeps moments that float32 cannot hold as normal numbers (the old
// threshold, 2⁻¹²⁶ in both, made float64 centered RMSprop NaN).
func TestFlushAtEachTypesSmallestNormal(t *testing.T) {
	for _, c := range []struct {
		dt   tensor.DType
		g    float64 // Adam's first moment after one step is (1−β1)·g = g/10
		kept bool
	}{
		{tensor.Float32, 1e-36, true},   // m = 1e-37 ≥ 2⁻¹²⁶ ≈ 1.18e-38
		{tensor.Float32, 1e-37, false},  // m = 1e-38 < 2⁻¹²⁶
		{tensor.Float64, 1e-37, true},   // m = 1e-38: normal in float64
		{tensor.Float64, 1e-300, true},  // m = 1e-301 ≥ 2⁻¹⁰²² ≈ 2.2e-308
		{tensor.Float64, 1e-307, false}, // m = 1e-308 < 2⁻¹⁰²²
	} {
		t.Run(fmt.Sprintf("%s/g=%g", c.dt, c.g), func(t *testing.T) {
			for _, o := range []optimizers.Optimizer{optimizers.NewAdam(), clipValued()} {
				p := autodiff.NewParam(tensor.New(c.dt, 1), "w")
				p.Grad = tensor.New(c.dt, 1)
				p.Grad.SetIndex(0, c.g)
				if err := o.Step([]*autodiff.Var{p}); err != nil {
					t.Fatal(err)
				}
				m := o.State(p)[0].Index(0)
				if got := m != 0; got != c.kept {
					t.Errorf("%v: first moment %g after a gradient of %g: kept %v, want %v", o.Config(), m, c.g, got, c.kept)
				}
			}
		})
	}
}

// clipValued returns Adam with a clip value that never clips, which takes
// the generic float32 loop instead of the vectorized kernel.
func clipValued() *optimizers.Adam {
	o := optimizers.NewAdam()
	o.ClipValue = 1
	return o
}
