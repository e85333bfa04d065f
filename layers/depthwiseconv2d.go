package layers

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// DepthwiseConv2D convolves each channel of an image, stored channels last
// (height, width, channels), with DepthMultiplier filters of its own and
// no sum across channels, Keras's DepthwiseConv2D: activation(
// depthwise_conv(x, DepthwiseKernel) + Bias), the kernel shaped (kh, kw,
// channels, depth_multiplier) and the output's channels·depth_multiplier
// channels ordered channel by channel (see nn.DepthwiseConv2D). Followed
// by a 1×1 Conv2D it is a depthwise-separable convolution (MobileNet's
// block), at a fraction of a full Conv2D's weights and products.
//
// PyTorch's equivalent is Conv2d with groups=channels and
// out_channels=channels·depth_multiplier, whose (out, 1, kh, kw) weight
// lists the same values in another layout.
type DepthwiseConv2D struct {
	Base
	KernelSize           Size2         `json:"kernel_size"`
	Strides              Size2         `json:"strides"`
	Padding              nn.Padding    `json:"padding"`
	DepthMultiplier      int           `json:"depth_multiplier"`
	DilationRate         Size2         `json:"dilation_rate"`
	Activation           nn.Activation `json:"activation"`
	UseBias              bool          `json:"use_bias"`
	DepthwiseInitializer Initializer   `json:"depthwise_initializer"`
	BiasInitializer      Initializer   `json:"bias_initializer"`

	DepthwiseKernel *autodiff.Var `json:"-"` // (kh, kw, channels, depth_multiplier)
	Bias            *autodiff.Var `json:"-"` // (channels·depth_multiplier,); nil without bias
}

// NewDepthwiseConv2D returns a DepthwiseConv2D layer with Keras's
// defaults: depth multiplier 1, strides and dilation 1, "valid" padding, a
// bias, a glorot-uniform kernel and a zero bias.
func NewDepthwiseConv2D(kernelSize Size2, act nn.Activation) *DepthwiseConv2D {
	return &DepthwiseConv2D{KernelSize: kernelSize, Strides: Size2{1, 1}, DepthMultiplier: 1, DilationRate: Size2{1, 1},
		Activation: act, UseBias: true, DepthwiseInitializer: GlorotUniform, BiasInitializer: Zeros}
}

func init() {
	Register("DepthwiseConv2D", func() Layer { return NewDepthwiseConv2D(Size2{}, 0) })
}

// Type returns "DepthwiseConv2D".
func (l *DepthwiseConv2D) Type() string { return "DepthwiseConv2D" }

func (l *DepthwiseConv2D) validate() error {
	if l.DepthMultiplier <= 0 {
		return fmt.Errorf("layers: DepthwiseConv2D: depth_multiplier %d must be positive", l.DepthMultiplier)
	}
	return validateWindow("DepthwiseConv2D", l.KernelSize, l.Strides, l.DilationRate, l.Activation, l.Padding,
		l.DepthwiseInitializer, l.BiasInitializer)
}

// outShape returns the output feature shape for inputs of feature shape in,
// and the input's channels.
func (l *DepthwiseConv2D) outShape(in []int) (tensor.Shape, int, error) {
	oh, ow, c, err := windowOut("DepthwiseConv2D", l.Name(), in, l.KernelSize, l.Strides, l.DilationRate, l.Padding)
	if err != nil {
		return nil, 0, err
	}
	// The product can overflow an int (on 32-bit platforms, say) where
	// both factors fit.
	if c > math.MaxInt/l.DepthMultiplier {
		return nil, 0, fmt.Errorf("layers: DepthwiseConv2D %q: %d channels times depth_multiplier %d is too many", l.Name(), c, l.DepthMultiplier)
	}
	return tensor.Shape{oh, ow, c * l.DepthMultiplier}, c, nil
}

// Build creates DepthwiseKernel and Bias for inputs of shape (height,
// width, channels). The initializers see Keras's fans for the kernel's
// shape: kh·kw·channels in, kh·kw·depth_multiplier out.
func (l *DepthwiseConv2D) Build(in tensor.Shape, dt tensor.DType, rng *rand.Rand) (tensor.Shape, error) {
	if err := l.validate(); err != nil {
		return nil, err
	}
	out, c, err := l.outShape(in)
	if err != nil {
		return nil, err
	}
	kh, kw, m := l.KernelSize[0], l.KernelSize[1], l.DepthMultiplier
	k := tensor.New(dt, kh, kw, c, m)
	l.DepthwiseInitializer.Fill(k, kh*kw*c, kh*kw*m, rng)
	l.DepthwiseKernel = autodiff.NewParam(k, l.Name()+"/depthwise_kernel")
	l.Bias = nil
	if l.UseBias {
		b := tensor.New(dt, c*m)
		l.BiasInitializer.Fill(b, kh*kw*c, kh*kw*m, rng)
		l.Bias = autodiff.NewParam(b, l.Name()+"/bias")
	}
	l.freeze(l.DepthwiseKernel, l.Bias)
	l.built = true
	return out, nil
}

func (l *DepthwiseConv2D) opts() nn.Conv2DOptions {
	return nn.Conv2DOptions{Strides: l.Strides, Dilation: l.DilationRate, Padding: l.Padding}
}

// Forward returns activation(depthwise_conv(x, DepthwiseKernel) + Bias) as
// one fused op.
func (l *DepthwiseConv2D) Forward(p *Pass, x *autodiff.Var) *autodiff.Var {
	return nn.DepthwiseConv2D(p.Tape, x, l.DepthwiseKernel, l.Bias, l.opts(), l.Activation)
}

// Act returns the activation, for Activated.
func (l *DepthwiseConv2D) Act() nn.Activation { return l.Activation }

// ForwardLinear is Forward without the activation, for Activated.
func (l *DepthwiseConv2D) ForwardLinear(p *Pass, x *autodiff.Var) *autodiff.Var {
	return nn.DepthwiseConv2D(p.Tape, x, l.DepthwiseKernel, l.Bias, l.opts(), nn.Linear)
}

// Weights returns depthwise_kernel and, with a bias, bias.
func (l *DepthwiseConv2D) Weights() []Weight {
	if !l.built {
		return nil
	}
	ws := []Weight{{Name: "depthwise_kernel", Value: l.DepthwiseKernel.Value, Param: l.DepthwiseKernel}}
	if l.Bias != nil {
		ws = append(ws, Weight{Name: "bias", Value: l.Bias.Value, Param: l.Bias})
	}
	return ws
}

// WeightCount returns kh·kw·channels·depth_multiplier, plus
// channels·depth_multiplier with a bias, and the output shape.
func (l *DepthwiseConv2D) WeightCount(in tensor.Shape) (uint64, tensor.Shape, bool) {
	if l.validate() != nil {
		return 0, nil, false
	}
	out, c, err := l.outShape(in)
	if err != nil {
		return 0, nil, false
	}
	cm := SatMul(uint64(c), uint64(l.DepthMultiplier))
	n := SatMul(SatMul(uint64(l.KernelSize[0]), uint64(l.KernelSize[1])), cm)
	if l.UseBias {
		n = SatAdd(n, cm)
	}
	return n, out, true
}

var (
	_ Activated     = (*DepthwiseConv2D)(nil)
	_ WeightCounter = (*DepthwiseConv2D)(nil)
)
