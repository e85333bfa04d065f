package layers

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// LayerNormalization normalizes each sample over its last axis, then
// scales each feature by Gamma and shifts it by Beta (Ba, Kiros and Hinton
// 2016, arXiv:1607.06450):
//
//	y = γ·(x − mean(x))/√(var(x) + ε) + β   (mean and biased variance over the last axis)
//
// The statistics belong to the sample, not the batch, so training and
// inference compute the same thing, there is no state, and a batch of one
// trains. Defaults are Keras 3's: Axis −1 (the only axis supported),
// Epsilon 1e-3, Center and Scale on. PyTorch's nn.LayerNorm defaults to
// ε = 1e-5. Gamma and Beta are named "gamma" and "beta", which weight decay
// skips by default.
type LayerNormalization struct {
	Base
	Axis    int     `json:"axis"`    // the normalized axis; only −1, the last, is supported
	Epsilon float64 `json:"epsilon"` // added to the variance before the square root
	Center  bool    `json:"center"`  // learn Beta
	Scale   bool    `json:"scale"`   // learn Gamma

	Gamma, Beta *autodiff.Var `json:"-"` // (features,); nil when off
}

// NewLayerNormalization returns the layer with Keras's defaults.
func NewLayerNormalization() *LayerNormalization {
	return &LayerNormalization{Axis: -1, Epsilon: 1e-3, Center: true, Scale: true}
}

func init() { Register("LayerNormalization", func() Layer { return NewLayerNormalization() }) }

// Type returns "LayerNormalization".
func (l *LayerNormalization) Type() string { return "LayerNormalization" }

func (l *LayerNormalization) validate() error {
	if l.Axis != -1 {
		return fmt.Errorf("layers: LayerNormalization: axis %d unsupported; only -1 (the last axis) is", l.Axis)
	}
	return validEpsilon("LayerNormalization", l.Epsilon)
}

// validEpsilon refuses an ε that is not positive and finite.
func validEpsilon(typ string, eps float64) error {
	if !(eps > 0) || math.IsInf(eps, 0) {
		return fmt.Errorf("layers: %s: epsilon %g must be positive and finite", typ, eps)
	}
	return nil
}

// Build creates Gamma and Beta, one value per feature of the last axis.
func (l *LayerNormalization) Build(in tensor.Shape, dt tensor.DType, _ *rand.Rand) (tensor.Shape, error) {
	if err := l.validate(); err != nil {
		return nil, err
	}
	n, err := featureLen("LayerNormalization", in)
	if err != nil {
		return nil, err
	}
	l.Gamma, l.Beta = affine(l.Name(), l.Scale, l.Center, dt, n)
	l.freeze(l.Gamma, l.Beta)
	l.built = true
	return in.Clone(), nil
}

// affine returns a gamma of ones and a beta of zeros of n values, each nil
// when off.
func affine(name string, scale, center bool, dt tensor.DType, n int) (gamma, beta *autodiff.Var) {
	if scale {
		gamma = autodiff.NewParam(tensor.Ones(dt, n), name+"/gamma")
	}
	if center {
		beta = autodiff.NewParam(tensor.Zeros(dt, n), name+"/beta")
	}
	return gamma, beta
}

// affineWeights lists gamma and beta when on.
func affineWeights(gamma, beta *autodiff.Var) []Weight {
	var ws []Weight
	if gamma != nil {
		ws = append(ws, Weight{Name: "gamma", Value: gamma.Value, Param: gamma})
	}
	if beta != nil {
		ws = append(ws, Weight{Name: "beta", Value: beta.Value, Param: beta})
	}
	return ws
}

// Forward normalizes x; training or not makes no difference.
func (l *LayerNormalization) Forward(p *Pass, x *autodiff.Var) *autodiff.Var {
	return nn.LayerNorm(p.Tape, x, l.Gamma, l.Beta, l.Epsilon)
}

// Weights returns gamma and beta, when on, as parameters.
func (l *LayerNormalization) Weights() []Weight {
	if !l.built {
		return nil
	}
	return affineWeights(l.Gamma, l.Beta)
}

// WeightCount returns (Scale + Center)·features, and the input shape; ok
// is false when Build would refuse the configuration.
func (l *LayerNormalization) WeightCount(in tensor.Shape) (uint64, tensor.Shape, bool) {
	if len(in) == 0 || in[len(in)-1] <= 0 || l.validate() != nil {
		return 0, nil, false
	}
	return SatMul(affineCount(l.Scale, l.Center), uint64(in[len(in)-1])), in, true
}

func affineCount(scale, center bool) uint64 {
	var k uint64
	if scale {
		k++
	}
	if center {
		k++
	}
	return k
}

var _ WeightCounter = (*LayerNormalization)(nil)
