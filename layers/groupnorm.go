package layers

import (
	"fmt"
	"math/rand/v2"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// GroupNormalization splits the channels (the last axis) into Groups runs
// of neighbours and normalizes each sample's group over its channels and
// every position of the axes between batch and channels, then scales each
// channel by Gamma and shifts it by Beta (Wu and He 2018,
// arXiv:1803.08494). On images shaped (batch, height, width, channels)
// each group's statistics cover height × width × channels/Groups values.
//
// As with LayerNormalization the statistics belong to the sample, so there
// is no state and small batches train as well as large ones. Groups 1 is
// layer normalization over all of a sample's axes; Groups −1, as in Keras,
// means one group per channel (instance normalization). Defaults are
// Keras 3's: Groups 32, Axis −1 (the only axis supported), Epsilon 1e-3,
// Center and Scale on. Groups must divide the channels. PyTorch's
// nn.GroupNorm takes channels first (N, C, H, W) and defaults to ε = 1e-5.
type GroupNormalization struct {
	Base
	Groups  int     `json:"groups"`  // channel groups; −1 means one per channel
	Axis    int     `json:"axis"`    // the channel axis; only −1, the last, is supported
	Epsilon float64 `json:"epsilon"` // added to the variance before the square root
	Center  bool    `json:"center"`  // learn Beta
	Scale   bool    `json:"scale"`   // learn Gamma

	Gamma, Beta *autodiff.Var `json:"-"` // (channels,); nil when off

	groups int // Groups resolved at Build
}

// NewGroupNormalization returns the layer with Keras's defaults.
func NewGroupNormalization() *GroupNormalization {
	return &GroupNormalization{Groups: 32, Axis: -1, Epsilon: 1e-3, Center: true, Scale: true}
}

func init() { Register("GroupNormalization", func() Layer { return NewGroupNormalization() }) }

// Type returns "GroupNormalization".
func (l *GroupNormalization) Type() string { return "GroupNormalization" }

func (l *GroupNormalization) validate() error {
	if l.Groups == 0 || l.Groups < -1 {
		return fmt.Errorf("layers: GroupNormalization: groups %d must be positive or -1 (one per channel)", l.Groups)
	}
	if l.Axis != -1 {
		return fmt.Errorf("layers: GroupNormalization: axis %d unsupported; only -1 (the last axis) is", l.Axis)
	}
	return validEpsilon("GroupNormalization", l.Epsilon)
}

// groupsFor returns the number of groups for c channels, or an error when
// Groups does not divide c.
func (l *GroupNormalization) groupsFor(c int) (int, error) {
	g := l.Groups
	if g == -1 {
		g = c
	}
	if g > c || c%g != 0 {
		return 0, fmt.Errorf("layers: GroupNormalization %q: groups %d must divide the %d channels (the last axis); pick a divisor of %d", l.Name(), g, c, c)
	}
	return g, nil
}

// Build creates Gamma and Beta, one value per channel, for inputs shaped
// (..., channels).
func (l *GroupNormalization) Build(in tensor.Shape, dt tensor.DType, _ *rand.Rand) (tensor.Shape, error) {
	if err := l.validate(); err != nil {
		return nil, err
	}
	c, err := featureLen("GroupNormalization", in)
	if err != nil {
		return nil, err
	}
	if l.groups, err = l.groupsFor(c); err != nil {
		return nil, err
	}
	l.Gamma, l.Beta = affine(l.Name(), l.Scale, l.Center, dt, c)
	l.freeze(l.Gamma, l.Beta)
	l.built = true
	return in.Clone(), nil
}

// Forward normalizes x; training or not makes no difference.
func (l *GroupNormalization) Forward(p *Pass, x *autodiff.Var) *autodiff.Var {
	return nn.GroupNorm(p.Tape, x, l.Gamma, l.Beta, l.groups, l.Epsilon)
}

// Weights returns gamma and beta, when on, as parameters.
func (l *GroupNormalization) Weights() []Weight {
	if !l.built {
		return nil
	}
	return affineWeights(l.Gamma, l.Beta)
}

// WeightCount returns (Scale + Center)·channels, and the input shape; ok
// is false when Groups does not divide the channels.
func (l *GroupNormalization) WeightCount(in tensor.Shape) (uint64, tensor.Shape, bool) {
	if len(in) == 0 || in[len(in)-1] <= 0 || l.validate() != nil {
		return 0, nil, false
	}
	c := in[len(in)-1]
	if _, err := l.groupsFor(c); err != nil {
		return 0, nil, false
	}
	return SatMul(affineCount(l.Scale, l.Center), uint64(c)), in, true
}

var _ WeightCounter = (*GroupNormalization)(nil)
