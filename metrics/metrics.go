// Package metrics holds Keras's streaming metrics: accuracies (top-k
// included), precision, recall, the area under the ROC or PR curve, and a
// weighted running mean.
//
// A metric accumulates over the batches of an epoch: Update adds a batch,
// Result reports the value so far, Reset starts over. As in Keras's
// stateful metrics, each batch weighs in by its size, so the Result after
// an epoch is the accuracy over all its samples, not the mean of the batch
// accuracies (which would overweight a short last batch). The counts are
// exact integers, where Keras accumulates in float32.
//
// Update takes plain tensors of either dtype (prediction and target need
// not agree), reports mismatched shapes as an error naming both, and
// allocates nothing.
package metrics

import (
	"fmt"
	"math"

	"github.com/myelin-go/myelin/tensor"
)

// Metric is a streaming evaluation metric.
type Metric interface {
	// Name returns the Keras name, the key of the metric in logs:
	// "accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
	// "binary_accuracy", "precision", "recall", "auc",
	// "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy",
	// or a Mean's own name.
	Name() string
	// Reset forgets every update.
	Reset()
	// Update adds a batch of predictions and their targets. It returns an
	// error naming both shapes when they do not fit, and then changes
	// nothing.
	Update(pred, target *tensor.Tensor) error
	// Result returns the metric over every update since the last Reset,
	// or 0 before the first.
	Result() float64
}

// ByName returns a new metric with the Keras name name: "accuracy" (or
// "acc"), "categorical_accuracy", "sparse_categorical_accuracy",
// "binary_accuracy", "precision", "recall", "auc",
// "top_k_categorical_accuracy" or "sparse_top_k_categorical_accuracy",
// each with Keras's defaults.
func ByName(name string) (Metric, error) {
	switch name {
	case "accuracy", "acc":
		return NewAccuracy(), nil
	case "categorical_accuracy":
		return NewCategoricalAccuracy(), nil
	case "sparse_categorical_accuracy":
		return NewSparseCategoricalAccuracy(), nil
	case "binary_accuracy":
		return NewBinaryAccuracy(), nil
	case "precision":
		return NewPrecision(), nil
	case "recall":
		return NewRecall(), nil
	case "auc":
		return NewAUC(), nil
	case "top_k_categorical_accuracy":
		return NewTopKCategoricalAccuracy(), nil
	case "sparse_top_k_categorical_accuracy":
		return NewSparseTopKCategoricalAccuracy(), nil
	}
	return nil, fmt.Errorf("metrics: unknown metric %q (want one of accuracy, categorical_accuracy, sparse_categorical_accuracy, binary_accuracy, "+
		"precision, recall, auc, top_k_categorical_accuracy, sparse_top_k_categorical_accuracy)", name)
}

// float is the element type of the generic loops.
type float interface{ ~float32 | ~float64 }

// tally counts correct decisions out of all decisions.
type tally struct{ correct, total int64 }

func (t *tally) result() float64 {
	if t.total == 0 {
		return 0
	}
	return float64(t.correct) / float64(t.total)
}

func shapeError(name string, pred, target *tensor.Tensor, want string) error {
	return fmt.Errorf("metrics: %s: prediction shape %s and target shape %s do not fit: %s", name, pred.Shape(), target.Shape(), want)
}

// argmax returns the index of the largest element of row, the first one on
// ties, or the first NaN (NumPy's argmax).
//
// It compares the floats' bits as integers ordered as the floats are (−0
// as +0), where the running maximum needs no branch that a shuffled
// batch's rows would mispredict: 40% faster on rows of ten
// (BenchmarkArgmax; the accuracy of a batch of 128 took about 6 µs of a
// training step's serial part).
func argmax[T float](row []T) int {
	switch r := any(row).(type) {
	case []float32:
		best, top := 0, int32(math.MinInt32)
		for j, v := range r {
			if v != v {
				return j
			}
			k := int32(math.Float32bits(v))
			s := k >> 31 // −1 for a negative float, whose key is −|bits|
			if k = (k&math.MaxInt32 ^ s) - s; k > top {
				best, top = j, k
			}
		}
		return best
	case []float64:
		best, top := 0, int64(math.MinInt64)
		for j, v := range r {
			if v != v {
				return j
			}
			k := int64(math.Float64bits(v))
			s := k >> 63
			if k = (k&math.MaxInt64 ^ s) - s; k > top {
				best, top = j, k
			}
		}
		return best
	}
	panic("metrics: argmax of an unknown float type")
}
