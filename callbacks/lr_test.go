package callbacks_test

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/callbacks"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/optimizers/schedules"
)

// TestReduceLROnPlateauSequence feeds scripted values and checks the rate
// after each epoch, worked by hand from Keras 3's rules.
func TestReduceLROnPlateauSequence(t *testing.T) {
	for _, c := range []struct {
		name string
		cb   *callbacks.ReduceLROnPlateau
		vals []float64
		want []float64 // the rate after each epoch's end
	}{
		{"patience 2", &callbacks.ReduceLROnPlateau{Factor: 0.5, Patience: 2, MinDelta: 1e-4},
			[]float64{1, 0.9, 0.9, 0.95, 0.8, 0.85, 0.85, 0.85},
			[]float64{1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25}},
		// An improvement smaller than MinDelta does not count.
		{"min delta", &callbacks.ReduceLROnPlateau{Factor: 0.5, Patience: 1, MinDelta: 0.1},
			[]float64{1, 0.95, 0.92, 0.85},
			[]float64{1, 0.5, 0.25, 0.25}},
		// Cooldown 2: as in Keras, the count goes down before the epoch is
		// judged, so only the first epoch after a reduction is skipped.
		{"cooldown", &callbacks.ReduceLROnPlateau{Factor: 0.5, Patience: 1, Cooldown: 2},
			[]float64{1, 1, 1, 1, 1, 1},
			[]float64{1, 0.5, 0.5, 0.25, 0.25, 0.125}},
		{"cooldown 0", &callbacks.ReduceLROnPlateau{Factor: 0.5, Patience: 1},
			[]float64{1, 1, 1, 1},
			[]float64{1, 0.5, 0.25, 0.125}},
		{"min lr", &callbacks.ReduceLROnPlateau{Factor: 0.1, Patience: 1, MinLR: 0.05},
			[]float64{1, 1, 1, 1},
			[]float64{1, 0.1, 0.05, 0.05}},
		{"auto max for accuracy", &callbacks.ReduceLROnPlateau{Monitor: "val_accuracy", Factor: 0.5, Patience: 1},
			[]float64{0.5, 0.6, 0.55},
			[]float64{1, 1, 0.5}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := toyModel(t)
			m.Optimizer().SetLearningRate(1)
			if err := c.cb.OnTrainBegin(m); err != nil {
				t.Fatal(err)
			}
			key := c.cb.Monitor
			if key == "" {
				key = "val_loss"
			}
			for e, v := range c.vals {
				logs := model.Logs{key: v}
				c.cb.AddEpochLogs(e, logs)
				if logs["learning_rate"] != m.Optimizer().LearningRate() {
					t.Fatalf("epoch %d: logged learning_rate %v, the optimizer has %v", e, logs["learning_rate"], m.Optimizer().LearningRate())
				}
				if err := c.cb.OnEpochEnd(e, logs); err != nil {
					t.Fatal(err)
				}
				if got := m.Optimizer().LearningRate(); math.Abs(got-c.want[e]) > 1e-15 {
					t.Fatalf("values %v: rate after epoch %d is %v, want %v (all: %v)", c.vals, e, got, c.want[e], c.want)
				}
			}
		})
	}
}

func TestReduceLROnPlateauDefaultsAndErrors(t *testing.T) {
	d := callbacks.NewReduceLROnPlateau()
	if d.Monitor != "val_loss" || d.Factor != 0.1 || d.Patience != 10 || d.MinDelta != 1e-4 || d.Cooldown != 0 || d.MinLR != 0 {
		t.Errorf("NewReduceLROnPlateau() = %+v, want Keras's defaults", d)
	}
	m := toyModel(t)
	for _, bad := range []*callbacks.ReduceLROnPlateau{{Factor: 1}, {Factor: 0.5, Patience: -1}, {Factor: 0.5, MinLR: -1}, {Factor: 0.5, Mode: "x"}} {
		if err := bad.OnTrainBegin(m); err == nil || !strings.HasPrefix(err.Error(), "callbacks: ReduceLROnPlateau: ") {
			t.Errorf("%+v: OnTrainBegin = %v, want an error", bad, err)
		}
	}
}

// rateRecorder records the optimizer's rate as each step ends, before a
// schedule callback listed after it sets the next one: the rate that step
// used.
func rateRecorder(m *model.Sequential, got *[]float64) *callbacks.Lambda {
	return &callbacks.Lambda{BatchEnd: func(epoch, step int, logs model.Logs) error {
		*got = append(*got, m.Optimizer().LearningRate())
		return nil
	}}
}

// TestLearningRateScheduleEveryStep checks that each update of a Fit uses
// the schedule's rate at the optimizer's step count.
func TestLearningRateScheduleEveryStep(t *testing.T) {
	x, y := toyData(100)
	m := toyModel(t)
	s := &schedules.CosineDecay{InitialLearningRate: 0.001, DecaySteps: 20, Alpha: 0.1, WarmupTarget: new(0.01), WarmupSteps: 5}
	var got []float64
	h, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 4, BatchSize: 10,
		Callbacks: []model.Callback{rateRecorder(m, &got), &callbacks.LearningRateSchedule{Schedule: s}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 40 {
		t.Fatalf("recorded %d steps, want 40", len(got))
	}
	for step, lr := range got {
		if lr != s.Rate(step) {
			t.Fatalf("step %d trained with rate %v, want Rate(%d) = %v", step, lr, step, s.Rate(step))
		}
	}
	if lr := m.Optimizer().LearningRate(); lr != s.Rate(40) {
		t.Errorf("after Fit the rate is %v, want the next step's %v", lr, s.Rate(40))
	}
	if lrs := h.Metrics["learning_rate"]; len(lrs) == 0 || lrs[0] != s.Rate(9) {
		t.Errorf("history learning_rate %v: epoch 1's should be its last step's %v", lrs, s.Rate(9))
	}
	// The rate logged for an epoch is that of its last step.
	cb := &callbacks.LearningRateSchedule{Schedule: s}
	if err := cb.OnTrainBegin(m); err != nil {
		t.Fatal(err)
	}
	logs := model.Logs{}
	cb.AddEpochLogs(3, logs)
	if logs["learning_rate"] != s.Rate(39) {
		t.Errorf("AddEpochLogs after 40 steps wrote %v, want learning_rate %v", logs, s.Rate(39))
	}
}

// TestLearningRateScheduler checks the rate of every step of a Fit with a
// relative per-epoch schedule, and that the rate is logged.
func TestLearningRateScheduler(t *testing.T) {
	x, y := toyData(60)
	m := toyModel(t)
	m.Optimizer().SetLearningRate(0.01)
	var epochs []int
	cb := callbacks.NewLearningRateScheduler(func(epoch int, lr float64) float64 {
		epochs = append(epochs, epoch)
		if epoch < 1 {
			return lr
		}
		return lr * 0.5
	})
	var got []float64
	if _, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 3, BatchSize: 20,
		Callbacks: []model.Callback{cb, rateRecorder(m, &got)}}); err != nil {
		t.Fatal(err)
	}
	want := []float64{0.01, 0.01, 0.01, 0.005, 0.005, 0.005, 0.0025, 0.0025, 0.0025}
	if len(got) != len(want) || len(epochs) != 3 {
		t.Fatalf("rates %v, schedule called for epochs %v; want %v and [0 1 2]", got, epochs, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("rates %v, want %v", got, want)
		}
	}
	logs := model.Logs{}
	cb.AddEpochLogs(2, logs)
	if logs["learning_rate"] != 0.0025 {
		t.Errorf("AddEpochLogs wrote %v, want learning_rate 0.0025", logs)
	}
	bad := callbacks.NewLearningRateScheduler(func(int, float64) float64 { return math.NaN() })
	_, err := m.Fit(context.Background(), x, y, model.FitOptions{Callbacks: []model.Callback{bad}})
	if err == nil || !strings.Contains(err.Error(), "learning rate NaN") {
		t.Errorf("a NaN rate: Fit error %v, want one naming it", err)
	}
}
