package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/myelin-go/myelin/internal/kernel"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/metrics"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/tensor"
)

// gemmShape is one product C(m×n) = op(A)(m×k)·op(B)(k×n); op is "NN",
// "TN" (A stored k×m) or "NT" (B stored n×k), as in bench/numpy_gemm.py.
type gemmShape struct {
	op      string
	m, k, n int
	what    string
}

func (s gemmShape) key() string { return fmt.Sprintf("%s:%d:%d:%d", s.op, s.m, s.k, s.n) }

// name writes the product the way bench/numpy_gemm.py labels it.
func (s gemmShape) name() string {
	switch s.op {
	case "TN":
		return fmt.Sprintf("(%d×%d)ᵀ·(%d×%d)", s.k, s.m, s.k, s.n)
	case "NT":
		return fmt.Sprintf("(%d×%d)·(%d×%d)ᵀ", s.m, s.k, s.n, s.k)
	}
	return fmt.Sprintf("(%d×%d)·(%d×%d)", s.m, s.k, s.k, s.n)
}

func (s gemmShape) flops() float64 { return 2 * float64(s.m) * float64(s.n) * float64(s.k) }

// foundingDense lists the founding model's Dense layers as (in, out).
var foundingDense = [][2]int{{784, 64}, {64, 64}, {64, 10}}

// gemmShapes is the list the GEMM phase measures: squares 64…1024, the
// founding model's products at batch 32 and 128 (stepShapes), then the
// im2col products of examples/cnn.json's convolutions at batch 64.
func gemmShapes() []gemmShape {
	var l []gemmShape
	for _, s := range []int{64, 128, 256, 512, 1024} {
		l = append(l, gemmShape{"NN", s, s, s, fmt.Sprintf("square %d", s)})
	}
	return append(append(append(l, stepShapes(32)...), stepShapes(128)...), cnnShapes...)
}

// cnnShapes are the products of examples/cnn.json's convolutions at batch
// 64 (rows: 64 images × output pixels; depth: 3×3 × input channels).
var cnnShapes = []gemmShape{
	{"NN", 64 * 26 * 26, 9, 32, "CNN b=64 conv1 forward"},
	{"NN", 64 * 11 * 11, 288, 64, "CNN b=64 conv2 forward"},
	{"TN", 288, 64 * 11 * 11, 64, "CNN b=64 conv2 dW"},
	{"NT", 64 * 11 * 11, 64, 288, "CNN b=64 conv2 dX"},
}

// stepShapes lists the matrix products of one training step of the
// founding model at a batch size, as nn.Dense calls them: per Dense layer
// the forward x·W (NN), the weight gradient xᵀ·dz (TN) and, except for the
// first layer (its input needs no gradient), the input gradient dz·Wᵀ (NT).
func stepShapes(batch int) []gemmShape {
	var l []gemmShape
	for i, d := range foundingDense {
		in, out := d[0], d[1]
		l = append(l, gemmShape{"NN", batch, in, out, fmt.Sprintf("b=%d forward %d→%d", batch, in, out)})
		l = append(l, gemmShape{"TN", in, batch, out, fmt.Sprintf("b=%d dW %d→%d", batch, in, out)})
		if i > 0 {
			l = append(l, gemmShape{"NT", batch, out, in, fmt.Sprintf("b=%d dX %d→%d", batch, in, out)})
		}
	}
	return l
}

// stepFlops is the arithmetic of one training step's matrix products
// (2 per multiply-add). Elementwise work (bias, ReLU, batch norm, softmax,
// Adam) adds well under a MFLOP and is not counted.
func stepFlops(batch int) float64 {
	f := 0.0
	for _, s := range stepShapes(batch) {
		f += s.flops()
	}
	return f
}

// myelinGemm returns the median GFLOP/s over reps repeats of about minTime
// seconds each, as bench/numpy_gemm.py measures NumPy (C overwritten).
func myelinGemm(s gemmShape, reps int, minTime float64) float64 {
	rng := rand.New(rand.NewPCG(1, 2))
	fill := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	a, bm, c := fill(s.m*s.k), fill(s.k*s.n), make([]float32, s.m*s.n)
	transA, transB := s.op == "TN", s.op == "NT"
	lda, ldb := s.k, s.n
	if transA {
		lda = s.m
	}
	if transB {
		ldb = s.k
	}
	call := func() { kernel.Sgemm(transA, transB, s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, s.n) }
	call()
	calls := 1
	for {
		t0 := time.Now()
		for i := 0; i < calls; i++ {
			call()
		}
		dt := time.Since(t0).Seconds()
		if dt >= minTime/4 || calls >= 1<<22 {
			calls = max(1, int(float64(calls)*minTime/max(dt, 1e-9)))
			break
		}
		calls *= 4
	}
	g := make([]float64, reps)
	for r := range g {
		t0 := time.Now()
		for i := 0; i < calls; i++ {
			call()
		}
		g[r] = s.flops() * float64(calls) / time.Since(t0).Seconds() / 1e9
	}
	return median(g)
}

// founding returns the founding model, compiled with Adam, categorical
// cross-entropy and accuracy, as myelin train builds it.
func founding(seed uint64) (*model.Sequential, error) {
	m := model.NewSequential(
		layers.NewDense(64, nn.ActReLU), layers.NewBatchNormalization(),
		layers.NewDense(64, nn.ActReLU), layers.NewBatchNormalization(),
		layers.NewDense(10, nn.ActSoftmax))
	m.Seed = seed
	if err := m.Compile(optimizers.NewAdam(), losses.CategoricalCrossentropy{}, metrics.NewAccuracy()); err != nil {
		return nil, err
	}
	return m, m.Build(784)
}

// stepTimer is a callback that notes the time after warm steps and after
// warm+steps steps, then stops training.
type stepTimer struct {
	model.BaseCallback
	warm, steps, done int
	t0, t1            time.Time
}

func (s *stepTimer) OnBatchEnd(int, int, model.Logs) error {
	s.done++
	switch s.done {
	case s.warm:
		s.t0 = time.Now()
	case s.warm + s.steps:
		s.t1 = time.Now()
		return model.ErrStopTraining
	}
	return nil
}

// myelinTrainSteps returns training samples/s over steps steps of Fit
// (shuffled MNIST, batch gathering, forward, backward, Adam, batch-norm
// state and the accuracy metric) after warm untimed ones, on a fresh model,
// as bench/torch_model.py --steps does.
func (b *bench) myelinTrainSteps(ctx context.Context, batch, warm, steps int) (float64, error) {
	return b.myelinTrainShards(ctx, batch, 0, false, warm, steps)
}

// shardSize is the shard size bench/compare trains with besides whole
// batches: half the batch, so that two cores have a shard each.
func shardSize(batch int) int { return batch / 2 }

// myelinTrainShards is myelinTrainSteps with FitOptions.ShardSize shard
// and SplitFirstLayer split.
func (b *bench) myelinTrainShards(ctx context.Context, batch, shard int, split bool, warm, steps int) (float64, error) {
	m, err := founding(1)
	if err != nil {
		return 0, err
	}
	return fitStepsWith(ctx, m, b.x, b.y, model.FitOptions{BatchSize: batch, ShardSize: shard, SplitFirstLayer: split}, warm, steps)
}

// fitSteps returns m's training samples/s over steps steps of Fit on x, y
// after warm (at least one) untimed ones, in shards of shard rows (0:
// whole batches).
func fitSteps(ctx context.Context, m *model.Sequential, x, y *tensor.Tensor, batch, shard, warm, steps int) (float64, error) {
	return fitStepsWith(ctx, m, x, y, model.FitOptions{BatchSize: batch, ShardSize: shard}, warm, steps)
}

// fitStepsWith is fitSteps with the batch size and the shards' options
// taken from o.
func fitStepsWith(ctx context.Context, m *model.Sequential, x, y *tensor.Tensor, o model.FitOptions, warm, steps int) (float64, error) {
	batch := o.BatchSize
	warm = max(warm, 1)
	cb := &stepTimer{warm: warm, steps: steps}
	perEpoch := (x.Dim(0) + batch - 1) / batch
	epochs := (warm+steps)/perEpoch + 1
	o.Epochs, o.Callbacks = epochs, []model.Callback{cb}
	if _, err := m.Fit(ctx, x, y, o); err != nil {
		return 0, err
	}
	if cb.t1.IsZero() {
		return 0, fmt.Errorf("train: only %d of %d steps ran", cb.done, warm+steps)
	}
	return float64(steps*batch) / cb.t1.Sub(cb.t0).Seconds(), nil
}

// myelinInfer returns the median samples/s of Predict over the test set at
// the given batch size (softmax included), after one untimed pass.
func (b *bench) myelinInfer(ctx context.Context, batch, reps int) (float64, error) {
	m, err := founding(1)
	if err != nil {
		return 0, err
	}
	return predictRate(ctx, m, b.tx, batch, reps)
}

// predictRate returns the median samples/s of reps passes of Predict over
// x at the given batch size, after one untimed pass.
func predictRate(ctx context.Context, m *model.Sequential, x *tensor.Tensor, batch, reps int) (float64, error) {
	opt := model.EvalOptions{BatchSize: batch}
	if _, err := m.Predict(ctx, x, opt); err != nil {
		return 0, err
	}
	sps := make([]float64, reps)
	for r := range sps {
		t0 := time.Now()
		if _, err := m.Predict(ctx, x, opt); err != nil {
			return 0, err
		}
		sps[r] = float64(x.Dim(0)) / time.Since(t0).Seconds()
	}
	return median(sps), nil
}

// myelinLatency returns the median microseconds of one single-sample
// prediction through PredictInto (the allocation-free serving call) and
// through Predict, cycling over 100 test images as bench/torch_model.py
// --mode latency does.
func (b *bench) myelinLatency(warm, runs int) (into, pred float64, err error) {
	m, err := founding(1)
	if err != nil {
		return 0, 0, err
	}
	samples := make([]*tensor.Tensor, 100)
	for i := range samples {
		samples[i] = b.tx.Rows(i, i+1).Clone()
	}
	dst := tensor.New(tensor.Float32, 1, 10)
	ctx := context.Background()
	time1 := func(f func(x *tensor.Tensor) error) (float64, error) {
		for i := 0; i < warm; i++ {
			if err := f(samples[i%100]); err != nil {
				return 0, err
			}
		}
		us := make([]float64, runs)
		for i := range us {
			x := samples[i%100]
			t0 := time.Now()
			err := f(x)
			us[i] = float64(time.Since(t0).Nanoseconds()) / 1e3
			if err != nil {
				return 0, err
			}
		}
		return median(us), nil
	}
	if into, err = time1(func(x *tensor.Tensor) error { return m.PredictInto(dst, x) }); err != nil {
		return 0, 0, err
	}
	pred, err = time1(func(x *tensor.Tensor) error {
		_, err := m.Predict(ctx, x, model.EvalOptions{BatchSize: 1})
		return err
	})
	return into, pred, err
}

// myelinEpochs trains a fresh founding model for epochs epochs (shuffled,
// all of MNIST's training set) and returns Fit's wall time and the test
// accuracy, as myelin train reports them.
func (b *bench) myelinEpochs(ctx context.Context, epochs, batch int) (secs, acc float64, err error) {
	m, err := founding(1)
	if err != nil {
		return 0, 0, err
	}
	t0 := time.Now()
	if _, err := m.Fit(ctx, b.x, b.y, model.FitOptions{Epochs: epochs, BatchSize: batch}); err != nil {
		return 0, 0, err
	}
	secs = time.Since(t0).Seconds()
	res, err := m.Evaluate(ctx, b.tx, b.ty, model.EvalOptions{BatchSize: 1000})
	if err != nil {
		return 0, 0, err
	}
	return secs, res["accuracy"], nil
}
