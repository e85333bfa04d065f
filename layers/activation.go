package layers

import (
	"fmt"
	"math/rand/v2"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// Activation applies an activation function on its own.
type Activation struct {
	Base
	Activation nn.Activation `json:"activation"`
}

// NewActivation returns the layer applying act.
func NewActivation(act nn.Activation) *Activation { return &Activation{Activation: act} }

func init() {
	Register("Activation", func() Layer { return NewActivation(0) })
	Register("Dropout", func() Layer { return NewDropout(0) })
}

// Type returns "Activation".
func (l *Activation) Type() string { return "Activation" }

// Build checks the input; the output has the same shape.
func (l *Activation) Build(in tensor.Shape, _ tensor.DType, _ *rand.Rand) (tensor.Shape, error) {
	if l.Activation > nn.ActSoftmax {
		return nil, fmt.Errorf("layers: Activation: unknown activation %d", l.Activation)
	}
	if _, err := featureLen("Activation", in); err != nil {
		return nil, err
	}
	l.built = true
	return in.Clone(), nil
}

// Forward applies the activation.
func (l *Activation) Forward(p *Pass, x *autodiff.Var) *autodiff.Var {
	return l.Activation.Apply(p.Tape, x)
}

// Act returns the activation, for Activated.
func (l *Activation) Act() nn.Activation { return l.Activation }

// ForwardLinear returns x: the layer is its activation alone.
func (l *Activation) ForwardLinear(_ *Pass, x *autodiff.Var) *autodiff.Var { return x }

// Weights returns nil: the layer has none.
func (l *Activation) Weights() []Weight { return nil }

// WeightCount returns 0 and the input's shape.
func (l *Activation) WeightCount(in tensor.Shape) (uint64, tensor.Shape, bool) { return 0, in, true }

// Dropout sets a random fraction Rate of its inputs to zero during training
// and scales the rest by 1/(1 − Rate) (inverted dropout); inference passes
// inputs through. The random source is the Pass's, seeded by the model.
type Dropout struct {
	Base
	Rate float64 `json:"rate"`
}

// NewDropout returns a Dropout layer dropping the fraction rate.
func NewDropout(rate float64) *Dropout { return &Dropout{Rate: rate} }

// Type returns "Dropout".
func (l *Dropout) Type() string { return "Dropout" }

func (l *Dropout) validate() error {
	if !(l.Rate >= 0 && l.Rate < 1) {
		return fmt.Errorf("layers: Dropout: rate %g outside [0, 1)", l.Rate)
	}
	return nil
}

// Build checks the rate; the output has the input's shape.
func (l *Dropout) Build(in tensor.Shape, _ tensor.DType, _ *rand.Rand) (tensor.Shape, error) {
	if err := l.validate(); err != nil {
		return nil, err
	}
	l.built = true
	return in.Clone(), nil
}

// Forward drops inputs when training with a random source (see Pass.Rand).
func (l *Dropout) Forward(p *Pass, x *autodiff.Var) *autodiff.Var {
	if !p.Training || l.Rate == 0 || p.Rand == nil {
		return x
	}
	return nn.Dropout(p.Tape, x, l.Rate, p.Rand)
}

// Weights returns nil: the layer has none.
func (l *Dropout) Weights() []Weight { return nil }

// WeightCount returns 0 and the input's shape.
func (l *Dropout) WeightCount(in tensor.Shape) (uint64, tensor.Shape, bool) { return 0, in, true }
