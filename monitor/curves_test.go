package monitor

import (
	"context"
	"slices"
	"testing"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/optimizers"
)

// logTap keeps a copy of every step's logs, to compare with Curves.
type logTap struct {
	model.BaseCallback
	logs []map[string]float64
}

func (l *logTap) OnBatchEnd(_, _ int, logs model.Logs) error {
	c := map[string]float64{}
	for k, v := range logs {
		c[k] = v
	}
	l.logs = append(l.logs, c)
	return nil
}

func TestCurves(t *testing.T) {
	x, y := blobs(60, 5, 3, 12)
	vx, vy := blobs(20, 5, 3, 13)
	m := compiled(t, 5, optimizers.NewAdam(), layers.NewDense(4, nn.ActReLU), layers.NewDense(3, nn.ActSoftmax))
	c := &Curves{Every: 2}
	tap := &logTap{}
	hist, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 2, BatchSize: 20, ValidationX: vx, ValidationY: vy,
		Callbacks: []model.Callback{c, tap}})
	if err != nil {
		t.Fatal(err)
	}
	// 3 steps per epoch: batch points at global steps 2, 4, 6; epoch ends at 3 and 6.
	var got []int
	for _, p := range c.Points {
		got = append(got, p.Step)
		if p.EpochEnd {
			got = append(got, -p.Epoch)
		}
	}
	if want := []int{2, 3, -1, 4, 6, 6, -2}; !slices.Equal(got, want) {
		t.Fatalf("points (step, -epoch at epoch ends) %v, want %v", got, want)
	}
	steps, loss := c.Series("loss", false)
	if !slices.Equal(steps, []int{2, 4, 6}) {
		t.Errorf("loss steps %v, want [2 4 6]", steps)
	}
	for i, s := range steps {
		if loss[i] != tap.logs[s-1]["loss"] {
			t.Errorf("loss at step %d: %g, want %g", s, loss[i], tap.logs[s-1]["loss"])
		}
	}
	_, val := c.Series("val_accuracy", true)
	if !slices.Equal(val, hist.Metrics["val_accuracy"]) {
		t.Errorf("val_accuracy %v, want History's %v", val, hist.Metrics["val_accuracy"])
	}
	// The points are copies: later steps did not overwrite them.
	if c.Points[0].Logs["loss"] != tap.logs[1]["loss"] {
		t.Errorf("point at step 2 holds loss %g, want %g", c.Points[0].Logs["loss"], tap.logs[1]["loss"])
	}
}
