package model_test

import (
	"context"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// TestShardsMatchWholeBatch trains the founding model (with batch
// normalization and dropout off) in float64 for a few steps with each
// batch cut into shards, and without shards: the shards' gradients, batch
// statistics and losses add up to the whole batch's, so the weights agree
// to float64 rounding. (Without shuffling: a sharded step draws the
// seed of its shards' dropout masks from the generator that shuffles.)
func TestShardsMatchWholeBatch(t *testing.T) {
	x, y, _, _ := data(t, 96, 1)
	x, y = x.As(tensor.Float64), y.As(tensor.Float64)
	train := func(shard int) *model.Sequential {
		m := compiled(t, founding(true))
		m.DType = tensor.Float64
		m.Seed = 3
		if _, err := fitWithin(t, m, x, y, model.FitOptions{BatchSize: 32, ShardSize: shard, Epochs: 2, NoShuffle: true}); err != nil {
			t.Fatal(err)
		}
		return m
	}
	whole := train(0)
	for _, shard := range []int{16, 5, 1} {
		m := train(shard)
		for i, l := range m.Layers {
			for j, w := range l.Weights() {
				ref := whole.Layers[i].Weights()[j].Value.Float64s()
				for k, v := range w.Value.Float64s() {
					if d := math.Abs(v - ref[k]); d > 1e-9*(1+math.Abs(ref[k])) {
						t.Fatalf("shard %d: %s/%s[%d] = %.17g, whole batch %.17g", shard, l.Name(), w.Name, k, v, ref[k])
					}
				}
			}
		}
	}
}

// TestShardsSameBitsAcrossGOMAXPROCS: the shard size fixes the
// arithmetic, the number of threads does not change it.
func TestShardsSameBitsAcrossGOMAXPROCS(t *testing.T) {
	x, y, _, _ := data(t, 200, 1)
	sameStateAcrossGOMAXPROCS(t, []int{1, 2, 4, 8}, func() *model.Sequential {
		m := founding(true)
		m.Layers = append(m.Layers[:1], append([]layers.Layer{layers.NewDropout(0.2)}, m.Layers[1:]...)...)
		m = compiled(t, m)
		m.Seed = 5
		if _, err := fitWithin(t, m, x, y, model.FitOptions{BatchSize: 48, ShardSize: 8}); err != nil {
			t.Fatal(err)
		}
		return m
	})
}

// sameStateAcrossGOMAXPROCS runs train at each GOMAXPROCS of procs and
// fails unless every run ends in the state of the first (stateHash).
func sameStateAcrossGOMAXPROCS(t *testing.T, procs []int, train func() *model.Sequential) {
	t.Helper()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var want string
	for _, p := range procs {
		runtime.GOMAXPROCS(p)
		if h := stateHash(t, train()); want == "" {
			want = h
		} else if h != want {
			t.Fatalf("GOMAXPROCS %d: state %s, GOMAXPROCS %d: %s", p, h, procs[0], want)
		}
	}
}

// TestShardsResumeBitwise: a sharded run stopped part way and resumed
// from its checkpoint ends bit for bit as the uninterrupted run, for the
// three optimizer paths (Adam updates by ranges on the shards; SGD and
// RMSprop on the calling goroutine), with dropout drawing per shard. The
// resumed Fit takes the shard size from the checkpoint; asking for
// another is an error that names it.
func TestShardsResumeBitwise(t *testing.T) {
	x, y, _, _ := data(t, 600, 10)
	opts := func() model.FitOptions {
		return model.FitOptions{Epochs: 2, BatchSize: 40, ShardSize: 16}
	}
	// 600 samples: 15 steps per epoch, each of three shards (16, 16, 8).
	for _, tc := range ckResumeCases() {
		t.Run(tc.name, func(t *testing.T) {
			ref := tc.mk()
			hRef, err := fitWithin(t, ref, x, y, opts())
			if err != nil {
				t.Fatal(err)
			}
			wantW, wantO := ckStateHash(ref)
			m := tc.mk()
			o := opts()
			o.Callbacks = []model.Callback{&ckStopAt{at: 20}}
			if _, err := fitWithin(t, m, x, y, o); err != nil {
				t.Fatal(err)
			}
			path := t.TempDir() + "/ck.safetensors"
			if err := m.SaveCheckpoint(path, nil); err != nil {
				t.Fatal(err)
			}
			m2, ck, err := model.LoadCheckpoint(path)
			if err != nil {
				t.Fatal(err)
			}
			bad := opts()
			bad.Resume, bad.ShardSize = ck, 8
			if _, err := fitWithin(t, m2, x, y, bad); err == nil || !strings.Contains(err.Error(), "ShardSize 8 (the checkpoint has 16)") {
				t.Fatalf("resuming with another shard size: err = %v", err)
			}
			m2, ck, err = model.LoadCheckpoint(path)
			if err != nil {
				t.Fatal(err)
			}
			h2, err := fitWithin(t, m2, x, y, model.FitOptions{Epochs: 2, BatchSize: 40, Resume: ck})
			if err != nil {
				t.Fatal(err)
			}
			if gotW, gotO := ckStateHash(m2); gotW != wantW || gotO != wantO {
				t.Errorf("resumed state %s/%s, uninterrupted %s/%s", gotW[:16], gotO[:16], wantW[:16], wantO[:16])
			}
			if d := ckSameHistory(h2, hRef); d != "" {
				t.Errorf("history: %s", d)
			}
		})
	}
}

func TestShardSizeNegative(t *testing.T) {
	x, y, _, _ := data(t, 64, 1)
	m := compiled(t, founding(true))
	_, err := m.Fit(context.Background(), x, y, model.FitOptions{ShardSize: -1})
	if err == nil || !strings.Contains(err.Error(), "ShardSize -1") {
		t.Fatalf("ShardSize -1: err = %v", err)
	}
}

// TestCNNShards: a convolutional model with spatial batch normalization
// trains in shards as in one pass (float64, to rounding), and with the
// same bits for any GOMAXPROCS.
func TestCNNShards(t *testing.T) {
	x, y, _, _ := data(t, 64, 1)
	cnn := func() *model.Sequential {
		return model.NewSequential(
			layers.NewReshape(28, 28, 1),
			layers.NewConv2D(4, layers.Size2{3, 3}, nn.Linear), layers.NewBatchNormalization(), layers.NewActivation(nn.ActReLU),
			layers.NewMaxPooling2D(layers.Size2{2, 2}),
			layers.NewFlatten(),
			layers.NewDense(10, nn.ActSoftmax))
	}
	train := func(dt tensor.DType, shard int) *model.Sequential {
		m := compiled(t, cnn())
		m.DType = dt
		m.Seed = 2
		xx, yy := x.As(dt), y.As(dt)
		if _, err := fitWithin(t, m, xx, yy, model.FitOptions{BatchSize: 32, ShardSize: shard, NoShuffle: true}); err != nil {
			t.Fatal(err)
		}
		return m
	}
	whole := train(tensor.Float64, 0)
	m := train(tensor.Float64, 8)
	for i, l := range m.Layers {
		for j, w := range l.Weights() {
			ref := whole.Layers[i].Weights()[j].Value.Float64s()
			for k, v := range w.Value.Float64s() {
				if d := math.Abs(v - ref[k]); d > 1e-9*(1+math.Abs(ref[k])) {
					t.Fatalf("%s/%s[%d] = %.17g in shards, whole batch %.17g", l.Name(), w.Name, k, v, ref[k])
				}
			}
		}
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var want string
	for _, procs := range []int{1, 2, 4} {
		runtime.GOMAXPROCS(procs)
		if h := stateHash(t, train(tensor.Float32, 8)); want == "" {
			want = h
		} else if h != want {
			t.Fatalf("GOMAXPROCS %d: state %s, GOMAXPROCS 1: %s", procs, h, want)
		}
	}
}

// fitWithin runs Fit, failing the test if it has not returned within five
// minutes: a shard that never reaches its batch norm's sums would hang it.
func fitWithin(t *testing.T, m *model.Sequential, x, y *tensor.Tensor, o model.FitOptions) (*model.History, error) {
	t.Helper()
	type result struct {
		h   *model.History
		err error
	}
	done := make(chan result, 1)
	go func() {
		h, err := m.Fit(context.Background(), x, y, o)
		done <- result{h, err}
	}()
	select {
	case r := <-done:
		return r.h, r.err
	case <-time.After(5 * time.Minute):
		t.Fatal("Fit in shards did not return within five minutes")
		return nil, nil
	}
}
