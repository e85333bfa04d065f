package layers_test

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// TestSpatialLayersRoundTrip writes each new layer's configuration, makes
// a layer from it through the registry, and checks that the copy writes
// the same configuration and builds to the same shape and weight count as
// its WeightCount promised.
func TestSpatialLayersRoundTrip(t *testing.T) {
	same := layers.NewConv2D(5, layers.Size2{3, 2}, nn.ActTanh)
	same.Padding, same.Strides, same.DilationRate, same.UseBias = nn.Same, layers.Size2{2, 1}, layers.Size2{1, 2}, false
	avg := layers.NewAveragePooling2D(layers.Size2{3, 3})
	avg.Strides, avg.Padding = layers.Size2{1, 2}, nn.Same
	for _, c := range []struct {
		l       layers.Layer
		in, out tensor.Shape
		weights int
	}{
		{layers.NewConv2D(4, layers.Size2{3, 3}, nn.ActReLU), tensor.Shape{7, 6, 2}, tensor.Shape{5, 4, 4}, 3*3*2*4 + 4},
		{same, tensor.Shape{7, 6, 2}, tensor.Shape{4, 6, 5}, 3 * 2 * 2 * 5},
		{layers.NewMaxPooling2D(layers.Size2{2, 2}), tensor.Shape{7, 6, 3}, tensor.Shape{3, 3, 3}, 0},
		{avg, tensor.Shape{7, 6, 3}, tensor.Shape{7, 3, 3}, 0},
		{layers.NewGlobalAveragePooling2D(), tensor.Shape{7, 6, 3}, tensor.Shape{3}, 0},
		{layers.NewReshape(-1, 2), tensor.Shape{6, 2, 3}, tensor.Shape{18, 2}, 0},
		{layers.NewFlatten(), tensor.Shape{6, 2, 3}, tensor.Shape{36}, 0},
		{layers.NewRescaling(1.0/255, -0.5), tensor.Shape{6, 2}, tensor.Shape{6, 2}, 0},
		{layers.NewBatchNormalization(), tensor.Shape{6, 2, 3}, tensor.Shape{6, 2, 3}, 4 * 3},
	} {
		t.Run(c.l.Type(), func(t *testing.T) {
			cfg, err := layers.Config(c.l)
			if err != nil {
				t.Fatal(err)
			}
			l, err := layers.New(c.l.Type(), cfg)
			if err != nil {
				t.Fatalf("New(%s): %v", cfg, err)
			}
			if cfg2, _ := layers.Config(l); string(cfg2) != string(cfg) {
				t.Errorf("config after New: got %s, want %s", cfg2, cfg)
			}
			wc, ok := l.(layers.WeightCounter)
			if !ok {
				t.Fatalf("%s is not a WeightCounter", l.Type())
			}
			n, wout, ok := wc.WeightCount(c.in)
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
			got := 0
			for _, w := range l.Weights() {
				got += w.Value.Len()
			}
			if got != c.weights {
				t.Errorf("built weights hold %d values, want %d", got, c.weights)
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

// TestSpatialLayerConfigs reads Keras-style configurations, including a
// single number for a size, and refuses bad ones.
func TestSpatialLayerConfigs(t *testing.T) {
	l, err := layers.New("Conv2D", json.RawMessage(`{"filters": 8, "kernel_size": 3, "strides": 2, "padding": "same", "activation": "relu"}`))
	if err != nil {
		t.Fatal(err)
	}
	c := l.(*layers.Conv2D)
	if c.KernelSize != (layers.Size2{3, 3}) || c.Strides != (layers.Size2{2, 2}) || c.Padding != nn.Same || c.DilationRate != (layers.Size2{1, 1}) || !c.UseBias {
		t.Errorf("got %+v, want a 3×3 kernel, strides 2, same padding, dilation 1 and a bias", c)
	}
	p, err := layers.New("MaxPooling2D", json.RawMessage(`{"pool_size": [3, 2]}`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg, _ := layers.Config(p); strings.Contains(string(cfg), "strides") {
		t.Errorf("default strides written as %s, want them left out (Keras's None)", cfg)
	}
	for _, bad := range []struct{ typ, cfg string }{
		{"Conv2D", `{"filters": 0, "kernel_size": 3}`},
		{"Conv2D", `{"filters": 4, "kernel_size": [3, 0]}`},
		{"Conv2D", `{"filters": 4, "kernel_size": [3, 3, 3]}`},
		{"Conv2D", `{"filters": 4, "kernel_size": 3, "padding": "full"}`},
		{"Conv2D", `{"filters": 4, "kernel_size": 3, "dilation_rate": 0}`},
		{"MaxPooling2D", `{"pool_size": [2, 2], "strides": [0, 1]}`},
		{"AveragePooling2D", `{"pool_size": -1}`},
		{"Reshape", `{"target_shape": [-1, -1]}`},
		{"Reshape", `{"target_shape": []}`},
		{"Rescaling", `{"scale": 1, "offset": 1, "bias": 2}`},
	} {
		if _, err := layers.New(bad.typ, json.RawMessage(bad.cfg)); err == nil {
			t.Errorf("New(%s, %s): no error", bad.typ, bad.cfg)
		}
	}
	for _, bad := range []struct {
		l  layers.Layer
		in tensor.Shape
	}{
		{layers.NewConv2D(4, layers.Size2{5, 5}, nn.Linear), tensor.Shape{4, 8, 1}},
		{layers.NewConv2D(4, layers.Size2{3, 3}, nn.Linear), tensor.Shape{784}},
		{layers.NewMaxPooling2D(layers.Size2{2, 2}), tensor.Shape{1, 5, 2}},
		{layers.NewReshape(28, 28, 1), tensor.Shape{780}},
	} {
		if _, err := bad.l.Build(bad.in, tensor.Float32, rand.New(rand.NewPCG(1, 2))); err == nil {
			t.Errorf("%s.Build(%s): no error", bad.l.Type(), bad.in)
		}
	}
}

// TestBatchNormalizationSpatial checks that BatchNormalization on images
// (N, H, W, C) normalizes each channel over (N, H, W): exactly, bit for
// bit, what it does to the same data seen as (N·H·W, C) rows, in training
// (output, gradients, moving statistics) and at inference.
func TestBatchNormalizationSpatial(t *testing.T) {
	for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
		t.Run(dt.String(), func(t *testing.T) {
			const n, h, w, c = 3, 5, 4, 6
			rng := rand.New(rand.NewPCG(7, 8))
			x := tensor.New(dt, n, h, w, c)
			r := tensor.New(dt, n, h, w, c)
			for i := range x.Len() {
				x.SetIndex(i, 2+3*rng.NormFloat64())
				r.SetIndex(i, rng.NormFloat64())
			}
			img, rows := layers.NewBatchNormalization(), layers.NewBatchNormalization()
			img.Momentum, rows.Momentum = 0.5, 0.5
			if _, err := img.Build(tensor.Shape{h, w, c}, dt, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := rows.Build(tensor.Shape{c}, dt, nil); err != nil {
				t.Fatal(err)
			}
			for i, p := range []*autodiff.Var{img.Gamma, img.Beta, rows.Gamma, rows.Beta} {
				for j := range c {
					p.Value.SetIndex(j, 1+0.1*float64(j+i%2))
				}
			}
			run := func(l *layers.BatchNormalization, shape []int, training bool) (y, dx *tensor.Tensor) {
				tp := autodiff.NewTape()
				xv := tp.Variable(x.Reshape(shape...))
				out := l.Forward(&layers.Pass{Tape: tp, Training: training}, xv)
				tp.Backward(nn.Sum(tp, nn.Mul(tp, out, tp.Const(r.Reshape(shape...))), nn.AllAxes))
				l.Commit()
				return out.Value.Clone(), xv.Grad.Clone()
			}
			for _, training := range []bool{true, false} {
				y1, dx1 := run(img, []int{n, h, w, c}, training)
				y2, dx2 := run(rows, []int{n * h * w, c}, training)
				same(t, "y", y1, y2)
				same(t, "dx", dx1, dx2)
				same(t, "dgamma", img.Gamma.Grad, rows.Gamma.Grad)
				same(t, "dbeta", img.Beta.Grad, rows.Beta.Grad)
				same(t, "moving_mean", img.MovingMean, rows.MovingMean)
				same(t, "moving_variance", img.MovingVariance, rows.MovingVariance)
			}
			if img.MovingMean.Index(0) == 0 {
				t.Error("the moving mean did not move: the comparison of statistics is vacuous")
			}
		})
	}
}

func same(t *testing.T, what string, got, want *tensor.Tensor) {
	t.Helper()
	if got.Len() != want.Len() {
		t.Fatalf("%s: %d values, want %d", what, got.Len(), want.Len())
	}
	for i := range got.Len() {
		if got.Index(i) != want.Index(i) {
			t.Fatalf("%s element %d: got %.17g (images), want %.17g (rows)", what, i, got.Index(i), want.Index(i))
		}
	}
}
