package metrics

import "github.com/myelin-go/myelin/tensor"

// Accuracy is Keras's "accuracy" as a compile-time metric name: the share
// of correct predictions, where what counts as correct depends on the
// shapes, decided on each Update as Keras decides it once:
//
//   - pred of rank ≤ 1 or with a last axis of 1: binary, as BinaryAccuracy
//     with Threshold;
//   - else, a target of lower rank than pred or with a last axis of 1
//     (class indices): as SparseCategoricalAccuracy;
//   - else: as CategoricalAccuracy.
//
// Keras tests only the last axis for the binary case, so a prediction of
// shape (n,) would be categorical there unless n is 1; here it is binary.
// (keras.metrics.Accuracy, the class, is a different metric: exact
// equality of prediction and target.)
type Accuracy struct {
	Threshold float64 // binary case: a prediction above it means 1
	tally
}

// NewAccuracy returns Accuracy with Keras's threshold, 0.5.
func NewAccuracy() *Accuracy { return &Accuracy{Threshold: 0.5} }

// Name returns "accuracy".
func (m *Accuracy) Name() string { return "accuracy" }

// Reset forgets every update.
func (m *Accuracy) Reset() { m.tally = tally{} }

// Result returns the share of correct predictions so far.
func (m *Accuracy) Result() float64 { return m.result() }

// Update adds a batch, read as binary, sparse or categorical by its shapes.
func (m *Accuracy) Update(pred, target *tensor.Tensor) error {
	ps, ts := pred.Shape(), target.Shape()
	switch {
	case len(ps) <= 1 || ps[len(ps)-1] == 1:
		return updateBinary(&m.tally, m.Name(), pred, target, m.Threshold)
	case len(ts) < len(ps) || ts[len(ts)-1] == 1:
		return updateSparse(&m.tally, m.Name(), pred, target)
	}
	return updateCategorical(&m.tally, m.Name(), pred, target)
}

// CategoricalAccuracy is the share of samples whose predicted class, the
// argmax of pred over its last axis, is the argmax of the target (one-hot
// or soft) of the same shape. On ties the first index wins, as in NumPy.
type CategoricalAccuracy struct{ tally }

// NewCategoricalAccuracy returns a CategoricalAccuracy.
func NewCategoricalAccuracy() *CategoricalAccuracy { return &CategoricalAccuracy{} }

// Name returns "categorical_accuracy".
func (m *CategoricalAccuracy) Name() string { return "categorical_accuracy" }

// Reset forgets every update.
func (m *CategoricalAccuracy) Reset() { m.tally = tally{} }

// Result returns the share of correct predictions so far.
func (m *CategoricalAccuracy) Result() float64 { return m.result() }

// Update adds a batch: pred (..., classes) and target of the same shape.
func (m *CategoricalAccuracy) Update(pred, target *tensor.Tensor) error {
	return updateCategorical(&m.tally, m.Name(), pred, target)
}

// SparseCategoricalAccuracy is the share of samples whose predicted class,
// the argmax of pred over its last axis, equals the class index in target:
// pred (..., classes), target of pred's shape without its last axis, or
// with a last axis of 1, holding indices as floating-point numbers. On
// ties the first index wins, as in NumPy.
type SparseCategoricalAccuracy struct{ tally }

// NewSparseCategoricalAccuracy returns a SparseCategoricalAccuracy.
func NewSparseCategoricalAccuracy() *SparseCategoricalAccuracy {
	return &SparseCategoricalAccuracy{}
}

// Name returns "sparse_categorical_accuracy".
func (m *SparseCategoricalAccuracy) Name() string { return "sparse_categorical_accuracy" }

// Reset forgets every update.
func (m *SparseCategoricalAccuracy) Reset() { m.tally = tally{} }

// Result returns the share of correct predictions so far.
func (m *SparseCategoricalAccuracy) Result() float64 { return m.result() }

// Update adds a batch of predictions and class indices.
func (m *SparseCategoricalAccuracy) Update(pred, target *tensor.Tensor) error {
	return updateSparse(&m.tally, m.Name(), pred, target)
}

// BinaryAccuracy is the share of elements where the prediction,
// thresholded (1 when pred > Threshold, else 0), equals the target, as in
// Keras: a target must be exactly 0 or 1 to match. Every element counts
// once, which is Keras's mean over the last axis then over samples.
// Target and pred have the same shape, up to a trailing axis of 1.
type BinaryAccuracy struct {
	Threshold float64 // a prediction above it means 1
	tally
}

// NewBinaryAccuracy returns BinaryAccuracy with Keras's threshold, 0.5.
func NewBinaryAccuracy() *BinaryAccuracy { return &BinaryAccuracy{Threshold: 0.5} }

// Name returns "binary_accuracy".
func (m *BinaryAccuracy) Name() string { return "binary_accuracy" }

// Reset forgets every update.
func (m *BinaryAccuracy) Reset() { m.tally = tally{} }

// Result returns the share of correct predictions so far.
func (m *BinaryAccuracy) Result() float64 { return m.result() }

// Update adds a batch of predictions and 0/1 targets.
func (m *BinaryAccuracy) Update(pred, target *tensor.Tensor) error {
	return updateBinary(&m.tally, m.Name(), pred, target, m.Threshold)
}

const (
	kindCategorical = iota
	kindSparse
	kindBinary
)

func updateCategorical(t *tally, name string, pred, target *tensor.Tensor) error {
	ps := pred.Shape()
	if len(ps) == 0 || ps[len(ps)-1] == 0 || !target.Shape().Equal(ps) {
		return shapeError(name, pred, target, "want equal shapes (..., classes) with at least one class")
	}
	c := ps[len(ps)-1]
	t.correct += count(kindCategorical, pred, target, c, 0)
	t.total += int64(pred.Len() / c)
	return nil
}

func updateSparse(t *tally, name string, pred, target *tensor.Tensor) error {
	ps := pred.Shape()
	if len(ps) == 0 || ps[len(ps)-1] == 0 || !ps[:len(ps)-1].EqualUpToTrailingOne(target.Shape()) {
		return shapeError(name, pred, target, "want pred (..., classes) with at least one class and one class index per row of pred")
	}
	c := ps[len(ps)-1]
	t.correct += count(kindSparse, pred, target, c, 0)
	t.total += int64(pred.Len() / c)
	return nil
}

func updateBinary(t *tally, name string, pred, target *tensor.Tensor, th float64) error {
	if !pred.Shape().EqualUpToTrailingOne(target.Shape()) {
		return shapeError(name, pred, target, "want equal shapes (up to a trailing axis of 1)")
	}
	t.correct += count(kindBinary, pred, target, 1, th)
	t.total += int64(pred.Len())
	return nil
}

// count dispatches on the dtypes of pred and target; a uint8 tensor
// (input data, whose float slices are nil) counts by its float32 values.
func count(kind int, pred, target *tensor.Tensor, c int, th float64) int64 {
	if pred.DType() == tensor.Uint8 {
		pred = pred.As(tensor.Float32)
	}
	if target.DType() == tensor.Uint8 {
		target = target.As(tensor.Float32)
	}
	p32 := pred.DType() == tensor.Float32
	t32 := target.DType() == tensor.Float32
	switch {
	case p32 && t32:
		return countT(kind, pred.Float32s(), target.Float32s(), c, th)
	case p32:
		return countT(kind, pred.Float32s(), target.Float64s(), c, th)
	case t32:
		return countT(kind, pred.Float64s(), target.Float32s(), c, th)
	}
	return countT(kind, pred.Float64s(), target.Float64s(), c, th)
}

// countT counts the correct decisions of one batch: rows of c predictions
// (categorical, sparse) or single elements (binary).
func countT[P, Q float](kind int, p []P, t []Q, c int, th float64) int64 {
	var n int64
	switch kind {
	case kindCategorical:
		for i := 0; i < len(p); i += c {
			if argmax(p[i:i+c]) == argmax(t[i:i+c]) {
				n++
			}
		}
	case kindSparse:
		for i := 0; i < len(p); i += c {
			if Q(argmax(p[i:i+c])) == t[i/c] {
				n++
			}
		}
	case kindBinary:
		thr := P(th) // Keras compares in the prediction's dtype
		for i, v := range p {
			if v > thr && t[i] == 1 || !(v > thr) && t[i] == 0 {
				n++
			}
		}
	}
	return n
}
