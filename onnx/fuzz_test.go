package onnx

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/tensor"
)

// maxFuzzElems bounds the weights of a fuzzed architecture, checked before
// FromArchitecture allocates them (its own bound, 2^31, is for machines).
const maxFuzzElems = 1 << 16

// FuzzExport exports architectures read by model.FromArchitecture, with
// and without folding at each opset, and checks the file through the
// test decoder: header, signature, names, initializers against the model
// file, every node input defined before use, and the graph's outputs
// against Predict in the float64 interpreter.
func FuzzExport(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("..", "examples", "founding.json")); err == nil {
		f.Add(b, byte(0))
	}
	for i, e := range exampleModels(f) {
		b, err := e.m.Architecture()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, byte(i))
	}
	f.Fuzz(func(t *testing.T, arch []byte, flags byte) {
		if !small(arch) {
			t.Skip("no input shape, or weights over the fuzz bound")
		}
		m, err := model.FromArchitecture(arch)
		if err != nil || !m.Built() {
			t.Skip("not a built model")
		}
		randomizeBN(m, uint64(flags))
		o := Options{Opset: 13 + int(flags>>1)%5, FoldBN: flags&1 == 1}
		d, _ := exportDecode(t, m, o)
		checkStructure(t, m, d, o)
		x := randomInput(m, 3, uint64(flags))
		want := values(predict(t, m, x))
		got, _, err := run(d.graph, values(x), x.Shape())
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if math.IsNaN(want[i]) || math.IsInf(want[i], 0) {
				continue
			}
			if diff := math.Abs(got[i] - want[i]); !(diff <= 1e-4*(1+math.Abs(want[i]))) {
				t.Fatalf("output %d: interpreter %g, Predict %g", i, got[i], want[i])
			}
		}
	})
}

// small reports whether arch has an input shape and weights of at most
// maxFuzzElems elements by a rough count (each Dense's units times the
// largest width seen so far, each other layer twice the width).
func small(arch []byte) bool {
	var a model.Arch
	if json.Unmarshal(arch, &a) != nil || len(a.Config.InputShape) == 0 {
		return false
	}
	width, total := 1, 0
	for _, d := range a.Config.InputShape {
		if d <= 0 || d > maxFuzzElems {
			return false
		}
		width *= d
		if width > maxFuzzElems {
			return false
		}
	}
	for _, l := range a.Config.Layers {
		var c struct{ Units int }
		json.Unmarshal(l.Config, &c) // a bad config fails FromArchitecture
		if c.Units < 0 || c.Units > maxFuzzElems {
			return false
		}
		if c.Units > 0 {
			total += width * c.Units
			width = max(width, c.Units)
		}
		total += 4 * width
		if total > maxFuzzElems {
			return false
		}
	}
	return true
}

// checkStructure checks what Export promises of any file.
func checkStructure(t *testing.T, m *model.Sequential, d *dModel, o Options) {
	t.Helper()
	if ir, _ := IRVersion(o.Opset); d.ir != int64(ir) || d.opset != int64(o.Opset) || d.producer != "myelin" || d.prodV == "" {
		t.Errorf("header: IR %d, opset %d, producer %q %q; want IR %d, opset %d, producer myelin", d.ir, d.opset, d.producer, d.prodV, ir, o.Opset)
	}
	g := d.graph
	elem := int64(dataFloat)
	if m.DType == tensor.Float64 {
		elem = dataDouble
	}
	sig := func(vs []dValue, name string, shape tensor.Shape) {
		want := []string{"batch"}
		for _, v := range shape {
			want = append(want, strconv.Itoa(v))
		}
		if len(vs) != 1 || vs[0].name != name || vs[0].elem != elem || strings.Join(vs[0].dims, ",") != strings.Join(want, ",") {
			t.Errorf("got %+v, want %s of type %d and dims %v", vs, name, elem, want)
		}
	}
	sig(g.inputs, "input", m.InputShape())
	sig(g.outputs, "output", m.OutputShape())

	f, err := m.File()
	if err != nil {
		t.Fatal(err)
	}
	file := map[string][]byte{}
	for _, st := range f.Tensors {
		file[st.Name] = st.Data
	}
	defined := map[string]bool{"input": true}
	for _, it := range g.inits {
		if defined[it.name] {
			t.Errorf("initializer %q defined twice", it.name)
		}
		defined[it.name] = true
		if it.dtype != elem {
			t.Errorf("initializer %q: type %d, want %d", it.name, it.dtype, elem)
		}
		if data, ok := file[it.name]; ok {
			if !bytes.Equal(data, it.raw) {
				t.Errorf("initializer %q differs from the model file's tensor", it.name)
			}
		} else if !strings.HasSuffix(it.name, "_folded") && !strings.HasSuffix(it.name, "/unit_gamma") && !strings.HasSuffix(it.name, "/zero_beta") {
			t.Errorf("initializer %q is neither a model file tensor nor a named constant", it.name)
		}
	}
	nodes := map[string]bool{}
	for _, n := range g.nodes {
		if nodes[n.name] || n.name == "" {
			t.Errorf("node name %q empty or used twice", n.name)
		}
		nodes[n.name] = true
		for _, in := range n.inputs {
			if !defined[in] {
				t.Errorf("node %s reads %q before anything defines it", n.name, in)
			}
		}
		for _, out := range n.outputs {
			if defined[out] {
				t.Errorf("node %s redefines %q", n.name, out)
			}
			defined[out] = true
		}
	}
	if !defined["output"] {
		t.Errorf("no node computes \"output\"")
	}
}

// FuzzImport reads arbitrary bytes as an ONNX model: an error or a built
// model, never a panic or an allocation beyond the file's numbers; a model
// it returns exports again, and imports from that export to the same
// weights.
func FuzzImport(f *testing.F) {
	for _, e := range exampleModels(f) {
		for _, fold := range []bool{false, true} {
			b, err := Marshal(e.m, Options{FoldBN: fold})
			if err != nil {
				f.Fatal(err)
			}
			if len(b) <= 1<<16 { // the founding model's 220 kB would slow every mutation
				f.Add(b)
			}
		}
	}
	for _, e := range cnnModels(f) {
		if b, err := Marshal(e.m, Options{}); err == nil && len(b) <= 1<<16 {
			f.Add(b)
		}
	}
	for _, name := range []string{"pytorch_mlp.onnx", "pytorch_cnn.onnx", "pytorch_cnn_bn.onnx"} {
		if b, err := os.ReadFile(filepath.Join("testdata", name)); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Import(bytes.NewReader(b))
		if err != nil {
			return
		}
		if !m.Built() {
			t.Fatal("Import returned an unbuilt model")
		}
		b2, err := Marshal(m, Options{})
		if err != nil {
			t.Fatalf("an imported model does not export: %v", err)
		}
		m2, err := Import(bytes.NewReader(b2))
		if err != nil {
			t.Fatalf("an exported import does not import: %v", err)
		}
		f1, err1 := m.File()
		f2, err2 := m2.File()
		if err1 != nil || err2 != nil || len(f1.Tensors) != len(f2.Tensors) {
			t.Fatalf("files: %v, %v", err1, err2)
		}
		for i := range f1.Tensors {
			if !bytes.Equal(f1.Tensors[i].Data, f2.Tensors[i].Data) {
				t.Fatalf("tensor %s changed in a second round trip", f1.Tensors[i].Name)
			}
		}
	})
}
