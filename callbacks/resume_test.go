package callbacks_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/callbacks"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/optimizers/schedules"
)

// cancelAt cancels the context after the given global step, as a crash
// would stop the run: no OnTrainEnd, nothing written after it.
type cancelAt struct {
	model.BaseCallback
	at, n  int
	cancel func()
}

func (c *cancelAt) OnBatchEnd(int, int, model.Logs) error {
	if c.n++; c.n == c.at {
		c.cancel()
	}
	return nil
}

// score is a scripted monitor: it improves until epoch index 1, then
// stalls, so that early stopping (patience 5) ends the run after epoch
// index 6, and the checkpoints below fall while its wait, and the plateau
// callback's, are under way.
var score = []float64{1.0, 0.8, 0.85, 0.9, 0.86, 0.87, 0.88, 0.89, 0.9, 0.91, 0.92, 0.93}

type resumeCase struct {
	name string
	// callbacks returns a fresh set writing the CSV log to csv.
	callbacks func(csv string) []model.Callback
	// check looks at the uninterrupted run, to prove the callbacks acted.
	check func(t *testing.T, h *model.History, m *model.Sequential)
}

func resumeCases() []resumeCase {
	es := func(monitor string, patience int) *callbacks.EarlyStopping {
		return &callbacks.EarlyStopping{Monitor: monitor, Patience: patience, RestoreBestWeights: true}
	}
	stoppedAfter7 := func(t *testing.T, h *model.History, m *model.Sequential) {
		if len(h.Epochs) != 7 || h.Stopped == "" {
			t.Fatalf("the uninterrupted run trained %d epochs (stopped %q), want 7 then an early stop", len(h.Epochs), h.Stopped)
		}
	}
	return []resumeCase{
		{"early-stopping+plateau", func(csv string) []model.Callback {
			return []model.Callback{script("val_score", score...), es("val_score", 5),
				&callbacks.ReduceLROnPlateau{Monitor: "val_score", Factor: 0.5, Patience: 2, MinDelta: 1e-4},
				&callbacks.CSVLogger{Path: csv}}
		}, func(t *testing.T, h *model.History, m *model.Sequential) {
			stoppedAfter7(t, h, m)
			// Reductions after epoch indices 3 and 5.
			if lr := m.Optimizer().LearningRate(); lr != 1e-3/4 {
				t.Fatalf("final rate %v, want 1e-3/4 after two reductions", lr)
			}
		}},
		{"early-stopping+cosine", func(csv string) []model.Callback {
			cos := &schedules.CosineDecay{InitialLearningRate: 1e-3, DecaySteps: 60, Alpha: 0.05, WarmupTarget: new(5e-3), WarmupSteps: 15}
			return []model.Callback{script("val_score", score...), &callbacks.LearningRateSchedule{Schedule: cos},
				es("val_score", 5), &callbacks.CSVLogger{Path: csv, Append: true, Separator: ";"}}
		}, stoppedAfter7},
		{"scheduler+val_loss", func(csv string) []model.Callback {
			return []model.Callback{
				callbacks.NewLearningRateScheduler(func(epoch int, lr float64) float64 {
					if epoch == 0 {
						return lr
					}
					return lr * 0.8
				}),
				es("val_loss", 2), &callbacks.CSVLogger{Path: csv}}
		}, nil},
	}
}

// TestResumeBitwise interrupts runs with these callbacks at several
// points, resumes each from its latest checkpoint in a fresh model with
// fresh callbacks, and checks that weights, batch-norm state, optimizer
// state, history and the CSV file end bit for bit as the uninterrupted
// run's.
func TestResumeBitwise(t *testing.T) {
	x, y := toyData(200) // 160 training samples: 10 steps of 16 per epoch
	opts := func(cbs []model.Callback) model.FitOptions {
		return model.FitOptions{Epochs: 12, BatchSize: 16, ValidationSplit: 0.2, Callbacks: cbs}
	}
	for _, tc := range resumeCases() {
		t.Run(tc.name, func(t *testing.T) {
			refCSV := filepath.Join(t.TempDir(), "ref.csv")
			ref := toyModel(t)
			hRef, err := ref.Fit(context.Background(), x, y, opts(tc.callbacks(refCSV)))
			if err != nil {
				t.Fatal(err)
			}
			if tc.check != nil {
				tc.check(t, hRef, ref)
			}
			wantCSV, err := os.ReadFile(refCSV)
			if err != nil {
				t.Fatal(err)
			}
			wantW, wantO := weightsHash(ref), optHash(ref)
			truncated := false
			for _, stop := range []struct{ every, at, ckStep int }{
				{8, 22, 16},  // checkpoint inside epoch 1; the crash comes after epoch 1's row
				{0, 45, 40},  // checkpoint at epoch 3's end
				{10, 63, 60}, // checkpoint after epoch 5's last step, before its end and its row
			} {
				t.Run(fmt.Sprintf("every-%d-crash-at-%d", stop.every, stop.at), func(t *testing.T) {
					dir := t.TempDir()
					csv := filepath.Join(dir, "log.csv")
					ctx, cancel := context.WithCancel(context.Background())
					defer cancel()
					cbs := append(tc.callbacks(csv), &model.BackupAndRestore{Dir: dir, EverySteps: stop.every, Keep: 1},
						&cancelAt{at: stop.at, cancel: cancel})
					if _, err := toyModel(t).Fit(ctx, x, y, opts(cbs)); !errors.Is(err, context.Canceled) {
						t.Fatalf("interrupted Fit: %v, want it cancelled", err)
					}
					m, ck, err := model.LatestCheckpoint(dir)
					if err != nil {
						t.Fatal(err)
					}
					if ck.GlobalStep != stop.ckStep {
						t.Fatalf("latest checkpoint at step %d, want %d", ck.GlobalStep, stop.ckStep)
					}
					if b, _ := os.ReadFile(csv); bytes.Count(b, []byte("\n"))-1 > ck.Epoch {
						truncated = true // the interrupted run logged epochs past the checkpoint
					}
					o := opts(append(tc.callbacks(csv), &model.BackupAndRestore{Dir: dir, EverySteps: stop.every, Keep: 1}))
					o.Resume = ck
					h, err := m.Fit(context.Background(), x, y, o)
					if err != nil {
						t.Fatal(err)
					}
					if got := weightsHash(m); got != wantW {
						t.Errorf("weights and batch-norm state: SHA-256 %s, uninterrupted run %s", got[:16], wantW[:16])
					}
					if got := optHash(m); got != wantO {
						t.Errorf("optimizer state and rate: SHA-256 %s, uninterrupted run %s", got[:16], wantO[:16])
					}
					if d := historyDiff(h, hRef); d != "" {
						t.Errorf("history: %s", d)
					}
					if got, _ := os.ReadFile(csv); !bytes.Equal(got, wantCSV) {
						t.Errorf("CSV log:\n%s\nuninterrupted run's:\n%s", got, wantCSV)
					}
				})
			}
			if !truncated {
				t.Error("no interrupted run wrote CSV rows past its checkpoint: the test did not exercise cutting them off")
			}
		})
	}
}

// TestResumeMisorderedCheckpoint: a model.BackupAndRestore listed before
// the callbacks saves their state before they see the epoch's end; the
// resumed Fit says so instead of continuing from the wrong state.
func TestResumeMisorderedCheckpoint(t *testing.T) {
	x, y := toyData(200)
	dir := t.TempDir()
	mk := func(extra ...model.Callback) []model.Callback {
		return append([]model.Callback{&model.BackupAndRestore{Dir: dir}, &callbacks.EarlyStopping{Monitor: "loss", Patience: 5}}, extra...)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := model.FitOptions{Epochs: 5, BatchSize: 16, ValidationSplit: 0.2, Callbacks: mk(&cancelAt{at: 25, cancel: cancel})}
	if _, err := toyModel(t).Fit(ctx, x, y, o); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted Fit: %v", err)
	}
	m, ck, err := model.LatestCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	o = model.FitOptions{Epochs: 5, BatchSize: 16, ValidationSplit: 0.2, Callbacks: mk(), Resume: ck}
	_, err = m.Fit(context.Background(), x, y, o)
	if err == nil || !strings.Contains(err.Error(), "list model.BackupAndRestore after EarlyStopping") {
		t.Errorf("resumed Fit: %v, want an error about the callbacks' order", err)
	}
}
