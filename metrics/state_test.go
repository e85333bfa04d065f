package metrics_test

import (
	"encoding"
	"testing"

	"github.com/myelin-go/myelin/metrics"
	"github.com/myelin-go/myelin/tensor"
)

type stateful interface {
	metrics.Metric
	encoding.BinaryMarshaler
	encoding.BinaryUnmarshaler
}

func TestStateRoundTrip(t *testing.T) {
	pred := tensor.FromFloat32([]float32{0.9, 0.1, 0.2, 0.8, 0.6, 0.4}, 3, 2)
	onehot := tensor.FromFloat32([]float32{1, 0, 1, 0, 1, 0}, 3, 2)
	sparse := tensor.FromFloat32([]float32{0, 0, 1}, 3)
	binPred := tensor.FromFloat32([]float32{0.7, 0.2, 0.9}, 3)
	binTarget := tensor.FromFloat32([]float32{1, 1, 1}, 3)
	for _, c := range []struct {
		m, fresh     stateful
		pred, target *tensor.Tensor
	}{
		{metrics.NewAccuracy(), metrics.NewAccuracy(), pred, onehot},
		{metrics.NewCategoricalAccuracy(), metrics.NewCategoricalAccuracy(), pred, onehot},
		{metrics.NewSparseCategoricalAccuracy(), metrics.NewSparseCategoricalAccuracy(), pred, sparse},
		{metrics.NewBinaryAccuracy(), metrics.NewBinaryAccuracy(), binPred, binTarget},
		{metrics.NewMean("loss"), metrics.NewMean("loss"), tensor.FromFloat32([]float32{0.25, 3, 1e-3}, 3), nil},
	} {
		t.Run(c.m.Name(), func(t *testing.T) {
			for range 2 {
				if err := c.m.Update(c.pred, c.target); err != nil {
					t.Fatal(err)
				}
			}
			b, err := c.m.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if err := c.fresh.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			if got, want := c.fresh.Result(), c.m.Result(); got != want || want == 0 {
				t.Errorf("restored Result %v, want %v (non-zero)", got, want)
			}
			// Both go on identically from the restored state.
			c.m.Update(c.pred, c.target)
			c.fresh.Update(c.pred, c.target)
			if got, want := c.fresh.Result(), c.m.Result(); got != want {
				t.Errorf("after one more update: %v, want %v", got, want)
			}
			if err := c.fresh.UnmarshalBinary(b[:15]); err == nil {
				t.Error("a 15-byte state was accepted")
			}
		})
	}
}

func TestStateRejectsImpossibleCounts(t *testing.T) {
	b, _ := metrics.NewCategoricalAccuracy().MarshalBinary()
	b[0] = 5 // 5 correct of 0
	if err := metrics.NewCategoricalAccuracy().UnmarshalBinary(b); err == nil {
		t.Error("5 correct of 0 decisions was accepted")
	}
	nan := []byte{0, 0, 0, 0, 0, 0, 0xf8, 0x7f, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f} // NaN total, weight 1
	if err := metrics.NewMean("loss").UnmarshalBinary(nan); err == nil {
		t.Error("a NaN total was accepted")
	}
}
