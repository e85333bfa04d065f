package model_test

import (
	"context"
	"testing"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/nn"
)

// apartReLU is an Activation layer that Sequential does not recognize as
// one, so it never fuses it into the batch norm before it.
type apartReLU struct{ *layers.Activation }

// TestFusedBatchNormReLUSameBits trains smallCNN, whose batch norms are
// followed by ReLU layers that training and inference fuse into them (the
// first with the 2×2 max pool after it), and the same model with the
// ReLUs kept apart, which fuses nothing, and requires the same bits:
// weights, state, optimizer slots, history and predictions, in whole
// batches and in shards.
func TestFusedBatchNormReLUSameBits(t *testing.T) {
	if testing.Short() {
		t.Skip("trains four small CNNs")
	}
	x, y, tx, _ := data(t, 300, 200)
	for _, shard := range []int{0, 32} {
		var hashes [2]string
		for k, apart := range []bool{false, true} {
			m := smallCNN()
			if apart {
				for i, l := range m.Layers {
					if a, ok := l.(*layers.Activation); ok && a.Activation == nn.ActReLU {
						m.Layers[i] = apartReLU{a}
					}
				}
			}
			m = compiled(t, m)
			m.Seed = 3
			h, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 2, BatchSize: 100, ShardSize: shard})
			if err != nil {
				t.Fatal(err)
			}
			pred, err := m.Predict(context.Background(), tx, model.EvalOptions{BatchSize: 100})
			if err != nil {
				t.Fatal(err)
			}
			hashes[k] = stateHash(t, m) + historyHash(h) + tensorHash(pred)
		}
		if hashes[0] != hashes[1] {
			t.Errorf("shards of %d: fused training and inference hash %s, with the ReLUs apart %s", shard, hashes[0], hashes[1])
		}
	}
}

// outputShapes records the shapes of LayerOutputs at the first batch end.
type outputShapes struct {
	model.BaseCallback
	m      *model.Sequential
	shapes []string
}

func (c *outputShapes) OnTrainBegin(m *model.Sequential) error { c.m = m; return nil }
func (c *outputShapes) OnBatchEnd(int, int, model.Logs) error {
	if c.shapes == nil {
		for _, o := range c.m.LayerOutputs() {
			c.shapes = append(c.shapes, o.Shape().String())
		}
	}
	return nil
}

// readingShapes is outputShapes as a LayerOutputsReader.
type readingShapes struct{ outputShapes }

func (*readingShapes) ReadsLayerOutputs() {}

// TestPoolFusionLayerOutputs checks what LayerOutputs holds for smallCNN's
// batch norm, ReLU and max pool: the pool's output in the three slots
// when training fuses them, and each layer's own output when a callback
// is a LayerOutputsReader, which stops the pool's fusion.
func TestPoolFusionLayerOutputs(t *testing.T) {
	x, y, _, _ := data(t, 64, 10)
	for _, reads := range []bool{false, true} {
		var cb model.Callback
		var got *outputShapes
		if reads {
			r := &readingShapes{}
			cb, got = r, &r.outputShapes
		} else {
			got = &outputShapes{}
			cb = got
		}
		m := compiled(t, smallCNN())
		if _, err := m.Fit(context.Background(), x, y, model.FitOptions{Epochs: 1, BatchSize: 32, Callbacks: []model.Callback{cb}}); err != nil {
			t.Fatal(err)
		}
		want := []string{"(32, 26, 26, 8)", "(32, 26, 26, 8)", "(32, 13, 13, 8)"}
		if !reads {
			want = []string{"(32, 13, 13, 8)", "(32, 13, 13, 8)", "(32, 13, 13, 8)"}
		}
		if len(got.shapes) < 5 {
			t.Fatalf("reads=%v: %d layer outputs", reads, len(got.shapes))
		}
		for i, w := range want {
			if got.shapes[2+i] != w {
				t.Errorf("reads=%v: layer %d (%s) output %s, want %s", reads, 2+i, m.Layers[2+i].Name(), got.shapes[2+i], w)
			}
		}
	}
}
