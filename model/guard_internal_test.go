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

// TestEpochSnapshotAllocatesNothing checks that the copy Fit takes at each
// epoch's start reuses its buffers: after the first epoch it allocates
// nothing, and a second Fit of the same model makes no new buffers.
func TestEpochSnapshotAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	train, _, err := mnist.Load()
	if err != nil {
		t.Fatal(err)
	}
	train = train.Slice(0, 64)
	x := floatX(t, train)
	y := tensor.FromFloat32(train.OneHot(), train.N, 10)
	m := NewSequential(layers.NewDense(64, nn.ActReLU), layers.NewBatchNormalization(), layers.NewDense(10, nn.ActSoftmax))
	if err := m.Compile(optimizers.NewAdam(), losses.CategoricalCrossentropy{}, metrics.NewAccuracy()); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Fit(context.Background(), x, y, FitOptions{Epochs: 1, BatchSize: 16}); err != nil {
		t.Fatal(err)
	}
	s := &m.fit.snap
	// 8 weights (kernel and bias of each Dense; batch norm's gamma, beta
	// and 2 moving statistics) and Adam's 2 slots for each of the 6
	// trainable ones.
	if len(s.live) != 20 || len(s.saved) != 20 {
		t.Fatalf("the snapshot covers %d tensors in %d buffers, want 20 and 20", len(s.live), len(s.saved))
	}
	before := append([]*tensor.Tensor(nil), s.saved...)
	if a := testing.AllocsPerRun(20, func() { s.take(m, 0, nil) }); a != 0 {
		t.Errorf("taking the snapshot allocates %v times, want 0", a)
	}
	if _, err := m.Fit(context.Background(), x, y, FitOptions{Epochs: 1, BatchSize: 16}); err != nil {
		t.Fatal(err)
	}
	for i, b := range before {
		if s.saved[i] != b {
			t.Errorf("buffer %d was made again by the second Fit, want it reused", i)
		}
	}
}
