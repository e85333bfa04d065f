package onnx

import (
	"fmt"

	"github.com/myelin-go/myelin/layers"
)

func init() { Register("DepthwiseConv2D", exportDepthwiseConv2D) }

// exportDepthwiseConv2D writes ONNX's Conv with one group per input
// channel, on the image channels first, then the activation.
//
// The kernel initializer is the model file's (height, width, channels,
// multiplier) tensor, "layer/depthwise_kernel"; a Reshape to (height,
// width, 1, channels·multiplier), which keeps the order of its values,
// and a Transpose make ONNX's (channels·multiplier, 1, height, width).
// Output channel c·multiplier + m of group c is then Keras's output
// channel c·multiplier + m.
func exportDepthwiseConv2D(g *Graph, l layers.Layer, x Value) (Value, error) {
	c, ok := l.(*layers.DepthwiseConv2D)
	if !ok {
		return Value{}, fmt.Errorf("type %T is not *layers.DepthwiseConv2D", l)
	}
	if c.DepthwiseKernel == nil {
		return Value{}, fmt.Errorf("not built")
	}
	ks := c.DepthwiseKernel.Value.Shape()
	if !isImage(x.Shape) || len(ks) != 4 || ks[2] != x.Shape[2] {
		return Value{}, fmt.Errorf("input feature shape %s does not fit depthwise kernel %s", x.Shape, ks)
	}
	name := c.Name()
	ch, m := ks[2], ks[3]
	k, err := g.Weight(name, "depthwise_kernel", c.DepthwiseKernel.Value)
	if err != nil {
		return Value{}, err
	}
	s, err := g.Int64s(name+"/kernel_hw1o", int64(ks[0]), int64(ks[1]), 1, int64(ch*m))
	if err != nil {
		return Value{}, err
	}
	if k, err = g.Node("Reshape", name+"/kernel_reshape", []string{k, s}); err != nil {
		return Value{}, err
	}
	if k, err = g.Node("Transpose", name+"/kernel_oihw", []string{k}, IntsAttr("perm", 3, 2, 0, 1)); err != nil {
		return Value{}, err
	}
	return convNode(g, name, x, k, c.Bias, convGeom{ks[0], ks[1], ch * m, c.Strides, c.DilationRate, c.Padding, ch}, c.Activation)
}
