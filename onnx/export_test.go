package onnx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// TestExportFounding decodes the exported founding model and checks the
// header, the graph's signature, its operators, and that the initializers
// are the model file's tensors: the same names and the same bits.
func TestExportFounding(t *testing.T) {
	m := founding(t)
	randomizeBN(m, 1)
	for _, tc := range []struct{ opset, ir int64 }{{0, 7}, {13, 7}, {14, 7}, {15, 8}, {17, 8}} {
		d, _ := exportDecode(t, m, Options{Opset: int(tc.opset), ProducerVersion: "v9.9.9"})
		wantOpset := tc.opset
		if wantOpset == 0 {
			wantOpset = 13
		}
		if d.ir != tc.ir || d.opset != wantOpset || d.opsetDomain != "" {
			t.Errorf("opset %d: got IR %d, opset %d (domain %q), want IR %d, opset %d (domain \"\")", tc.opset, d.ir, d.opset, d.opsetDomain, tc.ir, wantOpset)
		}
		if d.producer != "myelin" || d.prodV != "v9.9.9" {
			t.Errorf("got producer %q %q, want \"myelin\" \"v9.9.9\"", d.producer, d.prodV)
		}
	}
	d, _ := exportDecode(t, m, Options{})
	g := d.graph
	if g.name != "sequential" {
		t.Errorf("got graph name %q, want \"sequential\"", g.name)
	}
	in, out := g.inputs, g.outputs
	if len(in) != 1 || in[0].name != "input" || in[0].elem != dataFloat || !slices.Equal(in[0].dims, []string{"batch", "784"}) {
		t.Errorf("got inputs %+v, want one float input \"input\" of (batch, 784)", in)
	}
	if len(out) != 1 || out[0].name != "output" || out[0].elem != dataFloat || !slices.Equal(out[0].dims, []string{"batch", "10"}) {
		t.Errorf("got outputs %+v, want one float output \"output\" of (batch, 10)", out)
	}
	wantOps := []string{"Gemm", "Relu", "BatchNormalization", "Gemm", "Relu", "BatchNormalization", "Gemm", "Softmax"}
	if got := ops(g); !slices.Equal(got, wantOps) {
		t.Errorf("got operators %v, want %v", got, wantOps)
	}
	for _, n := range g.nodes {
		if n.op == "BatchNormalization" {
			if a := n.attrs["epsilon"]; a.typ != attrFloat || a.f != float32(1e-3) {
				t.Errorf("node %s: got epsilon %+v, want float %g", n.name, a, float32(1e-3))
			}
			if !slices.Equal(n.inputs[1:], []string{
				strings.TrimSuffix(n.name, "/BatchNormalization") + "/gamma",
				strings.TrimSuffix(n.name, "/BatchNormalization") + "/beta",
				strings.TrimSuffix(n.name, "/BatchNormalization") + "/moving_mean",
				strings.TrimSuffix(n.name, "/BatchNormalization") + "/moving_variance",
			}) {
				t.Errorf("node %s: got inputs %v, want x, gamma, beta, moving_mean, moving_variance", n.name, n.inputs)
			}
		}
	}

	f, err := m.File()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]dTensor{}
	for _, it := range g.inits {
		byName[it.name] = it
	}
	if len(byName) != len(f.Tensors) || len(g.inits) != len(f.Tensors) {
		t.Errorf("got %d initializers, want the model file's %d tensors", len(g.inits), len(f.Tensors))
	}
	for _, st := range f.Tensors {
		it, ok := byName[st.Name]
		if !ok {
			t.Errorf("no initializer named %q", st.Name)
			continue
		}
		dims := make([]int64, len(st.Shape))
		for i, v := range st.Shape {
			dims[i] = int64(v)
		}
		if !slices.Equal(it.dims, dims) || it.dtype != dataFloat || !bytes.Equal(it.raw, st.Data) {
			t.Errorf("initializer %q: dims %v, type %d, %d bytes; want the file's %v float, %d bytes, bit for bit", st.Name, it.dims, it.dtype, len(it.raw), dims, len(st.Data))
		}
	}
}

// TestExportMatchesPredict runs each exported graph in the test's own
// float64 interpreter and compares with Predict, folded and not. ONNX
// Runtime does the same on MNIST in TestONNXRuntime where it is installed.
func TestExportMatchesPredict(t *testing.T) {
	for _, tc := range exampleModels(t) {
		for _, fold := range []bool{false, true} {
			name := tc.name
			if fold {
				name += "/fold"
			}
			t.Run(name, func(t *testing.T) {
				d, _ := exportDecode(t, tc.m, Options{FoldBN: fold})
				x := randomInput(tc.m, 17, 3)
				want := predict(t, tc.m, x)
				got, shape, err := run(d.graph, values(x), x.Shape())
				if err != nil {
					t.Fatal(err)
				}
				if !tensor.Shape(shape).Equal(want.Shape()) {
					t.Fatalf("got output shape %v, want %s", shape, want.Shape())
				}
				tol := 1e-5
				if tc.m.DType == tensor.Float64 {
					tol = 1e-10 // epsilon is a float32 attribute: 1e-3 becomes 1e-3 + 4.7e-11
				}
				if i, diff := maxDiff(got, values(want)); diff > tol {
					t.Errorf("output %d: got %g, Predict %g (|Δ| %g > %g)", i, got[i], values(want)[i], diff, tol)
				}
				if bns := slices.Index(ops(d.graph), "BatchNormalization") >= 0; fold && tc.foldable && bns {
					t.Errorf("operators %v: want every BatchNormalization folded", ops(d.graph))
				}
			})
		}
	}
}

func maxDiff(a, b []float64) (int, float64) {
	at, m := 0, 0.0
	for i := range a {
		if d := math.Abs(a[i] - b[i]); d > m || math.IsNaN(d) {
			at, m = i, d
			if math.IsNaN(d) {
				return i, math.Inf(1)
			}
		}
	}
	return at, m
}

type example struct {
	name     string
	m        *model.Sequential
	foldable bool // every BN can be folded
}

// exampleModels are models that exercise each exporter and fold rule, with
// their BN statistics randomized.
func exampleModels(t testing.TB) []example {
	dense := func(units int, act nn.Activation, bias bool) *layers.Dense {
		d := layers.NewDense(units, act)
		d.UseBias = bias
		return d
	}
	bn := func(center, scale bool) *layers.BatchNormalization {
		b := layers.NewBatchNormalization()
		b.Center, b.Scale = center, scale
		b.Epsilon = 0.01
		return b
	}
	f64 := model.NewSequential(layers.NewDense(8, nn.ActTanh), layers.NewBatchNormalization(), layers.NewDense(3, nn.ActSoftmax))
	f64.DType = tensor.Float64
	exs := []example{
		{"founding", founding(t), true},
		{"activations", build(t, model.NewSequential(
			dense(16, nn.Linear, true), layers.NewActivation(nn.ActReLU),
			dense(16, nn.ActSigmoid, true), layers.NewActivation(nn.ActTanh),
			dense(16, nn.ActTanh, true), layers.NewActivation(nn.Linear), layers.NewActivation(nn.ActSigmoid),
			dense(16, nn.ActReLU, true), layers.NewDropout(0.5),
			dense(10, nn.Linear, true), layers.NewActivation(nn.ActSoftmax),
		), 20), true},
		{"fold-backward", build(t, model.NewSequential(
			dense(12, nn.Linear, false), bn(true, true), bn(false, true), layers.NewActivation(nn.ActReLU),
			dense(6, nn.Linear, true), layers.NewDropout(0.2), bn(true, false), layers.NewActivation(nn.ActSigmoid),
		), 9), true},
		{"fold-forward", build(t, model.NewSequential(
			bn(true, true), layers.NewDropout(0.3), dense(12, nn.ActReLU, false), bn(false, false),
			layers.NewActivation(nn.Linear), dense(4, nn.ActSoftmax, true),
		), 9), true},
		{"partly-foldable", build(t, model.NewSequential(
			dense(12, nn.ActReLU, true), bn(true, true), layers.NewActivation(nn.ActTanh), bn(true, true),
			dense(5, nn.ActSigmoid, true), bn(true, true),
		), 7), false},
		{"multi-axis", build(t, model.NewSequential(
			bn(true, true), layers.NewActivation(nn.ActSoftmax), layers.NewDropout(0.1), bn(true, false),
		), 2, 3, 4), false},
		{"dropout-only", build(t, model.NewSequential(layers.NewDropout(0.5)), 5), true},
		{"float64", build(t, f64, 6), true},
	}
	for i, e := range exs {
		randomizeBN(e.m, uint64(i))
	}
	return exs
}

// TestFoldBN checks where each BN went: the names the folded weights get,
// the BN tensors gone, and what stays a node.
func TestFoldBN(t *testing.T) {
	byName := map[string]*model.Sequential{}
	for _, e := range exampleModels(t) {
		byName[e.name] = e.m
	}
	for _, tc := range []struct {
		model string
		ops   []string
		inits []string
	}{
		{"founding", []string{"Gemm", "Relu", "Gemm", "Relu", "Gemm", "Softmax"},
			[]string{"dense/kernel", "dense/bias", "dense_1/kernel_folded", "dense_1/bias_folded", "dense_2/kernel_folded", "dense_2/bias_folded"}},
		{"fold-backward", []string{"Gemm", "Relu", "Gemm", "Sigmoid"},
			[]string{"dense/kernel_folded", "dense/bias_folded", "dense_1/kernel_folded", "dense_1/bias_folded"}},
		{"fold-forward", []string{"Gemm", "Relu", "Gemm", "Softmax"},
			[]string{"dense/kernel_folded", "dense/bias_folded", "dense_1/kernel_folded", "dense_1/bias_folded"}},
		{"partly-foldable", []string{"Gemm", "Relu", "BatchNormalization", "Tanh", "Gemm", "Sigmoid", "BatchNormalization"},
			nil},
	} {
		d, _ := exportDecode(t, byName[tc.model], Options{FoldBN: true})
		if got := ops(d.graph); !slices.Equal(got, tc.ops) {
			t.Errorf("%s: got operators %v, want %v", tc.model, got, tc.ops)
		}
		if tc.inits == nil {
			continue
		}
		var got []string
		for _, it := range d.graph.inits {
			got = append(got, it.name)
		}
		if !slices.Equal(got, tc.inits) {
			t.Errorf("%s: got initializers %v, want %v", tc.model, got, tc.inits)
		}
	}
}

// TestInterpreterSeesOneBit proves that TestExportMatchesPredict can fail:
// one flipped mantissa bit (2^-3 of the value) in one weight of the file
// moves the output past the tolerance.
func TestInterpreterSeesOneBit(t *testing.T) {
	m := founding(t)
	randomizeBN(m, 2)
	d, _ := exportDecode(t, m, Options{})
	x := randomInput(m, 4, 1)
	want := values(predict(t, m, x))
	for i, it := range d.graph.inits {
		if it.name == "dense_2/kernel" {
			raw := slices.Clone(it.raw)
			v := binary.LittleEndian.Uint32(raw)
			binary.LittleEndian.PutUint32(raw, v^1<<20)
			d.graph.inits[i].raw = raw
		}
	}
	got, _, err := run(d.graph, values(x), x.Shape())
	if err != nil {
		t.Fatal(err)
	}
	if _, diff := maxDiff(got, want); diff <= 1e-5 {
		t.Errorf("a flipped bit in dense_2/kernel changed the outputs by %g, want more than 1e-5", diff)
	}
}

// opaque is a layer type with no exporter.
type opaque struct{ layers.Dropout }

func (*opaque) Type() string { return "Opaque" }

func TestExportErrors(t *testing.T) {
	var buf bytes.Buffer
	unbuilt := model.NewSequential(layers.NewDense(3, nn.ActReLU))
	if err := Export(&buf, unbuilt, Options{}); !errors.Is(err, model.ErrNotBuilt) {
		t.Errorf("unbuilt model: got %v, want model.ErrNotBuilt", err)
	}
	m := founding(t)
	for _, opset := range []int{-1, 12, 18} {
		err := Export(&buf, m, Options{Opset: opset})
		if err == nil || !strings.Contains(err.Error(), "onnx: opset") {
			t.Errorf("opset %d: got %v, want an opset error", opset, err)
		}
	}

	o := &opaque{}
	o.SetName("mystery")
	m = build(t, model.NewSequential(layers.NewDense(4, nn.ActReLU), o), 3)
	err := Export(&buf, m, Options{})
	var le *LayerError
	if !errors.As(err, &le) || le.Index != 1 || le.Name != "mystery" || le.Type != "Opaque" || !errors.Is(err, ErrUnsupported) {
		t.Errorf("unknown layer type: got %v, want a LayerError for layer 1 \"mystery\" (Opaque) wrapping ErrUnsupported", err)
	}
	if want := `onnx: layer 1 "mystery" (Opaque): no ONNX exporter`; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got message %v, want it to start %q", err, want)
	}

	a := layers.NewActivation(nn.ActReLU)
	m = build(t, model.NewSequential(layers.NewDense(4, nn.Linear), a), 3)
	a.Activation = nn.Activation(200) // no such activation, set past Build's check
	if err := Export(&buf, m, Options{}); !errors.As(err, &le) || le.Name != "activation" || !strings.Contains(err.Error(), "activation(200) has no ONNX operator") {
		t.Errorf("unknown activation: got %v, want a LayerError naming layer \"activation\" and the activation", err)
	}
	if buf.Len() != 0 {
		t.Errorf("failed exports wrote %d bytes, want none", buf.Len())
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), `"Dense"`) {
			t.Errorf("got panic %v, want one naming \"Dense\"", r)
		}
	}()
	Register("Dense", exportDense)
}

// TestRegister exports a new layer type through Register, as the CNN
// layers will join: a layer scaling its input by a constant.
func TestRegister(t *testing.T) {
	registerScale2.Do(func() { Register("TestScale2", exportScale2) })
	s := &scale2{}
	m := build(t, model.NewSequential(layers.NewDense(3, nn.ActReLU), s), 4)
	d, _ := exportDecode(t, m, Options{})
	if got, want := ops(d.graph), []string{"Gemm", "Relu", "Mul"}; !slices.Equal(got, want) {
		t.Errorf("got operators %v, want %v", got, want)
	}
	if last := d.graph.nodes[len(d.graph.nodes)-1]; last.name != "test_scale2/Mul" || last.outputs[0] != "output" {
		t.Errorf("got last node %s → %v, want test_scale2/Mul → output", last.name, last.outputs)
	}
}

// registerScale2 registers scale2's exporter once, however often the test runs.
var registerScale2 sync.Once

func exportScale2(g *Graph, l layers.Layer, x Value) (Value, error) {
	two, err := g.Const(l.Name()+"/two", tensor.FromFloat32([]float32{2}, 1))
	if err != nil {
		return Value{}, err
	}
	out, err := g.Node("Mul", l.Name()+"/Mul", []string{x.Name, two})
	return Value{Name: out, Shape: x.Shape}, err
}

// scale2 multiplies its input by two.
type scale2 struct{ layers.Dropout }

func (*scale2) Type() string { return "TestScale2" }

func (*scale2) Forward(p *layers.Pass, x *autodiff.Var) *autodiff.Var {
	return nn.Add(p.Tape, x, x)
}
