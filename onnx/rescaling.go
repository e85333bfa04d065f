package onnx

import (
	"fmt"

	"github.com/myelin-go/myelin/layers"
)

func init() { Register("Rescaling", exportRescaling) }

// exportRescaling writes Mul(x, scale) then Add(·, offset), as nn.Rescale
// computes x·scale + offset, with each constant a one-element initializer
// ("layer/scale", "layer/offset") in the model's dtype, rounded as
// nn.Rescale rounds it. Elementwise, it keeps x's layout.
func exportRescaling(g *Graph, l layers.Layer, x Value) (Value, error) {
	r, ok := l.(*layers.Rescaling)
	if !ok {
		return Value{}, fmt.Errorf("type %T is not *layers.Rescaling", l)
	}
	name := r.Name()
	s, err := g.Const(name+"/scale", filled(g.DType(), 1, r.Scale))
	if err != nil {
		return Value{}, err
	}
	o, err := g.Const(name+"/offset", filled(g.DType(), 1, r.Offset))
	if err != nil {
		return Value{}, err
	}
	out, err := g.Node("Mul", name+"/Mul", []string{x.Name, s})
	if err != nil {
		return Value{}, err
	}
	out, err = g.Node("Add", name+"/Add", []string{out, o})
	return Value{Name: out, Shape: x.Shape, NCHW: x.NCHW}, err
}
