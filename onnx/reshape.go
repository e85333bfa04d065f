package onnx

import (
	"fmt"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/tensor"
)

func init() {
	Register("Flatten", exportFlatten)
	Register("Reshape", exportReshape)
}

// exportFlatten writes Flatten(axis 1). Marshal hands it its input in
// myelin's order (layout.go), so the features come out in the order
// Predict gives them to the next Dense.
func exportFlatten(g *Graph, l layers.Layer, x Value) (Value, error) {
	if len(x.Shape) == 0 {
		return Value{}, fmt.Errorf("input feature shape %s has no axis", x.Shape)
	}
	out, err := g.Node("Flatten", l.Name()+"/Flatten", []string{x.Name}, IntAttr("axis", 1))
	return Value{Name: out, Shape: tensor.Shape{x.Shape.Len()}}, err
}

// exportReshape writes Reshape to (0, target...), the 0 keeping the batch
// axis, with the target as an int64 initializer "layer/shape". Its input
// is in myelin's order (layout.go), to and from images alike.
func exportReshape(g *Graph, l layers.Layer, x Value) (Value, error) {
	r, ok := l.(*layers.Reshape)
	if !ok {
		return Value{}, fmt.Errorf("type %T is not *layers.Reshape", l)
	}
	// Resolve the −1, as Reshape.Build did.
	target := tensor.Shape(append([]int(nil), r.TargetShape...))
	free, known := -1, 1
	for i, d := range target {
		if d == -1 {
			free = i
		} else {
			known *= d
		}
	}
	if free >= 0 && known > 0 {
		target[free] = x.Shape.Len() / known
	}
	if target.Len() != x.Shape.Len() {
		return Value{}, fmt.Errorf("input feature shape %s cannot take target_shape %v", x.Shape, r.TargetShape)
	}
	shape := []int64{0}
	for _, d := range target {
		shape = append(shape, int64(d))
	}
	s, err := g.Int64s(r.Name()+"/shape", shape...)
	if err != nil {
		return Value{}, err
	}
	out, err := g.Node("Reshape", r.Name()+"/Reshape", []string{x.Name, s})
	return Value{Name: out, Shape: target}, err
}
