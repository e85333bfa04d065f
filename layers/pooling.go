package layers

import (
	"fmt"
	"math/rand/v2"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// Pool2D is the configuration MaxPooling2D and AveragePooling2D share, by
// Keras's names: a PoolSize window moved by Strides (zero, Keras's None,
// means PoolSize) with "valid" or "same" padding.
type Pool2D struct {
	Base
	PoolSize Size2      `json:"pool_size"`
	Strides  Size2      `json:"strides,omitzero"`
	Padding  nn.Padding `json:"padding"`
}

func (p *Pool2D) validate(typ string) error {
	if err := p.PoolSize.positive(typ, "pool_size"); err != nil {
		return err
	}
	if p.Strides != (Size2{}) {
		if err := p.Strides.positive(typ, "strides"); err != nil {
			return err
		}
	}
	if p.Padding > nn.Same {
		return fmt.Errorf("layers: %s: unknown padding %d", typ, p.Padding)
	}
	return nil
}

func (p *Pool2D) strides() [2]int {
	if p.Strides == (Size2{}) {
		return p.PoolSize
	}
	return p.Strides
}

// outShape returns the output feature shape for inputs of feature shape in.
func (p *Pool2D) outShape(typ string, in []int) (tensor.Shape, error) {
	if err := p.validate(typ); err != nil {
		return nil, err
	}
	h, w, c, err := spatial(typ, p.Name(), in)
	if err != nil {
		return nil, err
	}
	s := p.strides()
	oh, _ := nn.OutSize(h, p.PoolSize[0], s[0], 1, p.Padding)
	ow, _ := nn.OutSize(w, p.PoolSize[1], s[1], 1, p.Padding)
	if oh <= 0 || ow <= 0 {
		return nil, fmt.Errorf("layers: %s %q: a %v pool does not fit a %d×%d input with %s padding", typ, p.Name(), [2]int(p.PoolSize), h, w, p.Padding)
	}
	return tensor.Shape{oh, ow, c}, nil
}

// Weights returns nil: pooling has no weights.
func (p *Pool2D) Weights() []Weight { return nil }

// MaxPooling2D keeps the largest value of each window, per channel
// (Keras's MaxPooling2D). Padding never wins.
type MaxPooling2D struct{ Pool2D }

// NewMaxPooling2D returns the layer pooling size windows, moved by size.
func NewMaxPooling2D(size Size2) *MaxPooling2D { return &MaxPooling2D{Pool2D{PoolSize: size}} }

// AveragePooling2D averages each window, per channel (Keras's
// AveragePooling2D). With "same" padding a border window averages its
// image pixels only, as in Keras; PyTorch's avg_pool2d counts the padding
// unless count_include_pad=False.
type AveragePooling2D struct{ Pool2D }

// NewAveragePooling2D returns the layer pooling size windows, moved by size.
func NewAveragePooling2D(size Size2) *AveragePooling2D {
	return &AveragePooling2D{Pool2D{PoolSize: size}}
}

func init() {
	Register("MaxPooling2D", func() Layer { return NewMaxPooling2D(Size2{2, 2}) })
	Register("AveragePooling2D", func() Layer { return NewAveragePooling2D(Size2{2, 2}) })
}

// Type returns "MaxPooling2D".
func (l *MaxPooling2D) Type() string { return "MaxPooling2D" }

func (l *MaxPooling2D) validate() error { return l.Pool2D.validate(l.Type()) }

// Build checks the input, shaped (height, width, channels).
func (l *MaxPooling2D) Build(in tensor.Shape, _ tensor.DType, _ *rand.Rand) (tensor.Shape, error) {
	out, err := l.outShape(l.Type(), in)
	l.built = err == nil
	return out, err
}

// Forward pools x.
func (l *MaxPooling2D) Forward(p *Pass, x *autodiff.Var) *autodiff.Var {
	return nn.MaxPool2D(p.Tape, x, l.PoolSize, l.strides(), l.Padding)
}

// HalvesByMax reports whether the layer pools 2×2 windows at strides of
// 2 without padding, for HalvingMaxPool.
func (l *MaxPooling2D) HalvesByMax() bool {
	return l.PoolSize == Size2{2, 2} && l.strides() == [2]int{2, 2} && l.Padding == nn.Valid
}

// WeightCount returns 0 and the output shape.
func (l *MaxPooling2D) WeightCount(in tensor.Shape) (uint64, tensor.Shape, bool) {
	out, err := l.outShape(l.Type(), in)
	return 0, out, err == nil
}

// Type returns "AveragePooling2D".
func (l *AveragePooling2D) Type() string { return "AveragePooling2D" }

func (l *AveragePooling2D) validate() error { return l.Pool2D.validate(l.Type()) }

// Build checks the input, shaped (height, width, channels).
func (l *AveragePooling2D) Build(in tensor.Shape, _ tensor.DType, _ *rand.Rand) (tensor.Shape, error) {
	out, err := l.outShape(l.Type(), in)
	l.built = err == nil
	return out, err
}

// Forward pools x.
func (l *AveragePooling2D) Forward(p *Pass, x *autodiff.Var) *autodiff.Var {
	return nn.AvgPool2D(p.Tape, x, l.PoolSize, l.strides(), l.Padding)
}

// WeightCount returns 0 and the output shape.
func (l *AveragePooling2D) WeightCount(in tensor.Shape) (uint64, tensor.Shape, bool) {
	out, err := l.outShape(l.Type(), in)
	return 0, out, err == nil
}

// GlobalAveragePooling2D averages each channel over the image:
// (height, width, channels) → (channels,), Keras's GlobalAveragePooling2D
// (without keepdims).
type GlobalAveragePooling2D struct{ Base }

// NewGlobalAveragePooling2D returns the layer.
func NewGlobalAveragePooling2D() *GlobalAveragePooling2D { return &GlobalAveragePooling2D{} }

func init() {
	Register("GlobalAveragePooling2D", func() Layer { return NewGlobalAveragePooling2D() })
}

// Type returns "GlobalAveragePooling2D".
func (l *GlobalAveragePooling2D) Type() string { return "GlobalAveragePooling2D" }

// Build checks the input, shaped (height, width, channels).
func (l *GlobalAveragePooling2D) Build(in tensor.Shape, _ tensor.DType, _ *rand.Rand) (tensor.Shape, error) {
	_, _, c, err := spatial(l.Type(), l.Name(), in)
	if err != nil {
		return nil, err
	}
	l.built = true
	return tensor.Shape{c}, nil
}

// Forward averages x over its height and width.
func (l *GlobalAveragePooling2D) Forward(p *Pass, x *autodiff.Var) *autodiff.Var {
	return nn.GlobalAvgPool2D(p.Tape, x)
}

// Weights returns nil: the layer has none.
func (l *GlobalAveragePooling2D) Weights() []Weight { return nil }

// WeightCount returns 0 and the output shape.
func (l *GlobalAveragePooling2D) WeightCount(in tensor.Shape) (uint64, tensor.Shape, bool) {
	_, _, c, err := spatial(l.Type(), l.Name(), in)
	return 0, tensor.Shape{c}, err == nil
}
