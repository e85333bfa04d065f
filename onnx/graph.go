package onnx

import (
	"fmt"

	"github.com/myelin-go/myelin/tensor"
)

// Value is a tensor flowing through the graph: its name and its feature
// shape, the shape of one sample (the batch axis, "batch", is implied).
//
// Shape is always myelin's shape, images (height, width, channels). NCHW
// says the tensor in the graph holds that image channels first, (batch,
// channels, height, width), as ONNX's Conv and pooling want it; see
// layout.go for where the transposes go.
type Value struct {
	Name  string
	Shape tensor.Shape
	NCHW  bool
}

// Attr is a node attribute: an int, a float or a list of ints, as its
// constructors IntAttr, FloatAttr and IntsAttr make it.
type Attr struct {
	name string
	kind int // attrFloat, attrInt or attrInts (AttributeProto.AttributeType)
	i    int64
	f    float32
	ints []int64
}

// AttributeProto.AttributeType values.
const (
	attrFloat = 1
	attrInt   = 2
	attrInts  = 7
)

// IntAttr returns the int attribute name = v.
func IntAttr(name string, v int64) Attr { return Attr{name: name, kind: attrInt, i: v} }

// FloatAttr returns the float attribute name = v. ONNX float attributes
// are 32-bit, so a float64 setting such as epsilon is rounded here.
func FloatAttr(name string, v float32) Attr { return Attr{name: name, kind: attrFloat, f: v} }

// IntsAttr returns the list-of-ints attribute name = vs.
func IntsAttr(name string, vs ...int64) Attr { return Attr{name: name, kind: attrInts, ints: vs} }

type node struct {
	name, op       string
	inputs, output []string
	attrs          []Attr
}

type initializer struct {
	name string
	t    *tensor.Tensor // in the graph's dtype; nil for an int64 constant
	ints []int64        // the int64 constant when t is nil (a Reshape's shape)
}

// Graph is the ONNX graph an export builds. A LayerExporter adds the
// nodes and initializers of one layer; names must be unique across the
// graph (nodes, values and initializers share one namespace here, which is
// stricter than ONNX asks and keeps the file easy to read).
type Graph struct {
	// Opset is the ONNX operator set version being written, for exporters
	// whose operators changed between versions.
	Opset int
	dtype tensor.DType
	nodes []node
	inits []initializer
	names map[string]bool
	subst map[string]*tensor.Tensor // "layer/weight" → folded value (see fold.go)
}

func newGraph(dt tensor.DType, opset int) *Graph {
	return &Graph{Opset: opset, dtype: dt, names: map[string]bool{"input": true, "output": true}, subst: map[string]*tensor.Tensor{}}
}

// DType returns the element type of the graph's tensors: the model's.
func (g *Graph) DType() tensor.DType { return g.dtype }

func (g *Graph) claim(name string) error {
	if name == "" {
		return fmt.Errorf("onnx: empty name in the graph")
	}
	if g.names[name] {
		return fmt.Errorf("onnx: name %q used twice in the graph", name)
	}
	g.names[name] = true
	return nil
}

// Node adds a node running op on inputs, with attributes attrs, and
// returns the name of its one output, which is the node's name.
func (g *Graph) Node(op, name string, inputs []string, attrs ...Attr) (string, error) {
	if err := g.claim(name); err != nil {
		return "", err
	}
	g.nodes = append(g.nodes, node{name: name, op: op, inputs: inputs, output: []string{name}, attrs: attrs})
	return name, nil
}

// Const adds t as an initializer named name and returns the name. Use it
// for tensors that are not weights of the model file (a BatchNormalization
// without Scale still needs a scale of ones).
func (g *Graph) Const(name string, t *tensor.Tensor) (string, error) {
	if err := g.claim(name); err != nil {
		return "", err
	}
	g.inits = append(g.inits, initializer{name: name, t: t.As(g.dtype)})
	return name, nil
}

// Int64s adds the int64 vector vs as an initializer named name and
// returns the name: operators such as Reshape take their shape as an int64
// tensor, which no model weight is.
func (g *Graph) Int64s(name string, vs ...int64) (string, error) {
	if err := g.claim(name); err != nil {
		return "", err
	}
	g.inits = append(g.inits, initializer{name: name, ints: vs})
	return name, nil
}

// Weight adds the weight weight of layer layer as an initializer and
// returns its name. Its name is the tensor's name in the model file,
// "layer/weight" (dense/kernel), and it holds the file's values, unless
// BatchNormalization folding changed them: then it holds the folded values
// under the name "layer/weight_folded", so that a name shared with the
// model file always means the same numbers. t may be nil (a Dense without
// bias): Weight then returns "" unless folding gave the layer that weight.
func (g *Graph) Weight(layer, weight string, t *tensor.Tensor) (string, error) {
	key := layer + "/" + weight
	if f, ok := g.subst[key]; ok {
		return g.Const(key+"_folded", f)
	}
	if t == nil {
		return "", nil
	}
	return g.Const(key, t)
}

// finish names the graph's output: the last node's output is renamed
// "output", or an Identity node is added when no node computed out (a
// model of Dropout layers only).
func (g *Graph) finish(out Value) Value {
	if n := len(g.nodes); n > 0 && g.nodes[n-1].output[0] == out.Name {
		g.nodes[n-1].output[0] = "output"
	} else {
		g.nodes = append(g.nodes, node{name: "output/Identity", op: "Identity", inputs: []string{out.Name}, output: []string{"output"}})
	}
	return Value{Name: "output", Shape: out.Shape}
}
