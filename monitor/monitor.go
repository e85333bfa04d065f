// Package monitor watches a model while it trains: callbacks for Fit that
// record what batch normalization is said to fix, so that a user can see it.
//
//   - Health records, per layer, the gradient norm, the weight norm, the
//     update-to-weight ratio and the fraction of dead ReLU units, and flags
//     vanishing and exploding gradients (thresholds and their reasons are in
//     its doc); Summary tells the story at the end.
//   - BatchNorm records, per BatchNormalization layer, how far the moving
//     statistics are from a held-out batch's, the gap between
//     training-mode and inference-mode outputs on that batch, and the norms
//     of gamma and beta.
//   - Recalibrate recomputes the moving statistics of every batch-norm layer
//     over a dataset; Recalibrator does it at the end of Fit and reports
//     what it changed in validation metrics.
//   - Percentiles records chosen quantiles of chosen units' inputs over a
//     fixed held-out batch: the quantity of Ioffe and Szegedy's Figure 1(b, c).
//   - Curves records the running training metrics every few steps, for plots
//     finer than one point per epoch.
//
// Every callback counts steps globally from 1, across epochs and across
// later Fit calls with the same callback (so a run trained in chunks reads
// as one), and samples every Every steps, so its cost can be traded for
// resolution; Reset starts a callback over. Those that run a held-out batch
// (Percentiles, BatchNorm) also record Step 0, before the first step. They
// never change the model: their training-mode passes skip dropout and
// commit no batch statistics, so a run is bit-identical with or without
// them. None is attached by default: the bare API pays nothing for them.
//
// Records are plain structs in exported slices, read directly by plots and
// reports.
package monitor

import (
	"fmt"
	"math"
	"strings"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/internal/kernel"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/tensor"
)

// sumSq returns the sum of squares of t's elements, accumulated in float64.
func sumSq(t *tensor.Tensor) float64 {
	if f := t.Float32s(); f != nil {
		return kernel.SumSq(f)
	}
	return sumSqOf(t.Float64s())
}

// updateSums returns, in one pass, the sums of squares of w, of w − prev
// and of prev.
func updateSums(w, prev *tensor.Tensor) (w2, d2, p2 float64) {
	if fw := w.Float32s(); fw != nil {
		return kernel.UpdateSums(fw, prev.Float32s())
	}
	return updateSumsOf(w.Float64s(), prev.Float64s())
}

// sumSqOf and updateSumsOf, for float64 tensors, keep several sums: one
// sum is a chain of dependent additions, bound by the adder's latency.
// float32 tensors go to the kernel package's vector versions.
func sumSqOf(x []float64) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		a, b, c, d := x[i], x[i+1], x[i+2], x[i+3]
		s0 += a * a
		s1 += b * b
		s2 += c * c
		s3 += d * d
	}
	for ; i < len(x); i++ {
		a := x[i]
		s0 += a * a
	}
	return (s0 + s1) + (s2 + s3)
}

func updateSumsOf(w, prev []float64) (w2, d2, p2 float64) {
	prev = prev[:len(w)]
	var w0, w1, d0, d1, p0, p1 float64
	i := 0
	for ; i+2 <= len(w); i += 2 {
		a, b := w[i], w[i+1]
		c, d := prev[i], prev[i+1]
		w0 += a * a
		w1 += b * b
		d0 += (a - c) * (a - c)
		d1 += (b - d) * (b - d)
		p0 += c * c
		p1 += d * d
	}
	for ; i < len(w); i++ {
		a, c := w[i], prev[i]
		w0 += a * a
		d0 += (a - c) * (a - c)
		p0 += c * c
	}
	return w0 + w1, d0 + d1, p0 + p1
}

// quantile returns the q-th quantile (q in [0, 1]) of sorted, interpolating
// linearly between order statistics as NumPy's default does.
func quantile(sorted []float64, q float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	pos := q * float64(n-1)
	lo := int(math.Floor(pos))
	if lo >= n-1 {
		return sorted[n-1]
	}
	f := pos - float64(lo)
	return sorted[lo] + f*(sorted[lo+1]-sorted[lo])
}

// forward runs x through m's first upto layers on tp, by the model's own
// walk, and returns each layer's output, appended to dst[:0]. In training
// mode batch normalization uses the batch's own statistics, but the Pass
// has no random source, so dropout acts as at inference, and nothing is
// committed: the model is left exactly as it was. With preact, a last layer
// that ends in an activation (layers.Activated) returns its input.
func forward(dst []*autodiff.Var, m *model.Sequential, tp *autodiff.Tape, x *tensor.Tensor, upto int, training, preact bool) []*autodiff.Var {
	tp.Reset()
	dst = dst[:0]
	if upto <= 0 {
		return dst
	}
	p := layers.Pass{Tape: tp, Training: training}
	m.Forward(&p, tp.Const(x), model.Walk{Upto: upto, PreActivation: preact, Outputs: &dst})
	if training {
		discard(m)
	}
	return dst
}

// discard drops the batch statistics that a training-mode pass left
// pending in m's stateful layers, so that nothing is committed.
func discard(m *model.Sequential) {
	for _, l := range m.Layers {
		if s, ok := l.(layers.Stateful); ok {
			s.Discard()
		}
	}
}

// checkBatch validates a held-out batch given to callback what of model m
// and returns it in m's dtype (a uint8 X converted).
func checkBatch(what string, m *model.Sequential, x *tensor.Tensor, minRows int) (*tensor.Tensor, error) {
	if err := checkX(what, m, x, minRows); err != nil {
		return nil, err
	}
	return x.As(m.DType), nil
}

// checkX is checkBatch without the conversion, for data converted a batch
// at a time.
func checkX(what string, m *model.Sequential, x *tensor.Tensor, minRows int) error {
	if x == nil {
		return fmt.Errorf("monitor: %s: X is nil", what)
	}
	if x.Rank() < 2 || !x.Shape()[1:].Equal(m.InputShape()) {
		return fmt.Errorf("monitor: %s: X has shape %s; the model takes (samples, %s)", what, x.Shape(), strings.Trim(m.InputShape().String(), "(,)"))
	}
	if x.Dim(0) < minRows {
		return fmt.Errorf("monitor: %s: X has %d samples; want at least %d", what, x.Dim(0), minRows)
	}
	if !x.AllFinite() {
		return fmt.Errorf("monitor: %s: X holds NaN or infinite values", what)
	}
	return nil
}

// newTape returns a tape that records nothing, for inference passes.
func newTape() *autodiff.Tape {
	tp := autodiff.NewTape()
	tp.NoGrad = true
	return tp
}

// every returns n, or def when n is not positive.
func every(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}

// diffSumSq returns the sum of squares of a − b.
func diffSumSq(a, b *tensor.Tensor) float64 {
	_, d2, _ := updateSums(a, b)
	return d2
}
