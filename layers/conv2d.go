package layers

import (
	"fmt"
	"math/rand/v2"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// Conv2D is a 2-D convolution over images stored channels last (height,
// width, channels), Keras's Conv2D: activation(conv(x, Kernel) + Bias),
// Kernel shaped (kh, kw, channels, filters). See nn.Conv2D for the sum and
// nn.OutSize for the "valid" and "same" geometry (TensorFlow's: the odd
// padding pixel goes at the bottom and right).
//
// PyTorch's Conv2d differs in layout only: NCHW inputs and a (filters,
// channels, kh, kw) kernel; its padding="same" is symmetric and refuses
// strides, where Keras's pads the extra pixel at the end.
type Conv2D struct {
	Base
	Filters           int           `json:"filters"`
	KernelSize        Size2         `json:"kernel_size"`
	Strides           Size2         `json:"strides"`
	Padding           nn.Padding    `json:"padding"`
	DilationRate      Size2         `json:"dilation_rate"`
	Activation        nn.Activation `json:"activation"`
	UseBias           bool          `json:"use_bias"`
	KernelInitializer Initializer   `json:"kernel_initializer"`
	BiasInitializer   Initializer   `json:"bias_initializer"`

	Kernel *autodiff.Var `json:"-"` // (kh, kw, channels, filters)
	Bias   *autodiff.Var `json:"-"` // (filters,); nil without bias
}

// NewConv2D returns a Conv2D layer with Keras's defaults: strides and
// dilation 1, "valid" padding, a bias, a glorot-uniform kernel and a zero
// bias.
func NewConv2D(filters int, kernelSize Size2, act nn.Activation) *Conv2D {
	return &Conv2D{Filters: filters, KernelSize: kernelSize, Strides: Size2{1, 1}, DilationRate: Size2{1, 1},
		Activation: act, UseBias: true, KernelInitializer: GlorotUniform, BiasInitializer: Zeros}
}

func init() { Register("Conv2D", func() Layer { return NewConv2D(0, Size2{}, 0) }) }

// Type returns "Conv2D".
func (l *Conv2D) Type() string { return "Conv2D" }

func (l *Conv2D) validate() error {
	if l.Filters <= 0 {
		return fmt.Errorf("layers: Conv2D: filters %d must be positive", l.Filters)
	}
	return validateWindow("Conv2D", l.KernelSize, l.Strides, l.DilationRate, l.Activation, l.Padding,
		l.KernelInitializer, l.BiasInitializer)
}

// validateWindow checks the options the convolution layers share.
func validateWindow(typ string, kernel, strides, dilation Size2, act nn.Activation, pad nn.Padding, inits ...Initializer) error {
	for _, f := range []struct {
		s    Size2
		name string
	}{{kernel, "kernel_size"}, {strides, "strides"}, {dilation, "dilation_rate"}} {
		if err := f.s.positive(typ, f.name); err != nil {
			return err
		}
	}
	if act > nn.ActSoftmax {
		return fmt.Errorf("layers: %s: unknown activation %d", typ, act)
	}
	if pad > nn.Same {
		return fmt.Errorf("layers: %s: unknown padding %d", typ, pad)
	}
	for _, in := range inits {
		if err := in.validate(); err != nil {
			return err
		}
	}
	return nil
}

// outShape returns the output feature shape for inputs of feature shape in.
func (l *Conv2D) outShape(in []int) (tensor.Shape, int, error) {
	oh, ow, c, err := windowOut("Conv2D", l.Name(), in, l.KernelSize, l.Strides, l.DilationRate, l.Padding)
	if err != nil {
		return nil, 0, err
	}
	return tensor.Shape{oh, ow, l.Filters}, c, nil
}

// windowOut returns the output height and width of a convolution layer's
// window over an image of feature shape in, and the image's channels.
func windowOut(typ, name string, in []int, kernel, strides, dilation Size2, pad nn.Padding) (oh, ow, c int, err error) {
	h, w, c, err := spatial(typ, name, in)
	if err != nil {
		return 0, 0, 0, err
	}
	oh, _ = nn.OutSize(h, kernel[0], strides[0], dilation[0], pad)
	ow, _ = nn.OutSize(w, kernel[1], strides[1], dilation[1], pad)
	if oh <= 0 || ow <= 0 {
		return 0, 0, 0, fmt.Errorf("layers: %s %q: a %v kernel with dilation %v does not fit a %d×%d input with %s padding",
			typ, name, [2]int(kernel), [2]int(dilation), h, w, pad)
	}
	return oh, ow, c, nil
}

// Build creates Kernel and Bias for inputs of shape (height, width,
// channels). The initializers see Keras's fans: kh·kw·channels in,
// kh·kw·filters out.
func (l *Conv2D) Build(in tensor.Shape, dt tensor.DType, rng *rand.Rand) (tensor.Shape, error) {
	if err := l.validate(); err != nil {
		return nil, err
	}
	out, c, err := l.outShape(in)
	if err != nil {
		return nil, err
	}
	kh, kw, f := l.KernelSize[0], l.KernelSize[1], l.Filters
	k := tensor.New(dt, kh, kw, c, f)
	l.KernelInitializer.Fill(k, kh*kw*c, kh*kw*f, rng)
	l.Kernel = autodiff.NewParam(k, l.Name()+"/kernel")
	l.Bias = nil
	if l.UseBias {
		b := tensor.New(dt, f)
		l.BiasInitializer.Fill(b, kh*kw*c, kh*kw*f, rng)
		l.Bias = autodiff.NewParam(b, l.Name()+"/bias")
	}
	l.freeze(l.Kernel, l.Bias)
	l.built = true
	return out, nil
}

func (l *Conv2D) opts() nn.Conv2DOptions {
	return nn.Conv2DOptions{Strides: l.Strides, Dilation: l.DilationRate, Padding: l.Padding}
}

// Forward returns activation(conv(x, Kernel) + Bias) as one fused op.
func (l *Conv2D) Forward(p *Pass, x *autodiff.Var) *autodiff.Var {
	return nn.Conv2D(p.Tape, x, l.Kernel, l.Bias, l.opts(), l.Activation)
}

// Act returns the activation, for Activated.
func (l *Conv2D) Act() nn.Activation { return l.Activation }

// ForwardLinear is Forward without the activation, for Activated.
func (l *Conv2D) ForwardLinear(p *Pass, x *autodiff.Var) *autodiff.Var {
	return nn.Conv2D(p.Tape, x, l.Kernel, l.Bias, l.opts(), nn.Linear)
}

// FusesNorm reports whether the activation is linear, for NormFuser.
func (l *Conv2D) FusesNorm() bool { return l.Activation == nn.Linear }

// ForwardNormalize is nn.Conv2DNormalize, for NormFuser.
func (l *Conv2D) ForwardNormalize(p *Pass, x *autodiff.Var, n nn.Norm, relu, pool bool) *autodiff.Var {
	return nn.Conv2DNormalize(p.Tape, x, l.Kernel, l.Bias, l.opts(), n, relu, pool)
}

// Weights returns kernel and, with a bias, bias.
func (l *Conv2D) Weights() []Weight {
	if !l.built {
		return nil
	}
	ws := []Weight{{Name: "kernel", Value: l.Kernel.Value, Param: l.Kernel}}
	if l.Bias != nil {
		ws = append(ws, Weight{Name: "bias", Value: l.Bias.Value, Param: l.Bias})
	}
	return ws
}

// WeightCount returns kh·kw·channels·filters, plus filters with a bias,
// and the output shape.
func (l *Conv2D) WeightCount(in tensor.Shape) (uint64, tensor.Shape, bool) {
	if l.validate() != nil {
		return 0, nil, false
	}
	out, c, err := l.outShape(in)
	if err != nil {
		return 0, nil, false
	}
	f := uint64(l.Filters)
	n := SatMul(SatMul(uint64(l.KernelSize[0]), uint64(l.KernelSize[1])), SatMul(uint64(c), f))
	if l.UseBias {
		n = SatAdd(n, f)
	}
	return n, out, true
}

var (
	_ Activated     = (*Conv2D)(nil)
	_ WeightCounter = (*Conv2D)(nil)
	_ WeightCounter = (*MaxPooling2D)(nil)
	_ WeightCounter = (*AveragePooling2D)(nil)
	_ WeightCounter = (*GlobalAveragePooling2D)(nil)
	_ WeightCounter = (*Reshape)(nil)
	_ WeightCounter = (*Flatten)(nil)
	_ WeightCounter = (*Rescaling)(nil)
)
