package model

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/metrics"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/tensor"
)

// TestDepthwiseTrainStepAllocatesNothing checks that a warm training step
// through DepthwiseConv2D (with and without a bias, strided and not), and
// a warm PredictInto, allocate nothing, as the Conv2D model's do.
func TestDepthwiseTrainStepAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	dw := layers.NewDepthwiseConv2D(layers.Size2{3, 3}, nn.Linear)
	dw.DepthMultiplier, dw.Padding = 2, nn.Same
	dw2 := layers.NewDepthwiseConv2D(layers.Size2{2, 2}, nn.ActReLU)
	dw2.Strides, dw2.UseBias = layers.Size2{2, 2}, false
	m := NewSequential(
		layers.NewReshape(8, 8, 2),
		dw, layers.NewBatchNormalization(), layers.NewActivation(nn.ActReLU),
		dw2,
		layers.NewGlobalAveragePooling2D(),
		layers.NewDense(3, nn.ActSoftmax))
	if err := m.Compile(optimizers.NewAdam(), losses.CategoricalCrossentropy{}, metrics.NewAccuracy()); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	x, y := tensor.New(tensor.Float32, 128, 128), tensor.New(tensor.Float32, 128, 3)
	for i := range x.Len() {
		x.SetIndex(i, rng.NormFloat64())
	}
	for i := range 128 {
		y.Set(1, i, i%3)
	}
	if _, err := m.Fit(context.Background(), x, y, FitOptions{Epochs: 1, BatchSize: 32}); err != nil {
		t.Fatal(err)
	}
	if a := stepAllocs(t, m, x, y, 10); a != 0 {
		t.Errorf("a DepthwiseConv2D training step allocates %v times, want 0", a)
	}
	for _, n := range []int{1, 50} {
		xs, dst := x.Rows(0, n), tensor.New(tensor.Float32, n, 3)
		if err := m.PredictInto(dst, xs); err != nil {
			t.Fatal(err)
		}
		if a := testing.AllocsPerRun(20, func() { m.PredictInto(dst, xs) }); a != 0 {
			t.Errorf("PredictInto of %d samples: %v allocations per call, want 0", n, a)
		}
	}
}
