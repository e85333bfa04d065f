package monitor

import (
	"context"
	"testing"
	"time"

	"github.com/myelin-go/myelin/data/mnist"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/metrics"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/tensor"
)

// timed runs a callback and adds the time spent in it to *d.
type timed struct {
	cb model.Callback
	d  *time.Duration
}

func (t timed) run(f func() error) error {
	start := time.Now()
	err := f()
	*t.d += time.Since(start)
	return err
}

func (t timed) OnTrainBegin(m *model.Sequential) error {
	return t.run(func() error { return t.cb.OnTrainBegin(m) })
}
func (t timed) OnEpochBegin(e int) error { return t.run(func() error { return t.cb.OnEpochBegin(e) }) }
func (t timed) OnBatchEnd(e, s int, l model.Logs) error {
	return t.run(func() error { return t.cb.OnBatchEnd(e, s, l) })
}
func (t timed) OnEpochEnd(e int, l model.Logs) error {
	return t.run(func() error { return t.cb.OnEpochEnd(e, l) })
}
func (t timed) OnTrainEnd(l model.Logs) error {
	return t.run(func() error { return t.cb.OnTrainEnd(l) })
}

// BenchmarkFitOverhead runs one epoch of Fit of the founding model (Dense
// 64 relu, BN, Dense 64 relu, BN, Dense 10 softmax; Adam; batch 32) on
// 4,096 MNIST images per iteration: bare; with Health (Every 10, its
// default); with BatchNorm (Every 100, its default, on 256 held-out
// images); and with the set that `myelin train --report` uses (Curves and
// Health every 10 steps, BatchNorm every 200 on 256 images, Percentiles of
// three units of the last hidden layer on 128 of them every 375: the CLI
// spaces 25 records over the run, every 375 steps in its default run).
//
// It reports ns/step and monitor-%, the time spent inside the monitors'
// callbacks as a percentage of the rest of the step, measured within the
// same steps: unlike the ratio of two variants' ns/step, it does not move
// when the host's speed drifts between runs (the budget is 5%).
// It does not see what the monitors cost the step outside their own code
// (caches they evict); compare the variants' ns/step, interleaved and
// repeated, for that.
func BenchmarkFitOverhead(b *testing.B) {
	train, test, err := mnist.Load()
	if err != nil {
		b.Fatal(err)
	}
	train, test = train.Slice(0, 4096), test.Slice(0, 256)
	x, err := train.X()
	if err != nil {
		b.Fatal(err)
	}
	y := tensor.FromFloat32(train.OneHot(), train.N, 10)
	held, err := test.X()
	if err != nil {
		b.Fatal(err)
	}
	const batch = 32
	steps := train.N / batch
	for _, c := range []struct {
		name      string
		callbacks func() []model.Callback
	}{
		{"bare", func() []model.Callback { return nil }},
		{"noop", func() []model.Callback { return []model.Callback{model.BaseCallback{}} }},
		{"curves10", func() []model.Callback { return []model.Callback{&Curves{Every: 10}} }},
		{"batchnorm200", func() []model.Callback { return []model.Callback{&BatchNorm{X: held, Every: 200}} }},
		{"health10", func() []model.Callback { return []model.Callback{&Health{Every: 10}} }},
		{"batchnorm100", func() []model.Callback { return []model.Callback{&BatchNorm{X: held, Every: 100}} }},
		{"health20", func() []model.Callback { return []model.Callback{&Health{Every: 20}} }},
		{"percentiles200", func() []model.Callback {
			return []model.Callback{&Percentiles{X: held.Rows(0, 128), Layer: 2, PreActivation: true, Units: []int{0, 1, 2}, Every: 200}}
		}},
		{"report", func() []model.Callback {
			return []model.Callback{&Curves{Every: 10}, &Health{Every: 20}, &BatchNorm{X: held, Every: 200},
				&Percentiles{X: held.Rows(0, 128), Layer: 2, PreActivation: true, Units: []int{0, 1, 2}, Every: 375}}
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			m := model.NewSequential(layers.NewDense(64, nn.ActReLU), layers.NewBatchNormalization(),
				layers.NewDense(64, nn.ActReLU), layers.NewBatchNormalization(), layers.NewDense(10, nn.ActSoftmax))
			if err := m.Compile(optimizers.NewAdam(), losses.CategoricalCrossentropy{}, metrics.NewAccuracy()); err != nil {
				b.Fatal(err)
			}
			var inMonitors time.Duration
			var cbs []model.Callback
			for _, cb := range c.callbacks() {
				cbs = append(cbs, timed{cb, &inMonitors})
			}
			// Warm up: buffers, optimizer state and the monitors' first records.
			if _, err := m.Fit(context.Background(), x.Rows(0, 1024), y.Rows(0, 1024), model.FitOptions{BatchSize: batch, Callbacks: cbs}); err != nil {
				b.Fatal(err)
			}
			inMonitors = 0
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Fit(context.Background(), x, y, model.FitOptions{BatchSize: batch, Callbacks: cbs}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*steps), "ns/step")
			b.ReportMetric(100*float64(inMonitors)/float64(b.Elapsed()-inMonitors), "monitor-%")
		})
	}
}
