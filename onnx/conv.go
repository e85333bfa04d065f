package onnx

import (
	"fmt"

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
	var bt *tensor.Tensor
	if c.Bias != nil {
		bt = c.Bias.Value
	}
	b, err := g.Weight(name, "bias", bt)
	if err != nil {
		return Value{}, err
	}
	if x, err = toNCHW(g, name, x); err != nil {
		return Value{}, err
	}
	inputs := []string{x.Name, k}
	if b != "" {
		inputs = append(inputs, b)
	}
	oh, top, bottom := window(x.Shape[0], ks[0], c.Strides[0], c.DilationRate[0], c.Padding)
	ow, left, right := window(x.Shape[1], ks[1], c.Strides[1], c.DilationRate[1], c.Padding)
	if oh <= 0 || ow <= 0 {
		return Value{}, fmt.Errorf("kernel %s does not fit input %s", ks, x.Shape)
	}
	out, err := g.Node("Conv", name+"/Conv", inputs,
		IntsAttr("kernel_shape", int64(ks[0]), int64(ks[1])),
		IntsAttr("strides", int64(c.Strides[0]), int64(c.Strides[1])),
		IntsAttr("dilations", int64(c.DilationRate[0]), int64(c.DilationRate[1])),
		IntsAttr("pads", top, left, bottom, right),
		IntAttr("group", 1))
	if err != nil {
		return Value{}, err
	}
	return activation(g, name, c.Activation, Value{Name: out, Shape: tensor.Shape{oh, ow, ks[3]}, NCHW: true})
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
