package model_test

import (
	"testing"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// TestForwardWalk checks the walk's options: a range of layers, outputs
// recorded, the last layer's pre-activation, and a training pass without a
// random source leaving dropout out.
func TestForwardWalk(t *testing.T) {
	m := model.NewSequential(layers.NewDense(4, nn.ActReLU), layers.NewDropout(0.5), layers.NewDense(3, nn.ActSoftmax))
	if err := m.Build(5); err != nil {
		t.Fatal(err)
	}
	x := tensor.New(tensor.Float32, 2, 5)
	for i := range x.Len() {
		x.SetIndex(i, float64(i%7)-3)
	}
	tp := autodiff.NewTape()
	tp.NoGrad = true
	p := &layers.Pass{Tape: tp}
	d0, d2 := m.Layers[0].(*layers.Dense), m.Layers[2].(*layers.Dense)

	var outs []*autodiff.Var
	y := m.Forward(p, tp.Const(x), model.Walk{Outputs: &outs})
	if len(outs) != 3 || outs[2] != y {
		t.Fatalf("Walk{} recorded %d outputs, last %p; want 3, the last being the result %p", len(outs), outs[len(outs)-1], y)
	}
	h := d0.Forward(p, tp.Const(x))
	want := d2.Forward(p, h)
	same(t, "Walk{}", y.Value, want.Value)

	logits := m.Forward(p, tp.Const(x), model.Walk{PreActivation: true})
	same(t, "PreActivation", logits.Value, d2.ForwardLinear(p, h).Value)

	outs = outs[:0]
	pre := m.Forward(p, tp.Const(x), model.Walk{Upto: 1, PreActivation: true, Outputs: &outs})
	same(t, "Upto 1 PreActivation", pre.Value, d0.ForwardLinear(p, tp.Const(x)).Value)
	if len(outs) != 1 {
		t.Errorf("Upto 1 recorded %d outputs, want 1", len(outs))
	}

	tail := m.Forward(p, h, model.Walk{From: 1})
	same(t, "From 1", tail.Value, want.Value)

	// Training without Rand: dropout passes its input through.
	train := &layers.Pass{Tape: tp, Training: true}
	outs = outs[:0]
	m.Forward(train, tp.Const(x), model.Walk{Upto: 2, Outputs: &outs})
	same(t, "training pass without Rand, dropout", outs[1].Value, outs[0].Value)
}

func same(t *testing.T, what string, got, want *tensor.Tensor) {
	t.Helper()
	if !got.Shape().Equal(want.Shape()) {
		t.Fatalf("%s: shape %s, want %s", what, got.Shape(), want.Shape())
	}
	for i := range want.Len() {
		if got.Index(i) != want.Index(i) {
			t.Fatalf("%s: element %d = %g, want %g", what, i, got.Index(i), want.Index(i))
		}
	}
}
