package layers_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// TestDepthwiseConv2DRoundTrip writes DepthwiseConv2D configurations,
// makes layers from them through the registry, and checks that each copy
// writes the same configuration, builds to the shape and weight count
// WeightCount promised, names its weights as Keras does, and runs Forward
// to that shape.
func TestDepthwiseConv2DRoundTrip(t *testing.T) {
	wide := layers.NewDepthwiseConv2D(layers.Size2{3, 2}, nn.ActTanh)
	wide.DepthMultiplier, wide.Padding, wide.Strides, wide.DilationRate, wide.UseBias = 3, nn.Same, layers.Size2{2, 1}, layers.Size2{1, 2}, false
	for _, c := range []struct {
		name    string
		l       *layers.DepthwiseConv2D
		in, out tensor.Shape
		weights int
	}{
		{"default", layers.NewDepthwiseConv2D(layers.Size2{3, 3}, nn.ActReLU), tensor.Shape{7, 6, 2}, tensor.Shape{5, 4, 2}, 3*3*2 + 2},
		{"multiplier3", wide, tensor.Shape{7, 6, 2}, tensor.Shape{4, 6, 6}, 3 * 2 * 2 * 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.l.SetName("dw")
			cfg, err := layers.Config(c.l)
			if err != nil {
				t.Fatal(err)
			}
			l, err := layers.New("DepthwiseConv2D", cfg)
			if err != nil {
				t.Fatalf("New(%s): %v", cfg, err)
			}
			if cfg2, _ := layers.Config(l); string(cfg2) != string(cfg) {
				t.Errorf("config after New: got %s, want %s", cfg2, cfg)
			}
			n, wout, ok := l.(layers.WeightCounter).WeightCount(c.in)
			if !ok || n != uint64(c.weights) || !wout.Equal(c.out) {
				t.Errorf("WeightCount(%s) = %d, %s, %v; want %d, %s, true", c.in, n, wout, ok, c.weights, c.out)
			}
			out, err := l.Build(c.in, tensor.Float32, rand.New(rand.NewPCG(1, 2)))
			if err != nil {
				t.Fatal(err)
			}
			if !out.Equal(c.out) {
				t.Errorf("Build(%s) = %s, want %s", c.in, out, c.out)
			}
			got, names := 0, []string{}
			for _, w := range l.Weights() {
				got += w.Value.Len()
				names = append(names, w.Name)
			}
			if got != c.weights {
				t.Errorf("built weights hold %d values, want %d", got, c.weights)
			}
			want := "depthwise_kernel"
			if c.l.UseBias {
				want += " bias"
			}
			if s := strings.Join(names, " "); s != want {
				t.Errorf("weights named %q, want %q", s, want)
			}
			d := l.(*layers.DepthwiseConv2D)
			if d.DepthwiseKernel.Name != "dw/depthwise_kernel" {
				t.Errorf("kernel parameter named %q, want dw/depthwise_kernel", d.DepthwiseKernel.Name)
			}
			if ks := d.DepthwiseKernel.Shape(); !ks.Equal(tensor.Shape{c.l.KernelSize[0], c.l.KernelSize[1], c.in[2], c.l.DepthMultiplier}) {
				t.Errorf("kernel shape %s, want (kh, kw, channels, depth_multiplier)", ks)
			}
			tp := autodiff.NewTape()
			x := tp.Const(tensor.New(tensor.Float32, append(tensor.Shape{2}, c.in...)...))
			y := l.Forward(&layers.Pass{Tape: tp}, x)
			if want := append(tensor.Shape{2}, c.out...); !y.Shape().Equal(want) {
				t.Errorf("Forward: got shape %s, want %s", y.Shape(), want)
			}
		})
	}
}

// TestDepthwiseConv2DConfigs reads Keras-style configurations, with
// Keras's defaults for the fields left out, and refuses bad ones with an
// error that names the problem.
func TestDepthwiseConv2DConfigs(t *testing.T) {
	l, err := layers.New("DepthwiseConv2D", json.RawMessage(`{"kernel_size": 3, "strides": 2, "padding": "same", "depth_multiplier": 2, "activation": "relu", "depthwise_initializer": "he_normal"}`))
	if err != nil {
		t.Fatal(err)
	}
	c := l.(*layers.DepthwiseConv2D)
	if c.KernelSize != (layers.Size2{3, 3}) || c.Strides != (layers.Size2{2, 2}) || c.Padding != nn.Same || c.DepthMultiplier != 2 ||
		c.DilationRate != (layers.Size2{1, 1}) || c.Activation != nn.ActReLU || !c.UseBias ||
		c.DepthwiseInitializer != layers.HeNormal || c.BiasInitializer != layers.Zeros {
		t.Errorf("got %+v, want a 3×3 kernel, strides 2, same padding, multiplier 2, dilation 1, relu, a zero bias and a he_normal kernel", c)
	}
	l, err = layers.New("DepthwiseConv2D", json.RawMessage(`{"kernel_size": [1, 2]}`))
	if err != nil {
		t.Fatal(err)
	}
	if c := l.(*layers.DepthwiseConv2D); c.DepthMultiplier != 1 || c.Strides != (layers.Size2{1, 1}) || c.Padding != nn.Valid ||
		c.Activation != nn.Linear || !c.UseBias || c.DepthwiseInitializer != layers.GlorotUniform {
		t.Errorf("defaults: got %+v, want Keras's", c)
	}
	for _, bad := range []struct{ cfg, want string }{
		{`{}`, "kernel_size [0 0] must be positive"},
		{`{"kernel_size": [3, 0]}`, "kernel_size [3 0] must be positive"},
		{`{"kernel_size": [3, 3, 3]}`, "want a number or [rows, columns]"},
		{`{"kernel_size": 3, "depth_multiplier": 0}`, "depth_multiplier 0 must be positive"},
		{`{"kernel_size": 3, "depth_multiplier": -2}`, "depth_multiplier -2 must be positive"},
		{`{"kernel_size": 3, "strides": [1, -1]}`, "strides [1 -1] must be positive"},
		{`{"kernel_size": 3, "dilation_rate": 0}`, "dilation_rate [0 0] must be positive"},
		{`{"kernel_size": 3, "padding": "full"}`, `unknown padding "full"`},
		{`{"kernel_size": 3, "activation": "swish"}`, "swish"},
		{`{"kernel_size": 3, "depthwise_initializer": "orthogonal"}`, `unknown initializer "orthogonal"`},
		{`{"kernel_size": 3, "filters": 8}`, `unknown field "filters"`},
	} {
		if _, err := layers.New("DepthwiseConv2D", json.RawMessage(bad.cfg)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("New(DepthwiseConv2D, %s): got error %v, want one containing %q", bad.cfg, err, bad.want)
		}
	}
	for _, bad := range []struct {
		l  *layers.DepthwiseConv2D
		in tensor.Shape
	}{
		{layers.NewDepthwiseConv2D(layers.Size2{5, 5}, nn.Linear), tensor.Shape{4, 8, 1}},
		{layers.NewDepthwiseConv2D(layers.Size2{3, 3}, nn.Linear), tensor.Shape{784}},
		{layers.NewDepthwiseConv2D(layers.Size2{3, 3}, nn.Linear), tensor.Shape{5, 5, 0}},
		{&layers.DepthwiseConv2D{KernelSize: layers.Size2{3, 3}, Strides: layers.Size2{1, 1}, DilationRate: layers.Size2{1, 1}, DepthMultiplier: 1}, tensor.Shape{5, 5, 1}}, // no initializer
	} {
		if _, err := bad.l.Build(bad.in, tensor.Float32, rand.New(rand.NewPCG(1, 2))); err == nil {
			t.Errorf("Build(%s) of %+v: no error", bad.in, bad.l)
		}
		if _, _, ok := bad.l.WeightCount(bad.in); ok {
			t.Errorf("WeightCount(%s) of %+v: ok, want false as Build fails", bad.in, bad.l)
		}
	}
	huge := layers.NewDepthwiseConv2D(layers.Size2{3, 3}, nn.Linear)
	huge.DepthMultiplier = math.MaxInt
	if _, err := huge.Build(tensor.Shape{5, 5, 2}, tensor.Float32, nil); err == nil {
		t.Error("Build with 2 channels × depth_multiplier MaxInt: no error")
	}
}

// TestDepthwiseConv2DInit checks the kernel's initializer sees Keras's
// fans for (kh, kw, channels, multiplier): glorot_uniform's limit is
// √(6/(kh·kw·channels + kh·kw·multiplier)), which the draws must fill but
// not pass. The bias starts at zero.
func TestDepthwiseConv2DInit(t *testing.T) {
	const kh, kw, c, m = 3, 5, 4, 2
	l := layers.NewDepthwiseConv2D(layers.Size2{kh, kw}, nn.Linear)
	l.DepthMultiplier = m
	if _, err := l.Build(tensor.Shape{9, 9, c}, tensor.Float64, rand.New(rand.NewPCG(3, 4))); err != nil {
		t.Fatal(err)
	}
	limit := math.Sqrt(6.0 / float64(kh*kw*c+kh*kw*m))
	var top float64
	for _, v := range l.DepthwiseKernel.Value.Float64s() {
		top = max(top, math.Abs(v))
	}
	if top > limit || top < 0.9*limit {
		t.Errorf("largest |kernel value| %g, want at most and near the glorot limit %g", top, limit)
	}
	for i, v := range l.Bias.Value.Float64s() {
		if v != 0 {
			t.Fatalf("bias[%d] = %g, want 0", i, v)
		}
	}
	if l.Bias.Value.Len() != c*m {
		t.Errorf("bias has %d values, want channels·multiplier = %d", l.Bias.Value.Len(), c*m)
	}
}

// TestDepthwiseConv2DForward checks that the layer is nn.DepthwiseConv2D
// on its own weights, that ForwardLinear leaves out the activation, and
// that Frozen stops training.
func TestDepthwiseConv2DForward(t *testing.T) {
	l := layers.NewDepthwiseConv2D(layers.Size2{2, 2}, nn.ActReLU)
	l.DepthMultiplier, l.Frozen = 2, true
	if _, err := l.Build(tensor.Shape{4, 4, 3}, tensor.Float64, rand.New(rand.NewPCG(5, 6))); err != nil {
		t.Fatal(err)
	}
	for i := range l.Bias.Value.Len() {
		l.Bias.Value.SetIndex(i, 0.1*float64(i)-0.3)
	}
	x := tensor.New(tensor.Float64, 2, 4, 4, 3)
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range x.Len() {
		x.SetIndex(i, rng.NormFloat64())
	}
	tp := autodiff.NewTape()
	xv := tp.Const(x)
	p := &layers.Pass{Tape: tp}
	got, lin := l.Forward(p, xv), l.ForwardLinear(p, xv)
	want := nn.DepthwiseConv2D(tp, xv, l.DepthwiseKernel, l.Bias, nn.Conv2DOptions{}, nn.Linear)
	for i := range want.Value.Len() {
		if lin.Value.Index(i) != want.Value.Index(i) || got.Value.Index(i) != max(0, want.Value.Index(i)) {
			t.Fatalf("element %d: Forward %g, ForwardLinear %g; want relu(%g) and %g", i, got.Value.Index(i), lin.Value.Index(i), want.Value.Index(i), want.Value.Index(i))
		}
	}
	if l.Act() != nn.ActReLU {
		t.Errorf("Act() = %s, want relu", l.Act())
	}
	for _, w := range l.Weights() {
		if w.Trainable() {
			t.Errorf("%s trains in a frozen layer", w.Name)
		}
	}
}
