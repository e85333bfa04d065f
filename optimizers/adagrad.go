package optimizers

import (
	"errors"
	"fmt"
	"math"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/tensor"
)

// Adagrad scales each element's step by the inverse root of the sum of
// its squared gradients so far (Duchi, Hazan and Singer 2011), in Keras
// 3's form by default. With the accumulator a (slot "accumulator")
// starting at InitialAccumulatorValue:
//
//	a += g²
//	w −= LR·g/√(a + ε)
//
// PyTorch (torch.optim.Adagrad) adds ε outside the root, w −= LR·g/(√a +
// ε); set PyTorchEpsilon for that form. Its defaults differ too: LR 0.01,
// initial_accumulator_value 0, eps 1e-10; its lr_decay (a learning rate
// divided by 1 + (t−1)·lr_decay) has no field here — a schedule does that
// job — and its weight_decay is an L2 penalty on the gradient, where Decay
// is Keras's decoupled decay.
type Adagrad struct {
	LR float64 // learning rate, ≥ 0
	// InitialAccumulatorValue ≥ 0 is the accumulator's starting value.
	InitialAccumulatorValue float64
	Epsilon                 float64 // added to the accumulator before the root, ≥ 0
	// PyTorchEpsilon selects torch.optim.Adagrad's update, with ε added
	// after the square root.
	PyTorchEpsilon bool
	Clip
	Decay

	core
}

// NewAdagrad returns Adagrad with Keras's defaults: LR 1e-3,
// InitialAccumulatorValue 0.1, Epsilon 1e-7.
func NewAdagrad() *Adagrad { return &Adagrad{LR: 1e-3, InitialAccumulatorValue: 0.1, Epsilon: 1e-7} }

// Name returns "adagrad".
func (o *Adagrad) Name() string { return "adagrad" }

// LearningRate returns o.LR.
func (o *Adagrad) LearningRate() float64 { return o.LR }

// SetLearningRate sets o.LR.
func (o *Adagrad) SetLearningRate(lr float64) { o.LR = lr }

// Config returns learning_rate, initial_accumulator_value, epsilon,
// pytorch_epsilon and the clipping and decay settings that are on.
func (o *Adagrad) Config() map[string]any {
	m := map[string]any{"name": o.Name(), "learning_rate": o.LR, "initial_accumulator_value": o.InitialAccumulatorValue,
		"epsilon": o.Epsilon, "pytorch_epsilon": o.PyTorchEpsilon}
	o.Clip.config(m)
	o.Decay.config(m)
	return m
}

// SlotNames returns ["accumulator"], Keras's name.
func (o *Adagrad) SlotNames() []string { return []string{"accumulator"} }

// State returns p's accumulator, created filled with
// InitialAccumulatorValue.
func (o *Adagrad) State(p *autodiff.Var) []*tensor.Tensor {
	return []*tensor.Tensor{o.slotFilled(p, 0, o.InitialAccumulatorValue)}
}

// Validate reports an error unless LR is a finite number ≥ 0,
// InitialAccumulatorValue and Epsilon are finite numbers ≥ 0, not both 0
// (a gradient element that is zero from the first step would divide 0 by
// √0), and the clipping and decay settings are valid. A bare Adagrad{}
// literal gets an error that points to NewAdagrad.
func (o *Adagrad) Validate() error {
	const name = "adagrad"
	if o.InitialAccumulatorValue == 0 && o.Epsilon == 0 {
		return errors.New("optimizers: adagrad: initial_accumulator_value and epsilon are both 0, as in a bare Adagrad{} literal " +
			"(a gradient that is zero from the start gives 0/0 = NaN); start from NewAdagrad(), which sets Keras's defaults (0.1, 1e-7), and change fields from there")
	}
	if err := checkLR(name, o.LR); err != nil {
		return err
	}
	for _, f := range [...]struct {
		key string
		x   float64
	}{{"initial_accumulator_value", o.InitialAccumulatorValue}, {"epsilon", o.Epsilon}} {
		if !(f.x >= 0) || math.IsInf(f.x, 0) {
			return fmt.Errorf("optimizers: adagrad: %s %g is not a finite number ≥ 0", f.key, f.x)
		}
	}
	if err := o.Decay.validate(name); err != nil {
		return err
	}
	return o.Clip.validate(name)
}

// Step applies one Adagrad update to each parameter; see Optimizer.Step.
func (o *Adagrad) Step(params []*autodiff.Var) error {
	return o.run("adagrad", params, o.Validate, &o.Clip, &o.Decay, o.LR, func(p *autodiff.Var, s float64) {
		a := o.slotFilled(p, 0, o.InitialAccumulatorValue)
		if p.DType() == tensor.Float32 {
			adagradStep(p.Value.Float32s(), p.Grad.Float32s(), a.Float32s(),
				float32(o.LR), float32(o.Epsilon), o.PyTorchEpsilon, float32(s), float32(o.ClipValue))
		} else {
			adagradStep(p.Value.Float64s(), p.Grad.Float64s(), a.Float64s(), o.LR, o.Epsilon, o.PyTorchEpsilon, s, o.ClipValue)
		}
	})
}

// adagradStep updates a and then w from g: a += g²; w −= lr·g/√(a+eps),
// or lr·g/(√a + eps) with torchEps. The accumulator only grows, so it
// needs no flushing.
func adagradStep[T float](w, g, a []T, lr, eps T, torchEps bool, s, cv T) {
	for i := range w {
		gi := clipGrad(g[i], s, cv)
		ai := a[i] + gi*gi
		a[i] = ai
		if torchEps {
			w[i] -= lr * gi / (sqrt(ai) + eps)
		} else {
			w[i] -= lr * gi / sqrt(ai+eps)
		}
	}
}
