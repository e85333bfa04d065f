package metrics

import (
	"fmt"

	"github.com/myelin-go/myelin/tensor"
)

// TopKCategoricalAccuracy is the share of samples whose target class, the
// argmax of a one-hot (or soft) target row, is among the K largest
// predictions of its row (keras.metrics.TopKCategoricalAccuracy). Ties
// count in the sample's favour, as in tf.math.in_top_k: the target class
// is in the top K when fewer than K classes have a strictly larger
// prediction.
type TopKCategoricalAccuracy struct {
	K int // at least 1; Keras's default 5
	tally
}

// NewTopKCategoricalAccuracy returns TopKCategoricalAccuracy with K 5.
func NewTopKCategoricalAccuracy() *TopKCategoricalAccuracy { return &TopKCategoricalAccuracy{K: 5} }

// Name returns "top_k_categorical_accuracy".
func (m *TopKCategoricalAccuracy) Name() string { return "top_k_categorical_accuracy" }

// Reset forgets every update.
func (m *TopKCategoricalAccuracy) Reset() { m.tally = tally{} }

// Result returns the share of samples whose class was in the top K.
func (m *TopKCategoricalAccuracy) Result() float64 { return m.result() }

// Update adds a batch: pred (..., classes) and target of the same shape.
func (m *TopKCategoricalAccuracy) Update(pred, target *tensor.Tensor) error {
	ps := pred.Shape()
	if len(ps) == 0 || ps[len(ps)-1] == 0 || !target.Shape().Equal(ps) {
		return shapeError(m.Name(), pred, target, "want equal shapes (..., classes) with at least one class")
	}
	return updateTopK(&m.tally, m.Name(), m.K, pred, ps[len(ps)-1], func(row, c int) int {
		best := 0
		for j := 1; j < c; j++ {
			if target.Index(row*c+j) > target.Index(row*c+best) {
				best = j
			}
		}
		return best
	})
}

// SparseTopKCategoricalAccuracy is TopKCategoricalAccuracy with class
// indices as targets (keras.metrics.SparseTopKCategoricalAccuracy): pred
// (..., classes), target of pred's shape without its last axis, or with a
// last axis of 1. An index outside [0, classes) is never in the top K.
type SparseTopKCategoricalAccuracy struct {
	K int // at least 1; Keras's default 5
	tally
}

// NewSparseTopKCategoricalAccuracy returns SparseTopKCategoricalAccuracy
// with K 5.
func NewSparseTopKCategoricalAccuracy() *SparseTopKCategoricalAccuracy {
	return &SparseTopKCategoricalAccuracy{K: 5}
}

// Name returns "sparse_top_k_categorical_accuracy".
func (m *SparseTopKCategoricalAccuracy) Name() string { return "sparse_top_k_categorical_accuracy" }

// Reset forgets every update.
func (m *SparseTopKCategoricalAccuracy) Reset() { m.tally = tally{} }

// Result returns the share of samples whose class was in the top K.
func (m *SparseTopKCategoricalAccuracy) Result() float64 { return m.result() }

// Update adds a batch of predictions and class indices.
func (m *SparseTopKCategoricalAccuracy) Update(pred, target *tensor.Tensor) error {
	ps := pred.Shape()
	if len(ps) == 0 || ps[len(ps)-1] == 0 || !ps[:len(ps)-1].EqualUpToTrailingOne(target.Shape()) {
		return shapeError(m.Name(), pred, target, "want pred (..., classes) with at least one class and one class index per row of pred")
	}
	c := ps[len(ps)-1]
	return updateTopK(&m.tally, m.Name(), m.K, pred, c, func(row, _ int) int {
		v := target.Index(row)
		if v != v || v < 0 || v >= float64(c) || v != float64(int(v)) {
			return -1
		}
		return int(v)
	})
}

// updateTopK counts the rows of pred (c classes each) whose class, given
// by class(row, c) (−1 for none), has fewer than k strictly larger
// predictions.
func updateTopK(t *tally, name string, k int, pred *tensor.Tensor, c int, class func(row, c int) int) error {
	if k < 1 {
		return fmt.Errorf("metrics: %s: k %d, want at least 1", name, k)
	}
	rows := pred.Len() / c
	for r := range rows {
		j := class(r, c)
		if j < 0 {
			continue
		}
		pj, larger := pred.Index(r*c+j), 0
		for i := range c {
			if pred.Index(r*c+i) > pj {
				larger++
			}
		}
		if larger < k && pj == pj {
			t.correct++
		}
	}
	t.total += int64(rows)
	return nil
}
