package model_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/metrics"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/optimizers"
)

// Undoing a step whose update broke a weight: Fit restores the epoch's
// snapshot and replays the steps before the failing one (guard.go). These
// tests hold the state it leaves to a reference run, bit for bit: every
// tensor and every metadata entry of the checkpoint the model would write
// (weights, batch-norm statistics, optimizer slots, step count and
// learning rate, generator, the epoch's running loss and metric counts,
// run position and history).

const (
	rwSteps  = 4 // 64 samples in batches of 16
	rwEpochs = 3
)

// lrWobble changes the learning rate after every step, as a schedule
// would, so that a replay that ignored the rates the steps used would end
// with other weights. The rate is a function of the global step, so a
// resumed run gets the same ones.
type lrWobble struct {
	model.BaseCallback
	m *model.Sequential
}

func (c *lrWobble) OnTrainBegin(m *model.Sequential) error { c.m = m; return nil }

func (c *lrWobble) OnBatchEnd(epoch, step int, _ model.Logs) error {
	g := epoch*rwSteps + step
	c.m.Optimizer().SetLearningRate(1e-3 * (1 + 0.5*float64(g%4)))
	return nil
}

// ckRecorder records the checkpoint digest after every step (key "step
// g", g the 1-based global step) and at every epoch's end ("end of epoch
// e"), and saves the checkpoint after global step saveAt to path.
type ckRecorder struct {
	model.BaseCallback
	t      *testing.T
	m      *model.Sequential
	at     map[string]map[string]string
	saveAt int
	path   string
}

func (c *ckRecorder) OnTrainBegin(m *model.Sequential) error { c.m = m; return nil }

func (c *ckRecorder) OnBatchEnd(epoch, step int, _ model.Logs) error {
	g := epoch*rwSteps + step
	c.at[fmt.Sprintf("step %d", g)] = ckDigest(c.t, c.m)
	if g == c.saveAt {
		return c.m.SaveCheckpoint(c.path, nil)
	}
	return nil
}

func (c *ckRecorder) OnEpochEnd(epoch int, _ model.Logs) error {
	c.at[fmt.Sprintf("end of epoch %d", epoch+1)] = ckDigest(c.t, c.m)
	return nil
}

// ckDigest hashes each tensor and metadata entry of the model's
// checkpoint. At a step-0 position the checkpoint's perm_rng (the
// generator before the last epoch's shuffle) is left out: resuming from
// step 0 shuffles with rng and never reads it.
func ckDigest(t *testing.T, m *model.Sequential) map[string]string {
	t.Helper()
	f, err := m.CheckpointFile(nil)
	if err != nil {
		t.Fatalf("CheckpointFile: %v", err)
	}
	d := map[string]string{}
	for k, v := range f.Metadata {
		if k == "state" {
			var st map[string]any
			if err := json.Unmarshal([]byte(v), &st); err != nil {
				t.Fatal(err)
			}
			if st["step"] == 0.0 {
				delete(st, "perm_rng")
			}
			b, err := json.Marshal(st)
			if err != nil {
				t.Fatal(err)
			}
			v = string(b)
		}
		d["metadata "+k] = fmt.Sprintf("%x", sha256.Sum256([]byte(v)))
	}
	for _, ts := range f.Tensors {
		h := sha256.New()
		fmt.Fprintf(h, "%s%v;", ts.DType, ts.Shape)
		h.Write(ts.Data)
		d["tensor "+ts.Name] = fmt.Sprintf("%x", h.Sum(nil))
	}
	return d
}

// digestDiff names the entries where got and want differ, or returns "".
func digestDiff(got, want map[string]string) string {
	var diff []string
	for k, w := range want {
		if g, ok := got[k]; !ok {
			diff = append(diff, k+" missing")
		} else if g != w {
			diff = append(diff, k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			diff = append(diff, k+" unexpected")
		}
	}
	slices.Sort(diff)
	return strings.Join(diff, ", ")
}

// rwModel is a model with dropout (the generator) and batch normalization
// (moving statistics) whose optimizer writes +Inf into dense_1/kernel at
// step at; at < 0 never does.
func rwModel(t *testing.T, at int) *model.Sequential {
	t.Helper()
	m := model.NewSequential(layers.NewDense(64, nn.ActReLU), layers.NewBatchNormalization(), layers.NewDropout(0.25),
		layers.NewDense(64, nn.ActReLU), layers.NewBatchNormalization(), layers.NewDense(10, nn.ActSoftmax))
	m.Seed = 3
	// Parameters: dense/kernel, dense/bias, gamma, beta, dense_1/kernel (4), ...
	if err := m.Compile(&infAt{Adam: optimizers.NewAdam(), at: at, param: 4}, losses.CategoricalCrossentropy{}, metrics.NewAccuracy()); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestFitRewindsNonFiniteWeight makes the optimizer break a weight in the
// middle of the first and of the second epoch, at the first step of the
// second, and in a Fit resumed in the middle of the second (at its first
// step and later), with the learning rate changed after every step. Each
// time Fit must stop with a *NonFiniteError naming dense_1 and leave the
// state the reference run had after the step before (or at the end of the
// epoch before), and the model must save and load.
func TestFitRewindsNonFiniteWeight(t *testing.T) {
	x, y, _, _ := data(t, rwSteps*16, 1)
	opts := func(cbs ...model.Callback) model.FitOptions {
		return model.FitOptions{Epochs: rwEpochs, BatchSize: 16, Callbacks: append([]model.Callback{&lrWobble{}}, cbs...)}
	}
	const saveAt = 6 // epoch 2 step 2
	ckPath := filepath.Join(t.TempDir(), "at6.ckpt")
	rec := &ckRecorder{t: t, at: map[string]map[string]string{}, saveAt: saveAt, path: ckPath}
	if _, err := rwModel(t, -1).Fit(context.Background(), x, y, opts(rec)); err != nil {
		t.Fatal(err)
	}
	// The digests can fail the comparisons: each step changes the state.
	for g := 2; g <= rwSteps*rwEpochs; g++ {
		if d := digestDiff(rec.at[fmt.Sprintf("step %d", g)], rec.at[fmt.Sprintf("step %d", g-1)]); d == "" {
			t.Fatalf("the reference's checkpoints after steps %d and %d are the same: the test cannot tell them apart", g-1, g)
		}
	}

	cases := []struct {
		name        string
		at          int  // the global step whose update breaks the weight
		resume      bool // resume from the checkpoint after step saveAt
		epoch, step int  // where the error says it happened
		want        string
	}{
		{"epoch 1 step 3", 3, false, 1, 3, "step 2"},
		{"epoch 2 step 3", 7, false, 2, 3, "step 6"},
		{"epoch 2 step 1", 5, false, 2, 1, "end of epoch 1"},
		{"epoch 3 step 4", 12, false, 3, 4, "step 11"},
		{"resumed, its first step", 7, true, 2, 3, "step 6"},
		{"resumed, its third step", 9, true, 3, 1, "end of epoch 2"},
		{"resumed, its second step", 8, true, 2, 4, "step 7"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := rwModel(t, c.at)
			o := opts()
			if c.resume {
				var ck *model.Checkpoint
				var err error
				m, ck, err = model.LoadCheckpoint(ckPath)
				if err != nil {
					t.Fatal(err)
				}
				adam, ok := m.Optimizer().(*optimizers.Adam)
				if !ok {
					t.Fatalf("the checkpoint's optimizer is %T, want *optimizers.Adam", m.Optimizer())
				}
				if err := m.Compile(&infAt{Adam: adam, at: c.at, param: 4}, m.Loss(), m.Metrics()...); err != nil {
					t.Fatal(err)
				}
				o.Resume = ck
			}
			_, err := m.Fit(context.Background(), x, y, o)
			var nf *model.NonFiniteError
			if !errors.As(err, &nf) || nf.What != "weight" || nf.Layer != "dense_1" || nf.Epoch != c.epoch || nf.Step != c.step {
				t.Fatalf("got %v, want a *NonFiniteError for a weight of layer dense_1 at epoch %d step %d", err, c.epoch, c.step)
			}
			if d := digestDiff(ckDigest(t, m), rec.at[c.want]); d != "" {
				t.Errorf("after the failed step, the checkpoint differs from the reference's after %s in: %s", c.want, d)
			}
			path := filepath.Join(t.TempDir(), "m.safetensors")
			if err := m.Save(path); err != nil {
				t.Fatalf("Save after the failed step: %v", err)
			}
			back, err := model.Load(path)
			if err != nil {
				t.Fatalf("Load of what Save wrote: %v", err)
			}
			for i, l := range m.Layers {
				for j, w := range l.Weights() {
					if g := back.Layers[i].Weights()[j].Value; !slices.Equal(g.Float32s(), w.Value.Float32s()) {
						t.Errorf("%s/%s: loaded values differ from the saved model's", l.Name(), w.Name)
					}
				}
			}
		})
	}
}

// stepCounter is an Adam that keeps a count of its own Step calls, outside
// State and Iterations, so that a replay does not repeat it. At call inf
// (and, with again, every call after it) it writes +Inf into parameter 4;
// with drift, every call also adds 1e-3 × the count to the first element
// of parameter 1, dense/bias (not of dense/kernel: its first row weighs
// an MNIST corner pixel, always 0, so no loss would see the drift).
type stepCounter struct {
	*optimizers.Adam
	calls, inf   int
	again, drift bool
}

func (o *stepCounter) Step(ps []*autodiff.Var) error {
	if err := o.Adam.Step(ps); err != nil {
		return err
	}
	o.calls++
	if o.drift {
		ps[1].Value.SetIndex(0, ps[1].Value.Index(0)+1e-3*float64(o.calls))
	}
	if o.calls == o.inf || o.again && o.calls > o.inf {
		ps[4].Value.SetIndex(0, math.Inf(1))
	}
	return nil
}

// epochStart records the checkpoint digest when the first epoch begins.
type epochStart struct {
	model.BaseCallback
	t  *testing.T
	m  *model.Sequential
	at map[string]string
}

func (c *epochStart) OnTrainBegin(m *model.Sequential) error { c.m = m; return nil }

func (c *epochStart) OnEpochBegin(epoch int) error {
	if epoch == 0 {
		c.at = ckDigest(c.t, c.m)
	}
	return nil
}

// TestFitRewindNotDeterministic checks the error when the replay cannot
// rebuild the state: a step that fails again, or steps that end with
// another loss. The model is then left as the epoch started, generator
// included.
func TestFitRewindNotDeterministic(t *testing.T) {
	x, y, _, _ := data(t, rwSteps*16, 1)
	for _, c := range []struct {
		name         string
		again, drift bool
		why          string
	}{
		{"fails again", true, false, `replaying the epoch from its step 1 gave a non-finite weight in layer "dense_1" at its step 1`},
		{"drifts", false, true, "replaying the epoch from its step 1 gave a loss sum of"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := model.NewSequential(layers.NewDense(64, nn.ActReLU), layers.NewBatchNormalization(), layers.NewDense(10, nn.ActSoftmax))
			m.Seed = 3
			opt := &stepCounter{Adam: optimizers.NewAdam(), inf: 3, again: c.again, drift: c.drift}
			if err := m.Compile(opt, losses.CategoricalCrossentropy{}, metrics.NewAccuracy()); err != nil {
				t.Fatal(err)
			}
			start := &epochStart{t: t}
			_, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 2, BatchSize: 16, Callbacks: []model.Callback{start}})
			var nf *model.NonFiniteError
			if err == nil || errors.As(err, &nf) {
				t.Fatalf("got %v, want an error that is not a *NonFiniteError", err)
			}
			for _, want := range []string{
				`model: non-finite weight at epoch 1 step 3, first in layer "dense_1", and the state before it could not be restored`,
				c.why,
				"the model holds the state from before step 1 of epoch 1",
			} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			if start.at == nil {
				t.Fatal("OnEpochBegin never ran")
			}
			if d := digestDiff(ckDigest(t, m), start.at); d != "" {
				t.Errorf("the checkpoint differs from the one at the epoch's start in: %s", d)
			}
		})
	}
}
