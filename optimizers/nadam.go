package optimizers

import (
	"errors"
	"math"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/tensor"
)

// Nadam is Adam with Nesterov momentum (Dozat 2016, "Incorporating
// Nesterov Momentum into Adam"), in Keras 3's form. At step t =
// Iterations()+1, with m (slot "momentum") and v (slot "velocity")
// starting at zero, and the momentum schedule
//
//	μ_t = β1·(1 − ½·0.96ᵗ),   P_t = μ_1·μ_2·…·μ_t
//
// each step computes
//
//	m = β1·m + (1−β1)·g
//	v = β2·v + (1−β2)·g²
//	m̂ = μ_{t+1}·m/(1 − P_t·μ_{t+1}) + (1 − μ_t)·g/(1 − P_t)
//	w −= LR·m̂/(√(v/(1−β2ᵗ)) + ε)
//
// ε is added outside the bias-corrected root, as in torch.optim.NAdam
// (unlike Keras's Adam).
//
// # Keras and PyTorch
//
// torch.optim.NAdam writes the schedule μ_t = β1·(1 − ½·0.96^(t·ψ)) with
// momentum_decay ψ, default 0.004 (which is also the schedule of Keras 2's
// Nadam); Keras 3 has 0.96ᵗ, that is ψ = 1. With ψ = 1 the formulas agree
// in current PyTorch; PyTorch 1.13, the version the golden files come
// from, multiplies μ_t into the next product twice (P_{t+1} = P_t·μ_t·
// μ_{t+1}), a bug later fixed, so its NAdam matches neither. The tests
// hold this type to the Keras formula written out in the golden
// generator, and write PyTorch 1.13's formula out by hand to show what
// differs. torch's weight_decay for NAdam is an L2 penalty on the
// gradient; Decay here is Keras's decoupled decay.
//
// P_t is not saved: it is a function of the step count, recomputed (as
// the same sequence of products, so bit for bit) after SetIterations.
type Nadam struct {
	LR      float64 // learning rate, ≥ 0
	Beta1   float64 // decay of the first moment, in [0, 1)
	Beta2   float64 // decay of the second moment, in [0, 1)
	Epsilon float64 // added to the root of the bias-corrected second moment, > 0
	Clip
	Decay

	core
	// A cache of P_t for t = uStep, computed with β1 = uBeta1.
	uProduct, uBeta1 float64
	uStep            int
	uValid           bool
}

// NewNadam returns Nadam with Keras's defaults: LR 1e-3, Beta1 0.9, Beta2
// 0.999, Epsilon 1e-7.
func NewNadam() *Nadam { return &Nadam{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-7} }

// Name returns "nadam".
func (o *Nadam) Name() string { return "nadam" }

// LearningRate returns o.LR.
func (o *Nadam) LearningRate() float64 { return o.LR }

// SetLearningRate sets o.LR.
func (o *Nadam) SetLearningRate(lr float64) { o.LR = lr }

// Config returns learning_rate, beta_1, beta_2, epsilon and the clipping
// and decay settings that are on.
func (o *Nadam) Config() map[string]any {
	m := map[string]any{"name": o.Name(), "learning_rate": o.LR, "beta_1": o.Beta1, "beta_2": o.Beta2, "epsilon": o.Epsilon}
	o.Clip.config(m)
	o.Decay.config(m)
	return m
}

// SlotNames returns ["momentum", "velocity"], Keras's names for m and v.
func (o *Nadam) SlotNames() []string { return []string{"momentum", "velocity"} }

// State returns p's m and v.
func (o *Nadam) State(p *autodiff.Var) []*tensor.Tensor { return o.slots(p, 0, 1) }

// Validate reports an error unless LR is a finite number ≥ 0, Beta1 and
// Beta2 are in [0, 1), Epsilon is a finite number > 0 and the clipping and
// decay settings are valid. A bare Nadam{} literal gets an error that
// points to NewNadam.
func (o *Nadam) Validate() error {
	const name = "nadam"
	if o.Beta1 == 0 && o.Beta2 == 0 && o.Epsilon == 0 {
		return errors.New("optimizers: nadam: beta_1, beta_2 and epsilon are all 0, as in a bare Nadam{} literal; " +
			"start from NewNadam(), which sets Keras's defaults (0.9, 0.999, 1e-7), and change fields from there")
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

// mu returns the momentum schedule μ_t = β1·(1 − ½·0.96ᵗ).
func (o *Nadam) mu(t int) float64 { return o.Beta1 * (1 - 0.5*math.Pow(0.96, float64(t))) }

// product returns P_t = μ_1·…·μ_t, multiplied in that order, from the
// product of the previous step when the cache holds it (same step count,
// same β1), else from the start.
func (o *Nadam) product(t int) float64 {
	if !o.uValid || o.uStep != t-1 || o.uBeta1 != o.Beta1 {
		p := 1.0
		for i := 1; i < t; i++ {
			p *= o.mu(i)
		}
		o.uProduct, o.uStep, o.uBeta1, o.uValid = p, t-1, o.Beta1, true
	}
	return o.uProduct * o.mu(t)
}

// Step applies one Nadam update to each parameter; see Optimizer.Step.
//
// The coefficients are taken before run validates the settings and are
// used only after; product's cache is keyed by step and β1, so what it
// keeps for a rejected step is still right for the next.
func (o *Nadam) Step(params []*autodiff.Var) error {
	t := o.iterations + 1
	ut, ut1 := o.mu(t), o.mu(t+1)
	pt := o.product(t)
	pt1 := pt * ut1
	ib2 := 1 / (1 - math.Pow(o.Beta2, float64(t)))
	// w −= (a1·m + a2·g)/(√(v·ib2) + ε)
	a1 := o.LR * ut1 / (1 - pt1)
	a2 := o.LR * (1 - ut) / (1 - pt)
	err := o.run("nadam", params, o.Validate, &o.Clip, &o.Decay, o.LR, func(p *autodiff.Var, s float64) {
		m, v := o.slot(p, 0), o.slot(p, 1)
		if p.DType() == tensor.Float32 {
			nadamStep(p.Value.Float32s(), p.Grad.Float32s(), m.Float32s(), v.Float32s(),
				float32(a1), float32(a2), float32(ib2), float32(o.Epsilon), float32(1-o.Beta1), float32(1-o.Beta2), float32(s), float32(o.ClipValue))
		} else {
			nadamStep(p.Value.Float64s(), p.Grad.Float64s(), m.Float64s(), v.Float64s(),
				a1, a2, ib2, o.Epsilon, 1-o.Beta1, 1-o.Beta2, s, o.ClipValue)
		}
	})
	if err != nil || len(params) == 0 {
		return err
	}
	o.uProduct, o.uStep = pt, t // the cache now holds P_t
	return nil
}

// nadamStep updates m, v and then w from g: m += (g−m)·c1;
// v += (g²−v)·c2; w −= (a1·m + a2·g)/(√(v·ib2) + eps).
func nadamStep[T float](w, g, m, v []T, a1, a2, ib2, eps, c1, c2, s, cv T) {
	for i := range w {
		gi := clipGrad(g[i], s, cv)
		mi := flushSubnormal(m[i] + (gi-m[i])*c1)
		vi := flushSubnormal(v[i] + (gi*gi-v[i])*c2)
		m[i], v[i] = mi, vi
		w[i] -= (a1*mi + a2*gi) / (sqrt(vi*ib2) + eps)
	}
}
