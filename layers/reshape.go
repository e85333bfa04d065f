package layers

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// Reshape gives each sample the shape TargetShape, keeping its values in
// row-major order (Keras's Reshape). One axis may be −1: the length that
// keeps the count. Reshape([28, 28, 1]) turns flat 784-pixel MNIST rows
// into images for Conv2D.
type Reshape struct {
	Base
	TargetShape []int `json:"target_shape"`

	out tensor.Shape // the resolved shape, −1 replaced
}

// NewReshape returns the layer reshaping samples to target.
func NewReshape(target ...int) *Reshape { return &Reshape{TargetShape: target} }

func init() { Register("Reshape", func() Layer { return NewReshape() }) }

// Type returns "Reshape".
func (l *Reshape) Type() string { return "Reshape" }

func (l *Reshape) validate() error {
	if len(l.TargetShape) == 0 || len(l.TargetShape) > 7 {
		return fmt.Errorf("layers: Reshape: target_shape %v must have 1 to 7 axes", l.TargetShape)
	}
	free := 0
	for _, d := range l.TargetShape {
		if d == -1 {
			free++
		} else if d <= 0 {
			return fmt.Errorf("layers: Reshape: target_shape %v: axes must be positive or one −1", l.TargetShape)
		}
	}
	if free > 1 {
		return fmt.Errorf("layers: Reshape: target_shape %v has more than one −1", l.TargetShape)
	}
	return nil
}

// resolve returns the target shape for inputs of feature shape in.
func (l *Reshape) resolve(in []int) (tensor.Shape, error) {
	if err := l.validate(); err != nil {
		return nil, err
	}
	n := tensor.Shape(in).Len()
	out := tensor.Shape(append([]int(nil), l.TargetShape...))
	known, free := 1, -1
	for i, d := range out {
		if d == -1 {
			free = i
		} else if known > math.MaxInt/d {
			return nil, fmt.Errorf("layers: Reshape %q: target_shape %v too large", l.Name(), l.TargetShape)
		} else {
			known *= d
		}
	}
	if free >= 0 && n%known == 0 {
		out[free] = n / known
		known = n
	}
	if known != n || len(in) == 0 {
		return nil, fmt.Errorf("layers: Reshape %q: input feature shape %v (%d values) cannot take target_shape %v", l.Name(), in, n, l.TargetShape)
	}
	return out, nil
}

// Build resolves the target shape for inputs of feature shape in.
func (l *Reshape) Build(in tensor.Shape, _ tensor.DType, _ *rand.Rand) (tensor.Shape, error) {
	out, err := l.resolve(in)
	if err != nil {
		return nil, err
	}
	l.out, l.built = out, true
	return out.Clone(), nil
}

// Forward reshapes each sample of x.
func (l *Reshape) Forward(p *Pass, x *autodiff.Var) *autodiff.Var {
	return nn.Reshape(p.Tape, x, l.out)
}

// Weights returns nil: the layer has none.
func (l *Reshape) Weights() []Weight { return nil }

// WeightCount returns 0 and the output shape.
func (l *Reshape) WeightCount(in tensor.Shape) (uint64, tensor.Shape, bool) {
	out, err := l.resolve(in)
	return 0, out, err == nil
}
