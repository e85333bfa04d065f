package optimizers

import "github.com/myelin-go/myelin/autodiff"

// AdamW is Adam with decoupled weight decay (Loshchilov and Hutter 2017,
// arXiv:1711.05101), Keras 3's AdamW: an Adam whose Decay is on by
// default, with Keras's rate 0.004. Each step first shrinks every decayed
// parameter, w ← w − lr·WeightDecay·w, then applies Adam's update (see
// Adam and Decay). torch.optim.AdamW does the same, w ← w·(1 − lr·wd),
// with PyTorch's ε placement (set PyTorchEpsilon) and its default decay
// 0.01; both multiply the decay by the full learning rate, not by the
// paper's schedule multiplier alone. Which parameters decay is Decay's
// rule: by default not biases nor normalization gammas and betas, where
// Keras and PyTorch decay every parameter they are given.
//
// The configuration and slots are Adam's, under the name "adamw".
type AdamW struct {
	Adam
}

// NewAdamW returns AdamW with Keras's defaults: Adam's (LR 1e-3, Beta1
// 0.9, Beta2 0.999, Epsilon 1e-7) and WeightDecay 0.004.
func NewAdamW() *AdamW {
	o := &AdamW{Adam: *NewAdam()}
	o.WeightDecay = 0.004
	return o
}

// Name returns "adamw".
func (o *AdamW) Name() string { return "adamw" }

// Config returns Adam's configuration under the name "adamw", with
// weight_decay always present (Keras's AdamW requires one).
func (o *AdamW) Config() map[string]any {
	m := o.config(o.Name())
	m["weight_decay"] = o.WeightDecay
	return m
}

// Validate reports an error in the cases Adam's Validate does, naming
// AdamW and NewAdamW.
func (o *AdamW) Validate() error { return o.validate("adamw", "AdamW", "NewAdamW") }

// Step applies the weight decay and then one Adam update to each
// parameter; see Optimizer.Step.
func (o *AdamW) Step(params []*autodiff.Var) error { return o.step("adamw", params, o.Validate) }
