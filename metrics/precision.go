package metrics

import (
	"encoding/binary"
	"fmt"

	"github.com/myelin-go/myelin/tensor"
)

// Precision is the share of predicted positives that are positive,
// TP/(TP+FP), over every element of every batch (Keras's
// keras.metrics.Precision with its default threshold): a prediction above
// Threshold means positive, and a target counts as positive when it is
// not 0, as Keras casts y_true to bool. The result is 0 while nothing has
// been predicted positive (Keras's divide_no_nan). The comparison is made
// in the prediction's dtype, as Keras makes it. Keras's top_k and
// class_id options are not offered.
type Precision struct {
	Threshold float64 // a prediction above it means positive
	confusion
}

// NewPrecision returns Precision with Keras's threshold, 0.5.
func NewPrecision() *Precision { return &Precision{Threshold: 0.5} }

// Name returns "precision".
func (m *Precision) Name() string { return "precision" }

// Reset forgets every update.
func (m *Precision) Reset() { m.confusion = confusion{} }

// Result returns TP/(TP+FP) so far, or 0 when TP+FP is 0.
func (m *Precision) Result() float64 { return ratio(m.tp, m.tp+m.fp) }

// Update adds a batch of predictions and targets of the same shape (up to
// a trailing axis of 1).
func (m *Precision) Update(pred, target *tensor.Tensor) error {
	return m.update(m.Name(), pred, target, m.Threshold)
}

// Recall is the share of positives predicted positive, TP/(TP+FN), with
// Precision's conventions (keras.metrics.Recall).
type Recall struct {
	Threshold float64 // a prediction above it means positive
	confusion
}

// NewRecall returns Recall with Keras's threshold, 0.5.
func NewRecall() *Recall { return &Recall{Threshold: 0.5} }

// Name returns "recall".
func (m *Recall) Name() string { return "recall" }

// Reset forgets every update.
func (m *Recall) Reset() { m.confusion = confusion{} }

// Result returns TP/(TP+FN) so far, or 0 when TP+FN is 0.
func (m *Recall) Result() float64 { return ratio(m.tp, m.tp+m.fn) }

// Update adds a batch of predictions and targets of the same shape (up to
// a trailing axis of 1).
func (m *Recall) Update(pred, target *tensor.Tensor) error {
	return m.update(m.Name(), pred, target, m.Threshold)
}

// confusion counts true positives, false positives and false negatives at
// one threshold.
type confusion struct{ tp, fp, fn int64 }

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func (c *confusion) update(name string, pred, target *tensor.Tensor, th float64) error {
	if !pred.Shape().EqualUpToTrailingOne(target.Shape()) {
		return shapeError(name, pred, target, "want equal shapes (up to a trailing axis of 1)")
	}
	th = inDType(th, pred.DType())
	for i := range pred.Len() {
		p, t := pred.Index(i) > th, target.Index(i) != 0
		switch {
		case p && t:
			c.tp++
		case p:
			c.fp++
		case t:
			c.fn++
		}
	}
	return nil
}

// MarshalBinary returns the three counts as little-endian uint64s.
func (c *confusion) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 24)
	for _, v := range [...]int64{c.tp, c.fp, c.fn} {
		b = binary.LittleEndian.AppendUint64(b, uint64(v))
	}
	return b, nil
}

// UnmarshalBinary restores counts written by MarshalBinary.
func (c *confusion) UnmarshalBinary(b []byte) error {
	if len(b) != 24 {
		return fmt.Errorf("metrics: state of %d bytes, want 24", len(b))
	}
	var v [3]int64
	for i := range v {
		v[i] = int64(binary.LittleEndian.Uint64(b[8*i:]))
		if v[i] < 0 {
			return fmt.Errorf("metrics: state: negative count %d", v[i])
		}
	}
	c.tp, c.fp, c.fn = v[0], v[1], v[2]
	return nil
}

// inDType returns th rounded to dt, so that comparing a prediction of
// dtype dt (read as float64, exactly) with it is the comparison in dt that
// Keras makes.
func inDType(th float64, dt tensor.DType) float64 {
	if dt == tensor.Float32 {
		return float64(float32(th))
	}
	return th
}
