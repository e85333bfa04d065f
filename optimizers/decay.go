package optimizers

import (
	"fmt"
	"math"
	"strings"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/tensor"
)

// Decay is the weight decay every optimizer embeds, applied as Keras 3
// applies its weight_decay argument: before a step's update, each decayed
// parameter shrinks by the current learning rate times WeightDecay,
//
//	w ← w − lr·WeightDecay·w
//
// and the update then runs on the shrunk w with the unchanged gradient
// ("decoupled" weight decay, Loshchilov and Hutter 2017,
// arXiv:1711.05101). torch.optim.AdamW does the same (w ← w·(1 − lr·wd));
// the weight_decay of torch.optim.Adam, SGD, RMSprop, Adagrad and NAdam
// instead adds wd·w to the gradient (an L2 penalty), which is a different
// update for every optimizer but plain SGD.
//
// # Which parameters decay
//
// Keras decays every trainable variable unless exclude_from_weight_decay
// names it. Here the default is the common practice instead (BERT's
// AdamWeightDecay excludes "bias" and "LayerNorm", timm's parameter groups
// every bias and normalization weight): biases and the scale and offset
// of normalization layers do not decay. A parameter is excluded when the last
// "/"-separated element of its Name is "bias", "gamma" or "beta" (the
// names layers give them: "dense/bias", "batch_normalization/gamma"), unless
// DecayAll is set, and whenever its Name contains one of the strings in
// ExcludeFromWeightDecay (Keras's var_names are regular expressions
// searched in the name; a plain name behaves the same). The rule reads
// names only, so it survives a checkpoint as the configuration does, and a
// model can steer it by naming its parameters. Decays reports the outcome
// for one parameter.
//
// The zero Decay is off, so every optimizer but AdamW (whose constructor
// sets Keras's 0.004) starts without decay.
type Decay struct {
	// WeightDecay ≥ 0 is the decay rate; 0 turns it off.
	WeightDecay float64
	// DecayAll decays biases and normalization gammas and betas too, as
	// Keras does by default.
	DecayAll bool `json:",omitempty"`
	// ExcludeFromWeightDecay lists substrings of the names of further
	// parameters that must not decay.
	ExcludeFromWeightDecay []string `json:",omitempty"`
}

// Decays reports whether p decays: WeightDecay is positive and the rules
// in Decay's documentation do not exclude p.
func (d *Decay) Decays(p *autodiff.Var) bool {
	if d.WeightDecay <= 0 {
		return false
	}
	if !d.DecayAll {
		switch p.Name[strings.LastIndexByte(p.Name, '/')+1:] {
		case "bias", "gamma", "beta":
			return false
		}
	}
	for _, e := range d.ExcludeFromWeightDecay {
		if strings.Contains(p.Name, e) {
			return false
		}
	}
	return true
}

// config adds the decay settings that are on to m, under Keras's keys
// (decay_all has no Keras counterpart).
func (d *Decay) config(m map[string]any) {
	if d.WeightDecay > 0 {
		m["weight_decay"] = d.WeightDecay
	}
	if d.DecayAll {
		m["decay_all"] = true
	}
	if len(d.ExcludeFromWeightDecay) > 0 {
		m["exclude_from_weight_decay"] = append([]string(nil), d.ExcludeFromWeightDecay...)
	}
}

func (d *Decay) validate(name string) error {
	if !(d.WeightDecay >= 0) || math.IsInf(d.WeightDecay, 0) {
		return fmt.Errorf("optimizers: %s: weight_decay %g is not a finite number ≥ 0", name, d.WeightDecay)
	}
	for _, e := range d.ExcludeFromWeightDecay {
		if e == "" {
			return fmt.Errorf("optimizers: %s: an empty name in ExcludeFromWeightDecay would exclude every parameter", name)
		}
	}
	return nil
}

// apply shrinks p by lr·WeightDecay when p decays. The product w·wd·lr is
// formed as Keras forms it, in the parameter's type.
func (d *Decay) apply(p *autodiff.Var, lr float64) {
	if !d.Decays(p) {
		return
	}
	if p.DType() == tensor.Float32 {
		decayStep(p.Value.Float32s(), float32(d.WeightDecay), float32(lr))
	} else {
		decayStep(p.Value.Float64s(), d.WeightDecay, lr)
	}
}

// decayStep sets w[i] −= w[i]·wd·lr.
func decayStep[T float](w []T, wd, lr T) {
	for i, v := range w {
		w[i] = v - v*wd*lr
	}
}
