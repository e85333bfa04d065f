package model

import (
	"context"
	"runtime"
	"testing"

	"github.com/myelin-go/myelin/data/mnist"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/metrics"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/tensor"
)

// TestSplitPreGatherSameBits: on the input split the last member gathers
// the next batch's blocks ahead (preGather); a run that uses them ends
// bit for bit as one that gathers every batch afresh, on float32 and
// uint8 inputs, with shuffling and a shorter last batch, on one thread
// and on two.
func TestSplitPreGatherSameBits(t *testing.T) {
	train, _, err := mnist.Load()
	if err != nil {
		t.Fatal(err)
	}
	train = train.Slice(0, 300)
	x32 := floatX(t, train)
	x8, err := train.X()
	if err != nil {
		t.Fatal(err)
	}
	y := tensor.FromFloat32(train.OneHot(), train.N, 10)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 2} {
		runtime.GOMAXPROCS(procs)
		for _, x := range []*tensor.Tensor{x32, x8} {
			var weights [2][]float32
			for i, fresh := range []bool{false, true} {
				m := NewSequential(layers.NewDense(32, nn.ActReLU), layers.NewBatchNormalization(), layers.NewDense(10, nn.ActSoftmax))
				if err := m.Compile(optimizers.NewAdam(), losses.CategoricalCrossentropy{}, metrics.NewAccuracy()); err != nil {
					t.Fatal(err)
				}
				m.Seed = 9
				m.fit.shards.in.fresh = fresh
				if _, err := m.Fit(context.Background(), x, y, FitOptions{Epochs: 2, BatchSize: 64, ShardSize: 32, SplitFirstLayer: true}); err != nil {
					t.Fatal(err)
				}
				// 300 rows: 5 batches an epoch, the last of 44.
				if r := m.fit.shards.in.reused; fresh && r != 0 || !fresh && r < 4 {
					t.Fatalf("fresh %v: %d batches came from preGather", fresh, r)
				}
				for _, p := range m.Params() {
					weights[i] = append(weights[i], p.Value.Float32s()...)
				}
			}
			for j := range weights[0] {
				if weights[0][j] != weights[1][j] {
					t.Fatalf("GOMAXPROCS %d, %s x: weight %d is %g with preGather, %g without", procs, x.DType(), j, weights[0][j], weights[1][j])
				}
			}
		}
	}
}
