package model_test

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/metrics"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/optimizers"
)

// infAt is an Adam whose update at step `at` (1-based) writes +Inf into
// the first element of parameter `param`: an optimizer that breaks a
// weight although every gradient was finite.
type infAt struct {
	*optimizers.Adam
	at, param int
}

func (o *infAt) Step(ps []*autodiff.Var) error {
	if err := o.Adam.Step(ps); err != nil {
		return err
	}
	if o.Iterations() == o.at {
		ps[o.param].Value.SetIndex(0, math.Inf(1))
	}
	return nil
}

// TestFitStopsOnNonFiniteWeight drives a weight to infinity through the
// optimizer and checks that Fit stops with a *NonFiniteError naming the
// layer and "weight", with the step not applied (weights, optimizer slots
// and step count as after the step before), and that the model still
// saves and loads; and that Save refuses a model holding an infinity.
func TestFitStopsOnNonFiniteWeight(t *testing.T) {
	x, y, _, _ := data(t, 64, 1)
	// Parameters in order: dense/kernel, dense/bias, batch_normalization
	// gamma and beta, dense_1/kernel (index 4), ...
	m := founding(true)
	opt := &infAt{Adam: optimizers.NewAdam(), at: 3, param: 4}
	if err := m.Compile(opt, losses.CategoricalCrossentropy{}, metrics.NewAccuracy()); err != nil {
		t.Fatal(err)
	}
	// The state after 2 steps, from a twin run stopped there.
	ref := founding(true)
	if err := ref.Compile(optimizers.NewAdam(), losses.CategoricalCrossentropy{}, metrics.NewAccuracy()); err != nil {
		t.Fatal(err)
	}
	if _, err := ref.Fit(context.Background(), x, y, model.FitOptions{BatchSize: 16, Callbacks: []model.Callback{&stopAfter{n: 2}}}); err != nil {
		t.Fatal(err)
	}
	wantW, wantO := ckStateHash(ref)

	_, err := m.Fit(context.Background(), x, y, model.FitOptions{BatchSize: 16})
	var nf *model.NonFiniteError
	if !errors.As(err, &nf) || nf.What != "weight" || nf.Layer != "dense_1" || nf.Epoch != 1 || nf.Step != 3 {
		t.Fatalf("got %v, want a *NonFiniteError for a weight of layer dense_1 at epoch 1 step 3", err)
	}
	if !strings.Contains(err.Error(), `non-finite weight at epoch 1 step 3, first in layer "dense_1"; the step was not applied`) {
		t.Errorf("message %q does not say what, where, and that the step was not applied", err)
	}
	if got := m.Optimizer().Iterations(); got != 2 {
		t.Errorf("optimizer iterations after the dropped step: got %d, want 2", got)
	}
	if w, o := ckStateHash(m); w != wantW || o != wantO {
		t.Errorf("state after the dropped step differs from the state after step 2 (weights equal: %v, optimizer equal: %v)", w == wantW, o == wantO)
	}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := m.Save(path); err != nil {
		t.Fatalf("Save after the dropped step: %v", err)
	}
	if _, err := model.Load(path); err != nil {
		t.Fatalf("Load of what Save wrote: %v", err)
	}

	// StopOnNonFinite ends the run without an error, saying why.
	m2 := founding(true)
	if err := m2.Compile(&infAt{Adam: optimizers.NewAdam(), at: 2, param: 0}, losses.CategoricalCrossentropy{}); err != nil {
		t.Fatal(err)
	}
	h, err := m2.Fit(context.Background(), x, y, model.FitOptions{BatchSize: 16, StopOnNonFinite: true})
	if err != nil || !strings.Contains(h.Stopped, `non-finite weight at epoch 1 step 2, first in layer "dense"`) {
		t.Fatalf("StopOnNonFinite: got error %v, Stopped %q; want no error and a Stopped naming the weight of layer dense", err, h.Stopped)
	}

	// Save refuses a model that holds an infinity, naming the weight.
	m2.Layers[2].Weights()[1].Value.SetIndex(3, math.NaN())
	bad := filepath.Join(t.TempDir(), "bad.safetensors")
	err = m2.Save(bad)
	if err == nil || !strings.Contains(err.Error(), "dense_1/bias holds NaN or infinity at element 3; not saving it") {
		t.Fatalf("Save of a model holding NaN: got %v, want an error naming dense_1/bias element 3", err)
	}
	if _, err := model.Load(bad); err == nil {
		t.Fatal("Save refused, yet a file was written")
	}
}
