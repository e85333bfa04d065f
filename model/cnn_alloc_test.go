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

// TestCNNTrainStepAllocatesNothing checks that a training step of the
// examples/cnn.json model — reshape, convolutions, spatial batch norm,
// pooling, Adam — allocates nothing once warm, as the dense model's does.
func TestCNNTrainStepAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	train, _, err := mnist.Load()
	if err != nil {
		t.Fatal(err)
	}
	train = train.Slice(0, 128)
	x := floatX(t, train)
	y := tensor.FromFloat32(train.OneHot(), train.N, 10)
	m := exampleCNN(t)
	if _, err := m.Fit(context.Background(), x, y, FitOptions{Epochs: 1, BatchSize: 32}); err != nil {
		t.Fatal(err)
	}
	allocs := stepAllocs(t, m, x, y, 10)
	if allocs != 0 {
		t.Fatalf("a CNN training step allocates %v times, want 0", allocs)
	}
}

// TestCNNPredictIntoAllocatesNothing checks the CNN's serving path: a warm
// PredictInto, one sample or a batch, allocates nothing.
func TestCNNPredictIntoAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	m := NewSequential(
		layers.NewReshape(28, 28, 1),
		layers.NewConv2D(8, layers.Size2{3, 3}, nn.ActReLU), layers.NewBatchNormalization(),
		layers.NewAveragePooling2D(layers.Size2{2, 2}),
		layers.NewConv2D(8, layers.Size2{3, 3}, nn.ActReLU), layers.NewMaxPooling2D(layers.Size2{2, 2}),
		layers.NewGlobalAveragePooling2D(),
		layers.NewDense(10, nn.ActSoftmax))
	if err := m.Build(784); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 50} {
		x, dst := tensor.New(tensor.Float32, n, 784), tensor.New(tensor.Float32, n, 10)
		if err := m.PredictInto(dst, x); err != nil {
			t.Fatal(err)
		}
		if a := testing.AllocsPerRun(20, func() { m.PredictInto(dst, x) }); a != 0 {
			t.Errorf("PredictInto of %d samples: %v allocations per call, want 0", n, a)
		}
	}
}

// exampleCNN is the model of examples/cnn.json, compiled as it says, built
// in Go for the package's own tests and benchmarks.
func exampleCNN(t testing.TB) *Sequential {
	m := NewSequential(
		layers.NewReshape(28, 28, 1),
		layers.NewConv2D(32, layers.Size2{3, 3}, nn.Linear), layers.NewBatchNormalization(), layers.NewActivation(nn.ActReLU),
		layers.NewMaxPooling2D(layers.Size2{2, 2}),
		layers.NewConv2D(64, layers.Size2{3, 3}, nn.Linear), layers.NewBatchNormalization(), layers.NewActivation(nn.ActReLU),
		layers.NewMaxPooling2D(layers.Size2{2, 2}),
		layers.NewFlatten(),
		layers.NewDense(10, nn.ActSoftmax))
	adam := optimizers.NewAdam()
	adam.LR = 0.002 // the file's cosine decay is a callback of myelin train
	if err := m.Compile(adam, losses.CategoricalCrossentropy{}, metrics.NewAccuracy()); err != nil {
		t.Fatal(err)
	}
	return m
}
