package monitor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/tensor"
)

// Recalibrate sets the moving statistics of every batch-normalization layer
// of m to the population statistics of its input over all of x: the exact
// mean and biased variance (unbiased for a layer with
// UnbiasedMovingVariance), accumulated in float64. Layers are done in
// order, each with the earlier ones already recalibrated, so that every
// layer's statistics are those of the input it will see at inference. x
// (uint8 too, as for Fit) is run in inference mode in batches of
// batchSize (0 means 256), which bounds memory; the result does not
// depend on it beyond rounding.
//
// This is the fix for moving averages that lag behind the weights or were
// estimated on few batches: after it, inference on x normalizes exactly as
// training on x as a single batch would. Frozen layers are left alone.
// Recalibrate must not run during Fit's steps (it is safe in OnTrainEnd).
func Recalibrate(ctx context.Context, m *model.Sequential, x *tensor.Tensor, batchSize int) (err error) {
	if m == nil {
		return errors.New("monitor: Recalibrate: model is nil")
	}
	if !m.Built() {
		return errors.New("monitor: Recalibrate: the model is not built (call Build or Fit first)")
	}
	if batchSize < 0 {
		return fmt.Errorf("monitor: Recalibrate: batch size %d must not be negative", batchSize)
	}
	if batchSize == 0 {
		batchSize = 256
	}
	if err := checkX("Recalibrate", m, x, 1); err != nil {
		return err
	}
	defer catchShape("Recalibrate", &err)
	tp := newTape()
	var outs []*autodiff.Var
	n := x.Dim(0)
	for i, l := range m.Layers {
		bn, ok := l.(layers.Normalizer)
		if !ok || !bn.BatchStatistics() {
			continue
		}
		var acc moments
		for lo := 0; lo < n; lo += batchSize {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("monitor: Recalibrate: %w (layers before %s are recalibrated, the rest are not)", err, bn.Name())
			}
			xb := x.Rows(lo, min(lo+batchSize, n)).As(m.DType) // a batch at a time: x may be large uint8 data
			in := xb
			if i > 0 {
				outs = forward(outs, m, tp, xb, i, false, false)
				in = outs[i-1].Value
			}
			acc.add(in)
		}
		mean, variance := acc.result(bn.Unbiased())
		movMean, movVar, _ := bn.Moving()
		for j := range mean {
			movMean.SetIndex(j, mean[j])
			movVar.SetIndex(j, variance[j])
		}
	}
	return nil
}

// moments accumulates per-feature counts, means and sums of squared
// deviations over batches (Chan, Golub and LeVeque's pairwise update), in
// float64, so that the result is exact to rounding however x is split.
type moments struct {
	n        float64
	mean, m2 []float64
	bmean    []float64
	bm2      []float64
}

// reset empties a for f features, keeping its buffers.
func (a *moments) reset(f int) {
	a.n = 0
	a.mean, a.m2 = zeroed(a.mean, f), zeroed(a.m2, f)
	a.bmean, a.bm2 = zeroed(a.bmean, f), zeroed(a.bm2, f)
}

// zeroed returns s resized to n zeros, reusing its array when it can.
func zeroed(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// add folds in t, whose last axis holds the features.
func (a *moments) add(t *tensor.Tensor) {
	f := t.Dim(t.Rank() - 1)
	rows := t.Len() / f
	if a.n == 0 {
		a.reset(f)
	}
	if x := t.Float32s(); x != nil {
		batchMoments(x, f, a.bmean, a.bm2)
	} else {
		batchMoments(t.Float64s(), f, a.bmean, a.bm2)
	}
	nb := float64(rows)
	tot := a.n + nb
	for j := range f {
		d := a.bmean[j] - a.mean[j]
		a.mean[j] += d * nb / tot
		a.m2[j] += a.bm2[j] + d*d*a.n*nb/tot
	}
	a.n = tot
}

// batchMoments sets mean and m2 (of f elements each) to the per-feature
// means and sums of squared deviations of the rows of x.
func batchMoments[T float32 | float64](x []T, f int, mean, m2 []float64) {
	mean, m2 = mean[:f], m2[:f]
	clear(mean)
	clear(m2)
	rows := len(x) / f
	for i := range rows {
		for j, v := range x[i*f : i*f+f] {
			mean[j] += float64(v)
		}
	}
	for j := range mean {
		mean[j] /= float64(rows)
	}
	for i := range rows {
		for j, v := range x[i*f : i*f+f] {
			d := float64(v) - mean[j]
			m2[j] += d * d
		}
	}
}

// result returns the means and the biased (or unbiased) variances.
func (a *moments) result(unbiased bool) (mean, variance []float64) {
	den := a.n
	if unbiased && a.n > 1 {
		den = a.n - 1
	}
	variance = make([]float64, len(a.m2))
	for j, s := range a.m2 {
		variance[j] = s / den
	}
	return a.mean, variance
}

// catchShape turns a *tensor.ShapeError panic into *err.
func catchShape(op string, err *error) {
	if r := recover(); r != nil {
		if se, ok := r.(*tensor.ShapeError); ok {
			*err = fmt.Errorf("monitor: %s: %w", op, se)
			return
		}
		panic(r)
	}
}

// Recalibrator is a callback that runs Recalibrate over X when Fit ends,
// and, given validation data, evaluates it before and after, so that one
// sees what the moving statistics cost. Before and After hold Evaluate's
// results ("loss" and each metric's name). When Output is set, a line
// reports the change. Fit calls OnTrainEnd only when training ends
// normally (not when a callback stops it or a loss is not finite).
type Recalibrator struct {
	model.BaseCallback

	// X is the training set (or a large sample of it).
	X *tensor.Tensor
	// ValX, ValY are validation data; both or neither.
	ValX, ValY *tensor.Tensor
	// BatchSize is Recalibrate's batch size and Evaluate's; 0 means 256.
	BatchSize int
	// Output receives the line reporting the change; nil is silent.
	Output io.Writer

	// Before and After are the validation results around recalibration.
	Before, After map[string]float64

	m *model.Sequential
}

// OnTrainBegin checks the data against m.
func (r *Recalibrator) OnTrainBegin(m *model.Sequential) error {
	if err := checkX("Recalibrator", m, r.X, 1); err != nil {
		return err
	}
	if (r.ValX == nil) != (r.ValY == nil) {
		return errors.New("monitor: Recalibrator: give both ValX and ValY, or neither")
	}
	if r.BatchSize < 0 {
		return fmt.Errorf("monitor: Recalibrator: batch size %d must not be negative", r.BatchSize)
	}
	r.m = m
	return nil
}

// OnTrainEnd recalibrates and evaluates.
func (r *Recalibrator) OnTrainEnd(model.Logs) error {
	ctx := context.Background()
	bs := r.BatchSize
	if bs == 0 {
		bs = 256
	}
	var err error
	if r.ValX != nil {
		if r.Before, err = r.m.Evaluate(ctx, r.ValX, r.ValY, model.EvalOptions{BatchSize: bs}); err != nil {
			return fmt.Errorf("monitor: Recalibrator: %w", err)
		}
	}
	if err := Recalibrate(ctx, r.m, r.X, bs); err != nil {
		return err
	}
	if r.ValX != nil {
		if r.After, err = r.m.Evaluate(ctx, r.ValX, r.ValY, model.EvalOptions{BatchSize: bs}); err != nil {
			return fmt.Errorf("monitor: Recalibrator: %w", err)
		}
	}
	if r.Output != nil {
		fmt.Fprint(r.Output, r.line())
	}
	return nil
}

func (r *Recalibrator) line() string {
	n := 0
	for _, l := range r.m.Layers {
		if bn, ok := l.(layers.Normalizer); ok && bn.BatchStatistics() {
			n++
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "monitor: recalibrated %d batch-norm layers over %d samples", n, r.X.Dim(0))
	keys := make([]string, 0, len(r.After))
	for k := range r.After {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		sep := "; validation "
		if i > 0 {
			sep = ", "
		}
		fmt.Fprintf(&b, "%s%s %.4f → %.4f", sep, k, r.Before[k], r.After[k])
	}
	b.WriteByte('\n')
	return b.String()
}
