package model_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/model"
)

// recorder counts the calls Fit makes and stops training at a chosen point.
type recorder struct {
	stopAtStep  int   // OnBatchEnd returns stopWith at this global step
	stopWith    error // ErrStopTraining or another error
	steps, ends int
	endLogs     model.Logs
}

func (r *recorder) OnTrainBegin(*model.Sequential) error { return nil }
func (r *recorder) OnEpochBegin(int) error               { return nil }
func (r *recorder) OnEpochEnd(int, model.Logs) error     { return nil }

func (r *recorder) OnBatchEnd(_, _ int, _ model.Logs) error {
	r.steps++
	if r.steps == r.stopAtStep {
		return r.stopWith
	}
	return nil
}

func (r *recorder) OnTrainEnd(logs model.Logs) error {
	r.ends++
	r.endLogs = logs
	return nil
}

func TestOnTrainEndRunsOnCleanStop(t *testing.T) {
	x, y, _, _ := data(t, 320, 10)
	boom := errors.New("boom")
	for _, c := range []struct {
		name     string
		stopWith error
		wantErr  error
		wantEnds int
	}{
		{"runs to the end", nil, nil, 1},
		{"ErrStopTraining", model.ErrStopTraining, nil, 1},
		{"another error", boom, boom, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := compiled(t, founding(true))
			stopper := &recorder{stopAtStep: 4, stopWith: c.stopWith}
			other := &recorder{}
			h, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 2, Callbacks: []model.Callback{stopper, other}})
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("Fit error %v, want %v", err, c.wantErr)
			}
			if stopper.ends != c.wantEnds || other.ends != c.wantEnds {
				t.Errorf("OnTrainEnd called %d and %d times, want %d for each callback", stopper.ends, other.ends, c.wantEnds)
			}
			if c.wantEnds == 1 && !(other.endLogs["loss"] > 0) {
				t.Errorf("OnTrainEnd logs %v: want the running loss", other.endLogs)
			}
			if c.stopWith == model.ErrStopTraining && (h.Stopped == "" || other.steps != 4) {
				t.Errorf("stopped %q after %d steps, want a reason after 4", h.Stopped, other.steps)
			}
		})
	}
}

func TestOnTrainEndRunsWhenStoppedOnNonFinite(t *testing.T) {
	x, y, _, _ := data(t, 128, 10)
	bad := x.Clone()
	bad.SetIndex(40*784, math.NaN()) // second batch
	m := compiled(t, founding(true))
	r := &recorder{}
	h, err := m.Fit(context.Background(), bad, y, model.FitOptions{NoShuffle: true, StopOnNonFinite: true, Callbacks: []model.Callback{r}})
	if err != nil {
		t.Fatal(err)
	}
	if r.ends != 1 || r.steps != 1 {
		t.Errorf("after a non-finite second step: %d steps and %d OnTrainEnd calls, want 1 and 1", r.steps, r.ends)
	}
	var nf *model.NonFiniteError
	if h.Stopped == "" || errors.As(err, &nf) {
		t.Errorf("Stopped %q, err %v", h.Stopped, err)
	}
}

// epochStopper returns ErrStopTraining from OnEpochBegin at stopAt and
// records the epochs it was told about.
type epochStopper struct {
	recorder
	stopAt int
	began  []int
}

func (e *epochStopper) OnEpochBegin(epoch int) error {
	e.began = append(e.began, epoch)
	if epoch == e.stopAt {
		return model.ErrStopTraining
	}
	return nil
}

// TestStopAtEpochBeginTellsEveryCallback: as with the other hooks, a clean
// stop from OnEpochBegin still lets the callbacks after it see the call.
func TestStopAtEpochBeginTellsEveryCallback(t *testing.T) {
	x, y, _, _ := data(t, 320, 10)
	m := compiled(t, founding(true))
	stopper, other := &epochStopper{stopAt: 1, recorder: recorder{}}, &epochStopper{stopAt: -1}
	h, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 3, BatchSize: 32, Callbacks: []model.Callback{stopper, other}})
	if err != nil {
		t.Fatal(err)
	}
	if len(other.began) != 2 || other.began[1] != 1 {
		t.Errorf("the second callback saw OnEpochBegin for epochs %v, want [0 1]", other.began)
	}
	if len(h.Epochs) != 1 || h.Stopped == "" {
		t.Errorf("history has %d epochs, stopped %q; want 1 epoch and a stop reason", len(h.Epochs), h.Stopped)
	}
	if other.steps != 10 || stopper.ends != 1 || other.ends != 1 {
		t.Errorf("second callback saw %d batches, OnTrainEnd ran %d and %d times; want 10, 1, 1", other.steps, stopper.ends, other.ends)
	}
}

// rateLogger adds a made-up learning rate to each epoch's logs.
type rateLogger struct {
	model.BaseCallback
	seen []float64 // logs["learning_rate"] as OnEpochEnd sees it
}

func (r *rateLogger) AddEpochLogs(epoch int, logs model.Logs) {
	logs["learning_rate"] = 0.5 / float64(epoch+1)
}

func (r *rateLogger) OnEpochEnd(_ int, logs model.Logs) error {
	r.seen = append(r.seen, logs["learning_rate"])
	return nil
}

func TestEpochLoggerReachesHistoryAndProgress(t *testing.T) {
	x, y, _, _ := data(t, 320, 10)
	m := compiled(t, founding(true))
	r := &rateLogger{}
	var out strings.Builder
	h, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 2, Verbose: 2, Output: &out, Callbacks: []model.Callback{r}})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{0.5, 0.25}
	if got := h.Metrics["learning_rate"]; !slices.Equal(got, want) {
		t.Errorf("History learning_rate %v, want %v", got, want)
	}
	if !slices.Equal(r.seen, want) {
		t.Errorf("OnEpochEnd saw learning_rate %v, want %v", r.seen, want)
	}
	if !strings.Contains(out.String(), " - learning_rate: 0.5000\n") || !strings.Contains(out.String(), " - learning_rate: 0.2500\n") {
		t.Errorf("progress lines lack the learning rate:\n%s", out.String())
	}
}
