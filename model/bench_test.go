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

// BenchmarkTrainStep times one training step of the founding model
// (forward, backward, Adam, batch-norm state, accuracy) at batch 32 and 128.
func BenchmarkTrainStep(b *testing.B) {
	train, _, err := mnist.Load()
	if err != nil {
		b.Fatal(err)
	}
	x := tensor.FromFloat32(train.Images, train.N, train.Features())
	y := tensor.FromFloat32(train.OneHot(), train.N, 10)
	for _, bs := range []int{32, 128} {
		b.Run(map[int]string{32: "batch=32", 128: "batch=128"}[bs], func(b *testing.B) {
			m := NewSequential(layers.NewDense(64, nn.ActReLU), layers.NewBatchNormalization(),
				layers.NewDense(64, nn.ActReLU), layers.NewBatchNormalization(), layers.NewDense(10, nn.ActSoftmax))
			if err := m.Compile(optimizers.NewAdam(), losses.CategoricalCrossentropy{}, metrics.NewAccuracy()); err != nil {
				b.Fatal(err)
			}
			if _, err := m.Fit(context.Background(), x.Rows(0, 1024), y.Rows(0, 1024), FitOptions{BatchSize: bs}); err != nil {
				b.Fatal(err)
			}
			perm := make([]int, x.Dim(0))
			for i := range perm {
				perm[i] = (i * 7919) % len(perm)
			}
			b.ReportAllocs()
			step, n := 0, x.Dim(0)/bs
			for b.Loop() {
				k := step % n
				xb, yb := m.batch(x, y, perm[k*bs:(k+1)*bs])
				step++
				if _, err := m.trainStep(xb, yb, 1, step); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(bs)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
		})
	}
}
