package onnx

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// notInSubset is the error for an operator Import does not read.
const notInSubset = "operator not in the subset myelin imports (Gemm, BatchNormalization, Relu, Sigmoid, Tanh, Softmax, Identity, Dropout)"

// Import reads an ONNX model made of the operators Export writes and
// returns it as a built Sequential model (not compiled):
//
//	Gemm                 Dense (alpha = beta = 1, transA 0; transB 1, PyTorch's
//	                     (out, in) weight, is transposed), with the activation
//	                     that follows it
//	Relu, Sigmoid, Tanh  the Dense's activation, or an Activation layer
//	Softmax              the same, over the last axis only
//	BatchNormalization   BatchNormalization (inference form); a scale named
//	                     "layer/unit_gamma" of ones means Scale off, a bias named
//	                     "layer/zero_beta" of zeros Center off
//	Transpose            only around a BatchNormalization, as Export writes it
//	Identity, Dropout    nothing
//
// Convolutional graphs (Conv, MaxPool, AveragePool, GlobalAveragePool),
// which Export writes, are not read yet: Import fails naming the first
// such node.
//
// The graph must be a chain: each node reads the previous node's output
// (and initializers). Any other operator or shape is an error naming the
// node. Weights keep their bits. Layer names come from the initializer
// names Export writes ("dense_1/kernel" names the layer "dense_1");
// other names (PyTorch's "fc1.weight") leave the layer to be named by the
// model. A model that Export wrote unfolded imports with the same
// architecture, less its Dropout and linear Activation layers (which
// compute nothing at inference and leave no node), and bit-identical
// weights.
func Import(r io.Reader) (*model.Sequential, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("onnx: reading the model: %w", err)
	}
	d, err := decodeModel(b, false)
	if err != nil {
		return nil, fmt.Errorf("onnx: not an ONNX model: %w", err)
	}
	return importGraph(d)
}

// nodeError names the node an import fails at.
func nodeError(n dNode, format string, args ...any) error {
	return fmt.Errorf("onnx: node %q (%s): %s", n.name, n.op, fmt.Sprintf(format, args...))
}

// pending is a layer being imported with the initializers that fill it.
type pending struct {
	l       layers.Layer
	weights map[string]dTensor // layer weight name ("kernel", "moving_mean") → initializer
	transB  bool               // the kernel is stored (units, inputs)
}

func importGraph(d *dModel) (*model.Sequential, error) {
	g := d.graph
	inits := map[string]dTensor{}
	for _, t := range g.inits {
		inits[t.name] = t
	}
	var ins []dValue
	for _, v := range g.inputs {
		if _, ok := inits[v.name]; !ok { // IR 3 lists initializers as inputs too
			ins = append(ins, v)
		}
	}
	if len(ins) != 1 || len(g.outputs) != 1 {
		return nil, fmt.Errorf("onnx: the graph has %d inputs and %d outputs, want one of each", len(ins), len(g.outputs))
	}
	dt := tensor.Float32
	switch ins[0].elem {
	case dataFloat:
	case dataDouble:
		dt = tensor.Float64
	default:
		return nil, fmt.Errorf("onnx: input %q has element type %d, want float or double", ins[0].name, ins[0].elem)
	}
	var inShape []int
	for i, s := range ins[0].dims {
		if i == 0 {
			continue // the batch axis, symbolic or not
		}
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("onnx: input %q has dimension %q, want a positive size after the batch axis", ins[0].name, s)
		}
		inShape = append(inShape, v)
	}
	if len(inShape) == 0 {
		return nil, fmt.Errorf("onnx: input %q has no feature axis", ins[0].name)
	}
	rank := len(inShape) + 1
	// feat is the current feature width, checked against each weight
	// before Build allocates anything from the file's numbers.
	feat := int64(inShape[len(inShape)-1])

	weight := func(n dNode, i int, dims int) (dTensor, error) {
		if i >= len(n.inputs) {
			return dTensor{}, nodeError(n, "input %d missing", i)
		}
		t, ok := inits[n.inputs[i]]
		if !ok {
			return dTensor{}, nodeError(n, "input %q is not an initializer", n.inputs[i])
		}
		if t.dtype != dataType(dt) || len(t.dims) != dims {
			return dTensor{}, nodeError(n, "initializer %q is type %d of dims %v, want type %d of rank %d", t.name, t.dtype, t.dims, dataType(dt), dims)
		}
		for _, d := range t.dims {
			if d <= 0 {
				return dTensor{}, nodeError(n, "initializer %q has dims %v", t.name, t.dims)
			}
		}
		return t, nil
	}

	var ps []*pending
	cur := ins[0].name
	nodes := g.nodes
	// Export writes convolutional models, and Import does not read them
	// yet: say so naming the convolution or pool rather than the Reshape
	// or Transpose that comes before it.
	for _, n := range nodes {
		switch n.op {
		case "Conv", "MaxPool", "AveragePool", "GlobalAveragePool":
			return nil, nodeError(n, notInSubset+": convolutional models are not imported yet")
		}
	}
	for k := 0; k < len(nodes); k++ {
		n := nodes[k]
		if len(n.inputs) == 0 || n.inputs[0] != cur {
			return nil, nodeError(n, "does not read the previous output %q: only a chain of layers can be imported", cur)
		}
		if len(n.outputs) != 1 && n.op != "Dropout" {
			return nil, nodeError(n, "%d outputs, want 1", len(n.outputs))
		}
		switch n.op {
		case "Identity", "Dropout":
			// The identity at inference; Dropout's optional mask output
			// must not be read.
			if n.op == "Dropout" && len(n.inputs) > 2 {
				return nil, nodeError(n, "a training_mode input")
			}
		case "Gemm":
			if err := checkAttrs(n, map[string]int64{"alpha": 1, "beta": 1, "transA": 0}); err != nil {
				return nil, err
			}
			tb := n.attrs["transB"]
			if tb.i != 0 && tb.i != 1 {
				return nil, nodeError(n, "transB %d", tb.i)
			}
			w, err := weight(n, 1, 2)
			if err != nil {
				return nil, err
			}
			units, inputs := w.dims[1], w.dims[0]
			if tb.i == 1 {
				units, inputs = w.dims[0], w.dims[1]
			}
			if rank != 2 || inputs != feat {
				return nil, nodeError(n, "a weight for %d inputs on %d features of rank %d (want rank 2)", inputs, feat, rank)
			}
			feat = units
			p := &pending{weights: map[string]dTensor{"kernel": w}, transB: tb.i == 1}
			dense := layers.NewDense(int(units), nn.Linear)
			dense.UseBias = len(n.inputs) > 2
			if dense.UseBias {
				c, err := weight(n, 2, 1)
				if err != nil {
					return nil, err
				}
				if c.dims[0] != units {
					return nil, nodeError(n, "bias of %d for %d units", c.dims[0], units)
				}
				p.weights["bias"] = c
			}
			dense.SetName(layerName(w.name, "/kernel", "/kernel_folded"))
			p.l = dense
			ps = append(ps, p)
		case "Relu", "Sigmoid", "Tanh", "Softmax":
			act := map[string]nn.Activation{"Relu": nn.ActReLU, "Sigmoid": nn.ActSigmoid, "Tanh": nn.ActTanh, "Softmax": nn.ActSoftmax}[n.op]
			if n.op == "Softmax" {
				// Before opset 13 Softmax flattened the axes from axis on
				// (default 1): the same as the last axis only for rank 2.
				a, ok := n.attrs["axis"]
				axis := a.i
				if !ok {
					axis = -1
					if d.opset < 13 {
						axis = 1
					}
				}
				if axis != -1 && axis != int64(rank-1) || d.opset < 13 && rank != 2 {
					return nil, nodeError(n, "axis %d of a rank-%d input: only the last axis is imported", axis, rank)
				}
			}
			// After a Gemm the activation is the Dense's own, unless its
			// name says Export wrote it for an Activation layer: Export names
			// a Dense's activation "dense/Relu", an Activation layer's
			// "activation/Relu".
			if len(ps) > 0 && k > 0 && nodes[k-1].op == "Gemm" {
				dense, ok := ps[len(ps)-1].l.(*layers.Dense)
				if ok && dense.Activation == nn.Linear && (dense.Name() == "" || n.name == dense.Name()+"/"+n.op) {
					dense.Activation = act
					break
				}
			}
			a := layers.NewActivation(act)
			a.SetName(layerName(n.name, "/"+n.op))
			ps = append(ps, &pending{l: a})
		case "Transpose":
			// Only Export's frame around a BatchNormalization on more than
			// one feature axis.
			if rank <= 2 || k+2 >= len(nodes) || nodes[k+1].op != "BatchNormalization" || nodes[k+2].op != "Transpose" ||
				len(nodes[k+1].inputs) == 0 || len(nodes[k+2].inputs) == 0 || len(nodes[k+1].outputs) != 1 ||
				!slices.Equal(n.attrs["perm"].ints, toAxis1(rank)) || !slices.Equal(nodes[k+2].attrs["perm"].ints, fromAxis1(rank)) ||
				nodes[k+1].inputs[0] != n.outputs[0] || nodes[k+2].inputs[0] != nodes[k+1].outputs[0] {
				return nil, nodeError(n, "a Transpose is imported only around a BatchNormalization, moving the last axis to 1 and back")
			}
			p, err := importBN(nodes[k+1], feat, weight)
			if err != nil {
				return nil, err
			}
			ps = append(ps, p)
			k += 2
			n = nodes[k]
		case "BatchNormalization":
			if rank != 2 {
				return nil, nodeError(n, "input of rank %d: ONNX normalizes axis 1, myelin the last", rank)
			}
			p, err := importBN(n, feat, weight)
			if err != nil {
				return nil, err
			}
			ps = append(ps, p)
		default:
			return nil, nodeError(n, notInSubset)
		}
		cur = n.outputs[0]
	}
	if cur != g.outputs[0].name {
		return nil, fmt.Errorf("onnx: the graph's output %q is not the last node's output %q", g.outputs[0].name, cur)
	}
	if len(ps) == 0 {
		ps = append(ps, &pending{l: layers.NewDropout(0)}) // a model needs a layer
	}
	ls := make([]layers.Layer, len(ps))
	for i, p := range ps {
		ls[i] = p.l
	}
	m := model.NewSequential(ls...)
	m.DType = dt
	if g.name != "" {
		m.Name = g.name
	}
	if err := m.Build(inShape...); err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	for _, p := range ps {
		if err := fill(p); err != nil {
			return nil, err
		}
	}
	if want := g.outputs[0].dims; len(want) > 0 {
		got := []string{want[0]}
		for _, v := range m.OutputShape() {
			got = append(got, strconv.Itoa(v))
		}
		if !slices.Equal(got, want) {
			return nil, fmt.Errorf("onnx: the graph's output has dims %v, the imported model gives %v", want, got)
		}
	}
	return m, nil
}

// checkAttrs fails unless each attribute in want is absent or has that
// int (or, for alpha and beta, float) value.
func checkAttrs(n dNode, want map[string]int64) error {
	for name, v := range want {
		a, ok := n.attrs[name]
		if !ok {
			continue
		}
		if a.typ == attrFloat && a.f != float32(v) || a.typ == attrInt && a.i != v || a.typ != attrFloat && a.typ != attrInt {
			return nodeError(n, "attribute %s is not %d", name, v)
		}
	}
	return nil
}

// layerName returns the layer name before one of the suffixes, or "" (the
// model then names the layer) when name has none of them or what is left
// is not a name Export would have written: one without a slash, as
// PyTorch's node names ("/fc1/Gemm") have.
func layerName(name string, suffixes ...string) string {
	for _, s := range suffixes {
		if l, ok := strings.CutSuffix(name, s); ok && l != "" && !strings.Contains(l, "/") {
			return l
		}
	}
	return ""
}

func importBN(n dNode, feat int64, weight func(dNode, int, int) (dTensor, error)) (*pending, error) {
	if len(n.inputs) != 5 || len(n.outputs) != 1 {
		return nil, nodeError(n, "%d inputs and %d outputs, want 5 and 1 (inference form)", len(n.inputs), len(n.outputs))
	}
	if a, ok := n.attrs["training_mode"]; ok && a.i != 0 {
		return nil, nodeError(n, "training_mode %d", a.i)
	}
	if a, ok := n.attrs["spatial"]; ok && a.i == 0 { // opsets before 9: per-element statistics
		return nil, nodeError(n, "spatial 0")
	}
	p := &pending{weights: map[string]dTensor{}}
	names := []string{"gamma", "beta", "moving_mean", "moving_variance"}
	for i, w := range names {
		t, err := weight(n, i+1, 1)
		if err != nil {
			return nil, err
		}
		if t.dims[0] != feat {
			return nil, nodeError(n, "%s %q of %d values for %d features", w, t.name, t.dims[0], feat)
		}
		p.weights[w] = t
	}
	bn := layers.NewBatchNormalization()
	bn.Epsilon = 1e-5 // ONNX's default
	if a, ok := n.attrs["epsilon"]; ok {
		if a.typ != attrFloat {
			return nil, nodeError(n, "epsilon is not a float")
		}
		// The shortest decimal that is this float32: 1e-3 comes back as
		// 1e-3, not 0.0010000000474974513.
		bn.Epsilon, _ = strconv.ParseFloat(strconv.FormatFloat(float64(a.f), 'g', -1, 32), 64)
	}
	if t := p.weights["gamma"]; strings.HasSuffix(t.name, "/unit_gamma") && allEqual(t, 1) {
		bn.Scale = false
		delete(p.weights, "gamma")
	}
	if t := p.weights["beta"]; strings.HasSuffix(t.name, "/zero_beta") && allEqual(t, 0) {
		bn.Center = false
		delete(p.weights, "beta")
	}
	bn.SetName(layerName(p.weights["moving_mean"].name, "/moving_mean"))
	p.l = bn
	return p, nil
}

func allEqual(t dTensor, v float64) bool {
	for _, x := range t.floats() {
		if x != v {
			return false
		}
	}
	return true
}

// fill copies the initializers into the built layer's weights, bit for
// bit, transposing a (units, inputs) kernel.
func fill(p *pending) error {
	for _, w := range p.l.Weights() {
		t, ok := p.weights[w.Name]
		if !ok {
			return fmt.Errorf("onnx: layer %q: no initializer for %s", p.l.Name(), w.Name)
		}
		n := 1
		for _, d := range t.dims {
			n *= int(d)
		}
		if n != w.Value.Len() {
			return fmt.Errorf("onnx: layer %q: initializer %q has %d values, %s needs %d", p.l.Name(), t.name, n, w.Name, w.Value.Len())
		}
		rows, cols := 1, n
		if w.Name == "kernel" && p.transB {
			rows, cols = int(t.dims[0]), int(t.dims[1]) // (units, inputs): element (u, i) goes to (i, u)
		}
		for k := range n {
			dst := k
			if rows > 1 {
				dst = k%cols*rows + k/cols
			}
			var v float64
			if d := w.Value.Float32s(); d != nil {
				d[dst] = math.Float32frombits(binary.LittleEndian.Uint32(t.raw[4*k:]))
				v = float64(d[dst])
			} else {
				v = math.Float64frombits(binary.LittleEndian.Uint64(t.raw[8*k:]))
				w.Value.Float64s()[dst] = v
			}
			// A model myelin holds must save and train: refuse what
			// Save would.
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("onnx: layer %q: initializer %q holds %v at element %d", p.l.Name(), t.name, v, k)
			}
		}
	}
	return nil
}
