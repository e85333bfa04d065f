package model_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/myelin-go/myelin/model"
)

// TestLoadReadsCheckpoints checks that Load accepts a checkpoint file and
// gives the model it holds: the same predictions as the model that wrote
// it and as LoadCheckpoint's.
func TestLoadReadsCheckpoints(t *testing.T) {
	x, y, tx, _ := data(t, 256, 50)
	m := compiled(t, founding(true))
	if _, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 1}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ckpt.safetensors")
	if err := m.SaveCheckpoint(path, nil); err != nil {
		t.Fatal(err)
	}
	loaded, err := model.Load(path)
	if err != nil {
		t.Fatalf("Load(checkpoint): %v", err)
	}
	fromCkpt, _, err := model.LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := m.Predict(context.Background(), tx, model.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for name, mm := range map[string]*model.Sequential{"Load": loaded, "LoadCheckpoint": fromCkpt} {
		got, err := mm.Predict(context.Background(), tx, model.EvalOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for i := range want.Len() {
			if got.Index(i) != want.Index(i) {
				t.Fatalf("%s: prediction %d = %g, want %g", name, i, got.Index(i), want.Index(i))
			}
		}
	}
	if loaded.Optimizer() == nil || loaded.Loss() == nil {
		t.Error("the model loaded from a checkpoint is not compiled")
	}
}
