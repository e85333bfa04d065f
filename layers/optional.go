package layers

import (
	"math"
	"math/bits"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// What only some layers do is asked through these interfaces, so that code
// serving every layer (a model, a monitor, a loader) never names a layer
// type, and a layer from another package takes part by implementing them.

// Activated is a layer that ends in an activation function: Forward is
// Act applied to ForwardLinear. A model fuses a final softmax or sigmoid
// into a cross-entropy loss through it, and monitors read the
// pre-activations through it. Dense implements it, and so does
// Activation, whose ForwardLinear returns its input.
type Activated interface {
	Layer
	// Act returns the activation Forward applies last.
	Act() nn.Activation
	// ForwardLinear is Forward without the activation.
	ForwardLinear(p *Pass, x *autodiff.Var) *autodiff.Var
}

// ReLUFuser is a layer that can apply a ReLU to its output in its own
// op, with the same values and gradients as an Activation layer of ReLU
// after it. A model runs such a pair through ForwardReLU when nothing
// needs the layer's own output. BatchNormalization implements it.
type ReLUFuser interface {
	Layer
	ForwardReLU(p *Pass, x *autodiff.Var) *autodiff.Var
}

// NormFuser is a layer whose linear output a batch normalization in its
// inference form (and a ReLU and a halving max pool after it) can finish
// in the layer's own op, with the same values to the bit: at inference the
// normalization then runs on the product while it is in cache, with no
// pass of its own. A model runs such a run of layers through
// ForwardNormalize when nothing needs the values in between. Conv2D
// implements it.
type NormFuser interface {
	Layer
	// FusesNorm reports whether ForwardNormalize applies: the layer's own
	// activation is linear.
	FusesNorm() bool
	// ForwardNormalize is Forward followed by normalizing with n, then a
	// ReLU when relu, then when pool a max pool over 2×2 windows of
	// stride 2 without padding.
	ForwardNormalize(p *Pass, x *autodiff.Var, n nn.Norm, relu, pool bool) *autodiff.Var
}

// HalvingMaxPool is a layer that may be a max pool over 2×2 windows of
// stride 2 without padding, which a NormFuser can run in its own op.
// MaxPooling2D implements it.
type HalvingMaxPool interface {
	Layer
	// HalvesByMax reports whether Forward is such a pool.
	HalvesByMax() bool
}

// InferenceNormer is a layer that in some modes is batch normalization's
// inference form, for NormFuser. BatchNormalization implements it.
type InferenceNormer interface {
	Layer
	// InferenceNorm returns the statistics, scale and shift Forward uses in
	// p's mode, and false when Forward does something else there (it
	// normalizes with the batch's statistics).
	InferenceNorm(p *Pass) (nn.Norm, bool)
}

// WeightCounter is a layer that can tell, before Build, how many weight
// values (parameters and state) Build will allocate for inputs of feature
// shape in, and the output feature shape, with ok false when Build would
// fail first. Loading a model file sums the counts to refuse, before
// allocating anything, an architecture that asks for more memory than the
// file's size allows; a layer that does not implement it ends the count
// there, so the check then covers only the layers before it. A layer from
// another package should implement it for a file naming it to be held to
// that bound too. Counts saturate at math.MaxUint64 (see SatAdd, SatMul).
type WeightCounter interface {
	Layer
	WeightCount(in tensor.Shape) (n uint64, out tensor.Shape, ok bool)
}

// Normalizer is a layer that normalizes with moving statistics at
// inference (batch normalization and its spatial or synchronized kin).
// Monitors read the statistics through it, and recalibration overwrites
// them with a dataset's.
type Normalizer interface {
	Layer
	// Moving returns the moving mean and variance, one value per feature
	// (the last axis): the layer's state tensors themselves, so writing
	// them changes the layer; and the ε added to the variance.
	Moving() (mean, variance *tensor.Tensor, epsilon float64)
	// Affine returns the learned scale and shift, nil when off.
	Affine() (gamma, beta *autodiff.Var)
	// BatchStatistics reports whether a training Forward normalizes with
	// the batch's own statistics (false when frozen): such a layer cannot
	// train on a batch of one sample, and recalibration recomputes its
	// moving statistics.
	BatchStatistics() bool
	// Unbiased reports whether the moving variance estimates the unbiased
	// variance (PyTorch's convention) rather than the biased one (Keras's).
	Unbiased() bool
}

// SatAdd returns a+b, or math.MaxUint64 when the sum overflows.
func SatAdd(a, b uint64) uint64 {
	if s := a + b; s >= a {
		return s
	}
	return math.MaxUint64
}

// SatMul returns a·b, or math.MaxUint64 when the product overflows.
func SatMul(a, b uint64) uint64 {
	if hi, lo := bits.Mul64(a, b); hi == 0 {
		return lo
	}
	return math.MaxUint64
}

var (
	_ Activated     = (*Dense)(nil)
	_ Activated     = (*Activation)(nil)
	_ WeightCounter = (*Dense)(nil)
	_ WeightCounter = (*BatchNormalization)(nil)
	_ WeightCounter = (*Activation)(nil)
	_ WeightCounter = (*Dropout)(nil)
	_ Normalizer    = (*BatchNormalization)(nil)
	_ Stateful      = (*BatchNormalization)(nil)
)
