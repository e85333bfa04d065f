package onnx

import (
	"fmt"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/tensor"
)

func init() { Register("BatchNormalization", exportBatchNorm) }

// exportBatchNorm writes ONNX's BatchNormalization in inference form,
//
//	y = scale·(x − mean)/√(var + epsilon) + B,
//
// with the moving statistics as mean and var; this is what nn.Normalize
// computes. Without Scale the scale is ones, without Center B is zeros.
// ONNX normalizes axis 1 (channels first), and myelin the last axis: the
// same for (batch, features); for more feature axes the input is
// transposed to put the last axis second and transposed back; an image,
// (height, width, channels), is instead transposed channels first once and
// left so, as a Conv would (layout.go).
func exportBatchNorm(g *Graph, l layers.Layer, x Value) (Value, error) {
	bn, ok := l.(*layers.BatchNormalization)
	if !ok {
		return Value{}, fmt.Errorf("type %T is not *layers.BatchNormalization", l)
	}
	if bn.MovingMean == nil || bn.MovingVariance == nil {
		return Value{}, fmt.Errorf("not built")
	}
	name := bn.Name()
	c := bn.MovingMean.Len()
	if len(x.Shape) == 0 || x.Shape[len(x.Shape)-1] != c {
		return Value{}, fmt.Errorf("input feature shape %s does not end in %d features", x.Shape, c)
	}
	var ins []string
	add := func(weight, constName string, t *tensor.Tensor, fill float64) error {
		var n string
		var err error
		if t != nil {
			n, err = g.Weight(name, weight, t)
		} else {
			n, err = g.Const(name+"/"+constName, filled(g.DType(), c, fill))
		}
		ins = append(ins, n)
		return err
	}
	var gamma, beta *tensor.Tensor
	if bn.Gamma != nil {
		gamma = bn.Gamma.Value
	}
	if bn.Beta != nil {
		beta = bn.Beta.Value
	}
	if err := add("gamma", "unit_gamma", gamma, 1); err != nil {
		return Value{}, err
	}
	if err := add("beta", "zero_beta", beta, 0); err != nil {
		return Value{}, err
	}
	if err := add("moving_mean", "", bn.MovingMean, 0); err != nil {
		return Value{}, err
	}
	if err := add("moving_variance", "", bn.MovingVariance, 0); err != nil {
		return Value{}, err
	}
	if isImage(x.Shape) && !x.NCHW {
		// An image goes channels first and stays so, for the Conv or
		// pool that may follow (layout.go).
		var err error
		if x, err = toNCHW(g, name, x); err != nil {
			return Value{}, err
		}
	}
	if x.NCHW { // channels are axis 1: no transposes (layout.go)
		out, err := g.Node("BatchNormalization", name+"/BatchNormalization", append([]string{x.Name}, ins...), FloatAttr("epsilon", float32(bn.Epsilon)))
		return Value{Name: out, Shape: x.Shape, NCHW: true}, err
	}
	r := len(x.Shape) + 1 // the rank, with the batch axis
	in := x.Name
	if r > 2 {
		var err error
		if in, err = g.Node("Transpose", name+"/to_channels_first", []string{in}, IntsAttr("perm", toAxis1(r)...)); err != nil {
			return Value{}, err
		}
	}
	// epsilon is a 32-bit attribute: 1e-3 is written as 0.0010000000475.
	out, err := g.Node("BatchNormalization", name+"/BatchNormalization", append([]string{in}, ins...), FloatAttr("epsilon", float32(bn.Epsilon)))
	if err != nil {
		return Value{}, err
	}
	if r > 2 {
		if out, err = g.Node("Transpose", name+"/to_channels_last", []string{out}, IntsAttr("perm", fromAxis1(r)...)); err != nil {
			return Value{}, err
		}
	}
	return Value{Name: out, Shape: x.Shape}, nil
}

// filled returns n copies of v.
func filled(dt tensor.DType, n int, v float64) *tensor.Tensor {
	d := make([]float64, n)
	for i := range d {
		d[i] = v
	}
	return tensor.FromFloat64(d, n).As(dt)
}

// toAxis1 is the permutation moving the last of r axes to axis 1:
// (0, r−1, 1, ..., r−2).
func toAxis1(r int) []int64 {
	p := []int64{0, int64(r - 1)}
	for i := 1; i < r-1; i++ {
		p = append(p, int64(i))
	}
	return p
}

// fromAxis1 undoes toAxis1: (0, 2, ..., r−1, 1).
func fromAxis1(r int) []int64 {
	p := []int64{0}
	for i := 2; i < r; i++ {
		p = append(p, int64(i))
	}
	return append(p, 1)
}
