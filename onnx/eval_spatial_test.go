package onnx

import (
	"fmt"
	"math"
	"slices"
)

// runSpatial interprets the operators of convolutional graphs for run, in
// float64 and straight from ONNX's definitions (NCHW, explicit pads), so
// that it checks Export's layout and padding choices rather than sharing
// them: Conv, MaxPool, AveragePool, GlobalAveragePool, Flatten, Reshape,
// and Mul and Add by a one-element constant.
func runSpatial(n dNode, in []tval) (tval, error) {
	switch n.op {
	case "Conv":
		return evalConv(n, in)
	case "MaxPool", "AveragePool":
		return evalPool(n, in[0])
	case "GlobalAveragePool":
		x := in[0]
		if len(x.s) != 4 {
			return tval{}, fmt.Errorf("node %s: input %v", n.name, x.s)
		}
		hw := x.s[2] * x.s[3]
		out := tval{make([]float64, x.s[0]*x.s[1]), []int{x.s[0], x.s[1], 1, 1}}
		for i := range out.d {
			sum := 0.0
			for _, v := range x.d[i*hw : (i+1)*hw] {
				sum += v
			}
			out.d[i] = sum / float64(hw)
		}
		return out, nil
	case "Flatten":
		if a, ok := n.attrs["axis"]; !ok || a.i != 1 {
			return tval{}, fmt.Errorf("node %s: Flatten axis %v, want 1", n.name, n.attrs["axis"])
		}
		x := in[0]
		return tval{x.d, []int{x.s[0], len(x.d) / x.s[0]}}, nil
	case "Reshape":
		x, shape := in[0], in[1]
		s := make([]int, len(shape.d))
		for i, v := range shape.d {
			s[i] = int(v)
			if v == 0 {
				s[i] = x.s[i]
			}
			if s[i] <= 0 {
				return tval{}, fmt.Errorf("node %s: shape %v", n.name, shape.d)
			}
		}
		if prod(s) != len(x.d) {
			return tval{}, fmt.Errorf("node %s: reshape %v to %v", n.name, x.s, s)
		}
		return tval{x.d, s}, nil
	case "Mul", "Add":
		x, c := in[0], in[1]
		if len(c.d) != 1 {
			return tval{}, fmt.Errorf("node %s: constant of shape %v, want one element", n.name, c.s)
		}
		out := tval{make([]float64, len(x.d)), x.s}
		for i, v := range x.d {
			if n.op == "Mul" {
				out.d[i] = v * c.d[0]
			} else {
				out.d[i] = v + c.d[0]
			}
		}
		return out, nil
	}
	return tval{}, fmt.Errorf("node %s: operator %s unknown to the test interpreter", n.name, n.op)
}

func prod(s []int) int {
	p := 1
	for _, d := range s {
		p *= d
	}
	return p
}

// ints2 returns the two-element ints attribute name of n, or def when n
// has none.
func ints2(n dNode, name string, def ...int64) ([]int64, error) {
	a, ok := n.attrs[name]
	if !ok {
		return def, nil
	}
	if a.typ != attrInts {
		return nil, fmt.Errorf("node %s: attribute %s of type %d", n.name, name, a.typ)
	}
	return a.ints, nil
}

// geometry reads kernel_shape, strides, dilations and pads.
func geometry(n dNode) (k, s, d, p []int64, err error) {
	if k, err = ints2(n, "kernel_shape"); err != nil || len(k) != 2 {
		return nil, nil, nil, nil, fmt.Errorf("node %s: kernel_shape %v (%v)", n.name, k, err)
	}
	if s, err = ints2(n, "strides", 1, 1); err != nil {
		return
	}
	if d, err = ints2(n, "dilations", 1, 1); err != nil {
		return
	}
	if p, err = ints2(n, "pads", 0, 0, 0, 0); err != nil {
		return
	}
	if _, ok := n.attrs["auto_pad"]; ok || len(s) != 2 || len(d) != 2 || len(p) != 4 {
		return nil, nil, nil, nil, fmt.Errorf("node %s: attributes %v", n.name, n.attrs)
	}
	return k, s, d, p, nil
}

// outSize is ONNX's output size for explicit pads (floor mode).
func outSize(n int, k, s, d, before, after int64) int {
	return int((int64(n)+before+after-((k-1)*d+1))/s) + 1
}

func evalConv(n dNode, in []tval) (tval, error) {
	k, s, d, p, err := geometry(n)
	if err != nil {
		return tval{}, err
	}
	groups := 1
	if g, ok := n.attrs["group"]; ok {
		groups = int(g.i)
	}
	x, w := in[0], in[1]
	if groups < 1 || len(x.s) != 4 || len(w.s) != 4 || x.s[1]%groups != 0 || w.s[0]%groups != 0 ||
		w.s[1] != x.s[1]/groups || int64(w.s[2]) != k[0] || int64(w.s[3]) != k[1] {
		return tval{}, fmt.Errorf("node %s: Conv of %v with weights %v in %d groups", n.name, x.s, w.s, groups)
	}
	N, C, H, W, F := x.s[0], w.s[1], x.s[2], x.s[3], w.s[0] // C: channels per group
	oh, ow := outSize(H, k[0], s[0], d[0], p[0], p[2]), outSize(W, k[1], s[1], d[1], p[1], p[3])
	out := tval{make([]float64, N*F*oh*ow), []int{N, F, oh, ow}}
	for b := range N {
		for f := range F {
			for i := range oh {
				for j := range ow {
					sum := 0.0
					if len(in) > 2 {
						sum = in[2].d[f]
					}
					c0 := f / (F / groups) * C // the group's first input channel
					for c := range C {
						for u := range int(k[0]) {
							y := int64(i)*s[0] + int64(u)*d[0] - p[0]
							if y < 0 || y >= int64(H) {
								continue
							}
							for v := range int(k[1]) {
								xx := int64(j)*s[1] + int64(v)*d[1] - p[1]
								if xx < 0 || xx >= int64(W) {
									continue
								}
								sum += x.d[((b*x.s[1]+c0+c)*H+int(y))*W+int(xx)] * w.d[((f*C+c)*int(k[0])+u)*int(k[1])+v]
							}
						}
					}
					out.d[((b*F+f)*oh+i)*ow+j] = sum
				}
			}
		}
	}
	return out, nil
}

func evalPool(n dNode, x tval) (tval, error) {
	k, s, d, p, err := geometry(n)
	if err != nil {
		return tval{}, err
	}
	if !slices.Equal(d, []int64{1, 1}) {
		return tval{}, fmt.Errorf("node %s: dilations %v", n.name, d)
	}
	avg := n.op == "AveragePool"
	if c, ok := n.attrs["count_include_pad"]; avg && (!ok || c.i != 0) {
		return tval{}, fmt.Errorf("node %s: count_include_pad %v, want 0 (Keras averages the image only)", n.name, c)
	}
	if len(x.s) != 4 {
		return tval{}, fmt.Errorf("node %s: input %v", n.name, x.s)
	}
	N, C, H, W := x.s[0], x.s[1], x.s[2], x.s[3]
	oh, ow := outSize(H, k[0], s[0], 1, p[0], p[2]), outSize(W, k[1], s[1], 1, p[1], p[3])
	out := tval{make([]float64, N*C*oh*ow), []int{N, C, oh, ow}}
	for bc := range N * C {
		for i := range oh {
			for j := range ow {
				acc, cnt := math.Inf(-1), 0
				if avg {
					acc = 0
				}
				for u := range k[0] {
					y := int64(i)*s[0] + u - p[0]
					for v := range k[1] {
						xx := int64(j)*s[1] + v - p[1]
						if y < 0 || y >= int64(H) || xx < 0 || xx >= int64(W) {
							continue // a pad: −∞ for max, not counted for the average
						}
						e := x.d[(bc*H+int(y))*W+int(xx)]
						if avg {
							acc += e
						} else {
							acc = math.Max(acc, e)
						}
						cnt++
					}
				}
				if avg {
					acc /= float64(cnt)
				}
				out.d[(bc*oh+i)*ow+j] = acc
			}
		}
	}
	return out, nil
}
