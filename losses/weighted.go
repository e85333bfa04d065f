package losses

import (
	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/tensor"
)

// Weighted is implemented by losses that can weigh each sample's loss, as
// Keras's sample_weight and class_weight do. ComputeWeighted returns
//
//	Σᵢ wᵢ·Lᵢ / samples
//
// Keras 3's default reduction, "sum_over_batch_size": the sum of the
// weighted per-sample losses over the number of samples in the batch, not
// over Σw (that would be Keras's "mean_with_sample_weight"). So weights of
// 1 give Compute's value, and a weight of 0 drops a sample's term while the
// others keep theirs. w is (samples,), in any float dtype (converted into a
// tape buffer like the target); nil weighs every sample 1.
//
// CategoricalCrossentropy and SparseCategoricalCrossentropy implement it
// in every form (from logits, on probabilities, clipped), and so do
// BinaryCrossentropy, MeanSquaredError and MeanAbsoluteError, whose
// per-sample loss is the mean over the sample's elements. Huber and
// KLDivergence do not yet.
type Weighted interface {
	Loss
	ComputeWeighted(tp *autodiff.Tape, pred *autodiff.Var, target, w *tensor.Tensor) *autodiff.Var
}

// ComputeWeighted returns the categorical cross-entropy of pred against
// target with sample i's term weighed by w[i] (see Weighted).
func (l CategoricalCrossentropy) ComputeWeighted(tp *autodiff.Tape, pred *autodiff.Var, target, w *tensor.Tensor) *autodiff.Var {
	const op = "losses.CategoricalCrossentropy"
	if pred.Value.Rank() != 2 || !target.Shape().Equal(pred.Shape()) {
		tensor.Panicf(op, []tensor.Shape{pred.Shape(), target.Shape()}, "want prediction and target of the same shape (samples, classes)")
	}
	w = sampleWeights(tp, op, pred, w)
	return crossEntropy(tp, pred, asDType(tp, target, pred.DType()), w, l.FromLogits, l.KerasClip, false)
}

// ComputeWeighted returns the sparse categorical cross-entropy of pred
// against the class indices in target with sample i's term weighed by w[i]
// (see Weighted).
func (l SparseCategoricalCrossentropy) ComputeWeighted(tp *autodiff.Tape, pred *autodiff.Var, target, w *tensor.Tensor) *autodiff.Var {
	const op = "losses.SparseCategoricalCrossentropy"
	ps, ts := pred.Shape(), target.Shape()
	if len(ps) != 2 || !(len(ts) == 1 || len(ts) == 2 && ts[1] == 1) || ts[0] != ps[0] {
		tensor.Panicf(op, []tensor.Shape{ps, ts}, "want a prediction of shape (samples, classes) and a target of shape (samples,) or (samples, 1)")
	}
	checkLabels(op, ps, target)
	w = sampleWeights(tp, op, pred, w)
	return crossEntropy(tp, pred, asDType(tp, target, pred.DType()), w, l.FromLogits, l.KerasClip, true)
}

// sampleWeights checks that w holds one weight per sample of pred and
// returns it in pred's dtype; nil stays nil.
func sampleWeights(tp *autodiff.Tape, op string, pred *autodiff.Var, w *tensor.Tensor) *tensor.Tensor {
	if w == nil {
		return nil
	}
	if w.Len() != pred.Shape()[0] {
		tensor.Panicf(op, []tensor.Shape{pred.Shape(), w.Shape()}, "want one sample weight per sample")
	}
	return asDType(tp, w, pred.DType())
}

// weights32 and weights64 return w's elements, or nil for no weights; w
// is already in that dtype.
func weights32(w *tensor.Tensor) []float32 {
	if w == nil {
		return nil
	}
	return w.Float32s()
}

func weights64(w *tensor.Tensor) []float64 {
	if w == nil {
		return nil
	}
	return w.Float64s()
}
