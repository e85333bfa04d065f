package model_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/myelin-go/myelin/data/mnist"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/metrics"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/tensor"
)

func founding(bn bool) *model.Sequential {
	m := model.NewSequential()
	m.Add(layers.NewDense(64, nn.ActReLU))
	if bn {
		m.Add(layers.NewBatchNormalization())
	}
	m.Add(layers.NewDense(64, nn.ActReLU))
	if bn {
		m.Add(layers.NewBatchNormalization())
	}
	m.Add(layers.NewDense(10, nn.ActSoftmax))
	return m
}

func compiled(t testing.TB, m *model.Sequential) *model.Sequential {
	t.Helper()
	if err := m.Compile(optimizers.NewAdam(), losses.CategoricalCrossentropy{}, metrics.NewAccuracy()); err != nil {
		t.Fatal(err)
	}
	return m
}

var (
	mnistOnce             sync.Once
	mnistTrain, mnistTest *mnist.Set
	mnistErr              error
)

// data returns n training and k test samples of MNIST as (x, one-hot y).
func data(t testing.TB, n, k int) (x, y, tx, ty *tensor.Tensor) {
	t.Helper()
	mnistOnce.Do(func() { mnistTrain, mnistTest, mnistErr = mnist.Load() })
	if mnistErr != nil {
		t.Fatal(mnistErr)
	}
	conv := func(s *mnist.Set) (*tensor.Tensor, *tensor.Tensor) {
		return floatX(t, s), tensor.FromFloat32(s.OneHot(), s.N, 10)
	}
	x, y = conv(mnistTrain.Slice(0, n))
	tx, ty = conv(mnistTest.Slice(0, k))
	return
}

func TestSummaryFoundingModel(t *testing.T) {
	m := founding(true)
	if err := m.Build(784); err != nil {
		t.Fatal(err)
	}
	tr, nt := m.ParamCounts()
	if tr+nt != 55562 || nt != 256 {
		t.Fatalf("params: %d total, %d non-trainable; want 55,562 and 256", tr+nt, nt)
	}
	var b bytes.Buffer
	if err := m.Summary(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"dense (Dense)", "(None, 64)", "50,240", "batch_normalization (BatchNormalization)", "256",
		"dense_1 (Dense)", "4,160", "batch_normalization_1", "dense_2 (Dense)", "(None, 10)", "650",
		"Total params: 55,562 (217.04 KB)", "Trainable params: 55,306 (216.04 KB)", "Non-trainable params: 256 (1.00 KB)",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, b.String())
		}
	}
}

func TestFitReachesAccuracy(t *testing.T) {
	x, y, tx, ty := data(t, 12000, 2000)
	m := compiled(t, founding(true))
	h, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 2, BatchSize: 32, ValidationSplit: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Epochs) != 2 || len(h.Metrics["val_accuracy"]) != 2 || len(h.Metrics["loss"]) != 2 {
		t.Fatalf("history %+v", h)
	}
	if h.Metrics["loss"][1] >= h.Metrics["loss"][0] {
		t.Errorf("loss did not decrease: %v", h.Metrics["loss"])
	}
	res, err := m.Evaluate(context.Background(), tx, ty, model.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res["accuracy"] < 0.90 {
		t.Fatalf("test accuracy %.4f after 2 epochs on 10,800 samples, want ≥ 0.90", res["accuracy"])
	}
}

func weightsOf(m *model.Sequential) []float64 {
	var w []float64
	for _, l := range m.Layers {
		for _, wt := range l.Weights() {
			for i := range wt.Value.Len() {
				w = append(w, wt.Value.Index(i))
			}
		}
	}
	return w
}

func TestDeterministic(t *testing.T) {
	x, y, _, _ := data(t, 2000, 10)
	run := func() ([]float64, []float64) {
		m := compiled(t, founding(true))
		h, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 2, BatchSize: 50})
		if err != nil {
			t.Fatal(err)
		}
		return weightsOf(m), h.Metrics["loss"]
	}
	w1, l1 := run()
	w2, l2 := run()
	for i := range w1 {
		if math.Float64bits(w1[i]) != math.Float64bits(w2[i]) {
			t.Fatalf("weight %d differs between identical runs: %g vs %g", i, w1[i], w2[i])
		}
	}
	for i := range l1 {
		if l1[i] != l2[i] {
			t.Fatalf("loss of epoch %d differs: %g vs %g", i, l1[i], l2[i])
		}
	}
}

func TestSaveLoad(t *testing.T) {
	x, y, tx, ty := data(t, 1000, 200)
	m := compiled(t, founding(true))
	if _, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 1}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	m2, err := model.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	p1, err := m.Predict(context.Background(), tx, model.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := m2.Predict(context.Background(), tx, model.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range p1.Len() {
		if p1.Index(i) != p2.Index(i) {
			t.Fatalf("prediction %d: %g before saving, %g after loading", i, p1.Index(i), p2.Index(i))
		}
	}
	r1, _ := m.Evaluate(context.Background(), tx, ty, model.EvalOptions{})
	r2, err := m2.Evaluate(context.Background(), tx, ty, model.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r1["accuracy"] != r2["accuracy"] || r1["loss"] != r2["loss"] {
		t.Fatalf("evaluation before saving %v, after loading %v", r1, r2)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	m := compiled(t, founding(false))
	m.Build(784)
	good := filepath.Join(dir, "good.safetensors")
	if err := m.Save(good); err != nil {
		t.Fatal(err)
	}
	if _, err := model.Load(filepath.Join(dir, "missing.safetensors")); err == nil || !strings.Contains(err.Error(), "missing.safetensors") {
		t.Errorf("missing file: %v", err)
	}
	f, err := m.File()
	if err != nil {
		t.Fatal(err)
	}
	// Drop a weight, then add an unknown one: each must be named.
	f.Tensors = f.Tensors[1:]
	if _, err := model.FromFile(f, "x"); err == nil || !strings.Contains(err.Error(), "dense/kernel") {
		t.Errorf("missing weight: %v", err)
	}
	f, _ = m.File()
	f.Metadata["architecture"] = strings.Replace(f.Metadata["architecture"], `"Dense"`, `"Conv9D"`, 1)
	if _, err := model.FromFile(f, "x"); err == nil || !strings.Contains(err.Error(), "Conv9D") {
		t.Errorf("unknown layer: %v", err)
	}
	f, _ = m.File()
	f.Metadata["format"] = "pytorch"
	if _, err := model.FromFile(f, "x"); err == nil {
		t.Errorf("foreign file accepted")
	}
	bad := filepath.Join(dir, "bad.safetensors")
	os.WriteFile(bad, []byte("not a model"), 0o644)
	if _, err := model.Load(bad); err == nil || !strings.Contains(err.Error(), "bad.safetensors") {
		t.Errorf("corrupt file: %v", err)
	}
}

func TestFitErrors(t *testing.T) {
	x, y, _, _ := data(t, 100, 10)
	ctx := context.Background()
	if _, err := founding(true).Fit(ctx, x, y, model.FitOptions{}); !errors.Is(err, model.ErrNotCompiled) {
		t.Errorf("Fit before Compile: %v", err)
	}
	cases := []struct {
		name string
		x, y *tensor.Tensor
		opt  model.FitOptions
		want string
	}{
		{"features", tensor.New(tensor.Float32, 100, 783), y, model.FitOptions{}, "(samples, 784)"},
		{"classes", x, tensor.New(tensor.Float32, 100, 9), model.FitOptions{}, "want (100, 10)"},
		{"samples", x, tensor.New(tensor.Float32, 99, 10), model.FitOptions{}, "100 samples"},
		{"batch too large", x, y, model.FitOptions{BatchSize: 101}, "larger than"},
		{"batch negative", x, y, model.FitOptions{BatchSize: -1}, "batch size"},
		{"batch of one left", x, y, model.FitOptions{BatchSize: 33}, "last batch of one"},
		{"validation split", x, y, model.FitOptions{ValidationSplit: 1.5}, "validation split"},
		{"empty", tensor.New(tensor.Float32, 0, 784), tensor.New(tensor.Float32, 0, 10), model.FitOptions{}, "no training samples"},
	}
	for _, c := range cases {
		m := compiled(t, founding(true))
		m.Build(784)
		_, err := m.Fit(ctx, c.x, c.y, c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestSparseLabels(t *testing.T) {
	x, _, tx, _ := data(t, 2000, 500)
	sparse := func(s *mnist.Set) *tensor.Tensor { return tensor.FromFloat32(s.SparseLabels(), s.N) }
	y, ty := sparse(mnistTrain.Slice(0, 2000)), sparse(mnistTest.Slice(0, 500))
	m := founding(true)
	if err := m.CompileNames("adam", "sparse_categorical_crossentropy", "accuracy"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 2}); err != nil {
		t.Fatal(err)
	}
	res, err := m.Evaluate(context.Background(), tx, ty, model.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res["accuracy"] < 0.8 {
		t.Fatalf("accuracy %.3f with sparse labels", res["accuracy"])
	}
	bad := ty.Clone()
	bad.SetIndex(3, 10)
	if _, err := m.Evaluate(context.Background(), tx, bad, model.EvalOptions{}); err == nil || !strings.Contains(err.Error(), "sample 3") {
		t.Errorf("label 10: %v", err)
	}
}

func TestCancel(t *testing.T) {
	x, y, _, _ := data(t, 1000, 10)
	m := compiled(t, founding(true))
	ctx, cancel := context.WithCancel(context.Background())
	stopAt := 5
	cb := &cancelAfter{n: stopAt, cancel: cancel}
	h, err := m.Fit(ctx, x, y, model.FitOptions{Epochs: 3, Callbacks: []model.Callback{cb}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Fit after cancel: %v", err)
	}
	if cb.steps != stopAt || len(h.Epochs) != 0 {
		t.Fatalf("ran %d steps and %d epochs after cancelling at step %d", cb.steps, len(h.Epochs), stopAt)
	}
	if m.Optimizer().Iterations() != stopAt {
		t.Fatalf("optimizer took %d steps, want %d", m.Optimizer().Iterations(), stopAt)
	}
}

type cancelAfter struct {
	model.BaseCallback
	n, steps int
	cancel   func()
}

func (c *cancelAfter) OnBatchEnd(epoch, step int, logs model.Logs) error {
	c.steps++
	if c.steps == c.n {
		c.cancel()
	}
	return nil
}

func TestNonFiniteStopsBeforeUpdate(t *testing.T) {
	x, y, _, _ := data(t, 256, 10)
	bad := x.Clone()
	for i := 0; i < 784; i++ {
		bad.SetIndex(32*784+i, math.Inf(1)) // sample 32: in the second batch
	}
	m := compiled(t, founding(true))
	m.Build(784)
	var snap []float64
	cb := &snapshot{m: m, at: 1, out: &snap}
	_, err := m.Fit(context.Background(), bad, y, model.FitOptions{Epochs: 1, NoShuffle: true, Callbacks: []model.Callback{cb}})
	var nf *model.NonFiniteError
	if !errors.As(err, &nf) {
		t.Fatalf("want *NonFiniteError, got %v", err)
	}
	if nf.Epoch != 1 || nf.Step != 2 || nf.Layer != "dense" {
		t.Errorf("error %+v: want epoch 1, step 2, layer dense", nf)
	}
	after := weightsOf(m)
	if len(snap) == 0 || len(after) != len(snap) {
		t.Fatal("no snapshot")
	}
	for i := range after {
		if after[i] != snap[i] {
			t.Fatalf("weight %d changed by the non-finite step: %g → %g", i, snap[i], after[i])
		}
		if math.IsNaN(after[i]) || math.IsInf(after[i], 0) {
			t.Fatalf("weight %d is not finite", i)
		}
	}
	// StopOnNonFinite ends without an error and says why.
	m2 := compiled(t, founding(true))
	h, err := m2.Fit(context.Background(), bad, y, model.FitOptions{Epochs: 1, NoShuffle: true, StopOnNonFinite: true})
	if err != nil || !strings.Contains(h.Stopped, "non-finite") {
		t.Fatalf("StopOnNonFinite: err %v, stopped %q", err, h.Stopped)
	}
}

type snapshot struct {
	model.BaseCallback
	m   *model.Sequential
	at  int
	out *[]float64
}

func (s *snapshot) OnBatchEnd(epoch, step int, logs model.Logs) error {
	if step == s.at {
		*s.out = weightsOf(s.m)
	}
	return nil
}

func TestPredictConcurrent(t *testing.T) {
	_, _, tx, _ := data(t, 10, 300)
	m := compiled(t, founding(true))
	m.Build(784)
	want, err := m.Predict(context.Background(), tx, model.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := m.Predict(context.Background(), tx, model.EvalOptions{BatchSize: 7 + g})
			if err != nil {
				t.Error(err)
				return
			}
			for i := range got.Len() {
				if got.Index(i) != want.Index(i) {
					t.Errorf("goroutine %d: prediction %d differs", g, i)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestFusedSoftmaxIsStable(t *testing.T) {
	// A softmax output with categorical cross-entropy trains from the
	// logits: with huge inputs, probabilities round to 0 and 1, but the
	// loss stays finite and equals the from-logits loss.
	x := tensor.New(tensor.Float64, 4, 2)
	for i := range x.Len() {
		x.SetIndex(i, float64(i%3)*300-300)
	}
	y := tensor.FromFloat64([]float64{1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0}, 4, 3)
	mk := func(act nn.Activation, loss losses.Loss) *model.Sequential {
		m := model.NewSequential(layers.NewDense(3, act))
		m.DType = tensor.Float64
		m.Compile(optimizers.NewSGD(), loss)
		m.Build(2)
		return m
	}
	a := mk(nn.ActSoftmax, losses.CategoricalCrossentropy{})
	b := mk(nn.Linear, losses.CategoricalCrossentropy{FromLogits: true})
	ra, err := a.Evaluate(context.Background(), x, y, model.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rb, _ := b.Evaluate(context.Background(), x, y, model.EvalOptions{})
	if math.IsInf(ra["loss"], 0) || math.IsNaN(ra["loss"]) || math.Abs(ra["loss"]-rb["loss"]) > 1e-9*math.Abs(rb["loss"]) {
		t.Fatalf("softmax+CCE loss %g, from-logits loss %g", ra["loss"], rb["loss"])
	}
}

func TestArchitectureRoundTrip(t *testing.T) {
	m := compiled(t, founding(true))
	m.Build(784)
	arch, err := m.Architecture()
	if err != nil {
		t.Fatal(err)
	}
	m2, err := model.FromArchitecture(arch)
	if err != nil {
		t.Fatal(err)
	}
	arch2, _ := m2.Architecture()
	if !bytes.Equal(arch, arch2) {
		t.Fatalf("architecture changed in a round trip:\n%s\n%s", arch, arch2)
	}
	for _, bad := range []string{`{}`, `{"class_name":"Sequential","config":{"layers":[]}}`, `{"class_name":"Sequential","config":{"layers":[{"class_name":"Dense","config":{"units":0}}]}}`, `[`} {
		if _, err := model.FromArchitecture([]byte(bad)); err == nil {
			t.Errorf("FromArchitecture(%s) succeeded", bad)
		}
	}
}

func TestFoundingArchExample(t *testing.T) {
	// examples/founding.json is the founding model; it must stay so.
	m, err := model.ReadArchitecture("../examples/founding.json")
	if err != nil {
		t.Fatal(err)
	}
	if !m.Built() {
		m.Build(784)
	}
	tr, nt := m.ParamCounts()
	if tr != 55306 || nt != 256 {
		t.Fatalf("examples/founding.json: %d trainable, %d non-trainable", tr, nt)
	}
}

// floatX returns s's images as a float32 (samples, features) tensor, the
// pixels over 255: the float data the uint8 tests compare with.
func floatX(t testing.TB, s *mnist.Set) *tensor.Tensor {
	t.Helper()
	x, err := s.X()
	if err != nil {
		t.Fatal(err)
	}
	return x.As(tensor.Float32)
}
