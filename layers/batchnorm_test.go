package layers_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/internal/golden"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

func tt(g golden.Tensor) *tensor.Tensor {
	return tensor.FromFloat64(append([]float64(nil), g.Data...), g.Shape...)
}

func near(t *testing.T, what string, got *tensor.Tensor, want golden.Tensor, tol float64) {
	t.Helper()
	if !got.Shape().Equal(want.Shape) {
		t.Fatalf("%s: shape %s, want %v", what, got.Shape(), want.Shape)
	}
	if i, ok := golden.Close(got.Float64s(), want.Data, tol, tol); !ok {
		t.Fatalf("%s[%d] = %.12g, want %.12g", what, i, got.Float64s()[i], want.Data[i])
	}
}

// TestBatchNormGolden checks the forward pass, the backward pass and the
// moving statistics against PyTorch (testdata/golden/batchnorm.json), in
// both conventions: Keras's (momentum 0.99, biased variance) and PyTorch's
// (momentum 0.1 ≙ Keras 0.9, unbiased variance).
func TestBatchNormGolden(t *testing.T) {
	f, err := golden.Load("batchnorm")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range f.Cases {
		t.Run(c.Name(), func(t *testing.T) {
			x := tt(c.MustTensor(t, "x"))
			eps := c.MustFloat(t, "eps")
			tp := autodiff.NewTape()
			xv := tp.Variable(x)
			g := autodiff.NewParam(tt(c.MustTensor(t, "gamma")), "gamma")
			b := autodiff.NewParam(tt(c.MustTensor(t, "beta")), "beta")
			y, mean, variance := nn.BatchNorm(tp, xv, g, b, eps)
			near(t, "y", y.Value, c.MustTensor(t, "y"), 1e-10)
			near(t, "batch_mean", mean, c.MustTensor(t, "batch_mean"), 1e-12)
			near(t, "batch_var", variance, c.MustTensor(t, "batch_var"), 1e-12)
			tp.BackwardFrom(y, tt(c.MustTensor(t, "dy")))
			near(t, "dx", xv.Grad, c.MustTensor(t, "dx"), 1e-9)
			near(t, "dgamma", g.Grad, c.MustTensor(t, "dgamma"), 1e-10)
			near(t, "dbeta", b.Grad, c.MustTensor(t, "dbeta"), 1e-10)

			steps := c.MustTensors(t, "x_steps")
			conventions := []struct {
				name       string
				layer      *layers.BatchNormalization
				mean, vari string
				infer      string
				eps        float64
			}{
				{"keras", layers.NewBatchNormalization(), "moving_mean_keras", "moving_variance_keras", "y_infer_keras", eps},
				{"torch", &layers.BatchNormalization{Momentum: 1 - c.MustFloat(t, "momentum_torch"), Epsilon: c.MustFloat(t, "eps_torch"), UnbiasedMovingVariance: true}, "running_mean_torch", "running_var_torch", "y_infer_torch", c.MustFloat(t, "eps_torch")},
			}
			for _, conv := range conventions {
				l := conv.layer
				shape := x.Shape()[1:]
				if _, err := l.Build(shape, tensor.Float64, rand.New(rand.NewPCG(1, 1))); err != nil {
					t.Fatal(err)
				}
				// Train mode needs gamma and beta as in the golden run for
				// the inference check: copy them in (torch's run uses them too).
				if l.Gamma != nil {
					l.Gamma.Value.CopyFrom(tt(c.MustTensor(t, "gamma")))
					l.Beta.Value.CopyFrom(tt(c.MustTensor(t, "beta")))
				}
				wantMean, wantVar := c.MustTensors(t, conv.mean), c.MustTensors(t, conv.vari)
				for k, xs := range steps {
					tp := autodiff.NewTape()
					l.Forward(&layers.Pass{Tape: tp, Training: true}, tp.Const(tt(xs)))
					l.Commit()
					near(t, conv.name+" moving mean step "+string(rune('1'+k)), l.MovingMean, wantMean[k], 1e-12)
					near(t, conv.name+" moving variance step "+string(rune('1'+k)), l.MovingVariance, wantVar[k], 1e-12)
				}
				if !c.Has(conv.infer) {
					continue
				}
				tp := autodiff.NewTape()
				yi := l.Forward(&layers.Pass{Tape: tp}, tp.Const(tt(c.MustTensor(t, "x_infer"))))
				if l.Gamma == nil {
					continue
				}
				near(t, conv.name+" inference output", yi.Value, c.MustTensor(t, conv.infer), 1e-10)
			}
		})
	}
}

func TestBatchNormMomentumZeroInferenceEqualsTraining(t *testing.T) {
	l := layers.NewBatchNormalization()
	l.Momentum = 0
	if _, err := l.Build(tensor.Shape{3}, tensor.Float64, nil); err != nil {
		t.Fatal(err)
	}
	x := tensor.FromFloat64([]float64{1, 2, 3, 4, 5, 7, -1, 0, 2, 3, 3, 3}, 4, 3)
	tp := autodiff.NewTape()
	yt := l.Forward(&layers.Pass{Tape: tp, Training: true}, tp.Const(x)).Value.Clone()
	l.Commit()
	yi := l.Forward(&layers.Pass{Tape: tp}, tp.Const(x)).Value
	for i := range yt.Len() {
		if d := yt.Index(i) - yi.Index(i); d > 1e-12 || d < -1e-12 {
			t.Fatalf("element %d: training %g, inference %g", i, yt.Index(i), yi.Index(i))
		}
	}
}

func TestBatchNormKerasBiasedVariance(t *testing.T) {
	// Keras's own test: momentum 0, batch {1, 2} ⇒ moving variance 0.25.
	l := layers.NewBatchNormalization()
	l.Momentum = 0
	l.Build(tensor.Shape{1}, tensor.Float64, nil)
	tp := autodiff.NewTape()
	l.Forward(&layers.Pass{Tape: tp, Training: true}, tp.Const(tensor.FromFloat64([]float64{1, 2}, 2, 1)))
	l.Commit()
	if got := l.MovingVariance.Index(0); got != 0.25 {
		t.Fatalf("moving variance %g, want 0.25", got)
	}
	if got := l.MovingMean.Index(0); got != 1.5 {
		t.Fatalf("moving mean %g, want 1.5", got)
	}
}

func TestBatchNormDiscardAndNonFinite(t *testing.T) {
	l := layers.NewBatchNormalization()
	l.Build(tensor.Shape{2}, tensor.Float64, nil)
	tp := autodiff.NewTape()
	l.Forward(&layers.Pass{Tape: tp, Training: true}, tp.Const(tensor.FromFloat64([]float64{1, 2, 3, 4}, 2, 2)))
	l.Discard()
	l.Commit()
	if l.MovingMean.Index(0) != 0 || l.MovingVariance.Index(0) != 1 {
		t.Fatalf("discarded statistics were committed: %v %v", l.MovingMean, l.MovingVariance)
	}
	nan := tensor.FromFloat64([]float64{1, 2, 3, 4}, 2, 2)
	nan.SetIndex(0, 0*1e308*1e308)
	l.Forward(&layers.Pass{Tape: tp, Training: true}, tp.Const(nan))
	l.Commit()
	if !l.MovingMean.AllFinite() || !l.MovingVariance.AllFinite() {
		t.Fatalf("non-finite statistics were committed: %v %v", l.MovingMean, l.MovingVariance)
	}
}

func TestWeightsTrainableAndState(t *testing.T) {
	d := layers.NewDense(64, nn.ActReLU)
	d.SetName("dense")
	if _, err := d.Build(tensor.Shape{784}, tensor.Float32, rand.New(rand.NewPCG(1, 2))); err != nil {
		t.Fatal(err)
	}
	bn := layers.NewBatchNormalization()
	bn.SetName("bn")
	bn.Build(tensor.Shape{64}, tensor.Float32, nil)
	count := func(ws []layers.Weight) (tr, nt int) {
		for _, w := range ws {
			if w.Trainable() {
				tr += w.Value.Len()
			} else {
				nt += w.Value.Len()
			}
		}
		return
	}
	if tr, nt := count(d.Weights()); tr != 50240 || nt != 0 {
		t.Errorf("Dense(64) on 784: %d trainable, %d non-trainable; want 50240, 0", tr, nt)
	}
	if tr, nt := count(bn.Weights()); tr != 128 || nt != 128 {
		t.Errorf("BatchNormalization(64): %d trainable, %d non-trainable; want 128, 128", tr, nt)
	}
	bn.Frozen = true
	bn.Build(tensor.Shape{64}, tensor.Float32, nil)
	if tr, nt := count(bn.Weights()); tr != 0 || nt != 256 {
		t.Errorf("frozen BatchNormalization(64): %d trainable, %d non-trainable; want 0, 256", tr, nt)
	}
}

// TestBuildErrors checks that each bad configuration fails Build with an
// error naming the layer and what is wrong with it.
func TestBuildErrors(t *testing.T) {
	cases := []struct {
		name string
		l    layers.Layer
		in   tensor.Shape
		want string
	}{
		{"dense zero units", layers.NewDense(0, nn.Linear), tensor.Shape{3}, "layers: Dense: units 0 must be positive"},
		{"dense input_dim mismatch", &layers.Dense{Units: 2, InputDim: 5, KernelInitializer: layers.GlorotUniform, BiasInitializer: layers.Zeros}, tensor.Shape{3},
			"input has 3 features, layer was declared with input_dim 5"},
		{"dense rank 2 input", layers.NewDense(2, nn.Linear), tensor.Shape{3, 4}, "input feature shape (3, 4), want one axis (features,)"},
		{"dense unknown activation", layers.NewDense(2, nn.ActSoftmax+1), tensor.Shape{3}, "layers: Dense: unknown activation"},
		{"bn momentum", &layers.BatchNormalization{Momentum: 1.5, Epsilon: 1e-3}, tensor.Shape{3}, "layers: BatchNormalization: momentum 1.5 outside [0, 1]"},
		{"bn epsilon", &layers.BatchNormalization{Momentum: 0.9}, tensor.Shape{3}, "layers: BatchNormalization: epsilon 0 must be positive and finite"},
		{"bn no feature axis", layers.NewBatchNormalization(), tensor.Shape{}, "layers: BatchNormalization: input feature shape () has no feature axis"},
		{"activation unknown", layers.NewActivation(nn.ActSoftmax + 1), tensor.Shape{3}, "layers: Activation: unknown activation"},
		{"dropout rate", layers.NewDropout(1), tensor.Shape{3}, "layers: Dropout: rate 1 outside [0, 1)"},
	}
	for _, c := range cases {
		_, err := c.l.Build(c.in, tensor.Float32, rand.New(rand.NewPCG(1, 1)))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Build(%s): got error %v, want one containing %q", c.name, c.in, err, c.want)
		}
	}
}

func TestInitializerStatistics(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, c := range []struct {
		init    layers.Initializer
		wantStd float64
	}{
		{layers.GlorotUniform, 0.0447}, // √(2/(500+500))
		{layers.GlorotNormal, 0.0447},
		{layers.HeNormal, 0.0632}, // √(2/500)
		{layers.HeUniform, 0.0632},
		{layers.RandomNormal(0.01), 0.01},
	} {
		w := tensor.New(tensor.Float64, 500, 500)
		c.init.Fill(w, 500, 500, rng)
		var s, s2 float64
		for _, v := range w.Float64s() {
			s += v
			s2 += v * v
		}
		n := float64(w.Len())
		std := math.Sqrt(s2/n - (s/n)*(s/n))
		if std < c.wantStd*0.97 || std > c.wantStd*1.03 {
			t.Errorf("%s: std %.4f, want %.4f", c.init.Kind, std, c.wantStd)
		}
	}
}

func TestConfigRoundTrip(t *testing.T) {
	d := layers.NewDense(10, nn.ActSoftmax)
	d.SetName("out")
	cfg, err := layers.Config(d)
	if err != nil {
		t.Fatal(err)
	}
	l, err := layers.New("Dense", cfg)
	if err != nil {
		t.Fatal(err)
	}
	d2 := l.(*layers.Dense)
	if d2.Units != 10 || d2.Activation != nn.ActSoftmax || d2.Name() != "out" || !d2.UseBias || d2.KernelInitializer != layers.GlorotUniform {
		t.Fatalf("round trip of %s gave %+v", cfg, d2)
	}
	for _, bad := range []struct{ typ, cfg string }{
		{"Conv2D", `{}`},
		{"Dense", `{"units": 3, "colour": "red"}`},
		{"Dense", `{"units": 3, "activation": "swish"}`},
		{"Dense", `{"units": -3}`},
		{"Dense", `{"units": 3, "kernel_initializer": "magic"}`},
		{"BatchNormalization", `{"momentum": 2, "epsilon": 0.001}`},
	} {
		if _, err := layers.New(bad.typ, []byte(bad.cfg)); err == nil {
			t.Errorf("New(%s, %s) succeeded, want an error", bad.typ, bad.cfg)
		}
	}
}

// TestNewErrors checks that New names an unknown type with the registered
// ones, sorted, and rejects unknown fields and duplicate keys.
func TestNewErrors(t *testing.T) {
	for _, c := range []struct {
		typ, cfg, want string
	}{
		{"Conv9D", `{}`, `layers: unknown layer type "Conv9D" (registered: Activation, AveragePooling2D, BatchNormalization, Conv2D, Dense, DepthwiseConv2D, Dropout`},
		{"Dense", `{"units": 2, "size": 3}`, `layers: Dense config: json: unknown field "size"`},
		{"Dense", `{"units": 2, "Units": 3}`, `key "Units": want unique keys`},
		{"Dense", `{"units": 0}`, `layers: Dense: units 0 must be positive`},
		{"Dense", `{"units": 2, "kernel_initializer": {"kind": "zeros", "seed": 1}}`, `unknown field "seed"`},
		{"Dense", `{"units": 2, "kernel_initializer": "glorot"}`, `layers: unknown initializer "glorot"`},
	} {
		if _, err := layers.New(c.typ, []byte(c.cfg)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%s, %s): got error %v, want one containing %q", c.typ, c.cfg, err, c.want)
		}
	}
}

// TestRegisterPanics checks that a type cannot be registered twice, nor
// with an empty name or nil factory.
func TestRegisterPanics(t *testing.T) {
	for _, c := range []struct {
		name    string
		typ     string
		factory func() layers.Layer
		want    string
	}{
		{"duplicate", "Dense", func() layers.Layer { return layers.NewDense(1, 0) }, "layers: Register: type Dense registered twice"},
		{"empty", "", func() layers.Layer { return layers.NewDense(1, 0) }, "layers: Register: empty type name"},
		{"nil factory", "Nothing", nil, "layers: Register: nil factory for Nothing"},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), c.want) {
					t.Errorf("Register(%q): got panic %v, want one containing %q", c.typ, r, c.want)
				}
			}()
			layers.Register(c.typ, c.factory)
		})
	}
}

// TestNewFactoryMismatch checks that New refuses a factory whose layer
// does not have the registered type name.
func TestNewFactoryMismatch(t *testing.T) {
	layers.Register("MislabelledDense", func() layers.Layer { return layers.NewDense(1, nn.Linear) })
	_, err := layers.New("MislabelledDense", nil)
	if want := `layers: the factory registered for "MislabelledDense" made a layer of type "Dense"`; err == nil || err.Error() != want {
		t.Fatalf("got error %v, want %q", err, want)
	}
}
