package layers

import (
	"fmt"
	"math/rand/v2"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// Dense is a fully connected layer: activation(x·Kernel + Bias).
type Dense struct {
	Base
	Units             int           `json:"units"`
	Activation        nn.Activation `json:"activation"`
	UseBias           bool          `json:"use_bias"`
	KernelInitializer Initializer   `json:"kernel_initializer"`
	BiasInitializer   Initializer   `json:"bias_initializer"`
	// InputDim fixes the input size; 0 means it is inferred at Build.
	InputDim int `json:"input_dim,omitempty"`
	// KernelRegularizer and BiasRegularizer add a penalty of the weight to
	// the training loss (see Regularizer); nil means none.
	KernelRegularizer *Regularizer `json:"kernel_regularizer,omitempty"`
	BiasRegularizer   *Regularizer `json:"bias_regularizer,omitempty"`

	Kernel *autodiff.Var `json:"-"` // (inputs, units)
	Bias   *autodiff.Var `json:"-"` // (units,); nil without bias
}

// NewDense returns a Dense layer with Keras's defaults: a bias, a
// glorot-uniform kernel and a zero bias.
func NewDense(units int, act nn.Activation) *Dense {
	return &Dense{Units: units, Activation: act, UseBias: true, KernelInitializer: GlorotUniform, BiasInitializer: Zeros}
}

func init() { Register("Dense", func() Layer { return NewDense(0, 0) }) }

// Type returns "Dense".
func (l *Dense) Type() string { return "Dense" }

func (l *Dense) validate() error {
	if l.Units <= 0 {
		return fmt.Errorf("layers: Dense: units %d must be positive", l.Units)
	}
	if l.Activation > nn.ActSoftmax {
		return fmt.Errorf("layers: Dense: unknown activation %d", l.Activation)
	}
	if err := l.KernelInitializer.validate(); err != nil {
		return err
	}
	if err := l.KernelRegularizer.validate("Dense: kernel_regularizer"); err != nil {
		return err
	}
	if err := l.BiasRegularizer.validate("Dense: bias_regularizer"); err != nil {
		return err
	}
	return l.BiasInitializer.validate()
}

// Build creates Kernel and Bias for inputs of shape (features,).
func (l *Dense) Build(in tensor.Shape, dt tensor.DType, rng *rand.Rand) (tensor.Shape, error) {
	if err := l.validate(); err != nil {
		return nil, err
	}
	if len(in) != 1 {
		return nil, fmt.Errorf("layers: Dense %q: input feature shape %s, want one axis (features,)", l.Name(), in)
	}
	n := in[0]
	if l.InputDim != 0 && l.InputDim != n {
		return nil, fmt.Errorf("layers: Dense %q: input has %d features, layer was declared with input_dim %d", l.Name(), n, l.InputDim)
	}
	k := tensor.New(dt, n, l.Units)
	l.KernelInitializer.Fill(k, n, l.Units, rng)
	l.Kernel = autodiff.NewParam(k, l.Name()+"/kernel")
	l.Bias = nil
	if l.UseBias {
		b := tensor.New(dt, l.Units)
		l.BiasInitializer.Fill(b, n, l.Units, rng)
		l.Bias = autodiff.NewParam(b, l.Name()+"/bias")
	}
	l.freeze(l.Kernel, l.Bias)
	l.built = true
	return tensor.Shape{l.Units}, nil
}

// Forward returns activation(x·Kernel + Bias) as one fused op.
func (l *Dense) Forward(p *Pass, x *autodiff.Var) *autodiff.Var {
	return nn.Dense(p.Tape, x, l.Kernel, l.Bias, l.Activation)
}

// Act returns the activation, for Activated.
func (l *Dense) Act() nn.Activation { return l.Activation }

// ForwardLinear is Forward without the activation: the logits a fused loss
// consumes.
func (l *Dense) ForwardLinear(p *Pass, x *autodiff.Var) *autodiff.Var {
	return nn.Dense(p.Tape, x, l.Kernel, l.Bias, nn.Linear)
}

// Weights returns kernel and, with a bias, bias.
func (l *Dense) Weights() []Weight {
	if !l.built {
		return nil
	}
	ws := []Weight{{Name: "kernel", Value: l.Kernel.Value, Param: l.Kernel}}
	if l.Bias != nil {
		ws = append(ws, Weight{Name: "bias", Value: l.Bias.Value, Param: l.Bias})
	}
	return ws
}

// WeightCount returns units·(features+1) (without a bias, units·features)
// for inputs of shape (features,), and the output shape (units,).
func (l *Dense) WeightCount(in tensor.Shape) (uint64, tensor.Shape, bool) {
	if len(in) != 1 || l.Units <= 0 {
		return 0, nil, false
	}
	units := uint64(l.Units)
	n := SatMul(uint64(in[0]), units)
	if l.UseBias {
		n = SatAdd(n, units)
	}
	return n, tensor.Shape{l.Units}, true
}

// Penalty returns the kernel's and the bias's regularization penalties
// summed, or nil when neither has a regularizer, for Regularized.
func (l *Dense) Penalty(tp *autodiff.Tape) *autodiff.Var {
	return addPenalty(tp, l.KernelRegularizer.of(tp, l.Kernel), l.BiasRegularizer.of(tp, l.Bias))
}
