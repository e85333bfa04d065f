package optimizers

import (
	"errors"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/tensor"
)

// RMSprop divides the gradient by a running root mean square of recent
// gradients (Hinton, Neural Networks for Machine Learning, lecture 6e), in
// Keras 3's form by default. With v (slot "velocity"), b (slot "momentum",
// used when Momentum > 0) and a (slot "average_gradient", used when
// Centered) starting at zero:
//
//	v = ρ·v + (1−ρ)·g²
//	a = ρ·a + (1−ρ)·g                       (Centered)
//	d = v + ε,  or v − a² + ε               (Centered)
//	u = LR·g/√d
//	w −= u,     or b = Momentum·b + u; w −= b   (Momentum > 0)
//
// The centered variance v − a² is never negative in exact arithmetic; the
// loop flushes a² as it flushes v (see "Subnormal numbers" in the package
// documentation) and clamps the difference at zero, so that rounding and
// flushing cannot make the root NaN — PyTorch, which neither flushes nor
// clamps, relies on v − a² staying ≥ 0 after rounding.
//
// PyTorch (torch.optim.RMSprop, whose alpha is ρ) adds ε outside the root,
// u = LR·g/(√(v or v − a²) + ε), which matters where |g| is tiny; set
// PyTorchEpsilon for that form. Its momentum buffer holds g/(√… + ε)
// without LR, which agrees with Keras for a constant learning rate.
type RMSprop struct {
	LR       float64 // learning rate, ≥ 0
	Rho      float64 // decay of the mean square, in [0, 1)
	Momentum float64 // in [0, 1]; 0 turns momentum off
	Epsilon  float64 // added to the mean square before the root, > 0
	Centered bool    // divide by the root of the variance v − a² rather than of v
	// PyTorchEpsilon selects torch.optim.RMSprop's update, with ε added
	// after the square root.
	PyTorchEpsilon bool
	Clip
	Decay

	core
}

// NewRMSprop returns RMSprop with Keras's defaults: LR 1e-3, Rho 0.9,
// Momentum 0, Epsilon 1e-7, not centered.
func NewRMSprop() *RMSprop { return &RMSprop{LR: 1e-3, Rho: 0.9, Epsilon: 1e-7} }

// Name returns "rmsprop".
func (o *RMSprop) Name() string { return "rmsprop" }

// LearningRate returns o.LR.
func (o *RMSprop) LearningRate() float64 { return o.LR }

// SetLearningRate sets o.LR.
func (o *RMSprop) SetLearningRate(lr float64) { o.LR = lr }

// Config returns learning_rate, rho, momentum, epsilon, centered,
// pytorch_epsilon and the clipping and decay settings that are on.
func (o *RMSprop) Config() map[string]any {
	m := map[string]any{"name": o.Name(), "learning_rate": o.LR, "rho": o.Rho, "momentum": o.Momentum,
		"epsilon": o.Epsilon, "centered": o.Centered, "pytorch_epsilon": o.PyTorchEpsilon}
	o.Clip.config(m)
	o.Decay.config(m)
	return m
}

// Slot indices in core's state.
const (
	rmsVelocity = iota
	rmsMomentum
	rmsAverage
)

// SlotNames returns "velocity", then "momentum" when Momentum > 0 and
// "average_gradient" when Centered.
func (o *RMSprop) SlotNames() []string {
	return names([]string{"velocity", "momentum", "average_gradient"}, true, o.Momentum > 0, o.Centered)
}

// State returns p's state tensors in SlotNames order.
func (o *RMSprop) State(p *autodiff.Var) []*tensor.Tensor {
	idx := []int{rmsVelocity}
	if o.Momentum > 0 {
		idx = append(idx, rmsMomentum)
	}
	if o.Centered {
		idx = append(idx, rmsAverage)
	}
	return o.slots(p, idx...)
}

// Validate reports an error unless LR is a finite number ≥ 0, Rho is in
// [0, 1), Momentum in [0, 1], Epsilon a finite number > 0 and the clipping
// settings are valid. A bare RMSprop{} literal, whose Rho and Epsilon are
// both 0, gets an error that points to NewRMSprop.
func (o *RMSprop) Validate() error {
	const name = "rmsprop"
	if o.Rho == 0 && o.Epsilon == 0 {
		return errors.New("optimizers: rmsprop: rho and epsilon are both 0, as in a bare RMSprop{} literal; " +
			"start from NewRMSprop(), which sets Keras's defaults (rho 0.9, epsilon 1e-7), and change fields from there")
	}
	if err := checkLR(name, o.LR); err != nil {
		return err
	}
	if err := checkUnit(name, "rho", o.Rho, false); err != nil {
		return err
	}
	if err := checkUnit(name, "momentum", o.Momentum, true); err != nil {
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

// Step applies one RMSprop update to each parameter; see Optimizer.Step.
func (o *RMSprop) Step(params []*autodiff.Var) error {
	return o.run("rmsprop", params, o.Validate, &o.Clip, &o.Decay, o.LR, func(p *autodiff.Var, s float64) {
		v := o.slot(p, rmsVelocity)
		var b, a *tensor.Tensor
		if o.Momentum > 0 {
			b = o.slot(p, rmsMomentum)
		}
		if o.Centered {
			a = o.slot(p, rmsAverage)
		}
		if p.DType() == tensor.Float32 {
			rmsStep(p.Value.Float32s(), p.Grad.Float32s(), v.Float32s(), f32s(b), f32s(a),
				float32(o.LR), float32(o.Rho), float32(1-o.Rho), float32(o.Momentum), float32(o.Epsilon), o.PyTorchEpsilon, float32(s), float32(o.ClipValue))
		} else {
			rmsStep(p.Value.Float64s(), p.Grad.Float64s(), v.Float64s(), f64s(b), f64s(a),
				o.LR, o.Rho, 1-o.Rho, o.Momentum, o.Epsilon, o.PyTorchEpsilon, s, o.ClipValue)
		}
	})
}

// rmsStep updates the state and w from g; b (momentum) and a (average
// gradient) are nil when unused; c = 1−ρ, computed in float64.
func rmsStep[T float](w, g, v, b, a []T, lr, rho, c, mom, eps T, torchEps bool, s, cv T) {
	for i := range w {
		gi := clipGrad(g[i], s, cv)
		vi := flushSubnormal(rho*v[i] + c*gi*gi)
		v[i] = vi
		ms := vi
		if a != nil {
			ai := flushSubnormal(rho*a[i] + c*gi)
			a[i] = ai
			// v ≥ a² in exact arithmetic (a² is the square of a weighted
			// mean of the g, v that mean of g²), but v was flushed to zero
			// below the smallest normal number: flush a² alike, so that
			// a² ≤ v < that bound leaves 0 − 0, and clamp at zero against
			// rounding, so that the root below never sees a negative.
			ms = max(ms-flushSubnormal(ai*ai), 0)
		}
		var u T
		if torchEps {
			u = lr * gi / (sqrt(ms) + eps)
		} else {
			u = lr * gi / sqrt(ms+eps)
		}
		if b != nil {
			bi := flushSubnormal(mom*b[i] + u)
			b[i] = bi
			u = bi
		}
		w[i] -= u
	}
}
