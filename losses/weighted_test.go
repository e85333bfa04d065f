package losses_test

import (
	"math"
	"testing"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/internal/gradcheck"
	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/tensor"
)

// TestComputeWeighted checks every form of the weighted losses against
// Σ wᵢ·Lᵢ / n built from Compute on one sample at a time, and checks their
// gradients by central differences.
func TestComputeWeighted(t *testing.T) {
	const n, c = 4, 3
	wv := []float64{2, 0, 0.5, 1}
	w := tensor.FromFloat64(wv, n)
	probs := tensor.FromFloat64([]float64{0.2, 0.5, 0.3, 0.6, 0.3, 0.1, 0.1, 0.1, 0.8, 0.3, 0.3, 0.4}, n, c)
	logits := gradcheck.Randn(n, c)
	labels := []float64{1, 0, 2, 2}
	sparseT := tensor.FromFloat64(labels, n)
	oneHot := tensor.New(tensor.Float64, n, c)
	for i, k := range labels {
		oneHot.Set(1, i, int(k))
	}
	cases := []struct {
		name   string
		l      losses.Weighted
		pred   *tensor.Tensor
		target *tensor.Tensor
	}{
		{"categorical", losses.CategoricalCrossentropy{}, probs, oneHot},
		{"categorical logits", losses.CategoricalCrossentropy{FromLogits: true}, logits, oneHot},
		{"categorical logits clipped", losses.CategoricalCrossentropy{FromLogits: true, KerasClip: true}, logits, oneHot},
		{"sparse", losses.SparseCategoricalCrossentropy{}, probs, sparseT},
		{"sparse logits", losses.SparseCategoricalCrossentropy{FromLogits: true}, logits, sparseT},
		{"mse", losses.MeanSquaredError{}, logits, probs},
		{"mae", losses.MeanAbsoluteError{}, logits, probs},
		{"binary", losses.BinaryCrossentropy{}, probs, oneHot},
		{"binary logits", losses.BinaryCrossentropy{FromLogits: true}, logits, oneHot},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tp := autodiff.NewTape()
			got := tc.l.ComputeWeighted(tp, tp.Const(tc.pred), tc.target, w).Value.Item()
			var want float64
			for i := range n {
				p := tensor.FromFloat64(tc.pred.Float64s()[i*c:(i+1)*c], 1, c)
				var tt *tensor.Tensor
				if tc.target.Rank() == 1 {
					tt = tensor.FromFloat64([]float64{labels[i]}, 1)
				} else {
					tt = tensor.FromFloat64(tc.target.Float64s()[i*c:(i+1)*c], 1, c)
				}
				want += wv[i] * tc.l.Compute(tp, tp.Const(p), tt).Value.Item()
			}
			want /= n
			if math.Abs(got-want) > 1e-12 {
				t.Fatalf("weighted loss %v, want Σ wᵢ·Lᵢ / n = %v", got, want)
			}
			unweighted := tc.l.Compute(tp, tp.Const(tc.pred), tc.target).Value.Item()
			ones := tc.l.ComputeWeighted(tp, tp.Const(tc.pred), tc.target, tensor.FromFloat64([]float64{1, 1, 1, 1}, n)).Value.Item()
			if math.Float64bits(ones) != math.Float64bits(unweighted) {
				t.Fatalf("weights of 1 give %v, want Compute's %v", ones, unweighted)
			}
			gradcheck.Central(t, func(tp *autodiff.Tape, v []*autodiff.Var) *autodiff.Var {
				return tc.l.ComputeWeighted(tp, v[0], tc.target, w)
			}, 1e-6, tc.pred)
		})
	}
}
