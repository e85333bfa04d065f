package monitor

import (
	"context"
	"math"
	"reflect"
	"slices"
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

// TestStepsAcrossFits checks that steps keep counting across Fit calls
// with the same callbacks (Step 0 recorded once), that Health's update
// ratio at the first sample of a later Fit is measured against the weights
// the previous Fit left, and that Reset starts over.
func TestStepsAcrossFits(t *testing.T) {
	x, y := blobs(48, 5, 3, 16)
	held, _ := blobs(10, 5, 3, 17)
	m := compiled(t, 5, optimizers.NewAdam(), layers.NewDense(4, nn.ActTanh), layers.NewDense(3, nn.ActSoftmax))
	p := &Percentiles{X: held, Layer: 0, Units: []int{1}, Every: 2}
	h := &Health{Every: 4}
	c := &checker{h: h, t: t}
	fit := func() {
		t.Helper()
		// 3 steps per Fit.
		if _, err := m.Fit(context.Background(), x, y, model.FitOptions{BatchSize: 16, Callbacks: []model.Callback{p, h, c}}); err != nil {
			t.Fatal(err)
		}
	}
	fit()
	fit()
	var steps []int
	for _, r := range p.Records {
		steps = append(steps, r.Step)
	}
	if want := []int{0, 2, 4, 6}; !slices.Equal(steps, want) {
		t.Errorf("Percentiles steps %v, want %v", steps, want)
	}
	// Health sampled step 4, the first step of the second Fit; checker
	// compared its update ratio with its own copy of step 3's weights.
	if len(h.Records) != 2 || h.Records[0].Step != 4 || c.seen != 2 {
		t.Errorf("Health records %+v (checked %d), want two at step 4", h.Records, c.seen)
	}
	p.Reset()
	fit()
	if len(p.Records) != 2 || p.Records[0].Step != 0 || p.Records[1].Step != 2 {
		t.Errorf("after Reset: %+v, want steps 0 and 2", p.Records)
	}
}
