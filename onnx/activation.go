package onnx

import (
	"fmt"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/nn"
)

func init() { Register("Activation", exportActivation) }

// activationOps maps each of nn's activations to its ONNX operator;
// linear has none. An activation missing here is an export error, so a new
// one in nn cannot be written as something else.
var activationOps = map[nn.Activation]string{
	nn.Linear:     "",
	nn.ActReLU:    "Relu",
	nn.ActSigmoid: "Sigmoid",
	nn.ActTanh:    "Tanh",
	nn.ActSoftmax: "Softmax",
}

// activation adds the node applying act to x for the layer named layer.
// Softmax is over the last axis, as nn.Softmax is (axis −1; opset 13
// changed Softmax from flattening to one axis, so older opsets could not
// be written this way).
func activation(g *Graph, layer string, act nn.Activation, x Value) (Value, error) {
	op, ok := activationOps[act]
	if !ok {
		return Value{}, fmt.Errorf("activation %s has no ONNX operator", act)
	}
	if op == "" {
		return x, nil
	}
	var attrs []Attr
	if act == nn.ActSoftmax {
		attrs = append(attrs, IntAttr("axis", -1))
		// The last axis is the channels only in myelin's order.
		var err error
		if x, err = toNHWC(g, layer, x); err != nil {
			return Value{}, err
		}
	}
	out, err := g.Node(op, layer+"/"+op, []string{x.Name}, attrs...)
	return Value{Name: out, Shape: x.Shape, NCHW: x.NCHW}, err
}

func exportActivation(g *Graph, l layers.Layer, x Value) (Value, error) {
	a, ok := l.(*layers.Activation)
	if !ok {
		return Value{}, fmt.Errorf("type %T is not *layers.Activation", l)
	}
	return activation(g, a.Name(), a.Activation, x)
}
