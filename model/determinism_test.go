package model_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"runtime"
	"testing"

	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/tensor"
)

// TestDeterministicAcrossGOMAXPROCS trains the founding model under
// GOMAXPROCS 1, 2, 4 and 8 and requires bit-identical results: every weight,
// batch-norm statistic and optimizer slot, the loss history, and Predict's
// outputs.
//
// Where parallelism exists: internal/kernel's Sgemm splits C into blocks over
// up to GOMAXPROCS goroutines once m·n·k ≥ parMinWork (2²³ ≈ 8.39M). At batch
// 256 the first layer's forward (256·64·784 ≈ 12.8M), its weight gradient
// (784·64·256) and Predict at batch 1000 all cross it, so with GOMAXPROCS 1
// they run on one goroutine and with 2..8 on several, with a block layout
// that depends on the worker count. Any k-split or reduction whose order
// followed that layout would change the rounding and the hashes here.
// Batch 176 over 700 samples adds a ragged last batch of 172 (172·784·64 ≈
// 8.63M is parallel too). The 64×64 and 64×10 layers' products stay serial
// throughout (at most 1000·64·64 ≈ 4.1M); the kernel package's own tests
// force the parallel path on small products.
func TestDeterministicAcrossGOMAXPROCS(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 12 small models")
	}
	cases := []struct {
		name  string
		bn    bool
		batch int
	}{
		{"bn/batch=256", true, 256},
		{"nobn/batch=256", false, 256},
		{"bn/batch=176", true, 176},
	}
	x, y, tx, _ := data(t, 700, 1000)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var init string
			var want, wantPred string
			for _, procs := range []int{1, 2, 4, 8} {
				runtime.GOMAXPROCS(procs)
				m := compiled(t, founding(c.bn))
				m.Seed = 7
				if err := m.Build(784); err != nil {
					t.Fatal(err)
				}
				if init == "" {
					init = stateHash(t, m)
				}
				h, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 2, BatchSize: c.batch})
				if err != nil {
					t.Fatal(err)
				}
				got := stateHash(t, m) + historyHash(h)
				if got == init {
					t.Fatal("training did not change the weights: the hash cannot detect a difference")
				}
				pred, err := m.Predict(context.Background(), tx, model.EvalOptions{BatchSize: 1000})
				if err != nil {
					t.Fatal(err)
				}
				gotPred := tensorHash(pred)
				if procs == 1 {
					want, wantPred = got, gotPred
					continue
				}
				if got != want {
					t.Errorf("GOMAXPROCS=%d: weights/state/history hash %s, want %s (GOMAXPROCS=1)", procs, got, want)
				}
				if gotPred != wantPred {
					t.Errorf("GOMAXPROCS=%d: Predict hash %s, want %s (GOMAXPROCS=1)", procs, gotPred, wantPred)
				}
			}
		})
	}
}

// TestStateHashSeesOneBit checks that stateHash changes when a single bit
// of a single weight does, so that the determinism test can fail.
func TestStateHashSeesOneBit(t *testing.T) {
	m := compiled(t, founding(true))
	if err := m.Build(784); err != nil {
		t.Fatal(err)
	}
	before := stateHash(t, m)
	w := m.Layers[len(m.Layers)-1].Weights()[0].Value.Float32s()
	w[len(w)-1] = math.Float32frombits(math.Float32bits(w[len(w)-1]) ^ 1)
	if after := stateHash(t, m); after == before {
		t.Fatalf("hash unchanged (%s) after flipping the last bit of one weight", after)
	}
}

// stateHash is the SHA-256 of every weight and state tensor of every layer
// and of every optimizer slot of every parameter, with their names.
func stateHash(t *testing.T, m *model.Sequential) string {
	t.Helper()
	h := sha256.New()
	for _, l := range m.Layers {
		for _, w := range l.Weights() {
			fmt.Fprintf(h, "%s/%s:", l.Name(), w.Name)
			writeTensor(h, w.Value)
		}
	}
	opt := m.Optimizer()
	fmt.Fprintf(h, "iterations=%d:", opt.Iterations())
	for i, p := range m.Params() {
		for j, s := range opt.State(p) {
			fmt.Fprintf(h, "slot %d/%d:", i, j)
			writeTensor(h, s)
		}
	}
	return fmt.Sprintf("%x", h.Sum(nil))[:16]
}

// historyHash hashes the per-epoch metrics bit for bit.
func historyHash(hist *model.History) string {
	h := sha256.New()
	for _, name := range []string{"loss", "accuracy"} {
		for _, v := range hist.Metrics[name] {
			binary.Write(h, binary.LittleEndian, math.Float64bits(v))
		}
	}
	return fmt.Sprintf("%x", h.Sum(nil))[:16]
}

func tensorHash(x *tensor.Tensor) string {
	h := sha256.New()
	writeTensor(h, x)
	return fmt.Sprintf("%x", h.Sum(nil))[:16]
}

func writeTensor(h interface{ Write([]byte) (int, error) }, x *tensor.Tensor) {
	fmt.Fprintf(h, "%v%v", x.DType(), x.Shape())
	switch x.DType() {
	case tensor.Float32:
		binary.Write(h, binary.LittleEndian, x.Float32s())
	default:
		binary.Write(h, binary.LittleEndian, x.Float64s())
	}
}
