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
const notInSubset = "operator not in the subset myelin imports (Gemm, Conv, MaxPool, AveragePool, GlobalAveragePool, BatchNormalization, Relu, Sigmoid, Tanh, Softmax, Reshape, Flatten, Transpose, Identity, Dropout)"

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
//	Transpose            around a BatchNormalization, as Export writes it; on
//	                     images, NHWC↔NCHW only, which adds no layer
//	Identity, Dropout    nothing
//	Conv                 Conv2D (group 1; the kernel OIHW, PyTorch's, or HWIO
//	                     behind Export's Transpose), with its activation
//	MaxPool, AveragePool MaxPooling2D, AveragePooling2D (no ceil_mode, no
//	                     count_include_pad, no dilation)
//	GlobalAveragePool    GlobalAveragePooling2D
//	Reshape              Export's (batch, h·w·c) to (batch, h, w, c) only
//	Flatten              Flatten (axis 1); of an NCHW tensor, the next Gemm's
//	                     rows are reordered to myelin's NHWC order
//
// Convolutions and pools take no padding or TensorFlow's "same" (auto_pad
// SAME_UPPER, or pads equal to it). A rank-4 graph input is NCHW unless
// Export's transpose reads it; the imported model takes NHWC images.
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
	oihw    bool               // a convolution kernel stored (filters, channels, kh, kw)
	rows    []int              // a Dense kernel's input rows, in the ONNX weight's order (nchwRows)
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
	var img imageState // the graph's image, for rank-4 tensors
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
	if rank == 4 {
		// Export's image input is NHWC, and its first node transposes it;
		// any other rank-4 input is ONNX's NCHW (PyTorch's), and the
		// imported model takes the same images as NHWC, myelin's layout
		// (for one channel, the same memory).
		if first := firstReader(g.nodes, ins[0].name); first != nil && first.op == "Transpose" && slices.Equal(first.attrs["perm"].ints, []int64{0, 3, 1, 2}) {
			img = imageState{h: int64(inShape[0]), w: int64(inShape[1])}
		} else {
			c, h, w := inShape[0], inShape[1], inShape[2]
			inShape = []int{h, w, c}
			feat = int64(c)
			img = imageState{nchw: true, h: int64(h), w: int64(w)}
		}
	}

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
	// Transposes of initializers (Export's kernel_oihw) are read by the
	// Conv that uses them, and are not in the chain of layers.
	derived := map[string]derivedKernel{}
	var nodes []dNode
	for _, n := range g.nodes {
		if t, ok := inits[firstInput(n)]; ok && n.op == "Transpose" && len(n.outputs) == 1 {
			derived[n.outputs[0]] = derivedKernel{init: t, perm: n.attrs["perm"].ints}
			continue
		}
		nodes = append(nodes, n)
	}
	var flatCHW []int // a Flatten of an NCHW image (c, h, w): the next Gemm reorders its rows
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
			if flatCHW != nil { // sized by the weight just checked, not by the file's dims
				p.rows, flatCHW = nchwRows(flatCHW[0], flatCHW[1], flatCHW[2]), nil
			}
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
			if rank == 4 && img.nchw && !img.flat && n.op == "Softmax" {
				return nil, nodeError(n, "softmax over the width of an NCHW image: only over channels (NHWC) is imported")
			}
			// A convolution's own activation, as Export names it, maybe
			// behind the transpose back to NHWC that a softmax needs.
			if len(ps) > 0 && rank == 4 {
				conv, ok := ps[len(ps)-1].l.(*layers.Conv2D)
				if ok && conv.Activation == nn.Linear && conv.Name() != "" && n.name == conv.Name()+"/"+n.op {
					conv.Activation = act
					break
				}
			}
			a := layers.NewActivation(act)
			a.SetName(layerName(n.name, "/"+n.op))
			ps = append(ps, &pending{l: a})
		case "Transpose":
			if rank == 4 {
				perm := n.attrs["perm"].ints
				switch {
				case slices.Equal(perm, []int64{0, 3, 1, 2}) && !img.nchw:
					img.nchw = true
				case slices.Equal(perm, []int64{0, 2, 3, 1}) && img.nchw:
					img.nchw = false
				default:
					return nil, nodeError(n, "perm %v on an %s image: only NHWC↔NCHW is imported", perm, map[bool]string{true: "NCHW", false: "NHWC"}[img.nchw])
				}
				break
			}
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
			if rank == 4 && img.nchw && !img.flat {
				p, err := importBN(n, feat, weight) // ONNX's axis 1 is myelin's last
				if err != nil {
					return nil, err
				}
				ps = append(ps, p)
				break
			}
			if rank != 2 {
				return nil, nodeError(n, "input of rank %d: ONNX normalizes axis 1, myelin the last", rank)
			}
			p, err := importBN(n, feat, weight)
			if err != nil {
				return nil, err
			}
			ps = append(ps, p)
		case "Reshape":
			// Export's first node of an image model: (batch, h·w·c) to
			// (batch, h, w, c), NHWC.
			shape, ok := inits[secondInput(n)]
			if !ok || shape.dtype != dataInt64 || len(shape.dims) != 1 || shape.dims[0] != 4 || rank != 2 {
				return nil, nodeError(n, "only a Reshape of a rank-2 input to (batch, height, width, channels) by an int64 initializer is imported")
			}
			v := shape.floats()
			h, w, c := int64(v[1]), int64(v[2]), int64(v[3])
			if h <= 0 || w <= 0 || c <= 0 || h*w*c != feat {
				return nil, nodeError(n, "shape %v for %d features", v, feat)
			}
			l := layers.NewReshape(int(h), int(w), int(c))
			l.SetName(layerName(n.name, "/Reshape"))
			ps = append(ps, &pending{l: l})
			rank, feat, img = 4, c, imageState{h: h, w: w}
		case "Conv":
			if rank != 4 || !img.nchw || img.flat {
				return nil, nodeError(n, "input is not an NCHW image")
			}
			p, filters, err := importConv(n, &img, feat, inits, derived, weight)
			if err != nil {
				return nil, err
			}
			ps = append(ps, p)
			feat = filters
		case "MaxPool", "AveragePool":
			if rank != 4 || !img.nchw || img.flat {
				return nil, nodeError(n, "input is not an NCHW image")
			}
			p, err := importPool(n, &img)
			if err != nil {
				return nil, err
			}
			ps = append(ps, p)
		case "GlobalAveragePool":
			if rank != 4 || !img.nchw || img.flat {
				return nil, nodeError(n, "input is not an NCHW image")
			}
			l := layers.NewGlobalAveragePooling2D()
			l.SetName(layerName(n.name, "/GlobalAveragePool"))
			ps = append(ps, &pending{l: l})
			img = imageState{nchw: true, h: 1, w: 1, flat: true}
		case "Flatten":
			if a, ok := n.attrs["axis"]; ok && a.i != 1 {
				return nil, nodeError(n, "axis %d: only axis 1 is imported", a.i)
			}
			if rank != 4 {
				return nil, nodeError(n, "input of rank %d: only images are flattened", rank)
			}
			if !img.flat {
				l := layers.NewFlatten()
				l.SetName(layerName(n.name, "/Flatten"))
				ps = append(ps, &pending{l: l})
				if img.h > 1<<20 || img.w > 1<<20 || feat > 1<<20 {
					return nil, nodeError(n, "an image of %d×%d×%d: too large to flatten", img.h, img.w, feat)
				}
				if img.nchw && img.h*img.w > 1 {
					flatCHW = []int{int(feat), int(img.h), int(img.w)}
				}
				feat *= img.h * img.w
			}
			rank, img = 2, imageState{}
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
		src := sourceIndex(p, w.Name, t, n)
		for dst := range n {
			k := src(dst)
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

// sourceIndex returns, for each element of a layer weight, the element of
// its initializer: the same one, or through a transposed Dense kernel,
// an OIHW convolution kernel, or a Dense's rows reordered after an NCHW
// Flatten.
func sourceIndex(p *pending, name string, t dTensor, n int) func(int) int {
	if name != "kernel" {
		return func(i int) int { return i }
	}
	if p.oihw { // (filters, channels, kh, kw) → (kh, kw, channels, filters)
		f, c, kh, kw := int(t.dims[0]), int(t.dims[1]), int(t.dims[2]), int(t.dims[3])
		return func(i int) int {
			m := i % f
			ch := i / f % c
			x := i / (f * c) % kw
			y := i / (f * c * kw)
			_ = kh
			return ((m*c+ch)*kh+y)*kw + x
		}
	}
	if len(t.dims) != 2 {
		return func(i int) int { return i }
	}
	in, units := int(t.dims[0]), int(t.dims[1])
	if p.transB {
		units, in = in, units
	}
	return func(i int) int { // myelin's kernel is (inputs, units)
		r, u := i/units, i%units
		if p.rows != nil {
			r = p.rows[r]
		}
		if p.transB {
			return u*in + r
		}
		return r*units + u
	}
}

func firstInput(n dNode) string {
	if len(n.inputs) == 0 {
		return ""
	}
	return n.inputs[0]
}

func secondInput(n dNode) string {
	if len(n.inputs) < 2 {
		return ""
	}
	return n.inputs[1]
}

// firstReader returns the first node that reads name, or nil.
func firstReader(nodes []dNode, name string) *dNode {
	for i := range nodes {
		if slices.Contains(nodes[i].inputs, name) {
			return &nodes[i]
		}
	}
	return nil
}
