package model

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/myelin-go/myelin/data/mnist"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/metrics"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/optimizers"
	"github.com/myelin-go/myelin/tensor"
)

// regressionData returns a linear regression problem y = x·w + noise with
// 4 features, in float64.
func regressionData() (x, y *tensor.Tensor) {
	rng := rand.New(rand.NewPCG(11, 12))
	w := []float64{2, -3, 1.5, 0.5}
	const n = 64
	xs, ys := make([]float64, n*4), make([]float64, n)
	for i := range n {
		for j := range 4 {
			xs[i*4+j] = rng.NormFloat64()
			ys[i] += xs[i*4+j] * w[j]
		}
		ys[i] += 0.1 * rng.NormFloat64()
	}
	return tensor.FromFloat64(xs, n, 4), tensor.FromFloat64(ys, n, 1)
}

func kernelSq(d *layers.Dense) float64 {
	var s float64
	for i := range d.Kernel.Value.Len() {
		v := d.Kernel.Value.Index(i)
		s += v * v
	}
	return s
}

// TestL2TrainsToSmallerWeights trains the same model from the same seed on
// the same data with and without an L2 kernel regularizer: the regularized
// kernel ends smaller, and its reported loss holds the penalty.
func TestL2TrainsToSmallerWeights(t *testing.T) {
	x, y := regressionData()
	fit := func(reg *layers.Regularizer) (*layers.Dense, *History) {
		d := layers.NewDense(1, nn.Linear)
		d.KernelRegularizer = reg
		m := NewSequential(d)
		m.DType = tensor.Float64
		opt := optimizers.NewSGD()
		opt.LR = 0.05
		if err := m.Compile(opt, losses.MeanSquaredError{}); err != nil {
			t.Fatal(err)
		}
		h, err := m.Fit(context.Background(), x, y, FitOptions{Epochs: 30, BatchSize: 16})
		if err != nil {
			t.Fatal(err)
		}
		return d, h
	}
	plain, hp := fit(nil)
	reg, hr := fit(layers.L2(0.1))
	sp, sr := kernelSq(plain), kernelSq(reg)
	// Without the penalty the kernel approaches (2, −3, 1.5, 0.5), Σw² ≈ 15.5;
	// with 0.1·Σw² the optimum shrinks by about 1/(1 + 0.1) per weight.
	if !(sr < 0.9*sp) || sp < 14 {
		t.Fatalf("Σw² with L2(0.1) %.4g, without %.4g: want the regularized one under 0.9 times the other, the plain one near 15.5", sr, sp)
	}
	lp, lr := hp.Metrics["loss"], hr.Metrics["loss"]
	// The regularized loss includes 0.1·Σw² ≈ 1.3, far above the plain
	// model's mean squared error near the noise's 0.01.
	if last := lr[len(lr)-1]; !(last > 0.1*sr) || !(lp[len(lp)-1] < 0.1) {
		t.Errorf("final loss with L2 %.4g (0.1·Σw² = %.4g), without %.4g: want the penalty in the reported loss", last, 0.1*sr, lp[len(lp)-1])
	}
}

// TestEvaluateLossIncludesPenalty checks the penalty's share of the loss
// Evaluate reports: the same weights with and without the regularizers
// differ by exactly l2·Σw² + l1·Σ|b|.
func TestEvaluateLossIncludesPenalty(t *testing.T) {
	x, y := regressionData()
	d := layers.NewDense(1, nn.Linear)
	d.BiasInitializer = layers.Ones
	m := NewSequential(d)
	m.DType = tensor.Float64
	if err := m.Compile(optimizers.NewSGD(), losses.MeanSquaredError{}); err != nil {
		t.Fatal(err)
	}
	if err := m.Build(4); err != nil {
		t.Fatal(err)
	}
	eval := func() float64 {
		r, err := m.Evaluate(context.Background(), x, y, EvalOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return r["loss"]
	}
	plain := eval()
	d.KernelRegularizer, d.BiasRegularizer = layers.L2(0.3), layers.L1(0.2)
	got := eval() - plain
	want := 0.3*kernelSq(d) + 0.2*1
	if math.Abs(got-want) > 1e-12 {
		t.Errorf("loss with regularizers − loss without = %.15g, want 0.3·Σw² + 0.2·|b| = %.15g", got, want)
	}
}

// TestRegularizedTrainStepAllocatesNothing is TestTrainStepAllocatesNothing
// with kernel and bias regularizers and the per-sample normalizers.
func TestRegularizedTrainStepAllocatesNothing(t *testing.T) {
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
	d1, d2 := layers.NewDense(64, nn.ActReLU), layers.NewDense(10, nn.ActSoftmax)
	d1.KernelRegularizer, d1.BiasRegularizer = layers.L2(1e-4), layers.L1(1e-4)
	d2.KernelRegularizer = layers.L1L2(1e-4, 1e-4)
	gn := layers.NewGroupNormalization()
	gn.Groups = 8
	m := NewSequential(d1, layers.NewLayerNormalization(), layers.NewDense(64, nn.ActReLU), gn, d2)
	if err := m.Compile(optimizers.NewAdam(), losses.CategoricalCrossentropy{}, metrics.NewAccuracy()); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Fit(context.Background(), x, y, FitOptions{Epochs: 1}); err != nil {
		t.Fatal(err)
	}
	allocs := stepAllocs(t, m, x, y, 50)
	if allocs != 0 {
		t.Fatalf("a regularized training step allocates %v times, want 0", allocs)
	}
}

// TestSaveLoadNormsAndRegularizers saves a model with the per-sample
// normalizers and regularized Dense layers and loads it back: the
// architecture keeps every setting and the predictions are bit-identical.
func TestSaveLoadNormsAndRegularizers(t *testing.T) {
	x, y := regressionData()
	d1 := layers.NewDense(6, nn.ActTanh)
	d1.KernelRegularizer, d1.BiasRegularizer = layers.L2(0.01), layers.L1L2(0.02, 0.03)
	gn := layers.NewGroupNormalization()
	gn.Groups, gn.Epsilon = 3, 1e-5
	m := NewSequential(d1, layers.NewLayerNormalization(), gn, layers.NewDense(1, nn.Linear))
	m.DType = tensor.Float64
	if err := m.Compile(optimizers.NewSGD(), losses.MeanSquaredError{}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Fit(context.Background(), x, y, FitOptions{Epochs: 2}); err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/m.safetensors"
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	l0 := back.Layers[0].(*layers.Dense)
	if l0.KernelRegularizer.String() != "L2(0.01)" || l0.BiasRegularizer.String() != "L1L2(0.02, 0.03)" {
		t.Errorf("regularizers loaded as %v, %v", l0.KernelRegularizer, l0.BiasRegularizer)
	}
	if g := back.Layers[2].(*layers.GroupNormalization); g.Groups != 3 || g.Epsilon != 1e-5 {
		t.Errorf("GroupNormalization loaded with groups %d epsilon %g, want 3 and 1e-5", g.Groups, g.Epsilon)
	}
	want, err := m.Predict(context.Background(), x, EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := back.Predict(context.Background(), x, EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range want.Len() {
		if got.Index(i) != want.Index(i) {
			t.Fatalf("prediction %d: loaded %g, saved %g", i, got.Index(i), want.Index(i))
		}
	}
}
