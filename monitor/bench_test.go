package monitor

import (
	"context"
	"testing"

	"github.com/myelin-go/myelin/data/mnist"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/metrics"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/tensor"
)

// BenchmarkFitOverhead runs one epoch of Fit of the founding model (Dense
// 64 relu, BN, Dense 64 relu, BN, Dense 10 softmax; Adam; batch 32) on
// 4,096 MNIST images per iteration, bare, with Health (Every 10), and with
// Health and BatchNorm (Every 100, on 256 held-out images), and reports
// ns/step for each: the ratios to bare are the monitors' overhead (the
// issue's budget is 5%). Run the variants interleaved, several times, and
// compare medians: the host's speed drifts.
func BenchmarkFitOverhead(b *testing.B) {
	train, test, err := mnist.Load()
	if err != nil {
		b.Fatal(err)
	}
	train, test = train.Slice(0, 4096), test.Slice(0, 256)
	x := tensor.FromFloat32(train.Images, train.N, train.Features())
	y := tensor.FromFloat32(train.OneHot(), train.N, 10)
	held := tensor.FromFloat32(test.Images, test.N, test.Features())
	const batch = 32
	steps := train.N / batch
	for _, c := range []struct {
		name      string
		callbacks func() []model.Callback
	}{
		{"bare", func() []model.Callback { return nil }},
		{"health10", func() []model.Callback { return []model.Callback{&Health{Every: 10}} }},
		{"health10+batchnorm100", func() []model.Callback {
			return []model.Callback{&Health{Every: 10}, &BatchNorm{X: held, Every: 100}}
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			m := model.NewSequential(layers.NewDense(64, nn.ActReLU), layers.NewBatchNormalization(),
				layers.NewDense(64, nn.ActReLU), layers.NewBatchNormalization(), layers.NewDense(10, nn.ActSoftmax))
			if err := m.Compile(optimizers.NewAdam(), losses.CategoricalCrossentropy{}, metrics.NewAccuracy()); err != nil {
				b.Fatal(err)
			}
			cbs := c.callbacks()
			// Warm up: buffers, optimizer state and the monitors' first records.
			if _, err := m.Fit(context.Background(), x.Rows(0, 1024), y.Rows(0, 1024), model.FitOptions{BatchSize: batch, Callbacks: cbs}); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Fit(context.Background(), x, y, model.FitOptions{BatchSize: batch, Callbacks: cbs}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*steps), "ns/step")
		})
	}
}
