package losses_test

import (
	"testing"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/losses"
	"github.com/myelin-go/myelin/tensor"
)

// TestUint8Targets: a uint8 target (bytes over a divisor) gives every
// loss exactly what its float32 values give, rather than reading the
// tensor's empty float slices.
func TestUint8Targets(t *testing.T) {
	pred := tensor.FromFloat32([]float32{0.1, 0.2, 0.7, 0.5, 0.25, 0.25}, 2, 3)
	probs := tensor.FromUint8([]uint8{0, 0, 255, 51, 102, 102}, 255, 2, 3) // rows summing to 1
	labels := tensor.FromUint8([]uint8{2, 0}, 1, 2)
	for _, c := range []struct {
		loss   losses.Loss
		target *tensor.Tensor
	}{
		{losses.CategoricalCrossentropy{}, probs},
		{losses.SparseCategoricalCrossentropy{}, labels},
		{losses.BinaryCrossentropy{}, probs},
		{losses.MeanSquaredError{}, probs},
		{losses.MeanAbsoluteError{}, probs},
		{losses.Huber{}, probs},
		{losses.KLDivergence{}, probs},
	} {
		tp := autodiff.NewTape()
		got := c.loss.Compute(tp, tp.Const(pred), c.target).Value.Item()
		want := c.loss.Compute(tp, tp.Const(pred), c.target.As(tensor.Float32)).Value.Item()
		if got != want {
			t.Errorf("%s: uint8 target gives %v, its float32 values %v", c.loss.Name(), got, want)
		}
	}
}
