package model

import (
	"context"
	"testing"

	"github.com/myelin-go/myelin/data/mnist"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/metrics"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/tensor"
)

// TestWeightedTrainStepAllocatesNothing is TestTrainStepAllocatesNothing
// with sample or class weights, for the fused softmax cross-entropy and
// for the clipped one on probabilities and for an elementwise loss, checking first that the steps do
// use the weights.
func TestWeightedTrainStepAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	train, _, err := mnist.Load()
	if err != nil {
		t.Fatal(err)
	}
	train = train.Slice(0, 256)
	x := floatX(t, train)
	y := tensor.FromFloat32(train.OneHot(), train.N, 10)
	sw := tensor.New(tensor.Float64, train.N) // float64: converted once, by Fit
	for i := range train.N {
		sw.SetIndex(i, float64(i%5)/2)
	}
	for name, c := range map[string]struct {
		loss losses.Loss
		opt  FitOptions
	}{
		"fused/sample":   {losses.CategoricalCrossentropy{}, FitOptions{SampleWeight: sw}},
		"fused/class":    {losses.CategoricalCrossentropy{}, FitOptions{ClassWeight: map[int]float64{0: 0, 3: 2}}},
		"clipped/sample": {losses.CategoricalCrossentropy{KerasClip: true}, FitOptions{SampleWeight: sw}},
		"mse/sample":     {losses.MeanSquaredError{}, FitOptions{SampleWeight: sw}},
	} {
		m := NewSequential(layers.NewDense(64, nn.ActReLU), layers.NewBatchNormalization(),
			layers.NewDense(64, nn.ActReLU), layers.NewBatchNormalization(), layers.NewDense(10, nn.ActSoftmax))
		if err := m.Compile(optimizers.NewAdam(), c.loss, metrics.NewAccuracy()); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Fit(context.Background(), x, y, c.opt); err != nil {
			t.Fatal(err)
		}
		idx := make([]int, 32)
		for i := range idx {
			idx[i] = i * 3
		}
		xb, yb := m.batch(x, y, idx)
		if m.fit.wv == nil || m.fit.wv.Len() != len(idx) {
			t.Fatalf("%s: the batch carries no weights", name)
		}
		step := 0
		allocs := testing.AllocsPerRun(50, func() {
			xb, yb = m.batch(x, y, idx)
			step++
			if _, err := m.trainStep(xb, yb, 1, step); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: a weighted training step allocates %v times, want 0", name, allocs)
		}
	}
}
