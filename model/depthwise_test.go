package model_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/safetensors"
	"github.com/myelin-go/myelin/tensor"
)

// depthwiseCNN is a MobileNet-style block at test size: 8×8×2 images, a
// 3×3 depthwise convolution with multiplier 2 and "same" padding, batch
// normalization and ReLU, global average pooling and a softmax Dense.
func depthwiseCNN() *model.Sequential {
	dw := layers.NewDepthwiseConv2D(layers.Size2{3, 3}, nn.Linear)
	dw.DepthMultiplier, dw.Padding = 2, nn.Same
	return model.NewSequential(
		layers.NewReshape(8, 8, 2),
		dw,
		layers.NewBatchNormalization(),
		layers.NewActivation(nn.ActReLU),
		layers.NewGlobalAveragePooling2D(),
		layers.NewDense(3, nn.ActSoftmax),
	)
}

// depthwiseData returns n samples of 8·8·2 features whose class (one-hot,
// of 3) is which of three channel patterns the image's mean favours.
func depthwiseData(n int) (x, y *tensor.Tensor) {
	rng := rand.New(rand.NewPCG(21, 22))
	x, y = tensor.New(tensor.Float32, n, 128), tensor.New(tensor.Float32, n, 3)
	for i := range n {
		k := i % 3
		for j := range 128 {
			v := rng.NormFloat64()
			if ch := j % 2; (k == 0 && ch == 0) || (k == 1 && ch == 1) {
				v += 1
			}
			x.Set(v, i, j)
		}
		y.Set(1, i, k)
	}
	return x, y
}

// TestDepthwiseCNNSaveLoad trains depthwiseCNN a few steps, checks its
// Summary and the Keras names of its weights in the saved file, loads the
// file back, and requires the loaded model's architecture and its
// predictions, bit for bit, to be the trained model's.
func TestDepthwiseCNNSaveLoad(t *testing.T) {
	x, y := depthwiseData(96)
	m := compiled(t, depthwiseCNN())
	m.Seed = 5
	if err := m.Build(128); err != nil {
		t.Fatal(err)
	}
	init := stateHash(t, m)
	h, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 3, BatchSize: 16})
	if err != nil {
		t.Fatal(err)
	}
	if stateHash(t, m) == init {
		t.Fatal("training did not change the weights")
	}
	if l := h.Metrics["loss"]; !(l[len(l)-1] < l[0]) {
		t.Errorf("loss went from %v to %v, want it to fall", l[0], l[len(l)-1])
	}
	if n := m.Layers[1].Name(); n != "depthwise_conv2d" {
		t.Errorf("DepthwiseConv2D is named %q, want depthwise_conv2d", n)
	}
	var b bytes.Buffer
	if err := m.Summary(&b); err != nil {
		t.Fatal(err)
	}
	// 3·3·2·2 kernel values and 4 biases.
	for _, want := range []string{"depthwise_conv2d (DepthwiseConv2D)", "(None, 8, 8, 4)", "│            40 │"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("Summary lacks %q:\n%s", want, b.String())
		}
	}
	path := t.TempDir() + "/dw.safetensors"
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, tt := range f.Tensors {
		names[tt.Name] = true
	}
	for _, want := range []string{"depthwise_conv2d/depthwise_kernel", "depthwise_conv2d/bias"} {
		if !names[want] {
			t.Errorf("saved file lacks tensor %s (has %v)", want, names)
		}
	}
	l, err := model.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	a1, err := m.Architecture()
	if err != nil {
		t.Fatal(err)
	}
	a2, err := l.Architecture()
	if err != nil {
		t.Fatal(err)
	}
	if string(a1) != string(a2) {
		t.Errorf("architecture after Load:\n%s\nwant\n%s", a2, a1)
	}
	ctx := context.Background()
	p1, err := m.Predict(ctx, x, model.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := l.Predict(ctx, x, model.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a, b := tensorHash(p1), tensorHash(p2); a != b {
		t.Errorf("predictions after Load hash %s, want %s", b, a)
	}
}
