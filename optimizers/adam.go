package optimizers

import (
	"fmt"
	"math"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/internal/kernel"
	"github.com/myelin-go/myelin/tensor"
)

// Adam is the Adam optimizer (Kingma and Ba 2014, arXiv:1412.6980), in
// Keras's "ε-hat" form by default. At step t = Iterations()+1, with m
// (slot "momentum") and v (slot "velocity") starting at zero:
//
//	m = β1·m + (1−β1)·g
//	v = β2·v + (1−β2)·g²
//	w −= lr_t·m/(√v + ε),   lr_t = LR·√(1−β2ᵗ)/(1−β1ᵗ)
//
// PyTorch (torch.optim.Adam) and the paper's Algorithm 1 add ε to the
// bias-corrected root instead:
//
//	w −= LR·m̂/(√v̂ + ε),   m̂ = m/(1−β1ᵗ), v̂ = v/(1−β2ᵗ)
//
// which is the Keras form with ε scaled by √(1−β2ᵗ): the two differ while
// √v̂ is not much larger than ε, that is for tiny gradients and, through
// the bias correction, most in early steps. Set PyTorchEpsilon for the
// PyTorch form. Keras defaults ε to 1e-7, PyTorch to 1e-8.
//
// With AMSGrad (Reddi, Kale and Kumar 2018, "On the Convergence of Adam and
// Beyond"), the update divides by the root of v̂max, the largest v so far
// (slot "velocity_hat"), instead of v: v̂max = max(v̂max, v), as both Keras
// (amsgrad=True) and torch.optim.Adam(amsgrad=True) keep it, on the raw v
// before bias correction; the ε placement is as above.
type Adam struct {
	LR      float64 // learning rate, ≥ 0
	Beta1   float64 // decay of the first moment, in [0, 1)
	Beta2   float64 // decay of the second moment, in [0, 1)
	Epsilon float64 // added to the root of the second moment, > 0
	// PyTorchEpsilon selects torch.optim.Adam's update, with ε added to
	// √v̂ rather than √v (see the type's documentation).
	PyTorchEpsilon bool
	AMSGrad        bool `json:",omitempty"` // divide by the root of the largest v so far
	Clip
	Decay

	core
	ra, rr float64 // a Ranged step's a and r (see step)
}

// NewAdam returns Adam with Keras's defaults: LR 1e-3, Beta1 0.9, Beta2
// 0.999, Epsilon 1e-7.
func NewAdam() *Adam { return &Adam{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-7} }

// Name returns "adam".
func (o *Adam) Name() string { return "adam" }

// LearningRate returns o.LR.
func (o *Adam) LearningRate() float64 { return o.LR }

// SetLearningRate sets o.LR.
func (o *Adam) SetLearningRate(lr float64) { o.LR = lr }

// Config returns learning_rate, beta_1, beta_2, epsilon, pytorch_epsilon,
// amsgrad when it is on, and the clipping and decay settings that are on.
func (o *Adam) Config() map[string]any { return o.config(o.Name()) }

func (o *Adam) config(name string) map[string]any {
	m := map[string]any{"name": name, "learning_rate": o.LR, "beta_1": o.Beta1, "beta_2": o.Beta2,
		"epsilon": o.Epsilon, "pytorch_epsilon": o.PyTorchEpsilon}
	if o.AMSGrad {
		m["amsgrad"] = true
	}
	o.Clip.config(m)
	o.Decay.config(m)
	return m
}

// Slot indices in core's state.
const (
	adamMomentum = iota
	adamVelocity
	adamVelocityHat
)

// SlotNames returns ["momentum", "velocity"], Keras's names for m and v,
// and "velocity_hat" (v̂max) with AMSGrad.
func (o *Adam) SlotNames() []string {
	return names([]string{"momentum", "velocity", "velocity_hat"}, true, true, o.AMSGrad)
}

// State returns p's m and v, and v̂max with AMSGrad.
func (o *Adam) State(p *autodiff.Var) []*tensor.Tensor {
	if o.AMSGrad {
		return o.slots(p, adamMomentum, adamVelocity, adamVelocityHat)
	}
	return o.slots(p, adamMomentum, adamVelocity)
}

// Validate reports an error unless LR is a finite number ≥ 0, Beta1 and
// Beta2 are in [0, 1), Epsilon is a finite number > 0 and the clipping
// settings are valid. A bare Adam{} literal, whose Beta1, Beta2 and Epsilon
// are all 0, gets an error that points to NewAdam.
func (o *Adam) Validate() error { return o.validate("adam", "Adam", "NewAdam") }

func (o *Adam) validate(name, typ, ctor string) error {
	if o.Beta1 == 0 && o.Beta2 == 0 && o.Epsilon == 0 {
		return fmt.Errorf("optimizers: %s: beta_1, beta_2 and epsilon are all 0, as in a bare %s{} literal; "+
			"start from %s(), which sets Keras's defaults (0.9, 0.999, 1e-7), and change fields from there", name, typ, ctor)
	}
	if err := checkLR(name, o.LR); err != nil {
		return err
	}
	if err := checkUnit(name, "beta_1", o.Beta1, false); err != nil {
		return err
	}
	if err := checkUnit(name, "beta_2", o.Beta2, false); err != nil {
		return err
	}
	if err := checkEps(name, o.Epsilon); err != nil {
		return err
	}
	if err := o.Decay.validate(name); err != nil {
		return err
	}
	return o.Clip.validate(name)
}

// Step applies one Adam update to each parameter; see Optimizer.Step.
func (o *Adam) Step(params []*autodiff.Var) error { return o.step("adam", params, o.Validate) }

// step is Step with the name that labels errors and the Validate to run,
// AdamW's for AdamW. The coefficients below are arithmetic on the
// settings, taken before run validates them and used only after.
func (o *Adam) step(name string, params []*autodiff.Var, validate func() error) error {
	t := float64(o.iterations + 1)
	bc1 := 1 - math.Pow(o.Beta1, t)
	bc2 := 1 - math.Pow(o.Beta2, t)
	// Both forms as w −= a·m/(√v·r + e):
	// Keras   a = LR·√bc2/bc1, r = 1,       e = ε;
	// PyTorch a = LR/bc1,      r = 1/√bc2,  e = ε.
	a, r := o.LR*math.Sqrt(bc2)/bc1, 1.0
	if o.PyTorchEpsilon {
		a, r = o.LR/bc1, 1/math.Sqrt(bc2)
	}
	return o.run(name, params, validate, &o.Clip, &o.Decay, o.LR, func(p *autodiff.Var, s float64) {
		m, v := o.slot(p, adamMomentum), o.slot(p, adamVelocity)
		var vh *tensor.Tensor
		if o.AMSGrad {
			vh = o.slot(p, adamVelocityHat)
		}
		// m += (g−m)·c1; v += (g²−v)·c2; w −= a·m/(√v·r + ε), with g scaled
		// by s and clipped to ClipValue, and v replaced in the root by
		// v̂max = max(v̂max, v) with AMSGrad (kernel.AdamStep's doc is the
		// loop). c1 = 1−β1 and c2 = 1−β2 are taken in float64: in float32,
		// 1−β2 after rounding β2 = 0.999 would be off by 1.3e-5 relative.
		if p.DType() == tensor.Float32 {
			kernel.AdamStep(p.Value.Float32s(), p.Grad.Float32s(), m.Float32s(), v.Float32s(), f32s(vh),
				float32(a), float32(r), float32(o.Epsilon), float32(1-o.Beta1), float32(1-o.Beta2), float32(s), float32(o.ClipValue))
		} else {
			kernel.AdamStep64(p.Value.Float64s(), p.Grad.Float64s(), m.Float64s(), v.Float64s(), f64s(vh),
				a, r, o.Epsilon, 1-o.Beta1, 1-o.Beta2, s, o.ClipValue)
		}
	})
}
