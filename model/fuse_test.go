package model

import (
	"context"
	"math"
	"testing"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/data/mnist"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/tensor"
)

// TestFusedNormSameBits checks that the CNN's inference, which runs each
// Conv2D → BatchNormalization → ReLU → MaxPooling2D as one op
// (nn.Conv2DNormalize),
// gives the bits of the layers run one by one (Trace keeps every layer's
// output, so it fuses nothing), and that the walk does fuse them at
// inference and not in training.
func TestFusedNormSameBits(t *testing.T) {
	train, test, err := mnist.Load()
	if err != nil {
		t.Fatal(err)
	}
	train = train.Slice(0, 128)
	x := floatX(t, train)
	y := tensor.FromFloat32(train.OneHot(), train.N, 10)
	m := exampleCNN(t)
	if _, err := m.Fit(context.Background(), x, y, FitOptions{Epochs: 1, BatchSize: 32}); err != nil {
		t.Fatal(err) // moving statistics that are not the initial ones
	}

	tp := autodiff.NewTape()
	tp.NoGrad = true
	infer := &layers.Pass{Tape: tp}
	for _, c := range []struct {
		layer, runs int
		in          tensor.Shape
	}{
		{0, 0, tensor.Shape{2, 784}},        // Reshape: nothing to fuse
		{1, 4, tensor.Shape{2, 28, 28, 1}},  // Conv2D, BatchNormalization, ReLU, MaxPooling2D
		{5, 4, tensor.Shape{2, 13, 13, 32}}, // the second four
	} {
		if _, n := fuseNorm(m.Layers, c.layer, len(m.Layers), infer, tp.Const(tensor.New(tensor.Float32, c.in...)), false); n != c.runs {
			t.Fatalf("inference walk at layer %d (%s) runs %d layers as one, want %d", c.layer, m.Layers[c.layer].Type(), n, c.runs)
		}
	}
	tr := autodiff.NewTape()
	if _, n := fuseNorm(m.Layers, 1, len(m.Layers), &layers.Pass{Tape: tr, Training: true}, tr.Const(tensor.New(tensor.Float32, 2, 28, 28, 1)), false); n != 0 {
		t.Fatalf("training walk fuses %d layers; batch norm must use the batch's statistics there", n)
	}

	tx := floatX(t, test.Slice(0, 300))
	got, err := m.Predict(context.Background(), tx, EvalOptions{BatchSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	outs, err := m.Trace(tx)
	if err != nil {
		t.Fatal(err)
	}
	want := outs[len(outs)-1]
	for i, v := range want.Float32s() {
		if g := got.Float32s()[i]; math.Float32bits(g) != math.Float32bits(v) {
			t.Fatalf("Predict [%d] = %v, want %v as the layers one by one give it", i, g, v)
		}
	}
}
