package onnx

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/tensor"
)

// TestImportRoundTrip imports what Export wrote: unfolded, the same
// architecture and bit-identical weights; folded, the same predictions.
func TestImportRoundTrip(t *testing.T) {
	for _, e := range exampleModels(t) {
		t.Run(e.name, func(t *testing.T) {
			for _, fold := range []bool{false, true} {
				_, b := exportDecode(t, e.m, Options{FoldBN: fold, Opset: 17})
				m, err := Import(bytes.NewReader(b))
				if err != nil {
					t.Fatalf("fold %v: %v", fold, err)
				}
				sameModel(t, m, e.m, fold)
			}
		})
	}
}

// sameModel checks that m, imported from orig's export, computes what
// orig computes and, unless the export folded BN, has its architecture
// (less what computes nothing at inference) and its weights bit for bit.
func sameModel(t *testing.T, m, orig *model.Sequential, folded bool) {
	t.Helper()
	x := randomInput(orig, 9, 4)
	if i, diff := maxDiff(values(predict(t, m, x)), values(predict(t, orig, x))); diff > 1e-5 {
		t.Errorf("folded %v: output %d differs by %g after the round trip", folded, i, diff)
	}
	if folded {
		return
	}
	if got, want := inferenceArch(t, m), inferenceArch(t, orig); got != want {
		t.Errorf("architecture after the round trip:\n%s\nwant\n%s", got, want)
	}
	f1, err1 := orig.File()
	f2, err2 := m.File()
	if err1 != nil || err2 != nil || len(f1.Tensors) != len(f2.Tensors) {
		t.Fatalf("files: %v, %v; %d and %d tensors", err1, err2, len(f1.Tensors), len(f2.Tensors))
	}
	for i := range f1.Tensors {
		a, b := f1.Tensors[i], f2.Tensors[i]
		if a.Name != b.Name || !bytes.Equal(a.Data, b.Data) {
			t.Errorf("tensor %d: got %q (%d bytes), want %q bit for bit", i, b.Name, len(b.Data), a.Name)
		}
	}
}

// TestImportPyTorchForm imports a graph in the form torch.onnx.export
// writes for Linear → BatchNorm1d → ReLU → Linear → Softmax: Gemm with
// transB 1 and (out, in) weights named "fc1.weight", BatchNormalization
// with ε 1e-5, a named batch dimension. The imported model must compute
// what the graph computes (the test interpreter's reading of it).
func TestImportPyTorchForm(t *testing.T) {
	g := newGraph(tensor.Float32, 13)
	r := func(name string, shape ...int) string {
		x := tensor.New(tensor.Float32, shape...)
		for i := range x.Len() {
			x.SetIndex(i, 0.5+float64((i*7919+len(name)*31)%97)/97-0.4*float64(i%3))
		}
		n, err := g.Const(name, x)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	node := func(op, name string, attrs []Attr, ins ...string) string {
		out, err := g.Node(op, name, ins, attrs...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	x := node("Gemm", "/fc1/Gemm", []Attr{FloatAttr("alpha", 1), FloatAttr("beta", 1), IntAttr("transB", 1)}, "input", r("fc1.weight", 6, 4), r("fc1.bias", 6))
	x = node("BatchNormalization", "/bn/BatchNormalization", []Attr{FloatAttr("epsilon", 1e-5), FloatAttr("momentum", 0.9)},
		x, r("bn.weight", 6), r("bn.bias", 6), r("bn.running_mean", 6), r("bn.running_var", 6))
	x = node("Relu", "/relu/Relu", nil, x)
	x = node("Gemm", "/fc2/Gemm", []Attr{FloatAttr("alpha", 1), FloatAttr("beta", 1), IntAttr("transB", 1)}, x, r("fc2.weight", 3, 6), r("fc2.bias", 3))
	x = node("Softmax", "/softmax/Softmax", []Attr{IntAttr("axis", 1)}, x)
	out := g.finish(Value{Name: x, Shape: tensor.Shape{3}})
	b := encode(header{ir: 7, opset: 13, producerVersion: "2.0", name: "torch_jit"}, g, Value{Name: "input", Shape: tensor.Shape{4}}, out)

	m, err := Import(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, l := range m.Layers {
		types = append(types, l.Type()+" "+l.Name())
	}
	if got, want := strings.Join(types, ", "), "Dense dense, BatchNormalization batch_normalization, Activation activation, Dense dense_1"; got != want {
		t.Errorf("got layers %s, want %s", got, want)
	}
	d, err := decodeModel(b, true)
	if err != nil {
		t.Fatal(err)
	}
	in := randomInput(m, 5, 9)
	want, _, err := run(d.graph, values(in), in.Shape())
	if err != nil {
		t.Fatal(err)
	}
	if i, diff := maxDiff(values(predict(t, m, in)), want); diff > 1e-5 {
		t.Errorf("output %d: imported model differs from the graph by %g", i, diff)
	}
}

func TestImportErrors(t *testing.T) {
	chain := func(build func(g *Graph) string) []byte {
		g := newGraph(tensor.Float32, 13)
		out := g.finish(Value{Name: build(g), Shape: tensor.Shape{4}})
		return encode(header{ir: 7, opset: 13, producerVersion: "x", name: "g"}, g, Value{Name: "input", Shape: tensor.Shape{4}}, out)
	}
	for _, tc := range []struct {
		name string
		file []byte
		want string
	}{
		{"garbage", []byte("not a protobuf\xff"), "onnx: not an ONNX model"},
		{"conv on rows", chain(func(g *Graph) string {
			o, _ := g.Node("Conv", "conv1", []string{"input"})
			return o
		}), `onnx: node "conv1" (Conv): input is not an NCHW image`},
		{"unknown op", chain(func(g *Graph) string {
			o, _ := g.Node("LpPool", "lp", []string{"input"})
			return o
		}), `onnx: node "lp" (LpPool): operator not in the subset`},
		{"branch", chain(func(g *Graph) string {
			a, _ := g.Node("Relu", "a", []string{"input"})
			o, _ := g.Node("Tanh", "b", []string{"input"})
			_ = a
			return o
		}), `onnx: node "b" (Tanh): does not read the previous output "a"`},
		{"gemm-alpha", chain(func(g *Graph) string {
			w, _ := g.Const("w", tensor.New(tensor.Float32, 4, 4))
			o, _ := g.Node("Gemm", "gemm", []string{"input", w}, FloatAttr("alpha", 2))
			return o
		}), `onnx: node "gemm" (Gemm): attribute alpha is not 1`},
		{"bn-training", chain(func(g *Graph) string {
			var ins []string
			for _, n := range []string{"s", "b", "m", "v"} {
				c, _ := g.Const(n, tensor.New(tensor.Float32, 4))
				ins = append(ins, c)
			}
			o, _ := g.Node("BatchNormalization", "bn", append([]string{"input"}, ins...), IntAttr("training_mode", 1))
			return o
		}), `onnx: node "bn" (BatchNormalization): training_mode 1`},
		{"nan-weight", chain(func(g *Graph) string {
			w := tensor.New(tensor.Float32, 4, 4)
			w.Float32s()[5] = float32(math.NaN())
			c, _ := g.Const("dense/kernel", w)
			o, _ := g.Node("Gemm", "dense/Gemm", []string{"input", c})
			return o
		}), `onnx: layer "dense": initializer "dense/kernel" holds NaN at element 5`},
	} {
		_, err := Import(bytes.NewReader(tc.file))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := Import(bytes.NewReader(nil)); err == nil || errors.Is(err, model.ErrNotBuilt) {
		t.Errorf("empty file: got %v, want an error", err)
	}
}

// inferenceArch returns m's architecture JSON without its Dropout and
// linear Activation layers, which leave nothing in an ONNX graph.
func inferenceArch(t *testing.T, m *model.Sequential) string {
	t.Helper()
	b, err := m.Architecture()
	if err != nil {
		t.Fatal(err)
	}
	var a model.Arch
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	ls := a.Config.Layers[:0]
	for _, l := range a.Config.Layers {
		var c struct{ Activation string }
		if err := json.Unmarshal(l.Config, &c); err != nil {
			t.Fatal(err)
		}
		if l.ClassName == "Dropout" || l.ClassName == "Activation" && c.Activation == "linear" {
			continue
		}
		ls = append(ls, l)
	}
	a.Config.Layers = ls
	a.Config.Compile = nil // what Compile was given is no part of the graph
	out, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestImportPyTorch imports testdata/pytorch_mlp.onnx, which PyTorch 1.13's
// torch.onnx.export wrote for Linear → BatchNorm1d → ReLU → Linear →
// Softmax (testdata/gen_pytorch.py), and compares its predictions with
// PyTorch's own on the input saved beside it.
func TestImportPyTorch(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "pytorch_mlp.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := Import(f)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, l := range m.Layers {
		types = append(types, l.Type())
	}
	if got, want := strings.Join(types, " "), "Dense BatchNormalization Activation Dense"; got != want {
		t.Errorf("got layers %s, want %s", got, want)
	}
	if bn := m.Layers[1].(*layers.BatchNormalization); bn.Epsilon != 1e-5 {
		t.Errorf("got epsilon %g, want PyTorch's 1e-5", bn.Epsilon)
	}
	b, err := os.ReadFile(filepath.Join("testdata", "pytorch_mlp.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref struct{ Input, Output [][]float64 }
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	var x, want []float64
	for i := range ref.Input {
		x, want = append(x, ref.Input[i]...), append(want, ref.Output[i]...)
	}
	in := tensor.FromFloat64(x, len(ref.Input), len(ref.Input[0])).As(tensor.Float32)
	if i, diff := maxDiff(values(predict(t, m, in)), want); diff > 1e-6 {
		t.Errorf("output %d: myelin %g, PyTorch %g (|Δ| %g > 1e-6)", i, values(predict(t, m, in))[i], want[i], diff)
	}
}
