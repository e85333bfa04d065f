package model_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// blobs returns n samples of 5 features in 3 classes (one-hot), shifted
// by class so that the small model can learn them.
func blobs(n int, seed uint64) (x, y *tensor.Tensor) {
	rng := rand.New(rand.NewPCG(seed, 7))
	x, y = tensor.New(tensor.Float32, n, 5), tensor.New(tensor.Float32, n, 3)
	for i := range n {
		c := i % 3
		y.Set(1, i, c)
		for j := range 5 {
			x.Set(rng.NormFloat64()+float64(c*(j%2)), i, j)
		}
	}
	return x, y
}

// allFinite reports whether every weight and state value is finite.
func allFinite(w []float64) bool {
	for _, v := range w {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

func sameBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

// TestMisuseErrors checks that each misuse of Fit, Evaluate, Predict and
// PredictInto is a clear error naming what is wrong, and changes nothing.
func TestMisuseErrors(t *testing.T) {
	ctx := context.Background()
	x, y := blobs(60, 1)
	sparse := tensor.New(tensor.Float32, 60)
	for i := range 60 {
		sparse.SetIndex(i, float64(i%3))
	}
	badSparse := sparse.Clone()
	badSparse.SetIndex(17, 3)
	fracSparse := sparse.Clone()
	fracSparse.SetIndex(4, 1.5)
	nanY := y.Clone()
	nanY.SetIndex(7, math.NaN())

	fit := func(x, y *tensor.Tensor, o model.FitOptions) func(*model.Sequential) error {
		return func(m *model.Sequential) error { _, err := m.Fit(ctx, x, y, o); return err }
	}
	eval := func(x, y *tensor.Tensor, o model.EvalOptions) func(*model.Sequential) error {
		return func(m *model.Sequential) error { _, err := m.Evaluate(ctx, x, y, o); return err }
	}
	pred := func(x *tensor.Tensor, o model.EvalOptions) func(*model.Sequential) error {
		return func(m *model.Sequential) error { _, err := m.Predict(ctx, x, o); return err }
	}
	cases := []struct {
		name   string
		sparse bool // compile with sparse_categorical_crossentropy
		call   func(*model.Sequential) error
		want   []string
	}{
		{name: "Fit nil x", call: fit(nil, y, model.FitOptions{}), want: []string{"Fit", "must not be nil"}},
		{name: "Fit nil y", call: fit(x, nil, model.FitOptions{}), want: []string{"Fit", "must not be nil"}},
		{name: "Fit rank-1 x", call: fit(tensor.New(tensor.Float32, 60), y, model.FitOptions{}), want: []string{"x has shape (60,)"}},
		{name: "Fit 4 features for 5", call: fit(tensor.New(tensor.Float32, 60, 4), y, model.FitOptions{}), want: []string{"x has shape (60, 4)", "(samples, 5)"}},
		{name: "Fit 4 classes for 3", call: fit(x, tensor.New(tensor.Float32, 60, 4), model.FitOptions{}), want: []string{"y has shape (60, 4)", "want (60, 3)", "3 classes"}},
		{name: "Fit fewer labels than samples", call: fit(x, y.Rows(0, 59), model.FitOptions{}), want: []string{"60 samples", "(59, 3)"}},
		{name: "Fit NaN label", call: fit(x, nanY, model.FitOptions{}), want: []string{"y holds NaN"}},
		{name: "Fit sparse label out of range", sparse: true, call: fit(x, badSparse, model.FitOptions{}), want: []string{"label 3 of sample 17", "[0, 3)"}},
		{name: "Fit sparse label not an integer", sparse: true, call: fit(x, fracSparse, model.FitOptions{}), want: []string{"label 1.5 of sample 4"}},
		{name: "Fit one-hot labels to a sparse loss", sparse: true, call: fit(x, y, model.FitOptions{}), want: []string{"sparse labels must have shape (samples,)"}},
		{name: "Fit empty", call: fit(tensor.New(tensor.Float32, 0, 5), tensor.New(tensor.Float32, 0, 3), model.FitOptions{}), want: []string{"no training samples"}},
		{name: "Fit batch negative", call: fit(x, y, model.FitOptions{BatchSize: -4}), want: []string{"batch size -4"}},
		{name: "Fit batch larger than the data", call: fit(x, y, model.FitOptions{BatchSize: 61}), want: []string{"batch size 61 is larger than the 60 training samples"}},
		{name: "Fit last batch of one with batch norm", call: fit(x.Rows(0, 41), y.Rows(0, 41), model.FitOptions{BatchSize: 20}), want: []string{"last batch of one"}},
		{name: "Fit negative epochs", call: fit(x, y, model.FitOptions{Epochs: -1}), want: []string{"epochs -1"}},
		{name: "Fit initial epoch past epochs", call: fit(x, y, model.FitOptions{Epochs: 2, InitialEpoch: 3}), want: []string{"initial epoch 3"}},
		{name: "Fit validation split 1", call: fit(x, y, model.FitOptions{ValidationSplit: 1}), want: []string{"validation split 1"}},
		{name: "Fit validation split NaN", call: fit(x, y, model.FitOptions{ValidationSplit: math.NaN()}), want: []string{"validation split NaN"}},
		{name: "Fit validation x without y", call: fit(x, y, model.FitOptions{ValidationX: x}), want: []string{"both ValidationX and ValidationY"}},
		{name: "Fit validation data of 4 features", call: fit(x, y, model.FitOptions{ValidationX: tensor.New(tensor.Float32, 3, 4), ValidationY: tensor.New(tensor.Float32, 3, 3)}), want: []string{"validation data", "(3, 4)"}},
		{name: "Evaluate 4 features", call: eval(tensor.New(tensor.Float32, 6, 4), y.Rows(0, 6), model.EvalOptions{}), want: []string{"Evaluate", "x has shape (6, 4)"}},
		{name: "Evaluate 2 classes", call: eval(x, tensor.New(tensor.Float32, 60, 2), model.EvalOptions{}), want: []string{"Evaluate", "want (60, 3)"}},
		{name: "Evaluate empty", call: eval(tensor.New(tensor.Float32, 0, 5), tensor.New(tensor.Float32, 0, 3), model.EvalOptions{}), want: []string{"no samples"}},
		{name: "Evaluate batch negative", call: eval(x, y, model.EvalOptions{BatchSize: -1}), want: []string{"batch size -1"}},
		{name: "Evaluate nil", call: eval(nil, nil, model.EvalOptions{}), want: []string{"must not be nil"}},
		{name: "Predict 6 features", call: pred(tensor.New(tensor.Float32, 2, 6), model.EvalOptions{}), want: []string{"Predict", "(2, 6)", "(samples, (5,))"}},
		{name: "Predict nil", call: pred(nil, model.EvalOptions{}), want: []string{"Predict"}},
		{name: "Predict rank 1", call: pred(tensor.New(tensor.Float32, 5), model.EvalOptions{}), want: []string{"Predict", "(5,)"}},
		{name: "Predict batch negative", call: pred(x, model.EvalOptions{BatchSize: -2}), want: []string{"batch size -2"}},
		{name: "PredictInto wrong dst", call: func(m *model.Sequential) error { return m.PredictInto(tensor.New(tensor.Float32, 60, 2), x) }, want: []string{"PredictInto", "dst"}},
		{name: "PredictInto float64 x", call: func(m *model.Sequential) error {
			return m.PredictInto(tensor.New(tensor.Float32, 60, 3), x.As(tensor.Float64))
		}, want: []string{"PredictInto", "x must be float32"}},
		{name: "PredictInto nil", call: func(m *model.Sequential) error { return m.PredictInto(nil, nil) }, want: []string{"PredictInto"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := small(t)
			if c.sparse {
				if err := m.CompileNames("adam", "sparse_categorical_crossentropy", "accuracy"); err != nil {
					t.Fatal(err)
				}
			}
			before := weightsOf(m)
			err := c.call(m)
			if err == nil {
				t.Fatal("got no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got %q, want it to contain %q", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), "model: ") {
				t.Errorf("got %q, want the prefix \"model: \"", err)
			}
			if !sameBits(weightsOf(m), before) {
				t.Error("a rejected call changed the weights")
			}
			if it := m.Optimizer().Iterations(); it != 0 {
				t.Errorf("a rejected call took %d optimizer steps", it)
			}
		})
	}
}

// TestMisuseOrder checks the sentinels for calls out of order.
func TestMisuseOrder(t *testing.T) {
	ctx := context.Background()
	x, y := blobs(40, 2)
	uncompiled := func() *model.Sequential {
		m := small(t)
		return model.NewSequential(m.Layers...) // built layers, model neither built nor compiled
	}
	if _, err := uncompiled().Fit(ctx, x, y, model.FitOptions{}); !errors.Is(err, model.ErrNotCompiled) {
		t.Errorf("Fit before Compile: got %v, want ErrNotCompiled", err)
	}
	if _, err := uncompiled().Evaluate(ctx, x, y, model.EvalOptions{}); !errors.Is(err, model.ErrNotCompiled) {
		t.Errorf("Evaluate before Compile: got %v, want ErrNotCompiled", err)
	}
	if _, err := uncompiled().Predict(ctx, x, model.EvalOptions{}); !errors.Is(err, model.ErrNotBuilt) {
		t.Errorf("Predict before Build: got %v, want ErrNotBuilt", err)
	}
	if err := uncompiled().PredictInto(tensor.New(tensor.Float32, 40, 3), x); !errors.Is(err, model.ErrNotBuilt) {
		t.Errorf("PredictInto before Build: got %v, want ErrNotBuilt", err)
	}
	m := uncompiled()
	if err := m.CompileNames("adam", "categorical_crossentropy"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Evaluate(ctx, x, y, model.EvalOptions{}); !errors.Is(err, model.ErrNotBuilt) {
		t.Errorf("Evaluate before Build: got %v, want ErrNotBuilt", err)
	}
	if _, err := m.File(); !errors.Is(err, model.ErrNotBuilt) {
		t.Errorf("File before Build: got %v, want ErrNotBuilt", err)
	}
	// Fit builds the model from x; a second Build for other inputs fails.
	if _, err := m.Fit(ctx, x, y, model.FitOptions{BatchSize: 8}); err != nil {
		t.Fatalf("Fit builds the model: %v", err)
	}
	if err := m.Build(6); err == nil || !strings.Contains(err.Error(), "already built") {
		t.Errorf("Build(6) after Fit on 5 features: got %v", err)
	}
}

// TestBatchSizeDefaultsAndLimits documents batch sizes: 0 means 32 in Fit
// and Evaluate; Evaluate and Predict accept a batch larger than the data
// (one batch) and give the same results as with small batches.
func TestBatchSizeDefaultsAndLimits(t *testing.T) {
	ctx := context.Background()
	x, y := blobs(96, 3)
	a, b := small(t), small(t)
	if _, err := a.Fit(ctx, x, y, model.FitOptions{Epochs: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Fit(ctx, x, y, model.FitOptions{Epochs: 2, BatchSize: 32}); err != nil {
		t.Fatal(err)
	}
	if !sameBits(weightsOf(a), weightsOf(b)) {
		t.Fatal("BatchSize 0 and 32 trained different weights")
	}
	if a.Optimizer().Iterations() != 6 {
		t.Errorf("96 samples at the default batch size: %d steps, want 3 per epoch", a.Optimizer().Iterations())
	}
	var preds []*tensor.Tensor
	var evals []map[string]float64
	for _, bs := range []int{0, 1, 7, 96, 1000} {
		p, err := a.Predict(ctx, x, model.EvalOptions{BatchSize: bs})
		if err != nil {
			t.Fatalf("Predict batch %d: %v", bs, err)
		}
		r, err := a.Evaluate(ctx, x, y, model.EvalOptions{BatchSize: bs})
		if err != nil {
			t.Fatalf("Evaluate batch %d: %v", bs, err)
		}
		preds, evals = append(preds, p), append(evals, r)
	}
	for k := range preds {
		for i := range preds[0].Len() {
			if preds[k].Index(i) != preds[0].Index(i) {
				t.Fatalf("Predict: batch size changes output %d", i)
			}
		}
		if math.Abs(evals[k]["loss"]-evals[0]["loss"]) > 1e-6 || evals[k]["accuracy"] != evals[0]["accuracy"] {
			t.Errorf("Evaluate: results %v differ from %v by batch size", evals[k], evals[0])
		}
	}
	// Predict on no samples is not an error: it returns no rows.
	p, err := a.Predict(ctx, tensor.New(tensor.Float32, 0, 5), model.EvalOptions{})
	if err != nil || p.Dim(0) != 0 || p.Dim(1) != 3 {
		t.Errorf("Predict of 0 samples: got %v, %v; want a (0, 3) tensor", p, err)
	}
}

// TestNaNInputs documents what non-finite inputs do. Fit fails with a
// *NonFiniteError naming the epoch, step and first layer, without applying
// the step; Evaluate reports a NaN loss; Predict gives NaN only in the rows
// whose inputs hold NaN (inference treats samples independently).
func TestNaNInputs(t *testing.T) {
	ctx := context.Background()
	x, y := blobs(64, 4)
	bad := x.Clone()
	bad.Set(math.NaN(), 40, 2) // sample 40: the second batch of 32
	m := small(t)
	if _, err := m.Fit(ctx, x, y, model.FitOptions{Epochs: 1, BatchSize: 32}); err != nil {
		t.Fatal(err)
	}
	before := weightsOf(m)
	steps := m.Optimizer().Iterations()
	_, err := m.Fit(ctx, bad, y, model.FitOptions{Epochs: 1, BatchSize: 32, NoShuffle: true})
	var nf *model.NonFiniteError
	if !errors.As(err, &nf) || nf.Epoch != 1 || nf.Step != 2 || nf.Layer != "dense" || nf.What != "loss" {
		t.Fatalf("Fit with NaN input: got %v (%+v), want a *NonFiniteError at epoch 1 step 2 in layer dense", err, nf)
	}
	after := weightsOf(m)
	if !allFinite(after) {
		t.Fatal("weights not finite after a NaN input")
	}
	if got := m.Optimizer().Iterations(); got != steps+1 {
		t.Errorf("optimizer steps: got %d, want %d (the first batch only)", got, steps+1)
	}
	if sameBits(after, before) {
		t.Error("the clean first batch was not applied")
	}

	res, err := m.Evaluate(ctx, bad, y, model.EvalOptions{})
	if err != nil || !math.IsNaN(res["loss"]) {
		t.Errorf("Evaluate with NaN input: got %v, %v; want a NaN loss", res, err)
	}
	clean, err := m.Predict(ctx, x, model.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Predict(ctx, bad, model.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 64 {
		for j := range 3 {
			v, w := got.At(i, j), clean.At(i, j)
			switch {
			case i == 40 && !math.IsNaN(v):
				t.Errorf("row 40 (NaN input), output %d: got %g, want NaN", j, v)
			case i != 40 && v != w:
				t.Errorf("row %d, output %d: got %g, want %g as without the NaN row", i, j, v, w)
			}
		}
	}
}

// TestConcurrentInference runs Predict, PredictInto and Evaluate from
// many goroutines at once (run it with -race): results must equal the
// serial ones.
func TestConcurrentInference(t *testing.T) {
	ctx := context.Background()
	x, y := blobs(90, 5)
	m := small(t)
	if _, err := m.Fit(ctx, x, y, model.FitOptions{Epochs: 2, BatchSize: 15}); err != nil {
		t.Fatal(err)
	}
	wantP, err := m.Predict(ctx, x, model.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantE, err := m.Evaluate(ctx, x, y, model.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 12 {
		wg.Go(func() {
			for range 5 {
				switch g % 3 {
				case 0:
					p, err := m.Predict(ctx, x, model.EvalOptions{BatchSize: 4 + g})
					if err != nil {
						t.Error(err)
						return
					}
					for i := range p.Len() {
						if p.Index(i) != wantP.Index(i) {
							t.Errorf("goroutine %d: Predict output %d: got %g, want %g", g, i, p.Index(i), wantP.Index(i))
							return
						}
					}
				case 1:
					dst := tensor.New(tensor.Float32, 90, 3)
					if err := m.PredictInto(dst, x); err != nil {
						t.Error(err)
						return
					}
					for i := range dst.Len() {
						if math.Abs(dst.Index(i)-wantP.Index(i)) > 1e-6 {
							t.Errorf("goroutine %d: PredictInto output %d: got %g, want %g", g, i, dst.Index(i), wantP.Index(i))
							return
						}
					}
				case 2:
					r, err := m.Evaluate(ctx, x, y, model.EvalOptions{})
					if err != nil {
						t.Error(err)
						return
					}
					if r["loss"] != wantE["loss"] || r["accuracy"] != wantE["accuracy"] {
						t.Errorf("goroutine %d: Evaluate: got %v, want %v", g, r, wantE)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

// cancelAt cancels its context at step n of the first epoch and counts the
// steps that run after it.
type cancelAt struct {
	model.BaseCallback
	n, steps int
	cancel   func()
}

func (c *cancelAt) OnBatchEnd(epoch, step int, logs model.Logs) error {
	c.steps++
	if c.steps == c.n {
		c.cancel()
	}
	return nil
}

// TestCancelLeavesModelConsistent cancels Fit mid-epoch and checks that no
// further step runs, that the model is usable (Evaluate, Predict, Save and
// Load), that every weight and batch-norm statistic is finite, and that a
// new Fit continues from there. A context cancelled before Fit starts
// changes nothing.
func TestCancelLeavesModelConsistent(t *testing.T) {
	x, y := blobs(200, 6)
	m := small(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	before := weightsOf(m)
	if _, err := m.Fit(ctx, x, y, model.FitOptions{Epochs: 3, BatchSize: 10}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Fit with a cancelled context: got %v, want context.Canceled", err)
	}
	if !sameBits(weightsOf(m), before) || m.Optimizer().Iterations() != 0 {
		t.Fatal("Fit with a cancelled context changed the model")
	}

	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	cb := &cancelAt{n: 7, cancel: cancel}
	h, err := m.Fit(ctx, x, y, model.FitOptions{Epochs: 3, BatchSize: 10, Callbacks: []model.Callback{cb}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Fit cancelled mid-epoch: got %v, want context.Canceled", err)
	}
	if cb.steps != 7 || m.Optimizer().Iterations() != 7 {
		t.Fatalf("after cancelling at step 7: %d callback steps, %d optimizer steps; want 7 and 7", cb.steps, m.Optimizer().Iterations())
	}
	if h == nil || h.Stopped != "cancelled" || len(h.Epochs) != 0 {
		t.Errorf("history after cancel: %+v, want Stopped \"cancelled\" and no complete epoch", h)
	}
	w := weightsOf(m)
	if !allFinite(w) {
		t.Fatal("weights not finite after cancel")
	}
	bg := context.Background()
	if _, err := m.Evaluate(bg, x, y, model.EvalOptions{}); err != nil {
		t.Fatalf("Evaluate after cancel: %v", err)
	}
	p, err := m.Predict(bg, x, model.EvalOptions{})
	if err != nil || !p.AllFinite() {
		t.Fatalf("Predict after cancel: %v (finite %v)", err, err == nil && p.AllFinite())
	}
	path := t.TempDir() + "/m.safetensors"
	if err := m.Save(path); err != nil {
		t.Fatalf("Save after cancel: %v", err)
	}
	m2, err := model.Load(path)
	if err != nil || !sameBits(weightsOf(m2), w) {
		t.Fatalf("Load after cancel: %v (same weights %v)", err, err == nil && sameBits(weightsOf(m2), w))
	}
	if _, err := m.Fit(bg, x, y, model.FitOptions{Epochs: 1, BatchSize: 10}); err != nil {
		t.Fatalf("Fit after cancel: %v", err)
	}
	if got := m.Optimizer().Iterations(); got != 27 {
		t.Errorf("optimizer steps after a new epoch: got %d, want 7 + 20", got)
	}
}

// TestCancelDuringValidation cancels while Fit evaluates the validation
// data: Fit returns the context's error.
func TestCancelDuringValidation(t *testing.T) {
	x, y := blobs(100, 8)
	m := small(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cb := &cancelAt{n: 8, cancel: cancel} // the last step of the first epoch
	_, err := m.Fit(ctx, x, y, model.FitOptions{Epochs: 2, BatchSize: 10, ValidationSplit: 0.2, Callbacks: []model.Callback{cb}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if !allFinite(weightsOf(m)) || m.Optimizer().Iterations() != 8 {
		t.Errorf("after cancel in validation: %d steps (want 8), finite %v", m.Optimizer().Iterations(), allFinite(weightsOf(m)))
	}
}

// TestMisuseNoPanic calls Sequential's methods with a nil context, a nil
// layer, a nil writer and a layer too large to allocate: each must return
// an error, not panic.
func TestMisuseNoPanic(t *testing.T) {
	x, y := blobs(20, 1)
	var nilCtx context.Context
	cases := []struct {
		name string
		fn   func() error
	}{
		{"Fit nil ctx", func() error { _, err := small(t).Fit(nilCtx, x, y, model.FitOptions{BatchSize: 5}); return err }},
		{"Evaluate nil ctx", func() error { _, err := small(t).Evaluate(nilCtx, x, y, model.EvalOptions{}); return err }},
		{"Predict nil ctx", func() error { _, err := small(t).Predict(nilCtx, x, model.EvalOptions{}); return err }},
		{"Add nil layer", func() error { return model.NewSequential().Add(nil) }},
		{"Build with a nil layer", func() error { return model.NewSequential(nil).Build(3) }},
		{"Summary nil writer", func() error { return small(t).Summary(nil) }},
		{"Build too large", func() error { return model.NewSequential(layers.NewDense(math.MaxInt/2+1, nn.Linear)).Build(1 << 30) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("panic: %v", r)
				}
			}()
			if err := c.fn(); err == nil {
				t.Fatal("got no error")
			} else if !strings.HasPrefix(err.Error(), "model: ") {
				t.Errorf("got %q, want the prefix \"model: \"", err)
			}
		})
	}
}
