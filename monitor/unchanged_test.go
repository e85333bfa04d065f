package monitor

import (
	"context"
	"math"
	"reflect"
	"testing"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/optimizers"
)

// TestMonitorsLeaveTrainingUnchanged trains the same model with and
// without every monitor sampling at every step: weights, moving statistics
// and history must be bit-identical (the monitors' training-mode passes
// must neither commit batch statistics nor draw dropout masks).
func TestMonitorsLeaveTrainingUnchanged(t *testing.T) {
	x, y := blobs(90, 5, 3, 14)
	held, _ := blobs(20, 5, 3, 15)
	run := func(monitored bool) (*model.Sequential, *model.History) {
		m := compiled(t, 5, optimizers.NewAdam(), layers.NewDense(8, nn.ActReLU), layers.NewBatchNormalization(), layers.NewDropout(0.3),
			layers.NewDense(6, nn.ActSigmoid), layers.NewBatchNormalization(), layers.NewDense(3, nn.ActSoftmax))
		var cbs []model.Callback
		if monitored {
			cbs = []model.Callback{&Health{Every: 1}, &Percentiles{X: held, Layer: 3, PreActivation: true, Every: 1},
				&BatchNorm{X: held, Every: 1}, &Curves{Every: 1}, &Percentiles{X: held, Layer: 4, Inference: true, Every: 1}}
		}
		h, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 2, BatchSize: 16, Callbacks: cbs})
		if err != nil {
			t.Fatal(err)
		}
		return m, h
	}
	a, ha := run(false)
	b, hb := run(true)
	if !reflect.DeepEqual(ha, hb) {
		t.Errorf("history with monitors %v, without %v", hb.Metrics, ha.Metrics)
	}
	for i, l := range a.Layers {
		wb := b.Layers[i].Weights()
		for k, w := range l.Weights() {
			for j := range w.Value.Len() {
				if u, v := w.Value.Index(j), wb[k].Value.Index(j); math.Float64bits(u) != math.Float64bits(v) {
					t.Fatalf("layer %s %s[%d]: %g with monitors, %g without", l.Name(), w.Name, j, v, u)
				}
			}
		}
	}
}
