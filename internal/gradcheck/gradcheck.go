// Package gradcheck compares the gradients autodiff computes with central
// finite differences, in float64.
package gradcheck

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/tensor"
)

// Func builds a scalar from the variables vs on tape tp.
type Func func(tp *autodiff.Tape, vs []*autodiff.Var) *autodiff.Var

var rng = rand.New(rand.NewPCG(1, 2))

// Randn returns a float64 tensor of standard normal values from a fixed-seed
// generator, so tests are reproducible.
func Randn(shape ...int) *tensor.Tensor {
	t := tensor.New(tensor.Float64, shape...)
	for i := range t.Float64s() {
		t.Float64s()[i] = rng.NormFloat64()
	}
	return t
}

// Uniform returns a float64 tensor of values uniform in [lo, hi).
func Uniform(lo, hi float64, shape ...int) *tensor.Tensor {
	t := tensor.New(tensor.Float64, shape...)
	for i := range t.Float64s() {
		t.Float64s()[i] = lo + (hi-lo)*rng.Float64()
	}
	return t
}

// Analytic returns the gradients of f at inputs computed by Backward.
func Analytic(f Func, inputs ...*tensor.Tensor) []*tensor.Tensor {
	tp := autodiff.NewTape()
	vs := make([]*autodiff.Var, len(inputs))
	for i, x := range inputs {
		vs[i] = tp.Variable(x)
	}
	loss := f(tp, vs)
	tp.Backward(loss)
	grads := make([]*tensor.Tensor, len(inputs))
	for i, v := range vs {
		if tp.HasGrad(v) {
			grads[i] = v.Grad.Clone()
		} else {
			grads[i] = tensor.New(tensor.Float64, x(inputs[i])...)
		}
	}
	return grads
}

func x(t *tensor.Tensor) tensor.Shape { return t.Shape() }

// Numeric returns the central differences (f(x+h) − f(x−h)) / 2h for every
// element of every input.
func Numeric(f Func, h float64, inputs ...*tensor.Tensor) []*tensor.Tensor {
	eval := func() float64 {
		tp := autodiff.NewTape()
		tp.NoGrad = true
		vs := make([]*autodiff.Var, len(inputs))
		for i, x := range inputs {
			vs[i] = tp.Const(x)
		}
		return f(tp, vs).Value.Item()
	}
	grads := make([]*tensor.Tensor, len(inputs))
	for i, in := range inputs {
		g := tensor.New(tensor.Float64, in.Shape()...)
		d := in.Float64s()
		for j := range d {
			old := d[j]
			d[j] = old + h
			fp := eval()
			d[j] = old - h
			fm := eval()
			d[j] = old
			g.Float64s()[j] = (fp - fm) / (2 * h)
		}
		grads[i] = g
	}
	return grads
}

// Central fails t unless every analytic gradient of f matches central
// differences within tol, as |a − n| ≤ tol·max(1, |a|, |n|). The inputs must
// be float64. It also fails if every gradient is zero, since such a check
// cannot fail (project the output on random weights to avoid that).
func Central(t testing.TB, f Func, tol float64, inputs ...*tensor.Tensor) {
	t.Helper()
	for i, in := range inputs {
		if in.DType() != tensor.Float64 {
			t.Fatalf("gradcheck: input %d is %s, want float64", i, in.DType())
		}
	}
	an := Analytic(f, inputs...)
	nu := Numeric(f, 1e-6, inputs...)
	nonzero := false
	for i := range inputs {
		a, n := an[i].Float64s(), nu[i].Float64s()
		for j := range a {
			if a[j] != 0 {
				nonzero = true
			}
			scale := math.Max(1, math.Max(math.Abs(a[j]), math.Abs(n[j])))
			if d := math.Abs(a[j] - n[j]); !(d <= tol*scale) {
				t.Errorf("input %d %s element %d: analytic gradient %.10g, numeric %.10g (diff %.3g)", i, inputs[i].Shape(), j, a[j], n[j], d)
				return
			}
		}
	}
	if !nonzero {
		t.Errorf("every analytic gradient is zero: the check is vacuous")
	}
}
