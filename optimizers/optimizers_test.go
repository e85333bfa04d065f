package optimizers_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/internal/golden"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/tensor"
)

// fromGolden returns a tensor of dtype dt holding g's values.
func fromGolden(g golden.Tensor, dt tensor.DType) *tensor.Tensor {
	return tensor.FromFloat64(append([]float64(nil), g.Data...), g.Shape...).As(dt)
}

func values(t *tensor.Tensor) []float64 {
	out := make([]float64, t.Len())
	for i := range out {
		out[i] = t.Index(i)
	}
	return out
}

// fromCase builds the optimizer a golden case describes.
func fromCase(t *testing.T, c golden.Case) optimizers.Optimizer {
	t.Helper()
	kind, _ := c.String("optimizer")
	form, _ := c.String("form")
	torch := form != "keras"
	lr := c.MustFloat(t, "lr")
	switch kind {
	case "adam":
		o := optimizers.NewAdam()
		o.LR, o.Beta1, o.Beta2, o.Epsilon = lr, c.MustFloat(t, "beta1"), c.MustFloat(t, "beta2"), c.MustFloat(t, "eps")
		o.PyTorchEpsilon = torch
		return o
	case "sgd":
		o := &optimizers.SGD{LR: lr}
		o.Momentum, o.Nesterov = c.MustFloat(t, "momentum"), c.MustInt(t, "nesterov") == 1
		return o // Keras's form; equal to torch's for a constant learning rate
	case "rmsprop":
		o := optimizers.NewRMSprop()
		o.LR, o.Rho, o.Epsilon = lr, c.MustFloat(t, "rho"), c.MustFloat(t, "eps")
		o.PyTorchEpsilon = torch
		if c.Has("centered") {
			o.Centered, o.Momentum = c.MustInt(t, "centered") == 1, c.MustFloat(t, "momentum")
		}
		return o
	}
	t.Fatalf("unknown optimizer %q", kind)
	return nil
}

// runSeries applies the case's gradients one step at a time and compares
// the parameter after each step with the golden series.
func runSeries(t *testing.T, c golden.Case, o optimizers.Optimizer, dt tensor.DType, rtol, atol float64) {
	t.Helper()
	p := autodiff.NewParam(fromGolden(c.MustTensor(t, "w0"), dt), "w")
	grads, want := c.MustTensors(t, "grads"), c.MustTensors(t, "params")
	for k, g := range grads {
		p.Grad = fromGolden(g, dt)
		if err := o.Step([]*autodiff.Var{p}); err != nil {
			t.Fatalf("step %d: %v", k+1, err)
		}
		got := values(p.Value)
		if i, ok := golden.Close(got, want[k].Data, rtol, atol); !ok {
			t.Fatalf("step %d, element %d: got %.17g, want %.17g", k+1, i, got[i], want[k].Data[i])
		}
	}
	if got := o.Iterations(); got != len(grads) {
		t.Errorf("Iterations() = %d, want %d", got, len(grads))
	}
}

func TestGoldenSeries(t *testing.T) {
	f, err := golden.Load("optimizers")
	if err != nil {
		t.Fatal(err)
	}
	cases := f.Kind("optimizer")
	if len(cases) == 0 {
		t.Fatal("no optimizer cases in optimizers.json")
	}
	for _, c := range cases {
		t.Run(c.Name()+"/float64", func(t *testing.T) {
			runSeries(t, c, fromCase(t, c), tensor.Float64, 1e-12, 1e-15)
		})
		if c.Has("float64_only") {
			continue // the case's note says why float32 cannot reproduce it
		}
		t.Run(c.Name()+"/float32", func(t *testing.T) {
			runSeries(t, c, fromCase(t, c), tensor.Float32, 1e-6, 1e-7)
		})
	}
}

// TestFormsDiffer checks that the golden series tell the Keras and PyTorch
// forms of Adam and RMSprop apart, so that TestGoldenSeries can fail.
func TestFormsDiffer(t *testing.T) {
	f, err := golden.Load("optimizers")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"adam_torch_lr0.001_eps1e-07", "adam_keras_lr0.001_eps1e-07", "rmsprop_torch_lr0.01", "rmsprop_keras_lr0.01"} {
		c, err := f.Case(name)
		if err != nil {
			t.Fatal(err)
		}
		o := fromCase(t, c)
		switch o := o.(type) {
		case *optimizers.Adam:
			o.PyTorchEpsilon = !o.PyTorchEpsilon
		case *optimizers.RMSprop:
			o.PyTorchEpsilon = !o.PyTorchEpsilon
		}
		p := autodiff.NewParam(fromGolden(c.MustTensor(t, "w0"), tensor.Float64), "w")
		grads, want := c.MustTensors(t, "grads"), c.MustTensors(t, "params")
		for _, g := range grads {
			p.Grad = fromGolden(g, tensor.Float64)
			if err := o.Step([]*autodiff.Var{p}); err != nil {
				t.Fatal(err)
			}
		}
		if _, ok := golden.Close(values(p.Value), want[len(want)-1].Data, 1e-9, 0); ok {
			t.Errorf("%s: the other ε placement also matches the golden series", name)
		}
	}
}

// clipped returns the gradients an optimizer applied with clipping cl:
// SGD with learning rate 1 from zero parameters steps to −g.
func clipped(t *testing.T, cl optimizers.Clip, grads []golden.Tensor) [][]float64 {
	t.Helper()
	o := &optimizers.SGD{LR: 1}
	o.Clip = cl
	ps := make([]*autodiff.Var, len(grads))
	for i, g := range grads {
		ps[i] = autodiff.NewParam(tensor.New(tensor.Float64, g.Shape...), fmt.Sprint("p", i))
		ps[i].Grad = fromGolden(g, tensor.Float64)
	}
	if err := o.Step(ps); err != nil {
		t.Fatal(err)
	}
	out := make([][]float64, len(ps))
	for i, p := range ps {
		out[i] = values(p.Value)
		for j := range out[i] {
			out[i][j] = -out[i][j]
		}
		// Step must not modify the caller's gradients.
		if k, ok := golden.Close(values(p.Grad), grads[i].Data, 0, 0); !ok {
			t.Errorf("Step changed gradient %d element %d", i, k)
		}
	}
	return out
}

func TestGoldenClip(t *testing.T) {
	f, err := golden.Load("optimizers")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range f.Kind("clip") {
		grads := c.MustTensors(t, "grads")
		maxNorm, cv := c.MustFloat(t, "max_norm"), c.MustFloat(t, "clip_value")
		active := c.Name() == "clip_active"
		for _, tc := range []struct {
			name  string
			clip  optimizers.Clip
			field string
			rtol  float64
		}{
			{"clipnorm/keras", optimizers.Clip{ClipNorm: maxNorm}, "clipnorm_keras", 1e-14},
			{"global/keras", optimizers.Clip{GlobalClipNorm: maxNorm}, "clip_global_norm_keras", 1e-14},
			{"value", optimizers.Clip{ClipValue: cv}, "clipvalue", 0},
			// torch divides by norm+1e-6: a relative difference of
			// about 1e-6/norm while it clips, none otherwise.
			{"clipnorm/torch", optimizers.Clip{ClipNorm: maxNorm}, "clipnorm_torch", map[bool]float64{true: 1e-6, false: 1e-14}[active]},
			{"global/torch", optimizers.Clip{GlobalClipNorm: maxNorm}, "clip_global_norm_torch", map[bool]float64{true: 1e-6, false: 1e-14}[active]},
		} {
			t.Run(c.Name()+"/"+tc.name, func(t *testing.T) {
				got := clipped(t, tc.clip, grads)
				want := c.MustTensors(t, tc.field)
				for i := range got {
					if k, ok := golden.Close(got[i], want[i].Data, tc.rtol, 1e-15); !ok {
						t.Errorf("tensor %d element %d: got %.17g, want %.17g", i, k, got[i][k], want[i].Data[k])
					}
				}
			})
		}
	}
}

// twoParams returns a (3, 4) and a (5,) parameter of dtype dt with
// gradients set.
func twoParams(dt tensor.DType) []*autodiff.Var {
	a := autodiff.NewParam(tensor.New(dt, 3, 4), "a")
	b := autodiff.NewParam(tensor.New(dt, 5), "b")
	for _, p := range []*autodiff.Var{a, b} {
		p.Grad = tensor.New(dt, p.Shape()...)
		for i := range p.Value.Len() {
			p.Value.SetIndex(i, math.Sin(float64(i)))
			p.Grad.SetIndex(i, math.Cos(float64(3*i))*0.5)
		}
	}
	return []*autodiff.Var{a, b}
}

// allConfigs returns optimizers covering every code path of the update
// loops.
func allConfigs() map[string]func() optimizers.Optimizer {
	return map[string]func() optimizers.Optimizer{
		"sgd":          func() optimizers.Optimizer { return &optimizers.SGD{LR: 0.1} },
		"sgd/momentum": func() optimizers.Optimizer { o := &optimizers.SGD{LR: 0.1}; o.Momentum = 0.9; return o },
		"sgd/nesterov": func() optimizers.Optimizer {
			o := &optimizers.SGD{LR: 0.1}
			o.Momentum, o.Nesterov = 0.9, true
			return o
		},
		"adam":       func() optimizers.Optimizer { return optimizers.NewAdam() },
		"adam/torch": func() optimizers.Optimizer { o := optimizers.NewAdam(); o.PyTorchEpsilon = true; return o },
		"adam/global": func() optimizers.Optimizer {
			o := optimizers.NewAdam()
			o.GlobalClipNorm, o.RejectNonFinite = 0.5, true
			return o
		},
		"rmsprop": func() optimizers.Optimizer { return optimizers.NewRMSprop() },
		"rmsprop/all": func() optimizers.Optimizer {
			o := optimizers.NewRMSprop()
			o.Momentum, o.Centered, o.ClipNorm = 0.5, true, 0.3
			return o
		},
		"rmsprop/torch": func() optimizers.Optimizer {
			o := optimizers.NewRMSprop()
			o.Momentum, o.Centered, o.PyTorchEpsilon, o.ClipValue = 0.5, true, true, 0.1
			return o
		},
		"rmsprop/decay": func() optimizers.Optimizer { o := optimizers.NewRMSprop(); o.WeightDecay = 0.1; return o },
		"sgd/momentum/decay": func() optimizers.Optimizer {
			o := optimizers.NewSGD()
			o.Momentum, o.WeightDecay = 0.9, 0.1
			return o
		},
		"adam/amsgrad": func() optimizers.Optimizer { o := optimizers.NewAdam(); o.AMSGrad = true; return o },
		"adamw":        func() optimizers.Optimizer { return optimizers.NewAdamW() },
		"adamw/amsgrad/torch": func() optimizers.Optimizer {
			o := optimizers.NewAdamW()
			o.AMSGrad, o.PyTorchEpsilon, o.ClipNorm = true, true, 0.3
			return o
		},
		"nadam": func() optimizers.Optimizer { return optimizers.NewNadam() },
		"nadam/decay/clipvalue": func() optimizers.Optimizer {
			o := optimizers.NewNadam()
			o.WeightDecay, o.ClipValue = 0.05, 0.1
			return o
		},
		"adagrad": func() optimizers.Optimizer { return optimizers.NewAdagrad() },
		"adagrad/torch/global": func() optimizers.Optimizer {
			o := optimizers.NewAdagrad()
			o.PyTorchEpsilon, o.GlobalClipNorm, o.WeightDecay = true, 0.5, 0.01
			return o
		},
	}
}

func TestStepAllocatesNothing(t *testing.T) {
	for name, mk := range allConfigs() {
		for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
			t.Run(name+"/"+dt.String(), func(t *testing.T) {
				o, ps := mk(), twoParams(dt)
				if err := o.Step(ps); err != nil {
					t.Fatal(err)
				}
				var err error
				if got := testing.AllocsPerRun(20, func() { err = o.Step(ps) }); got != 0 {
					t.Errorf("got %v allocations per Step, want 0", got)
				}
				if err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// TestCheckpointRestore saves State and Iterations after some steps,
// restores them into a fresh optimizer, and checks that both continue
// identically.
func TestCheckpointRestore(t *testing.T) {
	for name, mk := range allConfigs() {
		t.Run(name, func(t *testing.T) {
			a, pa := mk(), twoParams(tensor.Float64)
			for range 3 {
				if err := a.Step(pa); err != nil {
					t.Fatal(err)
				}
			}
			if got, want := len(a.State(pa[0])), len(a.SlotNames()); got != want {
				t.Fatalf("State has %d tensors, SlotNames %d", got, want)
			}
			continuesAlike(t, a, pa, mk(), 2)
		})
	}
}

// continuesAlike copies a's parameters pa, its State and its Iterations
// into b, as loading a checkpoint does, then steps both the given number
// of times and fails unless every parameter stays bit for bit the same.
func continuesAlike(t *testing.T, a optimizers.Optimizer, pa []*autodiff.Var, b optimizers.Optimizer, steps int) {
	t.Helper()
	pb := twoParams(tensor.Float64)
	for i, p := range pb {
		p.Value.CopyFrom(pa[i].Value)
		for k, s := range b.State(p) {
			s.CopyFrom(a.State(pa[i])[k])
		}
	}
	b.SetIterations(a.Iterations())
	for step := range steps {
		if err := a.Step(pa); err != nil {
			t.Fatal(err)
		}
		if err := b.Step(pb); err != nil {
			t.Fatal(err)
		}
		for i := range pa {
			if k, ok := golden.Close(values(pb[i].Value), values(pa[i].Value), 0, 0); !ok {
				t.Fatalf("step %d after restore, param %d element %d: got %v, want %v",
					step+1, i, k, pb[i].Value.Index(k), pa[i].Value.Index(k))
			}
		}
	}
}

func TestRejectNonFinite(t *testing.T) {
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		for name, mk := range allConfigs() {
			t.Run(fmt.Sprint(name, "/", bad), func(t *testing.T) {
				o, ps := mk(), twoParams(tensor.Float32)
				optimizers.ClipOf(o).RejectNonFinite = true
				if err := o.Step(ps); err != nil {
					t.Fatal(err)
				}
				before := [][]float64{values(ps[0].Value), values(ps[1].Value)}
				ps[1].Grad.SetIndex(2, bad)
				err := o.Step(ps)
				if !errors.Is(err, optimizers.ErrNonFinite) {
					t.Fatalf("got error %v, want one wrapping ErrNonFinite", err)
				}
				if !strings.Contains(err.Error(), `"b"`) {
					t.Errorf("error %q does not name parameter b", err)
				}
				if o.Iterations() != 1 {
					t.Errorf("Iterations() = %d after a rejected step, want 1", o.Iterations())
				}
				for i, p := range ps {
					if k, ok := golden.Close(values(p.Value), before[i], 0, 0); !ok {
						t.Errorf("param %d element %d changed by a rejected step", i, k)
					}
				}
			})
		}
	}
}

func TestNonFinitePropagatesWhenNotRejected(t *testing.T) {
	o, ps := optimizers.NewAdam(), twoParams(tensor.Float64)
	ps[0].Grad.SetIndex(0, math.NaN())
	if err := o.Step(ps); err != nil {
		t.Fatalf("got error %v, want none without RejectNonFinite", err)
	}
	if v := ps[0].Value.Index(0); !math.IsNaN(v) {
		t.Errorf("got %v, want NaN", v)
	}
}

func TestStepErrors(t *testing.T) {
	type tc struct {
		name  string
		setup func() (optimizers.Optimizer, []*autodiff.Var)
		want  string
	}
	withParams := func(o optimizers.Optimizer) func() (optimizers.Optimizer, []*autodiff.Var) {
		return func() (optimizers.Optimizer, []*autodiff.Var) { return o, twoParams(tensor.Float64) }
	}
	sgd := func(f func(o *optimizers.SGD)) optimizers.Optimizer { o := &optimizers.SGD{LR: 0.1}; f(o); return o }
	adam := func(f func(o *optimizers.Adam)) optimizers.Optimizer { o := optimizers.NewAdam(); f(o); return o }
	rms := func(f func(o *optimizers.RMSprop)) optimizers.Optimizer { o := optimizers.NewRMSprop(); f(o); return o }
	cases := []tc{
		{"negative lr", withParams(&optimizers.SGD{LR: -1}), "optimizers: sgd: learning rate -1 is not a finite number ≥ 0"},
		{"NaN lr", withParams(adam(func(o *optimizers.Adam) { o.LR = math.NaN() })), "learning rate NaN"},
		{"momentum", withParams(sgd(func(o *optimizers.SGD) { o.Momentum = 1.5 })), "optimizers: sgd: momentum 1.5 outside [0, 1]"},
		{"beta1", withParams(adam(func(o *optimizers.Adam) { o.Beta1 = 1 })), "optimizers: adam: beta_1 1 outside [0, 1)"},
		{"beta2", withParams(adam(func(o *optimizers.Adam) { o.Beta2 = -0.1 })), "beta_2 -0.1 outside [0, 1)"},
		{"epsilon", withParams(adam(func(o *optimizers.Adam) { o.Epsilon = -1 })), "epsilon -1"},
		{"epsilon 0", withParams(adam(func(o *optimizers.Adam) { o.Epsilon = 0 })), "optimizers: adam: epsilon 0 is not a finite number > 0"},
		{"rmsprop epsilon 0", withParams(rms(func(o *optimizers.RMSprop) { o.Epsilon = 0 })), "optimizers: rmsprop: epsilon 0 is not a finite number > 0"},
		{"bare Adam", withParams(&optimizers.Adam{LR: 0.01}), "optimizers: adam: beta_1, beta_2 and epsilon are all 0, as in a bare Adam{} literal; start from NewAdam()"},
		{"bare RMSprop", withParams(&optimizers.RMSprop{LR: 0.01}), "optimizers: rmsprop: rho and epsilon are both 0, as in a bare RMSprop{} literal; start from NewRMSprop()"},
		{"rho", withParams(rms(func(o *optimizers.RMSprop) { o.Rho = 2 })), "optimizers: rmsprop: rho 2 outside [0, 1)"},
		{"two clips", withParams(adam(func(o *optimizers.Adam) { o.ClipNorm, o.ClipValue = 1, 1 })), "only one of ClipNorm (1), GlobalClipNorm (0) and ClipValue (1) can be set"},
		{"negative clip", withParams(adam(func(o *optimizers.Adam) { o.GlobalClipNorm = -1 })), "global_clipnorm -1"},
		{"no gradient", func() (optimizers.Optimizer, []*autodiff.Var) {
			ps := twoParams(tensor.Float64)
			ps[1].Grad = nil
			return optimizers.NewAdam(), ps
		}, `optimizers: adam: parameter "b" has no gradient`},
		{"gradient shape", func() (optimizers.Optimizer, []*autodiff.Var) {
			ps := twoParams(tensor.Float64)
			ps[1].Grad = tensor.New(tensor.Float64, 4)
			return optimizers.NewAdam(), ps
		}, `parameter "b" is float64 (5,) but its gradient is float64 (4,)`},
		{"gradient dtype", func() (optimizers.Optimizer, []*autodiff.Var) {
			ps := twoParams(tensor.Float64)
			ps[1].Grad = tensor.New(tensor.Float32, 5)
			return optimizers.NewAdam(), ps
		}, `parameter "b" is float64 (5,) but its gradient is float32 (5,)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, ps := c.setup()
			before := values(ps[0].Value)
			err := o.Step(ps)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got error %v, want one containing %q", err, c.want)
			}
			if _, ok := golden.Close(values(ps[0].Value), before, 0, 0); !ok {
				t.Errorf("a failed Step changed a parameter")
			}
			if o.Iterations() != 0 {
				t.Errorf("Iterations() = %d after a failed Step, want 0", o.Iterations())
			}
		})
	}
}

func TestParameterChangedBetweenSteps(t *testing.T) {
	for _, change := range []struct {
		name string
		to   *tensor.Tensor
		want string
	}{
		{"dtype", tensor.New(tensor.Float32, 5), `parameter "b" is float32 (5,) but was float64 (5,) when its state was created`},
		{"shape", tensor.New(tensor.Float64, 6), `parameter "b" is float64 (6,) but was float64 (5,) when its state was created`},
	} {
		for name, mk := range allConfigs() {
			if name == "sgd" {
				continue // plain SGD keeps no state, so nothing can disagree
			}
			t.Run(change.name+"/"+name, func(t *testing.T) {
				o, ps := mk(), twoParams(tensor.Float64)
				if err := o.Step(ps); err != nil {
					t.Fatal(err)
				}
				ps[1].Value = change.to
				ps[1].Grad = tensor.New(change.to.DType(), change.to.Shape()...)
				err := o.Step(ps)
				if err == nil || !strings.Contains(err.Error(), change.want) {
					t.Fatalf("got error %v, want one containing %q", err, change.want)
				}
			})
		}
	}
}

// TestVaryingParams checks that a parameter left out of a step is not
// touched and that state is kept per parameter.
func TestVaryingParams(t *testing.T) {
	o, ps := optimizers.NewAdam(), twoParams(tensor.Float64)
	ref, rps := optimizers.NewAdam(), twoParams(tensor.Float64)
	if err := o.Step(ps); err != nil {
		t.Fatal(err)
	}
	b := values(ps[1].Value)
	if err := o.Step(ps[:1]); err != nil {
		t.Fatal(err)
	}
	if _, ok := golden.Close(values(ps[1].Value), b, 0, 0); !ok {
		t.Error("a parameter left out of Step changed")
	}
	// Parameter a saw two steps, like a parameter of a fresh optimizer.
	for range 2 {
		if err := ref.Step(rps[:1]); err != nil {
			t.Fatal(err)
		}
	}
	if k, ok := golden.Close(values(ps[0].Value), values(rps[0].Value), 0, 0); !ok {
		t.Errorf("element %d: got %v, want %v", k, ps[0].Value.Index(k), rps[0].Value.Index(k))
	}
}

func TestEmptyStepIsNoOp(t *testing.T) {
	for name, mk := range allConfigs() {
		o := mk()
		if err := o.Step(nil); err != nil {
			t.Errorf("%s: Step(nil) = %v, want nil", name, err)
		}
		if o.Iterations() != 0 {
			t.Errorf("%s: Iterations() = %d after Step(nil), want 0", name, o.Iterations())
		}
	}
}

func TestSetLearningRate(t *testing.T) {
	o, ps := &optimizers.SGD{LR: 0.1}, twoParams(tensor.Float64)
	o.SetLearningRate(0)
	if got := o.LearningRate(); got != 0 {
		t.Fatalf("LearningRate() = %v, want 0", got)
	}
	before := values(ps[0].Value)
	if err := o.Step(ps); err != nil {
		t.Fatal(err)
	}
	if _, ok := golden.Close(values(ps[0].Value), before, 0, 0); !ok {
		t.Error("a step with learning rate 0 changed a parameter")
	}
}

func TestByName(t *testing.T) {
	for _, c := range []struct {
		name   string
		lr     float64
		want   string
		wantLR float64
	}{
		{"sgd", 0, "sgd", 0.01},
		{"SGD", 0.5, "sgd", 0.5},
		{"adam", 0, "adam", 1e-3},
		{"Adam", 0.02, "adam", 0.02},
		{"rmsprop", 0, "rmsprop", 1e-3},
		{"RMSprop", 0.1, "rmsprop", 0.1},
		{"adamw", 0, "adamw", 1e-3},
		{"AdamW", 0.01, "adamw", 0.01},
		{"nadam", 0, "nadam", 1e-3},
		{"Nadam", 0.1, "nadam", 0.1},
		{"adagrad", 0, "adagrad", 1e-3},
		{"Adagrad", 0.5, "adagrad", 0.5},
	} {
		o, err := optimizers.ByName(c.name, c.lr)
		if err != nil {
			t.Errorf("ByName(%q, %g): %v", c.name, c.lr, err)
			continue
		}
		if o.Name() != c.want || o.LearningRate() != c.wantLR {
			t.Errorf("ByName(%q, %g) = %s with lr %g, want %s with lr %g", c.name, c.lr, o.Name(), o.LearningRate(), c.want, c.wantLR)
		}
	}
	_, err := optimizers.ByName("adadelta", 0)
	if want := `optimizers: unknown optimizer "adadelta" (want one of sgd, adam, adamw, nadam, rmsprop, adagrad)`; err == nil || err.Error() != want {
		t.Errorf("ByName(adadelta): got error %v, want %q", err, want)
	}
	if _, err := optimizers.ByName("adam", -1); err == nil {
		t.Error("ByName(adam, -1): got no error")
	}
}

func TestConfigAndSlots(t *testing.T) {
	adam := optimizers.NewAdam()
	adam.ClipNorm = 1
	rms := optimizers.NewRMSprop()
	rms.Centered = true
	sgd := &optimizers.SGD{LR: 0.01}
	sgd.Momentum = 0.9
	for _, c := range []struct {
		o     optimizers.Optimizer
		keys  string
		slots string
	}{
		{adam, "beta_1 beta_2 clipnorm epsilon learning_rate name pytorch_epsilon", "momentum velocity"},
		{rms, "centered epsilon learning_rate momentum name pytorch_epsilon rho", "velocity average_gradient"},
		{sgd, "learning_rate momentum name nesterov", "momentum"},
		{&optimizers.SGD{LR: 0.01}, "learning_rate momentum name nesterov", ""},
	} {
		cfg := c.o.Config()
		var keys []string
		for k := range cfg {
			keys = append(keys, k)
		}
		slicesSort(keys)
		if got := strings.Join(keys, " "); got != c.keys {
			t.Errorf("%s: Config keys %q, want %q", c.o.Name(), got, c.keys)
		}
		if cfg["name"] != c.o.Name() {
			t.Errorf("%s: Config name %v", c.o.Name(), cfg["name"])
		}
		if got := strings.Join(c.o.SlotNames(), " "); got != c.slots {
			t.Errorf("%s: SlotNames %q, want %q", c.o.Name(), got, c.slots)
		}
	}
}

func slicesSort(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// TestAdamDefaults checks Keras's defaults and one hand-computed step:
// at t = 1, m = (1−β1)g and v = (1−β2)g², so the Keras update is
// lr·g/(|g| + ε/√(1−β2)) per element (PyTorch's: lr·g/(|g| + ε)).
func TestAdamDefaults(t *testing.T) {
	o := optimizers.NewAdam()
	if o.LR != 1e-3 || o.Beta1 != 0.9 || o.Beta2 != 0.999 || o.Epsilon != 1e-7 || o.PyTorchEpsilon {
		t.Fatalf("NewAdam() = %+v, want Keras's defaults", *o)
	}
	p := autodiff.NewParam(tensor.FromFloat64([]float64{1, 1}, 2), "w")
	p.Grad = tensor.FromFloat64([]float64{0.5, -2}, 2)
	if err := o.Step([]*autodiff.Var{p}); err != nil {
		t.Fatal(err)
	}
	for i, g := range []float64{0.5, -2} {
		want := 1 - 1e-3*g/(math.Abs(g)+1e-7/math.Sqrt(1-0.999))
		if got := p.Value.Index(i); math.Abs(got-want) > 1e-15 {
			t.Errorf("element %d: got %.17g, want %.17g", i, got, want)
		}
	}
}
