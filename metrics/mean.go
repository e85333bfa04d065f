package metrics

import (
	"fmt"

	"github.com/myelin-go/myelin/tensor"
)

// Mean is a running weighted mean, Σ wᵢ·xᵢ / Σ wᵢ (Keras's
// metrics.Mean). A training loop keeps the epoch's loss in one, adding
// each batch's mean loss with the batch size as its weight, so that the
// Result is the mean loss over all samples of the epoch. Mean is a Metric
// whose Update reads its second argument as weights.
type Mean struct {
	name          string
	total, weight float64
}

// NewMean returns an empty Mean named name (the key in logs, e.g.
// "loss").
func NewMean(name string) *Mean { return &Mean{name: name} }

// Name returns the name given to NewMean, or "mean" for a zero Mean.
func (m *Mean) Name() string {
	if m.name == "" {
		return "mean"
	}
	return m.name
}

// Reset forgets every value.
func (m *Mean) Reset() { m.total, m.weight = 0, 0 }

// Add adds value with weight weight.
func (m *Mean) Add(value, weight float64) {
	m.total += value * weight
	m.weight += weight
}

// Update adds every element of values, each with weight 1 when weights is
// nil, or with the element of weights at the same place (Keras's
// update_state(values, sample_weight)); weights must have values's shape,
// up to a trailing axis of 1.
func (m *Mean) Update(values, weights *tensor.Tensor) error {
	if weights == nil {
		for i := range values.Len() {
			m.total += values.Index(i)
		}
		m.weight += float64(values.Len())
		return nil
	}
	if !values.Shape().EqualUpToTrailingOne(weights.Shape()) {
		return fmt.Errorf("metrics: %s: values shape %s and weights shape %s do not fit: want equal shapes", m.Name(), values.Shape(), weights.Shape())
	}
	for i := range values.Len() {
		w := weights.Index(i)
		m.total += values.Index(i) * w
		m.weight += w
	}
	return nil
}

// Result returns the weighted mean so far, or 0 when the total weight is 0.
func (m *Mean) Result() float64 {
	if m.weight == 0 {
		return 0
	}
	return m.total / m.weight
}
