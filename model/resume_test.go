package model_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/metrics"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/tensor"
)

// ckStateHash returns SHA-256 hashes of the model's weights (with batch-norm
// state) and of its optimizer (every slot of every trainable parameter,
// the step count and the learning rate).
func ckStateHash(m *model.Sequential) (weights, opt string) {
	hw, ho := sha256.New(), sha256.New()
	o := m.Optimizer()
	put := func(h interface{ Write([]byte) (int, error) }, t *tensor.Tensor) {
		var b [8]byte
		for i := range t.Len() {
			binary.LittleEndian.PutUint64(b[:], math.Float64bits(t.Index(i)))
			h.Write(b[:])
		}
	}
	for _, l := range m.Layers {
		for _, w := range l.Weights() {
			fmt.Fprintf(hw, "%s/%s%v;", l.Name(), w.Name, w.Value.Shape())
			put(hw, w.Value)
			if w.Trainable() {
				for i, s := range o.State(w.Param) {
					fmt.Fprintf(ho, "%s/%s/%s;", l.Name(), w.Name, o.SlotNames()[i])
					put(ho, s)
				}
			}
		}
	}
	fmt.Fprintf(ho, "iterations %d lr %x", o.Iterations(), math.Float64bits(o.LearningRate()))
	return hex.EncodeToString(hw.Sum(nil)), hex.EncodeToString(ho.Sum(nil))
}

// ckSameHistory reports the first difference between two histories, bit
// for bit, or "".
func ckSameHistory(got, want *model.History) string {
	if !slices.Equal(got.Epochs, want.Epochs) {
		return fmt.Sprintf("epochs %v, want %v", got.Epochs, want.Epochs)
	}
	if len(got.Metrics) != len(want.Metrics) {
		return fmt.Sprintf("metrics %v, want %v", got.Metrics, want.Metrics)
	}
	for k, w := range want.Metrics {
		g := got.Metrics[k]
		if len(g) != len(w) {
			return fmt.Sprintf("%s: %v, want %v", k, g, w)
		}
		for i := range w {
			if math.Float64bits(g[i]) != math.Float64bits(w[i]) {
				return fmt.Sprintf("%s of epoch %d: %v, want %v", k, i+1, g[i], w[i])
			}
		}
	}
	if got.Stopped != want.Stopped {
		return fmt.Sprintf("stopped %q, want %q", got.Stopped, want.Stopped)
	}
	return ""
}

// ckStopAt ends training (by ErrStopTraining or by cancelling a context)
// after the given global step.
type ckStopAt struct {
	model.BaseCallback
	at, n  int
	cancel func()
}

func (s *ckStopAt) OnBatchEnd(epoch, step int, logs model.Logs) error {
	s.n++
	if s.n == s.at {
		if s.cancel != nil {
			s.cancel()
			return nil
		}
		return model.ErrStopTraining
	}
	return nil
}

type ckResumeCase struct {
	name string
	mk   func() *model.Sequential
}

func ckResumeCases() []ckResumeCase {
	comp := func(m *model.Sequential, o optimizers.Optimizer, ms ...metrics.Metric) *model.Sequential {
		if err := m.Compile(o, losses.CategoricalCrossentropy{}, ms...); err != nil {
			panic(err)
		}
		return m
	}
	return []ckResumeCase{
		{"founding/adam", func() *model.Sequential {
			return comp(founding(true), optimizers.NewAdam(), metrics.NewAccuracy())
		}},
		{"sgd-momentum", func() *model.Sequential {
			return comp(founding(false), &optimizers.SGD{LR: 0.05, Momentum: 0.9, Nesterov: true}, metrics.NewCategoricalAccuracy())
		}},
		{"dropout/rmsprop", func() *model.Sequential {
			m := model.NewSequential(layers.NewDense(64, nn.ActReLU), layers.NewDropout(0.3),
				layers.NewBatchNormalization(), layers.NewDense(10, nn.ActSoftmax))
			m.Seed = 7
			return comp(m, optimizers.NewRMSprop(), metrics.NewAccuracy())
		}},
	}
}

// TestResumeBitwise stops runs part way through an epoch, resumes each in
// a fresh model from its checkpoint, and checks that weights, batch-norm
// state, optimizer state and history are bit for bit those of the
// uninterrupted run.
func TestResumeBitwise(t *testing.T) {
	x, y, _, _ := data(t, 2000, 10)
	const epochs = 3
	opts := func() model.FitOptions {
		return model.FitOptions{Epochs: epochs, BatchSize: 32, ValidationSplit: 0.1}
	}
	// 1800 training samples: 57 steps per epoch, the last of 8 samples.
	for _, tc := range ckResumeCases() {
		t.Run(tc.name, func(t *testing.T) {
			ref := tc.mk()
			hRef, err := ref.Fit(context.Background(), x, y, opts())
			if err != nil {
				t.Fatal(err)
			}
			wantW, wantO := ckStateHash(ref)

			for _, stop := range []struct {
				how  string
				step int
			}{{"callback", 80}, {"cancel", 57 + 56}, {"callback", 57}, {"cancel", 3}} {
				t.Run(fmt.Sprintf("%s-at-%d", stop.how, stop.step), func(t *testing.T) {
					m := tc.mk()
					ctx, cancel := context.WithCancel(context.Background())
					defer cancel()
					cb := &ckStopAt{at: stop.step}
					if stop.how == "cancel" {
						cb.cancel = cancel
					}
					o := opts()
					o.Callbacks = []model.Callback{cb}
					_, err := m.Fit(ctx, x, y, o)
					if stop.how == "cancel" && !errors.Is(err, context.Canceled) || stop.how == "callback" && err != nil {
						t.Fatalf("interrupted Fit: %v", err)
					}
					path := t.TempDir() + "/ck.safetensors"
					if err := m.SaveCheckpoint(path, map[string]string{"note": "x"}); err != nil {
						t.Fatal(err)
					}
					// An epoch's last step is stored as that epoch with all
					// its steps taken: its end (validation, history) is
					// still to come.
					m2, ck, err := model.LoadCheckpoint(path)
					if err != nil {
						t.Fatal(err)
					}
					if ck.GlobalStep != stop.step || ck.Epoch != (stop.step-1)/57 || ck.Step != (stop.step-1)%57+1 || ck.Metadata["note"] != "x" {
						t.Fatalf("checkpoint at epoch %d step %d (global %d), metadata %v; want global step %d",
							ck.Epoch, ck.Step, ck.GlobalStep, ck.Metadata, stop.step)
					}
					o = opts()
					o.Resume = ck
					h2, err := m2.Fit(context.Background(), x, y, o)
					if err != nil {
						t.Fatal(err)
					}
					gotW, gotO := ckStateHash(m2)
					if gotW != wantW {
						t.Errorf("weights and batch-norm state: SHA-256 %s, uninterrupted run %s", gotW[:16], wantW[:16])
					}
					if gotO != wantO {
						t.Errorf("optimizer state: SHA-256 %s, uninterrupted run %s", gotO[:16], wantO[:16])
					}
					if d := ckSameHistory(h2, hRef); d != "" {
						t.Errorf("history: %s", d)
					}
				})
			}
		})
	}
}

// TestResumeTwiceWithModelCheckpoint interrupts a run twice, each time
// resuming from the latest checkpoint that BackupAndRestore wrote.
func TestResumeTwiceWithModelCheckpoint(t *testing.T) {
	x, y, _, _ := data(t, 1000, 10)
	mk := ckResumeCases()[0].mk
	opts := model.FitOptions{Epochs: 2, BatchSize: 50} // 20 steps per epoch
	ref := mk()
	hRef, err := ref.Fit(context.Background(), x, y, opts)
	if err != nil {
		t.Fatal(err)
	}
	wantW, wantO := ckStateHash(ref)

	dir := t.TempDir()
	m := mk()
	for _, stop := range []int{7, 15, 0} { // steps run by each process; 0: to the end
		mc := &model.BackupAndRestore{Dir: dir, EverySteps: 3, Keep: 2}
		o := opts
		o.Callbacks = []model.Callback{mc}
		if stop > 0 {
			o.Callbacks = append(o.Callbacks, &ckStopAt{at: stop})
		}
		if m == nil {
			var ck *model.Checkpoint
			m, ck, err = model.LatestCheckpoint(dir)
			if err != nil {
				t.Fatal(err)
			}
			o.Resume = ck
		}
		h, err := m.Fit(context.Background(), x, y, o)
		if err != nil {
			t.Fatal(err)
		}
		if stop == 0 {
			if d := ckSameHistory(h, hRef); d != "" {
				t.Errorf("history: %s", d)
			}
			if w, o := ckStateHash(m); w != wantW || o != wantO {
				t.Errorf("state after two resumes differs from the uninterrupted run's")
			}
		}
		m = nil // the next round starts fresh from disk
	}
}

// TestResumeMismatch checks that a resumed Fit refuses different settings
// or data, naming what differs.
func TestResumeMismatch(t *testing.T) {
	x, y, _, _ := data(t, 600, 10)
	m := compiled(t, founding(true))
	if _, err := m.Fit(context.Background(), x, y, model.FitOptions{BatchSize: 50, Callbacks: []model.Callback{&ckStopAt{at: 4}}}); err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/ck.safetensors"
	if err := m.SaveCheckpoint(path, nil); err != nil {
		t.Fatal(err)
	}
	other := x.Clone()
	other.SetIndex(5, 0.5)
	for _, tc := range []struct {
		name string
		x    *tensor.Tensor
		opt  model.FitOptions
		want string
	}{
		{"batch size", x, model.FitOptions{BatchSize: 60}, "BatchSize 60 (the checkpoint has 50)"},
		{"shuffle", x, model.FitOptions{NoShuffle: true}, "shuffle false (the checkpoint has true)"},
		{"validation split", x, model.FitOptions{ValidationSplit: 0.5}, "ValidationSplit 0.5"},
		{"data", other, model.FitOptions{}, "training data (its SHA-256 differs)"},
		{"initial epoch", x, model.FitOptions{InitialEpoch: 1}, "InitialEpoch 1 with Resume"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m2, ck, err := model.LoadCheckpoint(path)
			if err != nil {
				t.Fatal(err)
			}
			tc.opt.Resume = ck
			_, err = m2.Fit(context.Background(), tc.x, y, tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got error %v, want one containing %q", err, tc.want)
			}
		})
	}
	// A checkpoint resumes only the model it was loaded into.
	_, ck, err := model.LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := compiled(t, founding(true)).Fit(context.Background(), x, y, model.FitOptions{Resume: ck}); err == nil {
		t.Fatal("Resume with a checkpoint of another model: no error")
	}
	// And only once: the model has moved on after the first.
	m3, ck, err := model.LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m3.Fit(context.Background(), x, y, model.FitOptions{Resume: ck}); err != nil {
		t.Fatal(err)
	}
	if _, err := m3.Fit(context.Background(), x, y, model.FitOptions{Resume: ck}); err == nil || !strings.Contains(err.Error(), "already resumed") {
		t.Fatalf("second Resume from one checkpoint: got %v", err)
	}
}

// TestResumeMismatchNamesRecorded checks that a setting left unset on
// resume is reported with the value the checkpoint recorded, not as the
// zero the caller never chose, and that Epochs too short for the
// checkpoint names its position and the run's Epochs.
func TestResumeMismatchNamesRecorded(t *testing.T) {
	x, y, _, _ := data(t, 300, 10)
	m := compiled(t, founding(true))
	opts := model.FitOptions{Epochs: 3, BatchSize: 50, ValidationSplit: 0.2}
	opts.Callbacks = []model.Callback{&ckStopAt{at: 8}} // 5 steps an epoch: epoch 2, step 3
	if _, err := m.Fit(context.Background(), x, y, opts); err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/ck.safetensors"
	if err := m.SaveCheckpoint(path, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opt  model.FitOptions
		want string
	}{
		{"split unset", model.FitOptions{}, "ValidationSplit not set (the checkpoint has 0.2; set it to that)"},
		{"split differs", model.FitOptions{ValidationSplit: 0.1}, "ValidationSplit 0.1 (the checkpoint has 0.2)"},
		{"epochs", model.FitOptions{ValidationSplit: 0.2, Epochs: 1}, "Epochs 1 ends before the checkpoint's position (epoch 2, step 3; the run it continues had Epochs 3)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m2, ck, err := model.LoadCheckpoint(path)
			if err != nil {
				t.Fatal(err)
			}
			tc.opt.Resume = ck
			_, err = m2.Fit(context.Background(), x, y, tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// cancelAtEpoch cancels its context when the given epoch (0-based) begins,
// so that Fit stops after shuffling that epoch and before its first step,
// as a Ctrl-C does that lands between the "Epoch N" line and the first
// step's end.
type cancelAtEpoch struct {
	model.BaseCallback
	epoch  int
	cancel func()
}

func (c *cancelAtEpoch) OnEpochBegin(epoch int) error {
	if epoch == c.epoch {
		c.cancel()
	}
	return nil
}

// TestResumeCancelledBeforeFirstStep: a run cancelled after an epoch's
// shuffle but before its first step must be saved as the position before
// that shuffle, so that the resumed run shuffles as the uninterrupted one.
func TestResumeCancelledBeforeFirstStep(t *testing.T) {
	x, y, _, _ := data(t, 2000, 10)
	opts := func() model.FitOptions { return model.FitOptions{Epochs: 3, BatchSize: 32} }
	for _, tc := range ckResumeCases() {
		for _, epoch := range []int{0, 1} {
			t.Run(fmt.Sprintf("%s/epoch-%d", tc.name, epoch), func(t *testing.T) {
				ref := tc.mk()
				hRef, err := ref.Fit(context.Background(), x, y, opts())
				if err != nil {
					t.Fatal(err)
				}
				wantW, wantO := ckStateHash(ref)
				m := tc.mk()
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				o := opts()
				o.Callbacks = []model.Callback{&cancelAtEpoch{epoch: epoch, cancel: cancel}}
				if _, err := m.Fit(ctx, x, y, o); !errors.Is(err, context.Canceled) {
					t.Fatalf("cancelled Fit: %v, want context.Canceled", err)
				}
				path := t.TempDir() + "/ck.safetensors"
				if err := m.SaveCheckpoint(path, nil); err != nil {
					t.Fatal(err)
				}
				m2, ck, err := model.LoadCheckpoint(path)
				if err != nil {
					t.Fatal(err)
				}
				if ck.Epoch != epoch || ck.Step != 0 {
					t.Fatalf("checkpoint at epoch %d step %d, want epoch %d step 0", ck.Epoch, ck.Step, epoch)
				}
				o = opts()
				o.Resume = ck
				h2, err := m2.Fit(context.Background(), x, y, o)
				if err != nil {
					t.Fatal(err)
				}
				if gotW, gotO := ckStateHash(m2); gotW != wantW || gotO != wantO {
					t.Errorf("resumed state %s/%s, uninterrupted run %s/%s", gotW[:16], gotO[:16], wantW[:16], wantO[:16])
				}
				if d := ckSameHistory(h2, hRef); d != "" {
					t.Errorf("history: %s", d)
				}
			})
		}
	}
}
