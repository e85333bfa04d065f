package onnx

import (
	"fmt"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/tensor"
)

func init() {
	Register("MaxPooling2D", exportMaxPool)
	Register("AveragePooling2D", exportAvgPool)
	Register("GlobalAveragePooling2D", exportGlobalAvgPool)
}

// exportMaxPool writes MaxPool with explicit pads, as Conv has them. ONNX
// pads a max pool with −∞, so a pad never wins, as in nn.MaxPool2D.
func exportMaxPool(g *Graph, l layers.Layer, x Value) (Value, error) {
	p, ok := l.(*layers.MaxPooling2D)
	if !ok {
		return Value{}, fmt.Errorf("type %T is not *layers.MaxPooling2D", l)
	}
	return pool(g, "MaxPool", p.Name(), &p.Pool2D, x)
}

// exportAvgPool writes AveragePool with count_include_pad 0: Keras (and
// nn.AvgPool2D) average the image pixels of a window only, never the
// padding.
func exportAvgPool(g *Graph, l layers.Layer, x Value) (Value, error) {
	p, ok := l.(*layers.AveragePooling2D)
	if !ok {
		return Value{}, fmt.Errorf("type %T is not *layers.AveragePooling2D", l)
	}
	return pool(g, "AveragePool", p.Name(), &p.Pool2D, x, IntAttr("count_include_pad", 0))
}

func pool(g *Graph, op, name string, p *layers.Pool2D, x Value, extra ...Attr) (Value, error) {
	if !isImage(x.Shape) {
		return Value{}, fmt.Errorf("input feature shape %s is not (height, width, channels)", x.Shape)
	}
	s := p.Strides
	if s == (layers.Size2{}) { // Keras: strides default to the pool size
		s = p.PoolSize
	}
	oh, top, bottom := window(x.Shape[0], p.PoolSize[0], s[0], 1, p.Padding)
	ow, left, right := window(x.Shape[1], p.PoolSize[1], s[1], 1, p.Padding)
	if oh <= 0 || ow <= 0 {
		return Value{}, fmt.Errorf("pool %v does not fit input %s", [2]int(p.PoolSize), x.Shape)
	}
	x, err := toNCHW(g, name, x)
	if err != nil {
		return Value{}, err
	}
	attrs := append([]Attr{
		IntsAttr("kernel_shape", int64(p.PoolSize[0]), int64(p.PoolSize[1])),
		IntsAttr("strides", int64(s[0]), int64(s[1])),
		IntsAttr("pads", top, left, bottom, right),
	}, extra...)
	out, err := g.Node(op, name+"/"+op, []string{x.Name}, attrs...)
	return Value{Name: out, Shape: tensor.Shape{oh, ow, x.Shape[2]}, NCHW: true}, err
}

// exportGlobalAvgPool writes GlobalAveragePool, whose output is (batch,
// channels, 1, 1), then Flatten to myelin's (batch, channels).
func exportGlobalAvgPool(g *Graph, l layers.Layer, x Value) (Value, error) {
	if !isImage(x.Shape) {
		return Value{}, fmt.Errorf("input feature shape %s is not (height, width, channels)", x.Shape)
	}
	name := l.Name()
	x, err := toNCHW(g, name, x)
	if err != nil {
		return Value{}, err
	}
	out, err := g.Node("GlobalAveragePool", name+"/GlobalAveragePool", []string{x.Name})
	if err != nil {
		return Value{}, err
	}
	out, err = g.Node("Flatten", name+"/Flatten", []string{out}, IntAttr("axis", 1))
	return Value{Name: out, Shape: tensor.Shape{x.Shape[2]}}, err
}
