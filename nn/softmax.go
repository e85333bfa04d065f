package nn

import (
	"math"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/tensor"
)

type softmaxOp struct{}

func (softmaxOp) Name() string { return "nn.Softmax" }

// Softmax returns e^x / Σ e^x over the last axis, shifted by the row maximum
// so that no exponent overflows.
func Softmax(tp *autodiff.Tape, x *autodiff.Var) *autodiff.Var { return softmaxLike(tp, x, false) }

// LogSoftmax returns x − log Σ e^x over the last axis, computed stably.
func LogSoftmax(tp *autodiff.Tape, x *autodiff.Var) *autodiff.Var { return softmaxLike(tp, x, true) }

func softmaxLike(tp *autodiff.Tape, x *autodiff.Var, log bool) *autodiff.Var {
	if x.Value.Rank() == 0 {
		tensor.Panicf("nn.Softmax", shapes(x), "want rank ≥ 1")
	}
	out := tp.Alloc(x.DType(), x.Shape()...)
	_, cols := lastDim(x.Shape())
	if is32(out) {
		softmaxRows(out.Float32s(), x.Value.Float32s(), cols, log)
	} else {
		softmaxRows(out.Float64s(), x.Value.Float64s(), cols, log)
	}
	return tp.Output(out, autodiff.Record{Op: softmaxOp{}, In: [4]*autodiff.Var{x}, I: [4]int{cols, b2i(log)}})
}

// rowMax returns the largest element of x (not empty), for the shift of a
// softmax: NaN if x[0] is, and otherwise the largest of the others that
// are not NaN. A NaN anywhere makes the softmax NaN all the same, and a
// comparison costs less than the builtin max, which orders NaN and the
// signed zeros (either zero gives the same shifted values).
func rowMax[T Float](x []T) T {
	m := x[0]
	for _, v := range x[1:] {
		if v > m {
			m = v
		}
	}
	return m
}

// softmaxRows writes softmax (or log-softmax) of each row of x into y.
func softmaxRows[T Float](y, x []T, cols int, log bool) {
	for i := 0; i < len(x); i += cols {
		xr, yr := x[i:i+cols], y[i:i+cols]
		m := rowMax(xr)
		var s float64
		for j, v := range xr {
			e := math.Exp(float64(v - m))
			if !log {
				yr[j] = T(e)
			}
			s += e
		}
		if log {
			lse := m + T(math.Log(s))
			for j, v := range xr {
				yr[j] = v - lse
			}
		} else {
			inv := T(1 / s)
			for j := range yr {
				yr[j] *= inv
			}
		}
	}
}

func (softmaxOp) Backward(tp *autodiff.Tape, r *autodiff.Record) {
	dx := tp.GradOf(r.In[0])
	cols, log := r.I[0], r.I[1] == 1
	if is32(dx) {
		softmaxBwd(dx.Float32s(), r.Out.Grad.Float32s(), r.Out.Value.Float32s(), cols, log)
	} else {
		softmaxBwd(dx.Float64s(), r.Out.Grad.Float64s(), r.Out.Value.Float64s(), cols, log)
	}
}

func softmaxBwd[T Float](dx, dy, y []T, cols int, log bool) {
	for i := 0; i < len(y); i += cols {
		g, yr, d := dy[i:i+cols], y[i:i+cols], dx[i:i+cols]
		var s T
		if log { // dx = dy − softmax·Σdy
			for _, v := range g {
				s += v
			}
			for j := range d {
				d[j] += g[j] - T(math.Exp(float64(yr[j])))*s
			}
			continue
		}
		for j, v := range g { // dx = y ⊙ (dy − Σ dy⊙y)
			s += v * yr[j]
		}
		for j := range d {
			d[j] += yr[j] * (g[j] - s)
		}
	}
}

type softmaxCEOp struct{}

func (softmaxCEOp) Name() string { return "nn.SoftmaxCrossEntropy" }

// SoftmaxCrossEntropy returns the mean over samples of the cross-entropy
// between softmax(logits) and target, computed from the logits with the
// log-sum-exp shift, so it is stable where log(softmax) would overflow.
// logits is (samples, classes). target is either (samples, classes) of
// class probabilities (one-hot or soft), or, when sparse is true, a
// (samples,) tensor of class indices. Its backward is the familiar
// (softmax − target)/samples. The gradient flows to logits only.
func SoftmaxCrossEntropy(tp *autodiff.Tape, logits *autodiff.Var, target *tensor.Tensor, sparse bool) *autodiff.Var {
	return WeightedSoftmaxCrossEntropy(tp, logits, target, nil, sparse)
}

// WeightedSoftmaxCrossEntropy is SoftmaxCrossEntropy with each sample's
// cross-entropy Lᵢ multiplied by w[i] (w is (samples,), in logits' dtype;
// nil weighs every sample 1). It returns Σᵢ wᵢ·Lᵢ / samples, Keras's
// "sum_over_batch_size" reduction: the divisor is the number of samples,
// not Σw, so a weight of 0 removes a sample's term without raising the
// others'. The backward is wᵢ·(softmax − target)/samples per row. The
// weights only scale: with every wᵢ = 1 the result and the gradient are
// bit for bit those of SoftmaxCrossEntropy.
func WeightedSoftmaxCrossEntropy(tp *autodiff.Tape, logits *autodiff.Var, target, w *tensor.Tensor, sparse bool) *autodiff.Var {
	const op = "nn.SoftmaxCrossEntropy"
	ls := logits.Shape()
	if len(ls) != 2 {
		tensor.Panicf(op, []tensor.Shape{ls, target.Shape()}, "want logits of shape (samples, classes)")
	}
	n, c := ls[0], ls[1]
	if target.DType() != logits.DType() {
		tensor.Panicf(op, []tensor.Shape{ls, target.Shape()}, "dtypes differ: %s and %s", logits.DType(), target.DType())
	}
	if w != nil && (w.Len() != n || w.DType() != logits.DType()) {
		tensor.Panicf(op, []tensor.Shape{ls, w.Shape()}, "want %d sample weights of dtype %s", n, logits.DType())
	}
	if sparse {
		if target.Len() != n {
			tensor.Panicf(op, []tensor.Shape{ls, target.Shape()}, "want %d class indices", n)
		}
		for i := range n {
			k := target.Index(i)
			if k < 0 || k >= float64(c) || k != math.Trunc(k) {
				tensor.Panicf(op, []tensor.Shape{ls, target.Shape()}, "label %g of sample %d is not a class index in [0, %d)", k, i, c)
			}
		}
	} else if !target.Shape().Equal(ls) {
		tensor.Panicf(op, []tensor.Shape{ls, target.Shape()}, "target shape must equal logits shape")
	}
	probs := tp.Alloc(logits.DType(), n, c)
	out := tp.Alloc(logits.DType())
	if is32(out) {
		out.Float32s()[0] = softmaxCE(probs.Float32s(), logits.Value.Float32s(), target.Float32s(), weights32(w), n, c, sparse)
	} else {
		out.Float64s()[0] = softmaxCE(probs.Float64s(), logits.Value.Float64s(), target.Float64s(), weights64(w), n, c, sparse)
	}
	return tp.Output(out, autodiff.Record{Op: softmaxCEOp{}, In: [4]*autodiff.Var{logits}, Aux: [4]*tensor.Tensor{probs, target, w}, I: [4]int{n, c, b2i(sparse)}})
}

// SoftmaxOf returns softmax(logits), bit for bit nn.Softmax's, when a
// softmax cross-entropy of logits on tp has computed it, and nil
// otherwise (a tape that records nothing, as under NoGrad, never has): a
// model's metrics take their predictions from the loss's work instead of
// a second pass of exponentials.
func SoftmaxOf(tp *autodiff.Tape, logits *autodiff.Var) *tensor.Tensor {
	recs := tp.Records()
	for i := len(recs) - 1; i >= 0; i-- {
		if r := &recs[i]; r.In[0] == logits {
			if _, ok := r.Op.(softmaxCEOp); ok {
				return r.Aux[0]
			}
		}
	}
	return nil
}

// weights32 and weights64 return w's elements, or nil for no weights.
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

// softmaxCE writes softmax(x) into p and returns Σᵢ wᵢ·Lᵢ / n (w nil: all 1).
func softmaxCE[T Float](p, x, t, w []T, n, c int, sparse bool) T {
	var total float64
	for i := range n {
		xr, pr := x[i*c:(i+1)*c], p[i*c:(i+1)*c]
		m := rowMax(xr)
		// One pass of exponentials for both the probabilities and the
		// log-sum-exp: the same sum, in the same order, as softmaxRows's.
		var s float64
		for j, v := range xr {
			e := math.Exp(float64(v - m))
			pr[j] = T(e)
			s += e
		}
		inv := T(1 / s)
		for j := range pr {
			pr[j] *= inv
		}
		lse := float64(m) + math.Log(s)
		var li float64
		if sparse {
			li = lse - float64(xr[int(t[i])])
		} else {
			tr := t[i*c : (i+1)*c]
			for j, tv := range tr { // −Σ t·(x − lse)
				if tv != 0 {
					li -= float64(tv) * (float64(xr[j]) - lse)
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

func (softmaxCEOp) Backward(tp *autodiff.Tape, r *autodiff.Record) {
	dx := tp.GradOf(r.In[0])
	n, c, sparse := r.I[0], r.I[1], r.I[2] == 1
	g := r.Out.Grad.Index(0)
	w := r.Aux[2]
	if is32(dx) {
		softmaxCEBwd(dx.Float32s(), r.Aux[0].Float32s(), r.Aux[1].Float32s(), weights32(w), n, c, sparse, float32(g))
	} else {
		softmaxCEBwd(dx.Float64s(), r.Aux[0].Float64s(), r.Aux[1].Float64s(), weights64(w), n, c, sparse, g)
	}
}

func softmaxCEBwd[T Float](dx, p, t, w []T, n, c int, sparse bool, g T) {
	s0 := g / T(n)
	for i := range n {
		s := s0
		if w != nil {
			s *= w[i]
		}
		pr, d := p[i*c:(i+1)*c], dx[i*c:(i+1)*c]
		if sparse {
			for j, v := range pr {
				d[j] += s * v
			}
			d[int(t[i])] -= s
			continue
		}
		tr := t[i*c : (i+1)*c]
		var ts T // Σt, 1 for a distribution; kept general
		for _, v := range tr {
			ts += v
		}
		for j, v := range pr {
			d[j] += s * (v*ts - tr[j])
		}
	}
}
