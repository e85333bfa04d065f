package main

import (
	"math/rand/v2"
	"testing"
)

// TestMLPLearns trains on one fixed batch whose label is set by the sign
// of the first pixel: a model whose graph, gradients or Adam step were
// wired wrong would not drive the loss far down.
func TestMLPLearns(t *testing.T) {
	const batch = 16
	m, err := newMLP(batch)
	if err != nil {
		t.Fatalf("newMLP: %v", err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	xb, yb := m.xt.Data().([]float32), m.yt.Data().([]float32)
	for r := 0; r < batch; r++ {
		for j := 0; j < features; j++ {
			xb[r*features+j] = float32(rng.NormFloat64())
		}
		label := 0
		if xb[r*features] > 0 {
			label = 1
		}
		yb[r*classes+label] = 1
	}
	first, err := m.step()
	if err != nil {
		t.Fatalf("step 1: %v", err)
	}
	last := first
	for i := 0; i < 200; i++ {
		if last, err = m.step(); err != nil {
			t.Fatalf("step %d: %v", i+2, err)
		}
	}
	if !(last < first/4) {
		t.Errorf("loss %v after 201 steps on one batch, first %v: want under a quarter of it", last, first)
	}
}

func TestBatchesCoverEpoch(t *testing.T) {
	const n, batch = 10, 3
	x := make([]float32, n*features)
	labels := make([]byte, n)
	for i := range labels {
		x[i*features] = float32(i) // row i is marked by its first pixel
		labels[i] = byte(i % classes)
	}
	xb, yb := make([]float32, batch*features), make([]float32, batch*classes)
	next := batches(x, labels, batch, 1, xb, yb)
	seen := map[int]bool{}
	for s := 0; s < n/batch; s++ { // one epoch: 3 full batches, the 10th row dropped
		next()
		for r := 0; r < batch; r++ {
			i := int(xb[r*features])
			if seen[i] {
				t.Errorf("row %d drawn twice in one epoch", i)
			}
			seen[i] = true
			for c := 0; c < classes; c++ {
				want := float32(0)
				if c == int(labels[i]) {
					want = 1
				}
				if yb[r*classes+c] != want {
					t.Errorf("row %d: one-hot[%d] = %v, want %v", i, c, yb[r*classes+c], want)
				}
			}
		}
	}
	if len(seen) != n/batch*batch {
		t.Errorf("%d distinct rows in an epoch, want %d", len(seen), n/batch*batch)
	}
}
