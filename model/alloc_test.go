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

// TestTrainStepAllocatesNothing checks that a training step of the founding
// model — forward, backward, Adam update, batch-norm state, metrics —
// allocates nothing once warm.
func TestTrainStepAllocatesNothing(t *testing.T) {
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
	m := NewSequential(layers.NewDense(64, nn.ActReLU), layers.NewBatchNormalization(),
		layers.NewDense(64, nn.ActReLU), layers.NewBatchNormalization(), layers.NewDense(10, nn.ActSoftmax))
	if err := m.Compile(optimizers.NewAdam(), losses.CategoricalCrossentropy{}, metrics.NewAccuracy()); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Fit(context.Background(), x, y, FitOptions{Epochs: 1}); err != nil {
		t.Fatal(err)
	}
	allocs := stepAllocs(t, m, x, y, 50)
	if allocs != 0 {
		t.Fatalf("a training step allocates %v times, want 0", allocs)
	}
}

// TestPredictIntoAllocatesNothing checks the serving path: a warm
// PredictInto, single sample or batch, float32 or uint8, allocates
// nothing.
func TestPredictIntoAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	m := NewSequential(layers.NewDense(64, nn.ActReLU), layers.NewBatchNormalization(),
		layers.NewDense(64, nn.ActReLU), layers.NewBatchNormalization(), layers.NewDense(10, nn.ActSoftmax))
	if err := m.Build(784); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 100} {
		for _, x := range []*tensor.Tensor{tensor.New(tensor.Float32, n, 784), tensor.FromUint8(make([]uint8, n*784), 255, n, 784)} {
			dst := tensor.New(tensor.Float32, n, 10)
			if err := m.PredictInto(dst, x); err != nil {
				t.Fatal(err)
			}
			if a := testing.AllocsPerRun(100, func() { m.PredictInto(dst, x) }); a != 0 {
				t.Errorf("PredictInto of %d %s samples: %v allocations per call, want 0", n, x.DType(), a)
			}
		}
	}
}

// TestUint8TrainStepAllocatesNothing: with uint8 x the batch gather
// converts the rows into the reused batch buffer, in whole batches and
// in shards (each converting its own rows), for float32 and float64
// models, allocating nothing once warm.
func TestUint8TrainStepAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	train, _, err := mnist.Load()
	if err != nil {
		t.Fatal(err)
	}
	train = train.Slice(0, 256)
	x, err := train.X()
	if err != nil {
		t.Fatal(err)
	}
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		y := tensor.FromFloat32(train.OneHot(), train.N, 10).As(dt)
		for _, shard := range []int{0, 8} {
			m := NewSequential(layers.NewDense(64, nn.ActReLU), layers.NewBatchNormalization(), layers.NewDropout(0.1),
				layers.NewDense(64, nn.ActReLU), layers.NewBatchNormalization(), layers.NewDense(10, nn.ActSoftmax))
			m.DType = dt
			if err := m.Compile(optimizers.NewAdam(), losses.CategoricalCrossentropy{}, metrics.NewAccuracy()); err != nil {
				t.Fatal(err)
			}
			if _, err := m.Fit(context.Background(), x, y, FitOptions{Epochs: 1, ShardSize: shard}); err != nil {
				t.Fatal(err)
			}
			if xb, _ := m.batch(x, y, []int{0, 1}); xb.DType() != dt {
				t.Fatalf("%s: the batch buffer is %s", dt, xb.DType())
			}
			allocs := stepAllocs(t, m, x, y, 50)
			m.stopShards()
			if allocs != 0 {
				t.Errorf("%s, ShardSize %d: a training step on uint8 x allocates %v times, want 0", dt, shard, allocs)
			}
		}
	}
}

// TestShardedTrainStepAllocatesNothing: a step cut into shards, run by a
// team of workers, allocates nothing once the team exists.
func TestShardedTrainStepAllocatesNothing(t *testing.T) {
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
	m := NewSequential(layers.NewDense(64, nn.ActReLU), layers.NewBatchNormalization(), layers.NewDropout(0.1),
		layers.NewDense(64, nn.ActReLU), layers.NewBatchNormalization(), layers.NewDense(10, nn.ActSoftmax))
	if err := m.Compile(optimizers.NewAdam(), losses.CategoricalCrossentropy{}, metrics.NewAccuracy()); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Fit(context.Background(), x, y, FitOptions{Epochs: 1, ShardSize: 8}); err != nil {
		t.Fatal(err)
	}
	defer m.stopShards()
	allocs := stepAllocs(t, m, x, y, 50)
	if allocs != 0 {
		t.Fatalf("a sharded training step allocates %v times, want 0", allocs)
	}
}

// stepAllocs returns the allocations of a warm training step of m on a
// batch of 32 rows of (x, y), averaged over runs steps.
func stepAllocs(t *testing.T, m *Sequential, x, y *tensor.Tensor, runs int) float64 {
	t.Helper()
	idx := make([]int, 32)
	for i := range idx {
		idx[i] = i * 3
	}
	step := 0
	return testing.AllocsPerRun(runs, func() {
		xb, yb := m.batch(x, y, idx)
		step++
		if _, err := m.trainStep(xb, yb, 1, step); err != nil {
			t.Fatal(err)
		}
	})
}

// floatX returns s's images as a float32 (samples, features) tensor, the
// pixels over 255.
func floatX(t testing.TB, s *mnist.Set) *tensor.Tensor {
	t.Helper()
	x, err := s.X()
	if err != nil {
		t.Fatal(err)
	}
	return x.As(tensor.Float32)
}

// TestSplitTrainStepAllocatesNothing: a sharded step with the first layer
// split by its inputs (insplit.go) allocates nothing once its buffers
// exist, on one worker and on two, for float32 and uint8 x.
func TestSplitTrainStepAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	train, _, err := mnist.Load()
	if err != nil {
		t.Fatal(err)
	}
	train = train.Slice(0, 256)
	y := tensor.FromFloat32(train.OneHot(), train.N, 10)
	x8, err := train.X()
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []*tensor.Tensor{floatX(t, train), x8} {
		for _, procs := range []int{1, 2} {
			runtime.GOMAXPROCS(procs)
			m := benchFounding(t)
			if _, err := m.Fit(context.Background(), x, y, FitOptions{Epochs: 1, ShardSize: 16, SplitFirstLayer: true}); err != nil {
				t.Fatal(err)
			}
			allocs := stepAllocs(t, m, x, y, 50)
			on := m.fit.shards.in.on
			m.stopShards()
			if !on {
				t.Fatalf("%s x, GOMAXPROCS %d: the split did not run", x.DType(), procs)
			}
			if allocs != 0 {
				t.Fatalf("%s x, GOMAXPROCS %d: a split step allocates %v times, want 0", x.DType(), procs, allocs)
			}
		}
	}
}
