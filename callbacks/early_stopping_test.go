package callbacks_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/callbacks"
	"github.com/myelin-go/myelin/model"
)

// TestEarlyStoppingDecisions feeds scripted values to OnEpochEnd and
// checks the epoch it stops after, worked by hand from Keras 3's rules.
func TestEarlyStoppingDecisions(t *testing.T) {
	for _, c := range []struct {
		name     string
		es       callbacks.EarlyStopping
		vals     []float64
		stop     int // 0-based epoch whose end returns ErrStopTraining, -1 for none
		bestEpch int
	}{
		{"patience 2", callbacks.EarlyStopping{Patience: 2}, []float64{1, 0.9, 0.95, 0.96, 0.97}, 3, 1},
		{"patience 0", callbacks.EarlyStopping{}, []float64{1, 0.9, 0.95, 0.5}, 2, 1},
		{"never worse", callbacks.EarlyStopping{Patience: 1}, []float64{3, 2, 1, 0.5}, -1, 3},
		{"not after the first epoch", callbacks.EarlyStopping{}, []float64{math.NaN(), 1, math.NaN()}, 2, 1},
		{"min delta", callbacks.EarlyStopping{Patience: 1, MinDelta: 0.05}, []float64{1, 0.96, 0.93, 0.9}, 1, 0},
		{"min delta sign ignored", callbacks.EarlyStopping{Patience: 1, MinDelta: -0.05}, []float64{1, 0.96, 0.93, 0.9}, 1, 0},
		{"auto max for accuracy", callbacks.EarlyStopping{Monitor: "val_accuracy", Patience: 2}, []float64{0.5, 0.6, 0.55, 0.58, 0.7}, 3, 1},
		{"auto max for auc", callbacks.EarlyStopping{Monitor: "auc", Patience: 1}, []float64{0.5, 0.6, 0.55}, 2, 1},
		{"mode max", callbacks.EarlyStopping{Monitor: "val_loss", Mode: "max", Patience: 1}, []float64{1, 2, 1.5}, 2, 1},
		{"mode min for accuracy", callbacks.EarlyStopping{Monitor: "accuracy", Mode: "min", Patience: 1}, []float64{0.5, 0.6}, 1, 0},
		// A baseline not yet beaten keeps the wait growing through improvements.
		{"baseline unmet", callbacks.EarlyStopping{Patience: 2, Baseline: new(0.5)}, []float64{0.9, 0.8, 0.85}, 2, 1},
		{"baseline met", callbacks.EarlyStopping{Patience: 2, Baseline: new(0.5)}, []float64{0.9, 0.4, 0.45, 0.46}, 3, 1},
		{"without baseline", callbacks.EarlyStopping{Patience: 2}, []float64{0.9, 0.8, 0.85, 0.7}, -1, 3},
		{"start from epoch", callbacks.EarlyStopping{Patience: 1, StartFromEpoch: 2}, []float64{1, 2, 3, 4, 5}, 3, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			es := c.es
			if err := es.OnTrainBegin(nil); err != nil {
				t.Fatal(err)
			}
			key := es.Monitor
			if key == "" {
				key = "val_loss"
			}
			stop := -1
			for e, v := range c.vals {
				err := es.OnEpochEnd(e, model.Logs{key: v, "loss": 7})
				if errors.Is(err, model.ErrStopTraining) {
					stop = e
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if stop != c.stop || es.BestEpoch != c.bestEpch || stop >= 0 && es.StoppedEpoch != stop {
				t.Errorf("values %v: stopped after epoch %d (StoppedEpoch %d), best epoch %d; want stop %d, best %d",
					c.vals, stop, es.StoppedEpoch, es.BestEpoch, c.stop, c.bestEpch)
			}
		})
	}
}

func TestEarlyStoppingErrors(t *testing.T) {
	es := &callbacks.EarlyStopping{}
	if err := es.OnTrainBegin(nil); err != nil {
		t.Fatal(err)
	}
	err := es.OnEpochEnd(0, model.Logs{"loss": 1, "accuracy": 0.5})
	if err == nil || !strings.Contains(err.Error(), `"val_loss" is not in the logs (they hold accuracy, loss)`) {
		t.Errorf("missing monitor: got %v, want an error listing the keys", err)
	}
	for _, bad := range []callbacks.EarlyStopping{{Mode: "up"}, {Patience: -1}, {RestoreBestWeights: true}} {
		if err := bad.OnTrainBegin(nil); err == nil || !strings.HasPrefix(err.Error(), "callbacks: EarlyStopping: ") {
			t.Errorf("%+v: OnTrainBegin = %v, want an error", bad, err)
		}
	}
}

// fitScripted trains toyModel for epochs with val_loss replaced by vals,
// recording the weights at each epoch's end, and returns the history, the
// recorded hashes and the model.
func fitScripted(t *testing.T, es *callbacks.EarlyStopping, epochs int, vals ...float64) (*model.History, []string, *model.Sequential) {
	t.Helper()
	x, y := toyData(120)
	m := toyModel(t)
	var seen []string
	rec := &callbacks.Lambda{EpochEnd: func(epoch int, logs model.Logs) error {
		seen = append(seen, weightsHash(m))
		return nil
	}}
	h, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: epochs, BatchSize: 16, ValidationSplit: 0.2,
		Callbacks: []model.Callback{script("val_loss", vals...), rec, es}})
	if err != nil {
		t.Fatal(err)
	}
	return h, seen, m
}

// TestEarlyStoppingRestoresBestWeights checks, on a model with batch
// normalization, that the run stops after the exact epoch and ends with
// the best epoch's weights and moving statistics, bit for bit.
func TestEarlyStoppingRestoresBestWeights(t *testing.T) {
	es := &callbacks.EarlyStopping{Patience: 2, RestoreBestWeights: true}
	h, seen, m := fitScripted(t, es, 10, 1.0, 0.8, 0.5, 0.6, 0.55, 0.4)
	if len(h.Epochs) != 5 || es.StoppedEpoch != 4 || h.Stopped == "" {
		t.Fatalf("ran %d epochs, StoppedEpoch %d, Stopped %q; want 5 epochs, stopped after epoch index 4", len(h.Epochs), es.StoppedEpoch, h.Stopped)
	}
	if got := weightsHash(m); got != seen[2] {
		t.Errorf("final weights %s; want those of the best epoch (index 2) %s (last epoch's: %s)", got[:12], seen[2][:12], seen[4][:12])
	}
	if seen[2] == seen[4] {
		t.Fatal("the best and last epochs have the same weights: the test cannot tell a restore")
	}
}

// TestEarlyStoppingRestoresWithoutStopping: Keras 3 restores the best
// weights at the end of training even when it ran every epoch.
func TestEarlyStoppingRestoresWithoutStopping(t *testing.T) {
	es := &callbacks.EarlyStopping{Patience: 5, RestoreBestWeights: true}
	h, seen, m := fitScripted(t, es, 4, 1.0, 0.5, 0.7, 0.8)
	if len(h.Epochs) != 4 || h.Stopped != "" {
		t.Fatalf("ran %d epochs, stopped %q; want all 4", len(h.Epochs), h.Stopped)
	}
	if got := weightsHash(m); got != seen[1] || got == seen[3] {
		t.Errorf("final weights %s; want the best epoch's (index 1) %s, not the last's %s", got[:12], seen[1][:12], seen[3][:12])
	}
	// Without RestoreBestWeights the last weights stay.
	es = &callbacks.EarlyStopping{Patience: 5}
	_, seen, m = fitScripted(t, es, 4, 1.0, 0.5, 0.7, 0.8)
	if got := weightsHash(m); got != seen[3] {
		t.Errorf("without RestoreBestWeights: final weights %s, want the last epoch's %s", got[:12], seen[3][:12])
	}
}

// TestMonitorSkipsEpochsWithoutValidation: with ValidationFreq 2, the
// epochs that do not validate are skipped (Keras warns and skips), while a
// monitor that no epoch could have is still an error.
func TestMonitorSkipsEpochsWithoutValidation(t *testing.T) {
	x, y := toyData(64)
	es := &callbacks.EarlyStopping{Patience: 1}
	plateau := callbacks.NewReduceLROnPlateau()
	m := toyModel(t)
	h, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 4, BatchSize: 16, ValidationSplit: 0.25, ValidationFreq: 2,
		Callbacks: []model.Callback{es, plateau}})
	if err != nil {
		t.Fatalf("Fit with ValidationFreq 2: %v", err)
	}
	if got := len(h.Metrics["val_loss"]); got != 2 {
		t.Fatalf("val_loss recorded %d times, want 2 (epochs 2 and 4)", got)
	}
	es = &callbacks.EarlyStopping{Monitor: "val_los"}
	m = toyModel(t)
	_, err = m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 2, BatchSize: 16, ValidationSplit: 0.25, Callbacks: []model.Callback{es}})
	if err == nil || !strings.Contains(err.Error(), `monitor "val_los" is not in the logs`) {
		t.Fatalf("a misspelt monitor: error %v, want one naming it", err)
	}
}
