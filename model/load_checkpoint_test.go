package model_test

import (
	"context"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/safetensors"
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

// TestCheckpointFromFileRejects checks the checkpoint loader's own
// guards: a nil file, a weight of the wrong dtype, an architecture that
// needs far more values than the file holds.
func TestCheckpointFromFileRejects(t *testing.T) {
	if _, _, err := model.CheckpointFromFile(nil, "nil.ckpt"); err == nil || !strings.Contains(err.Error(), "nil") {
		t.Errorf("nil file: got %v", err)
	}
	x, y, _, _ := data(t, 64, 10)
	m := compiled(t, founding(false))
	if _, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 1}); err != nil {
		t.Fatal(err)
	}
	good, err := m.CheckpointFile(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := model.CheckpointFromFile(good, "good.ckpt"); err != nil {
		t.Fatalf("the unedited checkpoint: %v", err)
	}

	f := *good
	f.Tensors = slices.Clone(good.Tensors)
	for i, tt := range f.Tensors {
		if tt.Name == "dense/bias" {
			v, _ := tt.Float32s()
			w := make([]float64, len(v))
			for j := range v {
				w[j] = float64(v[j])
			}
			f.Tensors[i] = safetensors.F64(tt.Name, tt.Shape, w)
		}
	}
	if _, _, err := model.CheckpointFromFile(&f, "f64.ckpt"); err == nil || !strings.Contains(err.Error(), "dense/bias: dtype F64") {
		t.Errorf("an F64 bias in a float32 model: got %v", err)
	}

	big := *good
	big.Metadata = maps.Clone(good.Metadata)
	big.Metadata["architecture"] = strings.Replace(good.Metadata["architecture"], `"units": 64`, `"units": 6400000`, 1)
	if _, _, err := model.CheckpointFromFile(&big, "big.ckpt"); err == nil || !strings.Contains(err.Error(), "weight values") {
		t.Errorf("an architecture far larger than the file: got %v", err)
	}
}
