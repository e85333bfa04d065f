package losses

import (
	"math"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/nn"
	"github.com/myelin-go/myelin/tensor"
)

// CategoricalCrossentropy is the cross-entropy between a target
// distribution t (one-hot or soft) and predicted class probabilities, for
// predictions of shape (samples, classes) and a target of the same shape.
// Per sample, on probabilities p (Keras 3, from_logits=False):
//
//	q = p / Σⱼ pⱼ,   L = −Σⱼ tⱼ·log(clip(qⱼ, ε, 1−ε)),   ε = ClipEpsilon
//
// and from logits x (FromLogits; PyTorch's cross_entropy with probability
// targets): L = −Σⱼ tⱼ·(xⱼ − log Σₖ e^xₖ), computed by
// nn.SoftmaxCrossEntropy with gradient (softmax(x)·Σt − t)/samples. Compute
// returns the mean of L over samples. On probabilities the clipped entries
// pass no gradient, as with torch.clip.
//
// Behind a softmax output the default is the logits form, unclipped (see
// Fuse): a model sees the exact cross-entropy, which grows without bound
// as the target's probability falls below ε, where Keras's backend-neutral
// rule (TensorFlow.js, Keras 3 on JAX or PyTorch) clips it at −log ε ≈
// 16.1 per sample. tf.keras on TensorFlow and PyTorch also compute from the
// logits. The two agree while no probability is below ε or above 1−ε; on a
// batch where most probabilities are below ε they differ widely (57.4
// unclipped against Keras's 13.6 in one such batch). Set KerasClip for
// Keras's numbers.
type CategoricalCrossentropy struct {
	FromLogits bool // pred holds logits, not probabilities
	// KerasClip keeps Keras's clipping of the probabilities to [ε, 1−ε]
	// where the loss would otherwise use logits: Fuse declines, so a model
	// computes the loss on its softmax output, and with FromLogits the
	// loss is taken on softmax(pred), clipped, as TensorFlow.js's
	// categoricalCrossentropy does. Clipped entries pass no gradient. The
	// name becomes "categorical_crossentropy_clipped", which ByName
	// accepts, so that a saved model keeps the choice.
	KerasClip bool
}

// Name returns "categorical_crossentropy", or
// "categorical_crossentropy_clipped" with KerasClip.
func (l CategoricalCrossentropy) Name() string {
	if l.KerasClip {
		return "categorical_crossentropy_clipped"
	}
	return "categorical_crossentropy"
}

// Compute returns the mean categorical cross-entropy of pred against
// target.
func (l CategoricalCrossentropy) Compute(tp *autodiff.Tape, pred *autodiff.Var, target *tensor.Tensor) *autodiff.Var {
	const op = "losses.CategoricalCrossentropy"
	if pred.Value.Rank() != 2 || !target.Shape().Equal(pred.Shape()) {
		tensor.Panicf(op, []tensor.Shape{pred.Shape(), target.Shape()}, "want prediction and target of the same shape (samples, classes)")
	}
	t := asDType(tp, target, pred.DType())
	return crossEntropy(tp, pred, t, nil, l.FromLogits, l.KerasClip, false)
}

// crossEntropy records the categorical cross-entropy of p (logits when
// fromLogits) against t (class indices when sparse): from logits, fused and
// unclipped, or on softmax(p) clipped when kerasClip; on probabilities,
// clipped.
// w, when not nil, weighs each sample's term (see Weighted).
func crossEntropy(tp *autodiff.Tape, p *autodiff.Var, t, w *tensor.Tensor, fromLogits, kerasClip, sparse bool) *autodiff.Var {
	switch {
	case fromLogits && kerasClip:
		return probCE(tp, nn.Softmax(tp, p), t, w, sparse)
	case fromLogits:
		return nn.WeightedSoftmaxCrossEntropy(tp, p, t, w, sparse)
	}
	return probCE(tp, p, t, w, sparse)
}

// Fuse returns CategoricalCrossentropy{FromLogits: true} and true for a
// softmax activation when l is on probabilities, unless KerasClip asks for
// the clipped probabilities.
func (l CategoricalCrossentropy) Fuse(act nn.Activation) (Loss, bool) {
	if act == nn.ActSoftmax && !l.FromLogits && !l.KerasClip {
		return CategoricalCrossentropy{FromLogits: true}, true
	}
	return l, false
}

// SparseCategoricalCrossentropy is CategoricalCrossentropy with a one-hot
// target given by class indices: pred is (samples, classes) and target
// holds one index per sample, shape (samples,) or (samples, 1), stored as
// floating-point numbers. Per sample with label k, on probabilities
// L = −log(clip(pₖ/Σⱼ pⱼ, ε, 1−ε)), as Keras 3 computes it; from logits
// (FromLogits; PyTorch's cross_entropy with class indices)
// L = log Σⱼ e^xⱼ − xₖ. A label that is not an integer in [0, classes)
// makes Compute panic with a *tensor.ShapeError. Behind a softmax output
// the default is the unclipped logits form, as for CategoricalCrossentropy;
// KerasClip keeps Keras's clipping.
type SparseCategoricalCrossentropy struct {
	FromLogits bool // pred holds logits, not probabilities
	// KerasClip is CategoricalCrossentropy.KerasClip; the name becomes
	// "sparse_categorical_crossentropy_clipped".
	KerasClip bool
}

// Name returns "sparse_categorical_crossentropy", or
// "sparse_categorical_crossentropy_clipped" with KerasClip.
func (l SparseCategoricalCrossentropy) Name() string {
	if l.KerasClip {
		return "sparse_categorical_crossentropy_clipped"
	}
	return "sparse_categorical_crossentropy"
}

// SparseLabels reports true: the target holds class indices, not one-hot
// rows (see Sparse).
func (SparseCategoricalCrossentropy) SparseLabels() bool { return true }

// Compute returns the mean sparse categorical cross-entropy of pred
// against the class indices in target.
func (l SparseCategoricalCrossentropy) Compute(tp *autodiff.Tape, pred *autodiff.Var, target *tensor.Tensor) *autodiff.Var {
	const op = "losses.SparseCategoricalCrossentropy"
	ps, ts := pred.Shape(), target.Shape()
	if len(ps) != 2 || !(len(ts) == 1 || len(ts) == 2 && ts[1] == 1) || ts[0] != ps[0] {
		tensor.Panicf(op, []tensor.Shape{ps, ts}, "want a prediction of shape (samples, classes) and a target of shape (samples,) or (samples, 1)")
	}
	checkLabels(op, ps, target)
	t := asDType(tp, target, pred.DType())
	return crossEntropy(tp, pred, t, nil, l.FromLogits, l.KerasClip, true)
}

// Fuse returns SparseCategoricalCrossentropy{FromLogits: true} and true
// for a softmax activation when l is on probabilities, unless KerasClip
// asks for the clipped probabilities.
func (l SparseCategoricalCrossentropy) Fuse(act nn.Activation) (Loss, bool) {
	if act == nn.ActSoftmax && !l.FromLogits && !l.KerasClip {
		return SparseCategoricalCrossentropy{FromLogits: true}, true
	}
	return l, false
}

// checkLabels panics unless every element of target is a class index in
// [0, classes) for a prediction of shape ps = (samples, classes).
func checkLabels(op string, ps tensor.Shape, target *tensor.Tensor) {
	c := ps[1]
	for i := range target.Len() {
		if k := target.Index(i); !(k >= 0 && k < float64(c) && k == math.Trunc(k)) {
			tensor.Panicf(op, []tensor.Shape{ps, target.Shape()}, "label %g of sample %d is not a class index in [0, %d)", k, i, c)
		}
	}
}

type probCEOp struct{}

func (probCEOp) Name() string { return "losses.CategoricalCrossentropy" }

// probCE records Keras's categorical cross-entropy on probabilities: rows
// normalised, clipped to [ε, 1−ε], then −Σ t·log q, averaged over rows.
// With sparse, t holds one class index per row. It is one op rather than a
// composition because the row normalisation needs a per-row broadcast that
// package nn does not offer. w, when not nil, weighs each row's term; the
// divisor stays the number of rows.
func probCE(tp *autodiff.Tape, p *autodiff.Var, t, w *tensor.Tensor, sparse bool) *autodiff.Var {
	n, c := p.Shape()[0], p.Shape()[1]
	out := tp.Alloc(p.DType())
	if p.DType() == tensor.Float32 {
		out.Float32s()[0] = probCEFwd(p.Value.Float32s(), t.Float32s(), weights32(w), n, c, sparse)
	} else {
		out.Float64s()[0] = probCEFwd(p.Value.Float64s(), t.Float64s(), weights64(w), n, c, sparse)
	}
	return tp.Output(out, autodiff.Record{Op: probCEOp{}, In: [4]*autodiff.Var{p}, Aux: [4]*tensor.Tensor{t, w}, I: [4]int{n, c, b2i(sparse)}})
}

// clipBounds returns ε and 1−ε in T, 1−ε computed in T as Keras does.
func clipBounds[T float]() (lo, hi T) {
	lo = T(ClipEpsilon)
	return lo, 1 - lo
}

func probCEFwd[T float](p, t, w []T, n, c int, sparse bool) T {
	lo, hi := clipBounds[T]()
	var total float64
	for i := range n {
		row := p[i*c : (i+1)*c]
		var s T
		for _, v := range row {
			s += v
		}
		var li float64
		if sparse {
			q := min(max(row[int(t[i])]/s, lo), hi)
			li = -math.Log(float64(q))
		} else {
			for j, tv := range t[i*c : (i+1)*c] {
				if tv != 0 {
					q := min(max(row[j]/s, lo), hi)
					li -= float64(tv) * math.Log(float64(q))
				}
			}
		}
		if w != nil {
			li *= float64(w[i])
		}
		total += li
	}
	if n == 0 {
		return 0
	}
	return T(total / float64(n))
}

func (probCEOp) Backward(tp *autodiff.Tape, r *autodiff.Record) {
	p := r.In[0]
	dp := tp.GradOf(p)
	n, c, sparse := r.I[0], r.I[1], r.I[2] == 1
	g := r.Out.Grad.Index(0)
	if dp.DType() == tensor.Float32 {
		probCEBwd(dp.Float32s(), p.Value.Float32s(), r.Aux[0].Float32s(), weights32(r.Aux[1]), n, c, sparse, float32(g))
	} else {
		probCEBwd(dp.Float64s(), p.Value.Float64s(), r.Aux[0].Float64s(), weights64(r.Aux[1]), n, c, sparse, g)
	}
}

// probCEBwd adds the gradient of the mean loss, times g, to dp. Per row,
// with s = Σp, q = p/s and hⱼ = ∂L/∂qⱼ = −tⱼ/qⱼ where qⱼ is inside the clip
// interval (0 outside), the chain rule through q = p/s gives
//
//	∂L/∂pₖ = (hₖ − Σⱼ hⱼ·qⱼ)/s,   where hⱼ·qⱼ = −tⱼ inside the interval.
func probCEBwd[T float](dp, p, t, w []T, n, c int, sparse bool, g T) {
	lo, hi := clipBounds[T]()
	scale0 := g / T(n)
	for i := range n {
		scale := scale0
		if w != nil {
			scale *= w[i]
		}
		row, d := p[i*c:(i+1)*c], dp[i*c:(i+1)*c]
		var s T
		for _, v := range row {
			s += v
		}
		if sparse {
			k := int(t[i])
			if q := row[k] / s; q >= lo && q <= hi {
				// h = −1/q at k, Σ h·q = −1.
				a := scale / s
				for j := range d {
					d[j] += a
				}
				d[k] -= a / q
			}
			continue
		}
		tr := t[i*c : (i+1)*c]
		var hq T // Σⱼ hⱼ·qⱼ
		for j, tv := range tr {
			if q := row[j] / s; tv != 0 && q >= lo && q <= hi {
				hq -= tv
			}
		}
		a := scale / s
		for j, tv := range tr {
			var h T
			if q := row[j] / s; tv != 0 && q >= lo && q <= hi {
				h = -tv / q
			}
			d[j] += a * (h - hq)
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
