package autodiff_test

import (
	"errors"
	"testing"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/tensor"
)

// The ops below are written against the autodiff API alone, as a user's
// custom op would be: forward here, vector-Jacobian product in Backward.

type mulOp struct{}

func (mulOp) Name() string { return "test.mul" }

func (mulOp) Backward(tp *autodiff.Tape, r *autodiff.Record) {
	a, b, g := r.In[0].Value.Float64s(), r.In[1].Value.Float64s(), r.Out.Grad.Float64s()
	if ga := tp.GradOf(r.In[0]); ga != nil {
		for i := range g {
			ga.Float64s()[i] += g[i] * b[i]
		}
	}
	if gb := tp.GradOf(r.In[1]); gb != nil {
		for i := range g {
			gb.Float64s()[i] += g[i] * a[i]
		}
	}
}

func mul(tp *autodiff.Tape, a, b *autodiff.Var) *autodiff.Var {
	out := tp.Alloc(tensor.Float64, a.Shape()...)
	for i, x := range a.Value.Float64s() {
		out.Float64s()[i] = x * b.Value.Float64s()[i]
	}
	return tp.Output(out, autodiff.Record{Op: mulOp{}, In: [4]*autodiff.Var{a, b}})
}

type sumOp struct{}

func (sumOp) Name() string { return "test.sum" }

func (sumOp) Backward(tp *autodiff.Tape, r *autodiff.Record) {
	g := r.Out.Grad.Item()
	if gx := tp.GradOf(r.In[0]); gx != nil {
		for i := range gx.Float64s() {
			gx.Float64s()[i] += g
		}
	}
}

func sum(tp *autodiff.Tape, x *autodiff.Var) *autodiff.Var {
	out := tp.Alloc(tensor.Float64)
	s := 0.0
	for _, v := range x.Value.Float64s() {
		s += v
	}
	out.SetIndex(0, s)
	return tp.Output(out, autodiff.Record{Op: sumOp{}, In: [4]*autodiff.Var{x}})
}

func vec(v ...float64) *tensor.Tensor { return tensor.FromFloat64(v, len(v)) }

func wantGrad(t *testing.T, what string, got *tensor.Tensor, want ...float64) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: no gradient", what)
	}
	for i, w := range want {
		if g := got.Index(i); g != w {
			t.Errorf("%s[%d] = %g, want %g", what, i, g, w)
		}
	}
}

func TestGradientsAccumulateWhenReused(t *testing.T) {
	tp := autodiff.NewTape()
	x := tp.Variable(vec(1, 2, 3))
	// L = sum(x*x) + sum(x*x) reached through two records that both use x
	// twice: dL/dx = 4x.
	y := mul(tp, x, x)
	l := sum(tp, mul(tp, y, tp.Const(vec(2, 2, 2))))
	tp.Backward(l)
	wantGrad(t, "dL/dx", x.Grad, 4, 8, 12)
}

func TestConstantsGetNoGradient(t *testing.T) {
	tp := autodiff.NewTape()
	c := tp.Const(vec(1, 2))
	x := tp.Variable(vec(3, 4))
	tp.Backward(sum(tp, mul(tp, c, x)))
	wantGrad(t, "dL/dx", x.Grad, 1, 2)
	if c.Grad != nil || tp.HasGrad(c) {
		t.Error("a constant received a gradient")
	}
	// An op whose inputs are all constants is not recorded.
	before := tp.Len()
	mul(tp, c, c)
	if tp.Len() != before {
		t.Errorf("op on constants was recorded: %d records, want %d", tp.Len(), before)
	}
}

func TestParamGradientIsPerPass(t *testing.T) {
	w := autodiff.NewParam(vec(1, -1), "w")
	tp := autodiff.NewTape()
	for pass := range 3 {
		tp.Reset()
		x := tp.Const(vec(float64(pass), 5))
		tp.Backward(sum(tp, mul(tp, w, x)))
		// Each pass starts from zero: the gradient is this pass's x, not a sum over passes.
		wantGrad(t, "dL/dw", w.Grad, float64(pass), 5)
		if !tp.HasGrad(w) {
			t.Fatal("HasGrad(w) false after Backward")
		}
	}
	tp.Reset()
	tp.Backward(sum(tp, tp.Variable(vec(1))))
	if tp.HasGrad(w) {
		t.Error("HasGrad(w) true for a pass that did not use w")
	}
	w.SetTrainable(false)
	tp.Reset()
	tp.Backward(sum(tp, mul(tp, w, tp.Variable(vec(1, 1)))))
	if tp.HasGrad(w) {
		t.Error("a frozen parameter received a gradient")
	}
}

func TestBackwardFromSeed(t *testing.T) {
	tp := autodiff.NewTape()
	x := tp.Variable(vec(1, 2, 3))
	y := mul(tp, x, tp.Const(vec(10, 20, 30)))
	tp.BackwardFrom(y, vec(1, 0, -1)) // vector-Jacobian product
	wantGrad(t, "vjp", x.Grad, 10, 0, -30)
}

func TestBackwardRejectsNonScalar(t *testing.T) {
	tp := autodiff.NewTape()
	y := mul(tp, tp.Variable(vec(1, 2)), tp.Variable(vec(1, 2)))
	defer func() {
		var se *tensor.ShapeError
		if err, _ := recover().(error); !errors.As(err, &se) || se.Op != "autodiff.Backward" {
			t.Errorf("Backward of a (2,) value: recovered %v, want a ShapeError from autodiff.Backward", err)
		}
	}()
	tp.Backward(y)
}

func TestNoGradRecordsNothing(t *testing.T) {
	tp := autodiff.NewTape()
	tp.NoGrad = true
	w := autodiff.NewParam(vec(1, 2), "w")
	y := sum(tp, mul(tp, w, tp.Variable(vec(3, 4))))
	if tp.Len() != 0 || y.NeedsGrad() {
		t.Errorf("NoGrad tape recorded %d ops (out needs grad: %v)", tp.Len(), y.NeedsGrad())
	}
	if y.Value.Item() != 11 {
		t.Errorf("forward value %g, want 11", y.Value.Item())
	}
}

func TestResetReusesBuffers(t *testing.T) {
	w := autodiff.NewParam(vec(1, 2, 3), "w")
	tp := autodiff.NewTape()
	x := vec(4, 5, 6)
	step := func() *tensor.Tensor {
		tp.Reset()
		y := mul(tp, w, tp.Const(x))
		tp.Backward(sum(tp, mul(tp, y, y)))
		return y.Value
	}
	first := step()
	if second := step(); second != first {
		t.Error("the second pass did not reuse the first pass's buffer")
	}
	if n := testing.AllocsPerRun(50, func() { step() }); n != 0 {
		t.Errorf("a warm pass allocates %v times, want 0", n)
	}
	wantGrad(t, "dL/dw", w.Grad, 2*1*16, 2*2*25, 2*3*36) // d/dw sum((w x)²) = 2 w x²
	// Different shapes in the next pass get fresh buffers of the right shape.
	tp.Reset()
	if got := tp.Alloc(tensor.Float64, 5); !got.Shape().Equal(tensor.Shape{5}) {
		t.Errorf("Alloc after Reset gave shape %s", got.Shape())
	}
	if z := tp.AllocZero(tensor.Float32, 2, 2); z.DType() != tensor.Float32 || z.Index(3) != 0 {
		t.Errorf("AllocZero gave %v", z)
	}
}

// TestUint8Refused: a uint8 tensor (input data) cannot enter a tape or
// become a parameter, since ops would read its empty float slices.
func TestUint8Refused(t *testing.T) {
	x := tensor.FromUint8([]uint8{1, 2}, 255, 2)
	tp := autodiff.NewTape()
	for op, f := range map[string]func(){
		"autodiff.Const":    func() { tp.Const(x) },
		"autodiff.Variable": func() { tp.Variable(x) },
		"autodiff.NewParam": func() { autodiff.NewParam(x, "w") },
	} {
		func() {
			defer func() {
				var se *tensor.ShapeError
				if err, _ := recover().(error); !errors.As(err, &se) || se.Op != op {
					t.Errorf("%s of a uint8 tensor: recovered %v, want a ShapeError from %s", op, err, op)
				}
			}()
			f()
		}()
	}
}
