package layers

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// Rescaling maps each value v to v·Scale + Offset (Keras's Rescaling):
// Scale 1/255 turns byte pixels into [0, 1].
type Rescaling struct {
	Base
	Scale  float64 `json:"scale"`
	Offset float64 `json:"offset"`
}

// NewRescaling returns the layer computing v·scale + offset.
func NewRescaling(scale, offset float64) *Rescaling { return &Rescaling{Scale: scale, Offset: offset} }

func init() { Register("Rescaling", func() Layer { return NewRescaling(1, 0) }) }

// Type returns "Rescaling".
func (l *Rescaling) Type() string { return "Rescaling" }

func (l *Rescaling) validate() error {
	if math.IsNaN(l.Scale) || math.IsInf(l.Scale, 0) || math.IsNaN(l.Offset) || math.IsInf(l.Offset, 0) {
		return fmt.Errorf("layers: Rescaling: scale %g and offset %g must be finite", l.Scale, l.Offset)
	}
	return nil
}

// Build checks the configuration; the output has the input's shape.
func (l *Rescaling) Build(in tensor.Shape, _ tensor.DType, _ *rand.Rand) (tensor.Shape, error) {
	if err := l.validate(); err != nil {
		return nil, err
	}
	l.built = true
	return in.Clone(), nil
}

// Forward rescales x.
func (l *Rescaling) Forward(p *Pass, x *autodiff.Var) *autodiff.Var {
	return nn.Rescale(p.Tape, x, l.Scale, l.Offset)
}

// Weights returns nil: the layer has none.
func (l *Rescaling) Weights() []Weight { return nil }

// WeightCount returns 0 and the input's shape.
func (l *Rescaling) WeightCount(in tensor.Shape) (uint64, tensor.Shape, bool) { return 0, in, true }
