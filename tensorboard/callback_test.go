package tensorboard_test

import (
	"context"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
	"github.com/myelin-go/myelin/tensorboard"
)

// recorder keeps a copy of the logs of every step, as Fit reuses its map.
type recorder struct {
	model.BaseCallback
	batches []model.Logs
}

func (r *recorder) OnBatchEnd(_, _ int, logs model.Logs) error {
	r.batches = append(r.batches, maps.Clone(logs))
	return nil
}

// tinyData is 40 samples of 4 features in 2 classes (one-hot), separable by
// the sign of the feature sum.
func tinyData() (x, y *tensor.Tensor) {
	r := rand.New(rand.NewPCG(5, 6))
	const n, f = 40, 4
	xs, ys := make([]float32, n*f), make([]float32, n*2)
	for i := range n {
		s := float32(0)
		for j := range f {
			xs[i*f+j] = float32(r.NormFloat64())
			s += xs[i*f+j]
		}
		if s > 0 {
			ys[i*2+1] = 1
		} else {
			ys[i*2] = 1
		}
	}
	return tensor.FromFloat32(xs, n, f), tensor.FromFloat32(ys, n, 2)
}

func TestCallbackFit(t *testing.T) {
	x, y := tinyData()
	m := model.NewSequential(
		layers.NewDense(8, nn.ActReLU),
		layers.NewBatchNormalization(),
		layers.NewDense(2, nn.ActSoftmax),
	)
	if err := m.CompileNames("sgd", "categorical_crossentropy", "accuracy"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cb := tensorboard.NewCallback(dir)
	cb.BatchEvery = 2
	rec := &recorder{}
	// 30 training samples in batches of 10: 3 steps an epoch, 9 in all.
	const epochs = 3
	h, err := m.Fit(context.Background(), x, y, model.FitOptions{
		Epochs: epochs, BatchSize: 10, ValidationSplit: 0.25,
		Callbacks: []model.Callback{cb, rec},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := cb.Close(); err != nil { // already closed by OnTrainEnd: a no-op
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Fatalf("run directory holds %d files (%v), want one event file", len(entries), err)
	}
	evs, err := readEvents(cb.Path())
	if err != nil {
		t.Fatal(err)
	}
	if evs[0].fileVersion != "brain.Event:2" {
		t.Errorf("first event's file_version = %q", evs[0].fileVersion)
	}

	type key struct {
		tag  string
		step int64
	}
	scalars := map[key]float32{}
	histos := map[key]*histo{}
	for _, ev := range evs[1:] {
		for _, v := range ev.values {
			k := key{v.tag, ev.step}
			if _, dup := scalars[k]; dup || histos[k] != nil {
				t.Errorf("%s at step %d written twice", v.tag, ev.step)
			}
			if v.isScalar {
				scalars[k] = v.scalar
			} else {
				histos[k] = v.histo
			}
		}
	}

	// Epoch scalars: every History entry at step = epochs completed.
	wantScalars := 0
	for name, vals := range h.Metrics {
		if len(vals) != epochs {
			t.Fatalf("history %s has %d values, want %d", name, len(vals), epochs)
		}
		for e, v := range vals {
			k := key{"epoch/" + name, int64(e + 1)}
			got, ok := scalars[k]
			if !ok || got != float32(v) {
				t.Errorf("%s at step %d = %v (present %v), want %v", k.tag, k.step, got, ok, float32(v))
			}
			wantScalars++
		}
	}
	for _, name := range []string{"loss", "accuracy", "val_loss", "val_accuracy"} {
		if _, ok := h.Metrics[name]; !ok {
			t.Errorf("history lacks %q; the test expects it", name)
		}
	}
	// Batch scalars: the running logs at global steps 2, 4, 6, 8.
	if len(rec.batches) != 9 {
		t.Fatalf("recorded %d steps, want 9", len(rec.batches))
	}
	for step := 2; step <= 9; step += 2 {
		for name, v := range rec.batches[step-1] {
			k := key{"batch/" + name, int64(step)}
			if got, ok := scalars[k]; !ok || got != float32(v) {
				t.Errorf("%s at step %d = %v (present %v), want %v", k.tag, k.step, got, ok, float32(v))
			}
			wantScalars++
		}
	}
	if len(scalars) != wantScalars {
		t.Errorf("file holds %d scalars, want %d", len(scalars), wantScalars)
	}

	// Histograms of every weight at steps 0 (initial) to 3; the last ones
	// describe the trained weights.
	wantHistos := 0
	for _, l := range m.Layers {
		for _, w := range l.Weights() {
			tag := l.Name() + "/" + w.Name
			for step := int64(0); step <= epochs; step++ {
				if histos[key{tag, step}] == nil {
					t.Errorf("no histogram %s at step %d", tag, step)
				}
				wantHistos++
			}
			vals := make([]float64, 0, w.Value.Len())
			for _, v := range w.Value.Float32s() {
				vals = append(vals, float64(v))
			}
			if got := histos[key{tag, epochs}]; got != nil {
				checkHisto(t, tag, got, vals)
			}
		}
	}
	if len(histos) != wantHistos {
		t.Errorf("file holds %d histograms, want %d", len(histos), wantHistos)
	}
	for _, tag := range []string{"dense/kernel", "dense/bias", "batch_normalization/gamma", "batch_normalization/moving_mean", "dense_1/kernel"} {
		if histos[key{tag, 0}] == nil {
			t.Errorf("no histogram %q; have %v", tag, slices.Collect(maps.Keys(histos)))
		}
	}
	// Training moved the kernel: its initial and final histograms differ.
	if a, b := histos[key{"dense/kernel", 0}], histos[key{"dense/kernel", epochs}]; a != nil && b != nil && a.sumSquares == b.sumSquares {
		t.Errorf("dense/kernel: sum of squares %g before and after training", a.sumSquares)
	}
}

func TestCallbackOff(t *testing.T) {
	x, y := tinyData()
	m := model.NewSequential(layers.NewDense(2, nn.ActSoftmax))
	if err := m.CompileNames("sgd", "categorical_crossentropy"); err != nil {
		t.Fatal(err)
	}
	cb := tensorboard.NewCallback(t.TempDir())
	cb.BatchEvery, cb.HistogramEvery = 0, 0
	if _, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 2, BatchSize: 8, Callbacks: []model.Callback{cb}}); err != nil {
		t.Fatal(err)
	}
	evs, err := readEvents(cb.Path())
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	for _, ev := range evs[1:] {
		for _, v := range ev.values {
			tags = append(tags, v.tag)
			if !v.isScalar {
				t.Errorf("histogram %s written with HistogramEvery 0", v.tag)
			}
		}
	}
	if want := []string{"epoch/loss", "epoch/loss"}; !slices.Equal(tags, want) {
		t.Errorf("tags %q, want %q", tags, want)
	}
}

func TestCallbackNegative(t *testing.T) {
	x, y := tinyData()
	m := model.NewSequential(layers.NewDense(2, nn.ActSoftmax))
	if err := m.CompileNames("sgd", "categorical_crossentropy"); err != nil {
		t.Fatal(err)
	}
	cb := tensorboard.NewCallback(t.TempDir())
	cb.BatchEvery = -1
	if _, err := m.Fit(context.Background(), x, y, model.FitOptions{Callbacks: []model.Callback{cb}}); err == nil {
		t.Error("Fit with BatchEvery -1: got no error")
	}
}

func TestCallbackCheckpointState(t *testing.T) {
	x, y := tinyData()
	m := model.NewSequential(layers.NewDense(2, nn.ActSoftmax))
	if err := m.CompileNames("sgd", "categorical_crossentropy"); err != nil {
		t.Fatal(err)
	}
	cb := tensorboard.NewCallback(t.TempDir())
	cb.BatchEvery = 1
	// 40 samples in batches of 8: 5 steps.
	if _, err := m.Fit(context.Background(), x, y, model.FitOptions{BatchSize: 8, Callbacks: []model.Callback{cb}}); err != nil {
		t.Fatal(err)
	}
	state, err := cb.CheckpointState()
	if err != nil {
		t.Fatal(err)
	}

	// A resumed run: OnTrainBegin, then the restore, then the next epoch.
	next := tensorboard.NewCallback(t.TempDir())
	next.BatchEvery = 1
	if err := next.OnTrainBegin(m); err != nil {
		t.Fatal(err)
	}
	if err := next.RestoreCheckpointState(state); err != nil {
		t.Fatal(err)
	}
	if err := next.OnEpochBegin(1); err != nil {
		t.Fatal(err)
	}
	if err := next.OnBatchEnd(1, 1, model.Logs{"loss": 0.5}); err != nil {
		t.Fatal(err)
	}
	if err := next.Close(); err != nil {
		t.Fatal(err)
	}
	evs, err := readEvents(next.Path())
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || len(evs[1].values) != 1 {
		t.Fatalf("resumed file holds %d events, want the file version and one scalar (no initial histograms)", len(evs))
	}
	if got := evs[1]; got.step != 6 || got.values[0].tag != "batch/loss" || got.values[0].scalar != 0.5 {
		t.Errorf("resumed batch scalar = %s at step %d = %v, want batch/loss at step 6 = 0.5", got.values[0].tag, got.step, got.values[0].scalar)
	}
	for _, bad := range []string{"", "{", `{"step": -1}`} {
		if err := next.RestoreCheckpointState([]byte(bad)); err == nil {
			t.Errorf("RestoreCheckpointState(%q): got no error", bad)
		}
	}
}

// A run stopped after one epoch and resumed from its checkpoint reads in
// TensorBoard as one run: the second file carries on the steps.
func TestCallbackResume(t *testing.T) {
	x, y := tinyData()
	m := model.NewSequential(layers.NewDense(2, nn.ActSoftmax))
	if err := m.CompileNames("sgd", "categorical_crossentropy"); err != nil {
		t.Fatal(err)
	}
	run, ckDir := t.TempDir(), t.TempDir()
	fit := func(m *model.Sequential, epochs int, resume *model.Checkpoint) *tensorboard.Callback {
		t.Helper()
		tb := tensorboard.NewCallback(run)
		tb.BatchEvery = 1
		ck := &model.BackupAndRestore{Dir: ckDir}
		// 40 samples in batches of 8: 5 steps an epoch.
		_, err := m.Fit(context.Background(), x, y, model.FitOptions{
			Epochs: epochs, BatchSize: 8, Resume: resume, Callbacks: []model.Callback{tb, ck},
		})
		if err != nil {
			t.Fatal(err)
		}
		return tb
	}
	first := fit(m, 1, nil)
	m2, ck, err := model.LatestCheckpoint(ckDir)
	if err != nil {
		t.Fatal(err)
	}
	second := fit(m2, 2, ck)
	if first.Path() == second.Path() {
		t.Fatalf("both Fits wrote %s", first.Path())
	}
	for i, tc := range []struct {
		path       string
		batchSteps []int64
		epochSteps []int64
		histoSteps []int64
	}{
		{first.Path(), []int64{1, 2, 3, 4, 5}, []int64{1}, []int64{0, 1}},
		{second.Path(), []int64{6, 7, 8, 9, 10}, []int64{2}, []int64{2}},
	} {
		evs, err := readEvents(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		var batch, epoch, histo []int64
		for _, ev := range evs[1:] {
			for _, v := range ev.values {
				switch {
				case v.tag == "batch/loss":
					batch = append(batch, ev.step)
				case v.tag == "epoch/loss":
					epoch = append(epoch, ev.step)
				case v.tag == "dense/kernel":
					histo = append(histo, ev.step)
				}
			}
		}
		if !slices.Equal(batch, tc.batchSteps) || !slices.Equal(epoch, tc.epochSteps) || !slices.Equal(histo, tc.histoSteps) {
			t.Errorf("file %d: batch/loss steps %v, epoch/loss %v, dense/kernel %v; want %v, %v, %v",
				i+1, batch, epoch, histo, tc.batchSteps, tc.epochSteps, tc.histoSteps)
		}
	}
}
