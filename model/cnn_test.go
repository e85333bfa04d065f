package model_test

import (
	"context"
	"os"
	"runtime"
	"testing"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
)

// smallCNN is examples/cnn.json's shape at a size tests can train: two
// convolutions (the second with "same" padding and stride 2), spatial
// batch normalization, both poolings, Flatten and a softmax Dense.
func smallCNN() *model.Sequential {
	c2 := layers.NewConv2D(16, layers.Size2{3, 3}, nn.Linear)
	c2.Padding, c2.Strides = nn.Same, layers.Size2{2, 2}
	return model.NewSequential(
		layers.NewReshape(28, 28, 1),
		layers.NewConv2D(8, layers.Size2{3, 3}, nn.Linear),
		layers.NewBatchNormalization(),
		layers.NewActivation(nn.ActReLU),
		layers.NewMaxPooling2D(layers.Size2{2, 2}),
		c2,
		layers.NewBatchNormalization(),
		layers.NewActivation(nn.ActReLU),
		layers.NewAveragePooling2D(layers.Size2{2, 2}),
		layers.NewFlatten(),
		layers.NewDense(10, nn.ActSoftmax),
	)
}

// TestCNNDeterministicAcrossGOMAXPROCS trains smallCNN under GOMAXPROCS 1,
// 2 and 4 and requires bit-identical weights, state, optimizer slots,
// history and predictions. At batch 128 the first convolution's GEMM
// (128·26·26 rows, 8 filters, 9 taps ≈ 6.2M products) and its kernel
// gradient cross the kernel's parallel threshold, so the workers' block
// layout changes with the thread count.
func TestCNNDeterministicAcrossGOMAXPROCS(t *testing.T) {
	if testing.Short() {
		t.Skip("trains three small CNNs")
	}
	x, y, tx, _ := data(t, 300, 200)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var want, wantPred, init string
	for _, procs := range []int{1, 2, 4} {
		runtime.GOMAXPROCS(procs)
		m := compiled(t, smallCNN())
		m.Seed = 3
		if err := m.Build(784); err != nil {
			t.Fatal(err)
		}
		if init == "" {
			init = stateHash(t, m)
		}
		h, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 1, BatchSize: 128})
		if err != nil {
			t.Fatal(err)
		}
		got := stateHash(t, m) + historyHash(h)
		if got == init {
			t.Fatal("training did not change the weights: the hash cannot detect a difference")
		}
		pred, err := m.Predict(context.Background(), tx, model.EvalOptions{BatchSize: 200})
		if err != nil {
			t.Fatal(err)
		}
		if procs == 1 {
			want, wantPred = got, tensorHash(pred)
			continue
		}
		if got != want {
			t.Errorf("GOMAXPROCS=%d: weights/state/history hash %s, want %s (GOMAXPROCS=1)", procs, got, want)
		}
		if p := tensorHash(pred); p != wantPred {
			t.Errorf("GOMAXPROCS=%d: predictions hash %s, want %s (GOMAXPROCS=1)", procs, p, wantPred)
		}
	}
}

// TestCNNSaveLoad saves a trained smallCNN and loads it back: the weights
// are named as Keras names them (conv2d/kernel) and the predictions agree
// bit for bit.
func TestCNNSaveLoad(t *testing.T) {
	x, y, tx, _ := data(t, 128, 50)
	m := compiled(t, smallCNN())
	if err := m.Build(784); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 1, BatchSize: 64}); err != nil {
		t.Fatal(err)
	}
	if n := m.Layers[1].Name(); n != "conv2d" {
		t.Errorf("first Conv2D is named %q, want conv2d", n)
	}
	path := t.TempDir() + "/cnn.safetensors"
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	l, err := model.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p1, err := m.Predict(ctx, tx, model.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := l.Predict(ctx, tx, model.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a, b := tensorHash(p1), tensorHash(p2); a != b {
		t.Errorf("predictions after Load hash %s, want %s", b, a)
	}
}

// TestCNNExampleFile checks that examples/cnn.json describes the model
// ExampleSequential_cnn builds in Go: the same architecture JSON once both
// are read back.
func TestCNNExampleFile(t *testing.T) {
	b, err := os.ReadFile("../examples/cnn.json")
	if err != nil {
		t.Fatal(err)
	}
	fromFile, err := model.FromArchitecture(b)
	if err != nil {
		t.Fatal(err)
	}
	m := model.NewSequential(
		layers.NewReshape(28, 28, 1),
		layers.NewConv2D(32, layers.Size2{3, 3}, nn.Linear), layers.NewBatchNormalization(), layers.NewActivation(nn.ActReLU),
		layers.NewMaxPooling2D(layers.Size2{2, 2}),
		layers.NewConv2D(64, layers.Size2{3, 3}, nn.Linear), layers.NewBatchNormalization(), layers.NewActivation(nn.ActReLU),
		layers.NewMaxPooling2D(layers.Size2{2, 2}),
		layers.NewFlatten(),
		layers.NewDense(10, nn.ActSoftmax))
	m.Name, m.Seed = "cnn", 1
	if err := m.CompileFrom(model.CompileConfig{Optimizer: "adam", LearningRate: 0.002, LRSchedule: "cosine",
		Loss: "categorical_crossentropy", Metrics: []string{"accuracy"}}); err != nil {
		t.Fatal(err)
	}
	if err := m.Build(784); err != nil {
		t.Fatal(err)
	}
	got, err := fromFile.Architecture()
	if err != nil {
		t.Fatal(err)
	}
	want, err := m.Architecture()
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("examples/cnn.json reads as\n%s\nwant\n%s", got, want)
	}
}
