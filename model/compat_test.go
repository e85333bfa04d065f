package model_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/safetensors"
	"github.com/myelin-go/myelin/tensor"
)

// The files in testdata/compat were written by the code as it was before
// serialization was split into small files (commit 2e19ee4), with
// MYELIN_WRITE_COMPAT=1 go test ./model -run TestCompat. They must keep
// loading, and give the predictions recorded then, bit for bit: a file
// myelin wrote once is a file it reads for as long as FormatVersion and
// CheckpointVersion say "1".

const compatDir = "testdata/compat"

// compatGolden is what the writer recorded beside the files, as float32
// bit patterns so that the comparison is exact.
type compatGolden struct {
	Model      []uint32 `json:"model_predictions"`      // Predict(compatX) of model-v1.safetensors
	Checkpoint []uint32 `json:"checkpoint_predictions"` // Predict(compatX) of checkpoint-v1.safetensors
	Resumed    []uint32 `json:"resumed_predictions"`    // after resuming the checkpoint to the run's end
}

// compatData is the training set of the compat files: 32 samples of 5
// features, labels one-hot over 3 classes, all from a formula.
func compatData() (x, y *tensor.Tensor) {
	x, y = tensor.New(tensor.Float32, 32, 5), tensor.New(tensor.Float32, 32, 3)
	for i := range 32 {
		for j := range 5 {
			x.SetIndex(5*i+j, math.Sin(float64(i*5+j)*0.7))
		}
		y.SetIndex(3*i+(i*7)%3, 1)
	}
	return x, y
}

func compatModel() *model.Sequential {
	m := model.NewSequential(layers.NewDense(4, nn.ActReLU), layers.NewBatchNormalization(), layers.NewDense(3, nn.ActSoftmax))
	m.Seed = 7
	return m
}

func predictBits(t *testing.T, m *model.Sequential, x *tensor.Tensor) []uint32 {
	t.Helper()
	p, err := m.Predict(context.Background(), x, model.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]uint32, p.Len())
	for i, v := range p.Float32s() {
		out[i] = math.Float32bits(v)
	}
	return out
}

// stopAfter stops a run after n steps.
type stopAfter struct {
	model.BaseCallback
	n int
}

func (c *stopAfter) OnBatchEnd(int, int, model.Logs) error {
	if c.n--; c.n == 0 {
		return model.ErrStopTraining
	}
	return nil
}

func writeCompat(t *testing.T) {
	x, y := compatData()
	opts := model.FitOptions{Epochs: 2, BatchSize: 8}
	m := compatModel()
	if err := m.CompileNames("adam", "categorical_crossentropy", "accuracy"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Fit(context.Background(), x, y, opts); err != nil {
		t.Fatal(err)
	}
	var g compatGolden
	g.Model = predictBits(t, m, x)
	if err := m.Save(filepath.Join(compatDir, "model-v1.safetensors")); err != nil {
		t.Fatal(err)
	}
	c := compatModel()
	if err := c.CompileNames("adam", "categorical_crossentropy", "accuracy"); err != nil {
		t.Fatal(err)
	}
	opts.Callbacks = []model.Callback{&stopAfter{n: 6}} // mid second epoch
	if _, err := c.Fit(context.Background(), x, y, opts); err != nil {
		t.Fatal(err)
	}
	g.Checkpoint = predictBits(t, c, x)
	if err := c.SaveCheckpoint(filepath.Join(compatDir, "checkpoint-v1.safetensors"), map[string]string{"note": "compat"}); err != nil {
		t.Fatal(err)
	}
	r, ck, err := model.LoadCheckpoint(filepath.Join(compatDir, "checkpoint-v1.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Fit(context.Background(), x, y, model.FitOptions{Resume: ck}); err != nil {
		t.Fatal(err)
	}
	g.Resumed = predictBits(t, r, x)
	b, err := json.MarshalIndent(g, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(compatDir, "golden.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCompatFiles loads a model file and a checkpoint written before the
// serialization code was reorganized and checks their predictions, and
// those of the checkpoint resumed to the end of its run, against the
// values recorded when they were written.
func TestCompatFiles(t *testing.T) {
	if os.Getenv("MYELIN_WRITE_COMPAT") == "1" {
		writeCompat(t)
	}
	b, err := os.ReadFile(filepath.Join(compatDir, "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g compatGolden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	x, y := compatData()
	// Predictions go through the float32 kernels, whose rounding differs
	// between the assembly and the pure-Go path (-tags noasm, other CPUs):
	// they must match the recorded ones to float32 rounding, which any
	// misread weight or layer would exceed by far. The weights themselves
	// must load bit for bit (sameWeights).
	near := func(what string, got, want []uint32, tol float64) {
		t.Helper()
		if len(got) != len(want) || len(want) == 0 {
			t.Fatalf("%s: %d predictions, want %d", what, len(got), len(want))
		}
		for i := range want {
			g, w := float64(math.Float32frombits(got[i])), float64(math.Float32frombits(want[i]))
			if !(math.Abs(g-w) <= tol) {
				t.Fatalf("%s: prediction %d = %g, want %g ± %g (recorded when the file was written)", what, i, g, w, tol)
			}
		}
	}
	const tol = 1e-6 // probabilities, about 8 float32 ulps at 1
	m, err := model.Load(filepath.Join(compatDir, "model-v1.safetensors"))
	if err != nil {
		t.Fatalf("Load(model-v1): %v", err)
	}
	sameWeights(t, m, "model-v1.safetensors")
	near("model-v1", predictBits(t, m, x), g.Model, tol)

	c, ck, err := model.LoadCheckpoint(filepath.Join(compatDir, "checkpoint-v1.safetensors"))
	if err != nil {
		t.Fatalf("LoadCheckpoint(checkpoint-v1): %v", err)
	}
	if ck.Epoch != 1 || ck.Step != 2 || ck.Metadata["note"] != "compat" {
		t.Errorf("checkpoint-v1 at epoch %d step %d, metadata %v; want epoch 1 step 2, note=compat", ck.Epoch, ck.Step, ck.Metadata)
	}
	sameWeights(t, c, "checkpoint-v1.safetensors")
	near("checkpoint-v1", predictBits(t, c, x), g.Checkpoint, tol)
	if _, err := c.Fit(context.Background(), x, y, model.FitOptions{Resume: ck}); err != nil {
		t.Fatal(err)
	}
	near("checkpoint-v1 resumed", predictBits(t, c, x), g.Resumed, 1e-4) // six more steps
	// When the files were written, the resumed run ended as the
	// uninterrupted one did, bit for bit.
	near("recorded: resumed vs model-v1", g.Resumed, g.Model, 0)
}

// sameWeights checks that every weight of m equals, bit for bit, the
// tensor of that name in the compat file.
func sameWeights(t *testing.T, m *model.Sequential, file string) {
	t.Helper()
	f, err := safetensors.ReadFile(filepath.Join(compatDir, file))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range m.Layers {
		for _, w := range l.Weights() {
			key := l.Name() + "/" + w.Name
			st, ok := f.Tensor(key)
			if !ok {
				t.Fatalf("%s: no tensor %s", file, key)
			}
			v, err := st.Float32s()
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range v {
				if got := w.Value.Float32s()[i]; math.Float32bits(got) != math.Float32bits(want) {
					t.Fatalf("%s: %s[%d] loaded as %g, the file holds %g", file, key, i, got, want)
				}
			}
			n++
		}
	}
	if n != 8 { // 2 Dense × (kernel, bias) + gamma, beta, moving mean and variance
		t.Fatalf("%s: compared %d weights, want 8", file, n)
	}
}
