package onnx

import (
	"fmt"
	"math"
)

// tval is a value in the interpreter: its elements in float64 and its
// shape, batch first.
type tval struct {
	d []float64
	s []int
}

// run interprets a decoded graph in float64 on x, shaped shape (batch
// first): a reference for what ONNX Runtime computes, so that the tests
// that need no ONNX Runtime still check the graph's arithmetic (a folded
// weight, a transposition) and not only its structure. It knows the
// operators Export writes and fails on any other.
func run(g dGraph, x []float64, shape []int) ([]float64, []int, error) {
	type val = tval
	vals := map[string]val{}
	for _, t := range g.inits {
		s := make([]int, len(t.dims))
		for i, d := range t.dims {
			s[i] = int(d)
		}
		vals[t.name] = val{t.floats(), s}
	}
	if len(g.inputs) != 1 || len(g.outputs) != 1 {
		return nil, nil, fmt.Errorf("%d inputs, %d outputs", len(g.inputs), len(g.outputs))
	}
	vals[g.inputs[0].name] = val{x, shape}
	for _, n := range g.nodes {
		in := make([]val, len(n.inputs))
		for i, name := range n.inputs {
			v, ok := vals[name]
			if !ok {
				return nil, nil, fmt.Errorf("node %s: input %q not computed yet", n.name, name)
			}
			in[i] = v
		}
		if len(n.outputs) != 1 {
			return nil, nil, fmt.Errorf("node %s: %d outputs", n.name, len(n.outputs))
		}
		var out val
		switch n.op {
		case "Gemm":
			a, w := in[0], in[1]
			for name, at := range n.attrs {
				// Export writes none; PyTorch writes alpha, beta 1 and transB 1.
				if !(name == "alpha" || name == "beta") || at.f != 1 {
					if name != "transB" || at.i != 1 {
						return nil, nil, fmt.Errorf("node %s: Gemm attribute %s = %+v", n.name, name, at)
					}
				}
			}
			if _, ok := n.attrs["transB"]; ok && len(w.s) == 2 { // (out, in): transpose to (in, out)
				t := make([]float64, len(w.d))
				for r := range w.s[0] {
					for c := range w.s[1] {
						t[c*w.s[0]+r] = w.d[r*w.s[1]+c]
					}
				}
				w = val{t, []int{w.s[1], w.s[0]}}
			}
			if len(a.s) != 2 || len(w.s) != 2 || a.s[1] != w.s[0] {
				return nil, nil, fmt.Errorf("node %s: Gemm of %v and %v", n.name, a.s, w.s)
			}
			rows, k, cols := a.s[0], a.s[1], w.s[1]
			out = val{make([]float64, rows*cols), []int{rows, cols}}
			for r := range rows {
				for c := range cols {
					sum := 0.0
					if len(in) > 2 {
						sum = in[2].d[c]
					}
					for i := range k {
						sum += a.d[r*k+i] * w.d[i*cols+c]
					}
					out.d[r*cols+c] = sum
				}
			}
		case "Relu", "Sigmoid", "Tanh", "Identity":
			f := map[string]func(float64) float64{
				"Relu":     func(v float64) float64 { return math.Max(v, 0) },
				"Sigmoid":  func(v float64) float64 { return 1 / (1 + math.Exp(-v)) },
				"Tanh":     math.Tanh,
				"Identity": func(v float64) float64 { return v },
			}[n.op]
			out = val{make([]float64, len(in[0].d)), in[0].s}
			for i, v := range in[0].d {
				out.d[i] = f(v)
			}
		case "Softmax":
			if a, ok := n.attrs["axis"]; !ok || a.i != -1 && a.i != int64(len(in[0].s)-1) || a.typ != attrInt {
				return nil, nil, fmt.Errorf("node %s: Softmax axis %v, want the last", n.name, n.attrs)
			}
			s := in[0].s
			c := s[len(s)-1]
			out = val{make([]float64, len(in[0].d)), s}
			for r := 0; r < len(in[0].d); r += c {
				row, o := in[0].d[r:r+c], out.d[r:r+c]
				m := math.Inf(-1)
				for _, v := range row {
					m = math.Max(m, v)
				}
				sum := 0.0
				for i, v := range row {
					o[i] = math.Exp(v - m)
					sum += o[i]
				}
				for i := range o {
					o[i] /= sum
				}
			}
		case "BatchNormalization":
			a := n.attrs["epsilon"]
			if a.typ != attrFloat || len(in) != 5 {
				return nil, nil, fmt.Errorf("node %s: BatchNormalization with %d inputs, epsilon %v", n.name, len(in), a)
			}
			s := in[0].s
			c := s[1]
			inner := 1
			for _, d := range s[2:] {
				inner *= d
			}
			out = val{make([]float64, len(in[0].d)), s}
			for i, v := range in[0].d {
				j := i / inner % c
				out.d[i] = in[1].d[j]*(v-in[3].d[j])/math.Sqrt(in[4].d[j]+float64(a.f)) + in[2].d[j]
			}
		case "Transpose":
			perm := n.attrs["perm"].ints
			s := in[0].s
			if len(perm) != len(s) {
				return nil, nil, fmt.Errorf("node %s: perm %v for shape %v", n.name, perm, s)
			}
			os := make([]int, len(s))
			for i, p := range perm {
				os[i] = s[p]
			}
			out = val{make([]float64, len(in[0].d)), os}
			idx := make([]int, len(s))
			for i := range out.d {
				// idx is the output index of element i; read the input at
				// the index that perm sends there.
				rem := i
				for k := len(os) - 1; k >= 0; k-- {
					idx[k] = rem % os[k]
					rem /= os[k]
				}
				src := 0
				for k := range s {
					// input axis k is output axis q with perm[q] == k
					for q, p := range perm {
						if int(p) == k {
							src = src*s[k] + idx[q]
						}
					}
				}
				out.d[i] = in[0].d[src]
			}
		default:
			var err error
			if out, err = runSpatial(n, in); err != nil {
				return nil, nil, err
			}
		}
		if _, dup := vals[n.outputs[0]]; dup {
			return nil, nil, fmt.Errorf("node %s: output %q assigned twice", n.name, n.outputs[0])
		}
		vals[n.outputs[0]] = out
	}
	o, ok := vals[g.outputs[0].name]
	if !ok {
		return nil, nil, fmt.Errorf("output %q never computed", g.outputs[0].name)
	}
	return o.d, o.s, nil
}
