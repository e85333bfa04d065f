package model

import (
	"context"
	"fmt"
	"testing"

	"github.com/myelin-go/myelin/data/mnist"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/metrics"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/tensor"
)

// Run with e.g.
//
//	go test -run '^$' -bench . -benchtime 2s -cpu 1,2 ./model
//
// bench/compare measures the same operations side by side with PyTorch.

// benchFounding returns the founding model, compiled as myelin train does.
func benchFounding(b testing.TB) *Sequential {
	b.Helper()
	m := NewSequential(layers.NewDense(64, nn.ActReLU), layers.NewBatchNormalization(),
		layers.NewDense(64, nn.ActReLU), layers.NewBatchNormalization(), layers.NewDense(10, nn.ActSoftmax))
	if err := m.Compile(optimizers.NewAdam(), losses.CategoricalCrossentropy{}, metrics.NewAccuracy()); err != nil {
		b.Fatal(err)
	}
	if err := m.Build(784); err != nil {
		b.Fatal(err)
	}
	return m
}

// benchData returns MNIST as (x, one-hot y) for training and test.
func benchData(b *testing.B) (x, y, tx, ty *tensor.Tensor) {
	b.Helper()
	train, test, err := mnist.Load()
	if err != nil {
		b.Fatal(err)
	}
	// float32, as bench/torch_model.py holds them, so that the figures
	// compare; myelin train keeps uint8 pixels (BenchmarkFitEpochUint8).
	x, tx = floatX(b, train), floatX(b, test)
	y = tensor.FromFloat32(train.OneHot(), train.N, 10)
	ty = tensor.FromFloat32(test.OneHot(), test.N, 10)
	return
}

// stepFlops is one founding-model training step's matrix arithmetic:
// forward and weight gradient of the three Dense layers, input gradient of
// the last two (the first layer's input needs none).
func stepFlops(batch int) float64 {
	return 2 * float64(batch) * (2*784*64 + 3*64*64 + 3*64*10)
}

// BenchmarkTrainStep times one training step of the founding model
// (forward, backward, Adam, batch-norm state, accuracy) at batch 32 and
// 128, whole or in shards, the first layer split by rows or (split) by
// its inputs (FitOptions.SplitFirstLayer).
func BenchmarkTrainStep(b *testing.B) {
	x, y, _, _ := benchData(b)
	for _, bs := range []int{32, 128} {
		for _, shard := range []int{0, 16, 32, 64} {
			if shard >= bs {
				continue
			}
			if shard == 0 {
				benchTrainStep(b, fmt.Sprintf("batch=%d/shard=none", bs), x, y, bs, 0, false)
				continue
			}
			benchTrainStep(b, fmt.Sprintf("batch=%d/shard=%d", bs, shard), x, y, bs, shard, false)
			benchTrainStep(b, fmt.Sprintf("batch=%d/shard=%d/split", bs, shard), x, y, bs, shard, true)
		}
	}
}

func benchTrainStep(b *testing.B, name string, x, y *tensor.Tensor, bs, shard int, split bool) {
	b.Run(name, func(b *testing.B) {
		m := benchFounding(b)
		if _, err := m.Fit(context.Background(), x.Rows(0, 1024), y.Rows(0, 1024), FitOptions{BatchSize: bs, ShardSize: shard, SplitFirstLayer: split}); err != nil {
			b.Fatal(err)
		}
		defer m.stopShards()
		perm := make([]int, x.Dim(0))
		for i := range perm {
			perm[i] = (i * 7919) % len(perm)
		}
		b.ReportAllocs()
		step, n := 0, x.Dim(0)/bs
		// Warm up first: for the first half second or so after loading
		// MNIST, steps run up to 1.5× slower (on GOMAXPROCS 1 most).
		for range 2000 {
			k := step % n
			xb, yb := m.batch(x, y, perm[k*bs:(k+1)*bs])
			step++
			if _, err := m.trainStep(xb, yb, 1, step); err != nil {
				b.Fatal(err)
			}
		}
		for b.Loop() {
			k := step % n
			xb, yb := m.batch(x, y, perm[k*bs:(k+1)*bs])
			k1 := (k + 1) % n
			m.prefetch(x, perm[k1*bs:(k1+1)*bs]) // as Fit does
			step++
			if _, err := m.trainStep(xb, yb, 1, step); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(bs)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
		b.ReportMetric(stepFlops(bs)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}

// BenchmarkFitEpoch times Fit's public path over 6,400 samples: per-epoch
// shuffle, batch gathering, steps and metrics.
func BenchmarkFitEpoch(b *testing.B) {
	x, y, _, _ := benchData(b)
	benchFitEpoch(b, x.Rows(0, 6400), y.Rows(0, 6400))
}

// BenchmarkFitEpochUint8 is BenchmarkFitEpoch on uint8 pixels, as myelin
// train gives them: the batch gather converts each batch's rows.
func BenchmarkFitEpochUint8(b *testing.B) {
	train, _, err := mnist.Load()
	if err != nil {
		b.Fatal(err)
	}
	train = train.Slice(0, 6400)
	x, err := train.X()
	if err != nil {
		b.Fatal(err)
	}
	benchFitEpoch(b, x, tensor.FromFloat32(train.OneHot(), train.N, 10))
}

func benchFitEpoch(b *testing.B, x, y *tensor.Tensor) {
	for _, bs := range []int{32, 128} {
		b.Run(fmt.Sprintf("batch=%d", bs), func(b *testing.B) {
			m := benchFounding(b)
			ctx := context.Background()
			opt := FitOptions{BatchSize: bs}
			if _, err := m.Fit(ctx, x, y, opt); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Fit(ctx, x, y, opt); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(x.Dim(0))*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
		})
	}
}

// BenchmarkPredict times inference over MNIST's 10,000 test images in
// batches of 1000 (softmax included), as bench/torch_model.py --mode infer.
func BenchmarkPredict(b *testing.B) {
	_, _, tx, _ := benchData(b)
	m := benchFounding(b)
	ctx := context.Background()
	opt := EvalOptions{BatchSize: 1000}
	if _, err := m.Predict(ctx, tx, opt); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(4 * tx.Len()))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Predict(ctx, tx, opt); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(tx.Dim(0))*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkPredictLatency times one single-sample prediction (ns/op is
// the latency), through the allocation-free PredictInto and through
// Predict, cycling over 100 test images.
func BenchmarkPredictLatency(b *testing.B) {
	_, _, tx, _ := benchData(b)
	m := benchFounding(b)
	samples := make([]*tensor.Tensor, 100)
	for i := range samples {
		samples[i] = tx.Rows(i, i+1).Clone()
	}
	dst := tensor.New(tensor.Float32, 1, 10)
	ctx := context.Background()
	calls := []struct {
		name string
		fn   func(x *tensor.Tensor) error
	}{
		{"PredictInto", func(x *tensor.Tensor) error { return m.PredictInto(dst, x) }},
		{"Predict", func(x *tensor.Tensor) error {
			_, err := m.Predict(ctx, x, EvalOptions{BatchSize: 1})
			return err
		}},
	}
	for _, c := range calls {
		b.Run(c.name, func(b *testing.B) {
			if err := c.fn(samples[0]); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := c.fn(samples[i%len(samples)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkCNNTrainStep times one training step of the CNN of
// examples/cnn.json at batch 64, in one pass and in shards of 16 and 32
// (two shards: on two cores, each runs on its worker without a coroutine).
func BenchmarkCNNTrainStep(b *testing.B) {
	x, y, _, _ := benchData(b)
	for _, shard := range []int{0, 16, 32} {
		name := fmt.Sprintf("batch=64/shard=%d", shard)
		if shard == 0 {
			name = "batch=64/shard=none"
		}
		b.Run(name, func(b *testing.B) {
			m := exampleCNN(b)
			if _, err := m.Fit(context.Background(), x.Rows(0, 256), y.Rows(0, 256), FitOptions{BatchSize: 64, ShardSize: shard}); err != nil {
				b.Fatal(err)
			}
			defer m.stopShards()
			perm := make([]int, x.Dim(0))
			for i := range perm {
				perm[i] = (i * 7919) % len(perm)
			}
			b.ReportAllocs()
			step, n := 0, x.Dim(0)/64
			for range 20 { // warm up, as in BenchmarkTrainStep
				k := step % n
				xb, yb := m.batch(x, y, perm[k*64:(k+1)*64])
				step++
				if _, err := m.trainStep(xb, yb, 1, step); err != nil {
					b.Fatal(err)
				}
			}
			for b.Loop() {
				k := step % n
				xb, yb := m.batch(x, y, perm[k*64:(k+1)*64])
				step++
				if _, err := m.trainStep(xb, yb, 1, step); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(64*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
		})
	}
}

// BenchmarkCNNPredict times the CNN's inference over MNIST's 10,000 test
// images in batches of 100 and 1000, as bench/compare's CNN phase does.
func BenchmarkCNNPredict(b *testing.B) {
	x, y, tx, _ := benchData(b)
	m := exampleCNN(b)
	ctx := context.Background()
	if _, err := m.Fit(ctx, x.Rows(0, 256), y.Rows(0, 256), FitOptions{BatchSize: 64}); err != nil {
		b.Fatal(err) // moving statistics that are not the initial ones
	}
	for _, batch := range []int{100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			opt := EvalOptions{BatchSize: batch}
			if _, err := m.Predict(ctx, tx, opt); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Predict(ctx, tx, opt); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(tx.Dim(0))*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
		})
	}
}
