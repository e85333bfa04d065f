package onnx

import (
	"fmt"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/tensor"
)

func init() { Register("Dense", exportDense) }

// exportDense writes Gemm(x, kernel, bias), Y = x·kernel + bias with the
// kernel stored (inputs, units) as in the model file (transB 0), then the
// activation. Without a bias Gemm takes two inputs, which opset 11 allowed.
func exportDense(g *Graph, l layers.Layer, x Value) (Value, error) {
	d, ok := l.(*layers.Dense)
	if !ok {
		return Value{}, fmt.Errorf("type %T is not *layers.Dense", l)
	}
	if d.Kernel == nil {
		return Value{}, fmt.Errorf("not built")
	}
	ks := d.Kernel.Value.Shape()
	if len(x.Shape) != 1 || len(ks) != 2 || ks[0] != x.Shape[0] {
		return Value{}, fmt.Errorf("input feature shape %s does not fit kernel %s", x.Shape, ks)
	}
	k, err := g.Weight(d.Name(), "kernel", d.Kernel.Value)
	if err != nil {
		return Value{}, err
	}
	inputs := []string{x.Name, k}
	var bt *tensor.Tensor
	if d.Bias != nil {
		bt = d.Bias.Value
	}
	b, err := g.Weight(d.Name(), "bias", bt) // "" without a bias, folded or not
	if err != nil {
		return Value{}, err
	}
	if b != "" {
		inputs = append(inputs, b)
	}
	out, err := g.Node("Gemm", d.Name()+"/Gemm", inputs)
	if err != nil {
		return Value{}, err
	}
	return activation(g, d.Name(), d.Activation, Value{Name: out, Shape: ks[1:].Clone()})
}
