package model_test

import (
	"strings"
	"testing"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
)

// TestCompileFrom checks that CompileFrom sets the learning rate it is
// given, that 0 means the optimizer's default, and that CompileNames and
// the names it rejects behave as before.
func TestCompileFrom(t *testing.T) {
	for _, c := range []struct {
		cfg    model.CompileConfig
		wantLR float64
	}{
		{model.CompileConfig{Optimizer: "adam", LearningRate: 0.01, Loss: "categorical_crossentropy", Metrics: []string{"accuracy"}}, 0.01},
		{model.CompileConfig{Optimizer: "adam", Loss: "categorical_crossentropy"}, 0.001},
		{model.CompileConfig{Optimizer: "sgd", LearningRate: 0.5, Loss: "mse"}, 0.5},
	} {
		m := founding(false)
		if err := m.CompileFrom(c.cfg); err != nil {
			t.Fatalf("CompileFrom(%+v): %v", c.cfg, err)
		}
		if got := m.Optimizer().LearningRate(); got != c.wantLR {
			t.Errorf("CompileFrom(%+v): learning rate %g, want %g", c.cfg, got, c.wantLR)
		}
		if got := m.Optimizer().Name(); got != c.cfg.Optimizer {
			t.Errorf("CompileFrom(%+v): optimizer %q, want %q", c.cfg, got, c.cfg.Optimizer)
		}
	}
	m := founding(false)
	if err := m.CompileNames("adam", "categorical_crossentropy", "accuracy"); err != nil || m.Optimizer().LearningRate() != 0.001 {
		t.Fatalf("CompileNames: error %v, learning rate %g; want none and Adam's default 0.001", err, m.Optimizer().LearningRate())
	}
	for _, c := range []struct {
		cfg  model.CompileConfig
		want string
	}{
		{model.CompileConfig{Optimizer: "adamw9", Loss: "mse"}, "adamw9"},
		{model.CompileConfig{Optimizer: "adam", Loss: "hinge9"}, "hinge9"},
		{model.CompileConfig{Optimizer: "adam", Loss: "mse", Metrics: []string{"accuracy", "accuracy"}}, `metric name "accuracy" used twice`},
	} {
		if err := founding(false).CompileFrom(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("CompileFrom(%+v): got error %v, want one containing %q", c.cfg, err, c.want)
		}
	}
}

// TestCompileLRSchedule checks that the compile configuration's
// lr_schedule survives Architecture and FromArchitecture, that Compile
// clears it, and that an unknown one is refused.
func TestCompileLRSchedule(t *testing.T) {
	m := model.NewSequential(layers.NewDense(2, nn.ActSoftmax))
	if err := m.CompileFrom(model.CompileConfig{Optimizer: "adam", LearningRate: 0.002, Loss: "categorical_crossentropy", LRSchedule: "cosine"}); err != nil {
		t.Fatal(err)
	}
	if err := m.Build(3); err != nil {
		t.Fatal(err)
	}
	b, err := m.Architecture()
	if err != nil {
		t.Fatal(err)
	}
	m2, err := model.FromArchitecture(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := m2.LRSchedule(); got != "cosine" {
		t.Errorf("after Architecture and FromArchitecture: LRSchedule %q, want cosine", got)
	}
	if err := m2.CompileNames("adam", "categorical_crossentropy"); err != nil {
		t.Fatal(err)
	}
	if got := m2.LRSchedule(); got != "" {
		t.Errorf("after Compile: LRSchedule %q, want none", got)
	}
	err = m.CompileFrom(model.CompileConfig{Optimizer: "adam", Loss: "categorical_crossentropy", LRSchedule: "linear"})
	if err == nil || !strings.Contains(err.Error(), `lr_schedule "linear"`) {
		t.Errorf("lr_schedule linear: got error %v, want one naming it", err)
	}
}
