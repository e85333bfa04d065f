package model

import (
	"bytes"
	"context"
	"errors"
	"math"
	"testing"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/safetensors"
	"github.com/myelin-go/myelin/tensor"
)

// fuzzModels returns small models of every layer type and both dtypes,
// built, some compiled: the seeds of both fuzz targets.
func fuzzModels(tb testing.TB) []*Sequential {
	tb.Helper()
	noCenter := layers.NewBatchNormalization()
	noCenter.Center = false
	a := NewSequential(layers.NewDense(3, nn.ActReLU), layers.NewBatchNormalization(), layers.NewDropout(0.5), layers.NewDense(2, nn.ActSoftmax))
	if err := a.CompileNames("adam", "categorical_crossentropy", "accuracy"); err != nil {
		tb.Fatal(err)
	}
	b := NewSequential(noCenter, layers.NewActivation(nn.ActTanh), layers.NewDense(1, nn.ActSigmoid))
	b.DType = tensor.Float64
	if err := b.CompileNames("sgd", "binary_crossentropy"); err != nil {
		tb.Fatal(err)
	}
	nobias := layers.NewDense(2, nn.Linear)
	nobias.UseBias = false
	c := NewSequential(nobias)
	for _, m := range []*Sequential{a, b, c} {
		if err := m.Build(4); err != nil {
			tb.Fatal(err)
		}
	}
	return []*Sequential{a, b, c}
}

func encodeModel(tb testing.TB, m *Sequential) []byte {
	tb.Helper()
	f, err := m.File()
	if err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, f); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// weightValues lists every weight and state value of m in order.
func weightValues(m *Sequential) []float64 {
	var out []float64
	for _, l := range m.Layers {
		for _, w := range l.Weights() {
			for i := range w.Value.Len() {
				out = append(out, w.Value.Index(i))
			}
		}
	}
	return out
}

// FuzzLoad feeds arbitrary bytes to Decode, the path Load takes after
// reading the file. It must return a model or a *LoadError, never panic;
// an accepted model has only finite weights and survives File, Write and
// Decode unchanged. The seed corpus is in testdata/fuzz/FuzzLoad.
func FuzzLoad(f *testing.F) {
	for _, m := range fuzzModels(f) {
		b := encodeModel(f, m)
		f.Add(b)
		f.Add(b[:len(b)-1])
		f.Add(b[:len(b)/2])
	}
	for _, b := range fuzzCheckpoints(f) { // Decode reads checkpoints too
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte("\x02\x00\x00\x00\x00\x00\x00\x00{}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("error %v (%T) is not a *LoadError", err, err)
			}
			if m != nil {
				t.Fatalf("a model and the error %v", err)
			}
			return
		}
		w := weightValues(m)
		for i, v := range w {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("accepted a model whose weight value %d is %g", i, v)
			}
		}
		again, err := Decode(encodeModel(t, m))
		if err != nil {
			t.Fatalf("Decode of an accepted model, encoded again: %v", err)
		}
		w2 := weightValues(again)
		if len(w2) != len(w) {
			t.Fatalf("round trip: %d weight values, want %d", len(w2), len(w))
		}
		for i := range w {
			if math.Float64bits(w[i]) != math.Float64bits(w2[i]) {
				t.Fatalf("round trip: weight value %d is %g, want %g", i, w2[i], w[i])
			}
		}
	})
}

// FuzzFromArchitecture feeds arbitrary bytes to FromArchitecture, with
// the weight limit lowered so that the fuzzer's models stay small. It must
// return a model or an error starting "model: ", never panic; an accepted
// model's Architecture must be accepted again and give the same JSON.
// The seed corpus is in testdata/fuzz/FuzzFromArchitecture.
func FuzzFromArchitecture(f *testing.F) {
	for _, m := range fuzzModels(f) {
		arch, err := m.Architecture()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(arch)
	}
	f.Add([]byte(`{"class_name":"Sequential","config":{"layers":[{"class_name":"Dense","config":{"units":2}}]}}`))
	f.Add([]byte(`{"class_name":"Sequential","config":{"input_shape":[3],"layers":[{"class_name":"Dense","config":"relu"}]}}`))
	f.Add([]byte(`{"class_name":"Sequential","config":{"input_shape":[3],"layers":[{"class_name":"Dense","config":{"units":2,"kernel_initializer":"he_normal"}}]}}`))
	defer func(old uint64) { maxArchElems = old }(maxArchElems)
	maxArchElems = 1 << 16
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := FromArchitecture(b)
		if err != nil {
			if m != nil {
				t.Fatalf("a model and the error %v", err)
			}
			if len(err.Error()) < 7 || err.Error()[:7] != "model: " {
				t.Fatalf("error %q does not start with \"model: \"", err)
			}
			return
		}
		arch, err := m.Architecture()
		if err != nil {
			t.Fatalf("Architecture of an accepted model: %v", err)
		}
		m2, err := FromArchitecture(arch)
		if err != nil {
			t.Fatalf("FromArchitecture of its own Architecture: %v\n%s", err, arch)
		}
		arch2, err := m2.Architecture()
		if err != nil || !bytes.Equal(arch, arch2) {
			t.Fatalf("architecture changed in a round trip (%v):\n%s\n%s", err, arch, arch2)
		}
	})
}

// fuzzCheckpoints returns checkpoint files of the compiled fuzzModels,
// each after a short Fit, checked to load.
func fuzzCheckpoints(f *testing.F) [][]byte {
	var out [][]byte
	for _, m := range fuzzModels(f) {
		if m.Optimizer() == nil {
			continue
		}
		x := tensor.New(m.DType, 8, 4)
		for i := range x.Len() {
			x.SetIndex(i, float64(i%5)-2)
		}
		y := tensor.New(m.DType, append(tensor.Shape{8}, m.outShape...)...)
		for i := range 8 {
			y.SetIndex(i*y.Dim(1), 1)
		}
		if _, err := m.Fit(context.Background(), x, y, FitOptions{Epochs: 1, BatchSize: 4}); err != nil {
			f.Fatal(err)
		}
		cf, err := m.CheckpointFile(map[string]string{"note": "seed"})
		if err != nil {
			f.Fatal(err)
		}
		var buf bytes.Buffer
		if err := safetensors.Write(&buf, cf); err != nil {
			f.Fatal(err)
		}
		b := buf.Bytes()
		sf, err := safetensors.Parse(bytes.Clone(b))
		if err != nil {
			f.Fatal(err)
		}
		if _, _, err := CheckpointFromFile(sf, "seed"); err != nil {
			f.Fatalf("seed checkpoint rejected: %v", err)
		}
		out = append(out, b)
	}
	return out
}

// FuzzLoadCheckpoint feeds arbitrary bytes to CheckpointFromFile, the path
// LoadCheckpoint takes after parsing the file: it must return a model and
// a Checkpoint or a *LoadError, never panic, and an accepted model holds
// only finite weights. The weight limit is lowered as in
// FuzzFromArchitecture. The seed corpus is in
// testdata/fuzz/FuzzLoadCheckpoint.
func FuzzLoadCheckpoint(f *testing.F) {
	for _, b := range fuzzCheckpoints(f) {
		f.Add(b)
		f.Add(b[:len(b)-3])
	}
	defer func(old uint64) { maxArchElems = old }(maxArchElems)
	maxArchElems = 1 << 16
	f.Fuzz(func(t *testing.T, b []byte) {
		sf, err := safetensors.Parse(b)
		if err != nil {
			return // FuzzParse covers the container
		}
		m, ck, err := CheckpointFromFile(sf, "fuzz")
		if err != nil {
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("error %v (%T) is not a *LoadError", err, err)
			}
			if m != nil || ck != nil {
				t.Fatalf("a result and the error %v", err)
			}
			return
		}
		for i, v := range weightValues(m) {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("accepted a checkpoint whose weight value %d is %g", i, v)
			}
		}
	})
}
