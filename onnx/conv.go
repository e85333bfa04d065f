package onnx

import (
	"fmt"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

func init() { Register("Conv2D", exportConv2D) }

// exportConv2D writes ONNX's Conv on the image channels first, then the
// activation.
//
// The kernel initializer is the model file's tensor, "conv2d/kernel" in
// myelin's (height, width, in, out) order, and a Transpose node named
// "conv2d/kernel_oihw" makes ONNX's (out, in, height, width) from it:
// an initializer named like a file tensor must hold that tensor's values,
// and this keeps them bit for bit at the cost of one node that runtimes
// fold into a constant when they load the model. A kernel changed by
// BatchNormalization folding is "conv2d/kernel_folded", also HWIO.
//
// Keras's "same" padding puts the odd pixel at the end (bottom, right);
// ONNX's auto_pad SAME_UPPER would too, but the padding is written out as
// pads (top, left, bottom, right) so that the file says what it computes.
func exportConv2D(g *Graph, l layers.Layer, x Value) (Value, error) {
	c, ok := l.(*layers.Conv2D)
	if !ok {
		return Value{}, fmt.Errorf("type %T is not *layers.Conv2D", l)
	}
	if c.Kernel == nil {
		return Value{}, fmt.Errorf("not built")
	}
	ks := c.Kernel.Value.Shape()
	if !isImage(x.Shape) || len(ks) != 4 || ks[2] != x.Shape[2] {
		return Value{}, fmt.Errorf("input feature shape %s does not fit kernel %s", x.Shape, ks)
	}
	name := c.Name()
	k, err := g.Weight(name, "kernel", c.Kernel.Value)
	if err != nil {
		return Value{}, err
	}
	if k, err = g.Node("Transpose", name+"/kernel_oihw", []string{k}, IntsAttr("perm", 3, 2, 0, 1)); err != nil {
		return Value{}, err
	}
	return convNode(g, name, x, k, c.Bias, convGeom{ks[0], ks[1], ks[3], c.Strides, c.DilationRate, c.Padding, 1}, c.Activation)
}

// convGeom is what ONNX's Conv node needs of a layer beside its weights.
type convGeom struct {
	kh, kw, out       int // kernel size and output channels
	strides, dilation layers.Size2
	padding           nn.Padding
	group             int
}

// convNode writes the bias initializer (when bias is not nil), the
// transpose of x to channels first, the Conv node reading kernel, an
// OIHW value, and then the activation.
func convNode(g *Graph, name string, x Value, kernel string, bias *autodiff.Var, cg convGeom, act nn.Activation) (Value, error) {
	var bt *tensor.Tensor
	if bias != nil {
		bt = bias.Value
	}
	b, err := g.Weight(name, "bias", bt)
	if err != nil {
		return Value{}, err
	}
	if x, err = toNCHW(g, name, x); err != nil {
		return Value{}, err
	}
	inputs := []string{x.Name, kernel}
	if b != "" {
		inputs = append(inputs, b)
	}
	oh, top, bottom := window(x.Shape[0], cg.kh, cg.strides[0], cg.dilation[0], cg.padding)
	ow, left, right := window(x.Shape[1], cg.kw, cg.strides[1], cg.dilation[1], cg.padding)
	if oh <= 0 || ow <= 0 {
		return Value{}, fmt.Errorf("a %d×%d kernel does not fit input %s", cg.kh, cg.kw, x.Shape)
	}
	out, err := g.Node("Conv", name+"/Conv", inputs,
		IntsAttr("kernel_shape", int64(cg.kh), int64(cg.kw)),
		IntsAttr("strides", int64(cg.strides[0]), int64(cg.strides[1])),
		IntsAttr("dilations", int64(cg.dilation[0]), int64(cg.dilation[1])),
		IntsAttr("pads", top, left, bottom, right),
		IntAttr("group", int64(cg.group)))
	if err != nil {
		return Value{}, err
	}
	return activation(g, name, act, Value{Name: out, Shape: tensor.Shape{oh, ow, cg.out}, NCHW: true})
}

// window returns the output size of a window of k taps, stride s and
// dilation d over n pixels with padding p, and the pixels padded before
// and after: nn.OutSize's split, the odd one after.
func window(n, k, s, d int, p nn.Padding) (out int, before, after int64) {
	out, b := nn.OutSize(n, k, s, d, p)
	if p == nn.Valid {
		return out, 0, 0
	}
	total := max((out-1)*s+(k-1)*d+1-n, 0)
	return out, int64(b), int64(total - b)
}
