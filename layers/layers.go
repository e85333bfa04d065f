// Package layers holds the objects that own weights: Dense, Conv2D,
// DepthwiseConv2D, BatchNormalization, LayerNormalization, GroupNormalization, and the
// layers without weights (Activation, Dropout, MaxPooling2D,
// AveragePooling2D, GlobalAveragePooling2D, Flatten, Reshape, Rescaling),
// plus the regularizers L1, L2 and L1L2. The math lives in package nn;
// a layer keeps its parameters (trainable) and its state (saved, never
// trained), and forwards a Pass through nn's functions.
//
// Layers use Keras's names and defaults. Their exported fields are their
// configuration, set by the constructor and changeable before the first
// Build; they are also what the model's architecture JSON holds.
//
// # Adding a layer
//
// A layer type, built in or defined in another package, registers itself
// from its own file with Register, so that New (and through it a model
// file's architecture) can make it by its Type name. What only some layers
// do is asked through small optional interfaces, never by naming a type:
//
//   - Activated: the layer ends in an activation that a loss may fuse
//     with (softmax into cross-entropy) and that monitors look behind;
//   - WeightCounter: how many weight values Build will allocate, so that
//     loading a file can refuse one that asks for more memory than its
//     size allows before anything is allocated;
//   - Normalizer: moving statistics that monitors read and recalibration
//     recomputes;
//   - Stateful: state changed by a training Forward, held back until the
//     step is known to be good;
//   - Regularized: a penalty (Keras's kernel and bias regularizers) that
//     the model adds to the loss.
//
// A layer whose training Forward is random (Dropout) draws from Pass.Rand
// and acts as at inference when Rand is nil.
package layers

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/reduce"
	"github.com/myelin-go/myelin/tensor"
)

// Pass carries what a forward pass needs: the tape, whether this is
// training (batch statistics, dropout) or inference, and the random source
// for dropout. Training is an argument, as in Keras's call(training=).
type Pass struct {
	Tape     *autodiff.Tape
	Training bool
	// Rand is the source of a training pass's randomness (dropout masks).
	// A training pass without one is deterministic: random layers act as
	// at inference, while batch normalization still uses the batch's
	// statistics. Monitors use such passes to look at training-mode
	// outputs without drawing from (and so changing) the model's
	// generator.
	Rand *rand.Rand
	// Shards, when set, says that this pass sees one shard of a batch
	// that the group's members hold between them, and that layers with
	// statistics across samples (batch normalization) must take them over
	// the whole batch through the group (package reduce). Layers whose
	// training Forward changes their own state (Stateful) change it on
	// member 0 only, unless Replica is set.
	Shards reduce.Group
	// Replica says that every member of Shards runs a model of its own
	// (the ranks of a distributed job), so that Stateful layers change
	// their state on every member: each holds the same statistics.
	Replica bool
}

// Weight is one named array of a layer: a trainable parameter (Param is
// set and holds Value) or state such as a moving mean (Param is nil).
type Weight struct {
	Name  string         // Keras's name within the layer: "kernel", "bias", "gamma", "moving_mean", ...
	Value *tensor.Tensor // the array
	Param *autodiff.Var  // the parameter, nil for state
}

// Trainable reports whether an optimizer updates w.
func (w Weight) Trainable() bool { return w.Param != nil && w.Param.NeedsGrad() }

// Layer is one stage of a model.
type Layer interface {
	// Type is the Keras class name: "Dense", "BatchNormalization", ...
	Type() string
	// Name is the instance name, e.g. "dense_1"; the model assigns one when empty.
	Name() string
	SetName(name string)
	// Build creates the weights for inputs of feature shape in (without the
	// batch axis) and returns the output's feature shape.
	Build(in tensor.Shape, dt tensor.DType, rng *rand.Rand) (tensor.Shape, error)
	// Built reports whether Build has run.
	Built() bool
	// Forward maps a batch x, shaped (batch, features...), to the layer's output.
	Forward(p *Pass, x *autodiff.Var) *autodiff.Var
	// Weights lists parameters and state in a fixed order.
	Weights() []Weight
}

// Stateful layers change state during a training Forward (batch norm's
// moving statistics). The change is held back until Commit, so that a step
// whose loss or gradients are not finite can be dropped by Discard.
type Stateful interface {
	Commit()
	Discard()
}

// Base holds what every layer has: its name and whether it trains. A
// layer from another package embeds it for Name, SetName and Frozen, and
// defines its own Built (the flag Base keeps is set by this package's
// layers only) and, for Frozen, calls SetTrainable(!Frozen) on its
// parameters in Build.
type Base struct {
	LayerName string `json:"name,omitempty"`
	// Frozen stops training of the layer's parameters (Keras's
	// trainable=False). A frozen BatchNormalization also runs in inference
	// mode inside Fit, as in Keras.
	Frozen bool `json:"frozen,omitempty"`
	built  bool
}

// Name returns the instance name.
func (b *Base) Name() string { return b.LayerName }

// SetName sets the instance name.
func (b *Base) SetName(n string) { b.LayerName = n }

// Built reports whether Build has run.
func (b *Base) Built() bool { return b.built }

func (b *Base) freeze(ps ...*autodiff.Var) {
	for _, p := range ps {
		if p != nil {
			p.SetTrainable(!b.Frozen)
		}
	}
}

// Config returns l's configuration as JSON (its exported fields).
func Config(l Layer) (json.RawMessage, error) {
	b, err := json.Marshal(l)
	if err != nil {
		return nil, fmt.Errorf("layers: %s config: %w", l.Type(), err)
	}
	return b, nil
}

// featureLen returns the last axis of in, or an error naming the layer.
func featureLen(typ string, in tensor.Shape) (int, error) {
	if len(in) == 0 || in[len(in)-1] <= 0 {
		return 0, fmt.Errorf("layers: %s: input feature shape %s has no feature axis", typ, in)
	}
	return in[len(in)-1], nil
}
