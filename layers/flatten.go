package layers

import (
	"fmt"
	"math/rand/v2"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// Flatten makes each sample one axis (Keras's Flatten): (h, w, c) →
// (h·w·c,).
type Flatten struct{ Base }

// NewFlatten returns the layer.
func NewFlatten() *Flatten { return &Flatten{} }

func init() { Register("Flatten", func() Layer { return NewFlatten() }) }

var flat = tensor.Shape{-1}

// Type returns "Flatten".
func (l *Flatten) Type() string { return "Flatten" }

// Build returns the one-axis shape holding every value of in.
func (l *Flatten) Build(in tensor.Shape, _ tensor.DType, _ *rand.Rand) (tensor.Shape, error) {
	if len(in) == 0 {
		return nil, fmt.Errorf("layers: Flatten %q: input feature shape %v has no axis", l.Name(), in)
	}
	l.built = true
	return tensor.Shape{in.Len()}, nil
}

// Forward flattens each sample of x.
func (l *Flatten) Forward(p *Pass, x *autodiff.Var) *autodiff.Var {
	return nn.Reshape(p.Tape, x, flat)
}

// Weights returns nil: the layer has none.
func (l *Flatten) Weights() []Weight { return nil }

// WeightCount returns 0 and the output shape.
func (l *Flatten) WeightCount(in tensor.Shape) (uint64, tensor.Shape, bool) {
	return 0, tensor.Shape{in.Len()}, len(in) > 0
}
