package model_test

import (
	"context"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// Scale is a layer defined outside myelin: it multiplies each feature by
// a trained factor, y = x ⊙ w. Embedding layers.Base gives it a name and
// Frozen; Register makes model files able to name it.
type Scale struct {
	layers.Base
	W *autodiff.Var `json:"-"` // one factor per feature, starting at 1
}

func init() { layers.Register("Scale", func() layers.Layer { return &Scale{} }) }

// Type is the name Register was given.
func (l *Scale) Type() string { return "Scale" }

// Build makes one factor per feature.
func (l *Scale) Build(in tensor.Shape, dt tensor.DType, _ *rand.Rand) (tensor.Shape, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("Scale: input feature shape %s, want (features,)", in)
	}
	l.W = autodiff.NewParam(tensor.Ones(dt, in[0]), l.Name()+"/w")
	l.W.SetTrainable(!l.Frozen)
	return in.Clone(), nil
}

// Built reports whether Build has run (Base's flag is myelin's own).
func (l *Scale) Built() bool { return l.W != nil }

// Forward returns x ⊙ W; nn.Mul broadcasts W over the batch.
func (l *Scale) Forward(p *layers.Pass, x *autodiff.Var) *autodiff.Var {
	return nn.Mul(p.Tape, x, l.W)
}

// Weights lists W, saved as "<layer>/w".
func (l *Scale) Weights() []layers.Weight {
	if l.W == nil {
		return nil
	}
	return []layers.Weight{{Name: "w", Value: l.W.Value, Param: l.W}}
}

// WeightCount lets Load bound the memory a file naming Scale may ask for.
func (l *Scale) WeightCount(in tensor.Shape) (uint64, tensor.Shape, bool) {
	if len(in) != 1 {
		return 0, nil, false
	}
	return uint64(in[0]), in, true
}

// A layer from outside the module registers itself, then trains, saves,
// loads, summarizes and predicts like a built-in one.
func Example_customLayer() {
	x, y := tensor.New(tensor.Float32, 40, 3), tensor.New(tensor.Float32, 40, 2)
	for i := range 40 {
		x.SetIndex(3*i+i%3, 1)
		y.SetIndex(2*i+i%2, 1)
	}
	m := model.NewSequential(&Scale{}, layers.NewDense(4, nn.ActReLU), layers.NewDense(2, nn.ActSoftmax))
	if err := m.CompileNames("adam", "categorical_crossentropy", "accuracy"); err != nil {
		log.Fatal(err)
	}
	if _, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 3, BatchSize: 8}); err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "custom")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.safetensors")
	if err := m.Save(path); err != nil {
		log.Fatal(err)
	}

	loaded, err := model.Load(path)
	if err != nil {
		log.Fatal(err)
	}
	if err := loaded.Summary(os.Stdout); err != nil {
		log.Fatal(err)
	}
	want, err := m.Predict(context.Background(), x, model.EvalOptions{})
	if err != nil {
		log.Fatal(err)
	}
	got, err := loaded.Predict(context.Background(), x, model.EvalOptions{})
	if err != nil {
		log.Fatal(err)
	}
	same := true
	for i := range want.Len() {
		same = same && got.Index(i) == want.Index(i)
	}
	s := loaded.Layers[0].(*Scale)
	fmt.Println("trained factors moved from 1:", s.W.Value.Index(0) != 1)
	fmt.Println("predictions identical after loading:", same)
	// Output:
	// Model: "sequential"
	// ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
	// ┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
	// ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
	// │ scale (Scale)                   │ (None, 3)              │             3 │
	// ├─────────────────────────────────┼────────────────────────┼───────────────┤
	// │ dense (Dense)                   │ (None, 4)              │            16 │
	// ├─────────────────────────────────┼────────────────────────┼───────────────┤
	// │ dense_1 (Dense)                 │ (None, 2)              │            10 │
	// └─────────────────────────────────┴────────────────────────┴───────────────┘
	//  Total params: 29 (116 B)
	//  Trainable params: 29 (116 B)
	//  Non-trainable params: 0 (0 B)
	// trained factors moved from 1: true
	// predictions identical after loading: true
}
