// Package losses holds Keras's losses as differentiable functions of a
// model's predictions: CategoricalCrossentropy,
// SparseCategoricalCrossentropy, BinaryCrossentropy, MeanSquaredError,
// MeanAbsoluteError, Huber and KLDivergence; and ToCategorical and OneHot,
// which turn labels into the one-hot rows the categorical losses take.
//
// Compute records the loss on a tape and returns the mean over samples as
// a scalar, so that Backward can start from it (Keras's default reduction,
// "sum_over_batch_size"; PyTorch's reduction="mean"). Targets are plain
// tensors: no gradient flows to them. A target whose dtype differs from the
// prediction's is converted, as Keras casts y_true to the loss's dtype; the
// copy goes into a tape buffer, so a warm training step allocates nothing.
//
// # Probabilities and logits
//
// On probabilities, the cross-entropies follow Keras: they clip p to
// [1e-7, 1−1e-7] before the logarithm (and the categorical ones first
// divide each row by its sum), so a confident wrong prediction costs at
// most −log(1e-7) ≈ 16.1 per sample and gets no gradient. From logits
// (FromLogits, PyTorch's only form) they are computed stably with the
// log-sum-exp shift or softplus, without clipping. The two agree while no
// probability is clipped. A model whose last activation is softmax (or
// sigmoid) can hand its pre-activation logits to the logits form instead;
// Fuser tells it which loss to use, the way TensorFlow's Keras backend
// silently used the logits behind a softmax output. That is the default:
// behind a softmax, the categorical cross-entropies are not clipped, and on
// saturated predictions (probabilities below ε) they are larger than
// Keras's backend-neutral rule (TensorFlow.js, Keras 3 on JAX or PyTorch)
// reports. KerasClip on CategoricalCrossentropy and
// SparseCategoricalCrossentropy keeps the clipping, for Keras's numbers.
//
// # Sample weights
//
// Weighted is implemented by the losses that can weigh each sample's term
// (the cross-entropies, mean squared and mean absolute error): ComputeWeighted returns Σᵢ wᵢ·Lᵢ / samples, Keras
// 3's "sum_over_batch_size" reduction of a weighted loss, the divisor the
// batch size and not Σw. Fit's SampleWeight and ClassWeight use it.
//
// # Labels
//
// Sparse reports whether a loss takes class indices rather than one-hot
// rows, for code that prepares targets (a data loader, a CLI).
//
// Shapes that do not fit make Compute panic with a *tensor.ShapeError,
// which the model package turns into an error.
package losses

import (
	"fmt"
	"math"
	"strings"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// Loss is a training objective.
type Loss interface {
	// Name returns the Keras name: "categorical_crossentropy",
	// "sparse_categorical_crossentropy", "binary_crossentropy",
	// "mean_squared_error", "mean_absolute_error", "huber" or
	// "kl_divergence".
	Name() string
	// Compute records the loss of pred against target on tp and returns
	// its mean over samples, a scalar. It panics with a *tensor.ShapeError
	// when the shapes do not fit.
	Compute(tp *autodiff.Tape, pred *autodiff.Var, target *tensor.Tensor) *autodiff.Var
}

// Fuser is implemented by losses on probabilities that can instead be
// computed, stably, from the logits feeding a final activation.
type Fuser interface {
	// Fuse returns the loss to apply to the input of act instead of to
	// its output, and true; or the receiver and false when no such loss
	// exists (a different activation, or a loss already on logits).
	Fuse(act nn.Activation) (Loss, bool)
}

// ClipEpsilon is the ε of Keras's backend.epsilon(): the cross-entropies
// on probabilities clip p to [ClipEpsilon, 1−ClipEpsilon].
const ClipEpsilon = 1e-7

// Sparse reports whether l takes class indices as its target (one index
// per sample) rather than one-hot or soft rows: true when l has a method
// SparseLabels() bool that returns true. SparseCategoricalCrossentropy
// does; a loss of one's own can too.
func Sparse(l Loss) bool {
	s, ok := l.(interface{ SparseLabels() bool })
	return ok && s.SparseLabels()
}

// ByName returns the loss with the Keras name or alias name:
// "categorical_crossentropy", "sparse_categorical_crossentropy",
// "binary_crossentropy" (or "bce"), "mean_squared_error" (or "mse"), or a
// class name such as "CategoricalCrossentropy". The cross-entropies are on
// probabilities, as Keras's defaults are. "categorical_crossentropy_clipped"
// and "sparse_categorical_crossentropy_clipped", the names of the
// cross-entropies with KerasClip, return those.
func ByName(name string) (Loss, error) {
	switch name {
	case "categorical_crossentropy", "CategoricalCrossentropy":
		return CategoricalCrossentropy{}, nil
	case "sparse_categorical_crossentropy", "SparseCategoricalCrossentropy":
		return SparseCategoricalCrossentropy{}, nil
	case "categorical_crossentropy_clipped":
		return CategoricalCrossentropy{KerasClip: true}, nil
	case "sparse_categorical_crossentropy_clipped":
		return SparseCategoricalCrossentropy{KerasClip: true}, nil
	case "binary_crossentropy", "BinaryCrossentropy", "bce", "BCE":
		return BinaryCrossentropy{}, nil
	case "mean_squared_error", "MeanSquaredError", "mse", "MSE":
		return MeanSquaredError{}, nil
	case "mean_absolute_error", "MeanAbsoluteError", "mae", "MAE":
		return MeanAbsoluteError{}, nil
	case "huber", "Huber":
		return Huber{}, nil
	case "kl_divergence", "KLDivergence", "kld", "KLD":
		return KLDivergence{}, nil
	}
	return nil, fmt.Errorf("losses: unknown loss %q (want one of %s)", name, strings.Join([]string{
		"categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy", "mean_squared_error", "mse", "bce",
		"mean_absolute_error", "mae", "huber", "kl_divergence", "kld",
		"categorical_crossentropy_clipped", "sparse_categorical_crossentropy_clipped"}, ", "))
}

// float is the element type of the generic loops.
type float interface{ ~float32 | ~float64 }

// like returns target with pred's dtype and shape, for elementwise losses.
// The shapes must be equal or differ by a trailing axis of 1 (pred (n, 1)
// and target (n,), or the reverse), which Keras squeezes away. When the
// dtype or shape differs, the values are copied into a tape buffer.
func like(tp *autodiff.Tape, op string, pred *autodiff.Var, target *tensor.Tensor) *tensor.Tensor {
	ps, ts := pred.Shape(), target.Shape()
	if !ps.EqualUpToTrailingOne(ts) {
		tensor.Panicf(op, []tensor.Shape{ps, ts}, "the target's shape must equal the prediction's")
	}
	if target.DType() == pred.DType() && ts.Equal(ps) {
		return target
	}
	out := tp.Alloc(pred.DType(), ps...)
	convert(out, target)
	return out
}

// asDType returns t in dtype dt, copied into a tape buffer when it is not.
func asDType(tp *autodiff.Tape, t *tensor.Tensor, dt tensor.DType) *tensor.Tensor {
	if t.DType() == dt {
		return t
	}
	out := tp.Alloc(dt, t.Shape()...)
	convert(out, t)
	return out
}

// convert copies src's elements into dst (same length), converting them.
func convert(dst, src *tensor.Tensor) {
	switch {
	case dst.DType() == src.DType():
		dst.CopyFrom(src)
	case src.DType() == tensor.Uint8: // its values, not its empty float slices
		for i := range dst.Len() {
			dst.SetIndex(i, src.Index(i))
		}
	case dst.DType() == tensor.Float32:
		d := dst.Float32s()
		for i, v := range src.Float64s() {
			d[i] = float32(v)
		}
	default:
		d := dst.Float64s()
		for i, v := range src.Float32s() {
			d[i] = float64(v)
		}
	}
}

// scalarOne returns a one-element tensor holding 1, owned by tp.
func scalarOne(tp *autodiff.Tape, dt tensor.DType) *tensor.Tensor {
	t := tp.Alloc(dt)
	t.Fill(1)
	return t
}

func logf(x float64) float64 { return math.Log(x) }
