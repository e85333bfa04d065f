package optimizers

import (
	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/tensor"
)

// SGD is stochastic gradient descent, with optional momentum and Nesterov
// momentum, in Keras's form:
//
//	Momentum = 0:  w −= LR·g
//	otherwise:     m = Momentum·m − LR·g
//	               w += m                      (Nesterov false)
//	               w += Momentum·m − LR·g      (Nesterov true)
//
// with m, the "momentum" slot, starting at zero. torch.optim.SGD keeps
// b = Momentum·b + g and steps w −= LR·b (or LR·(g + Momentum·b) with
// Nesterov); with a constant learning rate m = −LR·b and the two agree, but
// when the learning rate changes Keras's m keeps the old rate in its past
// terms while torch applies the new rate to all of b.
type SGD struct {
	LR       float64 // learning rate, ≥ 0
	Momentum float64 // in [0, 1]; 0 is plain SGD
	Nesterov bool    // use Nesterov momentum
	Clip
	Decay

	core
}

// NewSGD returns SGD with Keras's defaults: LR 0.01, no momentum. Like
// NewAdam and NewRMSprop it takes no arguments; change LR and Momentum on
// the result. Every zero field of SGD is meaningful, so a literal such as
// &SGD{LR: 0.1} is the same as NewSGD with LR set.
func NewSGD() *SGD { return &SGD{LR: 0.01} }

// Name returns "sgd".
func (o *SGD) Name() string { return "sgd" }

// LearningRate returns o.LR.
func (o *SGD) LearningRate() float64 { return o.LR }

// SetLearningRate sets o.LR.
func (o *SGD) SetLearningRate(lr float64) { o.LR = lr }

// Config returns learning_rate, momentum, nesterov and the clipping and
// decay settings that are on.
func (o *SGD) Config() map[string]any {
	m := map[string]any{"name": o.Name(), "learning_rate": o.LR, "momentum": o.Momentum, "nesterov": o.Nesterov}
	o.Clip.config(m)
	o.Decay.config(m)
	return m
}

// SlotNames returns ["momentum"] when Momentum > 0, else none.
func (o *SGD) SlotNames() []string { return names([]string{"momentum"}, o.Momentum > 0) }

// State returns p's momentum slot when Momentum > 0, else nil.
func (o *SGD) State(p *autodiff.Var) []*tensor.Tensor {
	if o.Momentum > 0 {
		return o.slots(p, 0)
	}
	return nil
}

// Validate reports an error unless LR is a finite number ≥ 0, Momentum is
// in [0, 1] and the clipping settings are valid. The zero SGD{} is valid:
// plain SGD with learning rate 0, which leaves the weights as they are.
func (o *SGD) Validate() error {
	const name = "sgd"
	if err := checkLR(name, o.LR); err != nil {
		return err
	}
	if err := checkUnit(name, "momentum", o.Momentum, true); err != nil {
		return err
	}
	if err := o.Decay.validate(name); err != nil {
		return err
	}
	return o.Clip.validate(name)
}

// Step applies one SGD update to each parameter; see Optimizer.Step.
func (o *SGD) Step(params []*autodiff.Var) error {
	return o.run("sgd", params, o.Validate, &o.Clip, &o.Decay, o.LR, func(p *autodiff.Var, s float64) {
		var m *tensor.Tensor
		if o.Momentum > 0 {
			m = o.slot(p, 0)
		}
		if p.DType() == tensor.Float32 {
			sgdStep(p.Value.Float32s(), p.Grad.Float32s(), f32s(m), float32(o.LR), float32(o.Momentum), o.Nesterov, float32(s), float32(o.ClipValue))
		} else {
			sgdStep(p.Value.Float64s(), p.Grad.Float64s(), f64s(m), o.LR, o.Momentum, o.Nesterov, s, o.ClipValue)
		}
	})
}

// sgdStep updates w from g; m is nil without momentum. s and cv are the
// clipping scale and value (see clipGrad).
func sgdStep[T float](w, g, m []T, lr, mom T, nesterov bool, s, cv T) {
	if m == nil {
		for i := range w {
			w[i] -= lr * clipGrad(g[i], s, cv)
		}
		return
	}
	for i := range w {
		gi := clipGrad(g[i], s, cv)
		mi := flushSubnormal(mom*m[i] - lr*gi)
		m[i] = mi
		if nesterov {
			w[i] += mom*mi - lr*gi
		} else {
			w[i] += mi
		}
	}
}

func f32s(t *tensor.Tensor) []float32 {
	if t == nil {
		return nil
	}
	return t.Float32s()
}

func f64s(t *tensor.Tensor) []float64 {
	if t == nil {
		return nil
	}
	return t.Float64s()
}
