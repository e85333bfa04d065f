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
// followed by ReLU layers that training and inference fuse into them, and
// the same model with the ReLUs kept apart, and requires the same bits:
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
