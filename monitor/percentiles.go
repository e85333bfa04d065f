package monitor

import (
	"fmt"
	"slices"

	"github.com/myelin-go/myelin/autodiff"
	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/tensor"
)

// DefaultQs are the quantiles Percentiles tracks by default: the 15th, 50th
// and 85th percentiles of Ioffe and Szegedy's Figure 1(b, c).
var DefaultQs = []float64{0.15, 0.5, 0.85}

// Percentiles records, as training goes, quantiles of chosen units of one
// layer's output over a fixed held-out batch X — with PreActivation on a
// Dense layer, of its activation's input. It is the quantity plotted in
// Ioffe and Szegedy's Figure 1(b, c): how the input distribution of a
// sigmoid moves during training, with and without batch normalization.
//
// Quantiles interpolate linearly between order statistics, as NumPy's
// percentile does by default: q-th quantile = x[⌊h⌋] + (h−⌊h⌋)(x[⌊h⌋+1]−x[⌊h⌋])
// of the sorted values, h = (n−1)q.
//
// X runs through the layers in training mode without dropout: batch
// normalization uses X's own statistics, as it does on every training batch,
// so the record shows the distribution the layer meets while it trains and
// does not lag behind by the moving averages' window. Set Inference to use
// the moving statistics instead (what the trained network computes at test
// time). Either way the model is left unchanged.
//
// It records once before the first step (Step 0) and then at every Every-th
// step. Each record costs a forward pass of X through the layers up to
// Layer, so keep X to a few hundred or thousand samples.
type Percentiles struct {
	model.BaseCallback

	// X is the held-out batch, shaped like the model's input; it needs at
	// least two samples when the layers before Layer include batch
	// normalization.
	X *tensor.Tensor
	// Layer is the index in the model's Layers whose output is tracked.
	Layer int
	// PreActivation, when m.Layers[Layer] is Dense, tracks x·Kernel + Bias,
	// the input of its activation, so that Dense(100, sigmoid) need not be
	// split into Dense(100) and Activation(sigmoid); it does the same for
	// any layer with weights that ends in an activation (layers.Activated).
	PreActivation bool
	// Inference normalizes with the moving statistics instead of X's own.
	Inference bool
	// Units are indices of the output's last axis; nil means all of them.
	Units []int
	// Qs are the quantiles in [0, 1]; nil means DefaultQs.
	Qs []float64
	// Every is the sampling period in steps; 0 means 100.
	Every int

	// Records holds one entry per unit per sampled step, in step order and,
	// within a step, in the order of Units.
	Records []PercentileRecord

	m     *model.Sequential
	x     *tensor.Tensor
	tp    *autodiff.Tape
	outs  []*autodiff.Var
	col   []float64
	step  int
	every int
}

// PercentileRecord is the quantiles of one unit at one step.
type PercentileRecord struct {
	Step   int       // global step, counted from 1 across epochs and Fit calls; 0 is before training
	Unit   int       // index in the layer's output
	Values []float64 // one per quantile of Qs, in Qs's order
}

// OnTrainBegin checks the configuration against m and, on the first Fit,
// records Step 0.
func (p *Percentiles) OnTrainBegin(m *model.Sequential) error {
	if p.Layer < 0 || p.Layer >= len(m.Layers) {
		return fmt.Errorf("monitor: Percentiles: layer index %d outside the model's %d layers", p.Layer, len(m.Layers))
	}
	if p.PreActivation {
		// A layer that is only an activation has as pre-activation its
		// input, the layer before's output: track that layer instead.
		l := m.Layers[p.Layer]
		if a, ok := l.(layers.Activated); !ok || len(a.Weights()) == 0 {
			return fmt.Errorf("monitor: Percentiles: PreActivation needs a Dense layer (or another layers.Activated with weights), but layer %d (%s) is %s", p.Layer, l.Name(), l.Type())
		}
	}
	x, err := checkBatch("Percentiles", m, p.X, 2)
	if err != nil {
		return err
	}
	if p.Qs == nil {
		p.Qs = slices.Clone(DefaultQs)
	}
	if len(p.Qs) == 0 {
		return fmt.Errorf("monitor: Percentiles: Qs is empty")
	}
	for _, q := range p.Qs {
		if !(q >= 0 && q <= 1) {
			return fmt.Errorf("monitor: Percentiles: quantile %g outside [0, 1]", q)
		}
	}
	p.m, p.x, p.every = m, x, every(p.Every, 100)
	if p.tp == nil {
		p.tp = newTape()
	}
	out := p.output()
	// Units are the last axis; an image layer's (samples, h, w, channels)
	// output counts every pixel of every sample as a value of its channel.
	if out.Rank() < 2 {
		return fmt.Errorf("monitor: Percentiles: layer %d (%s) outputs shape %s; want (samples, ..., units)", p.Layer, m.Layers[p.Layer].Name(), out.Shape())
	}
	units := out.Dim(out.Rank() - 1)
	if p.Units == nil {
		p.Units = make([]int, units)
		for i := range p.Units {
			p.Units[i] = i
		}
	}
	for _, u := range p.Units {
		if u < 0 || u >= units {
			return fmt.Errorf("monitor: Percentiles: unit %d outside layer %d's %d units", u, p.Layer, units)
		}
	}
	if p.step == 0 {
		p.record(out)
	}
	return nil
}

// OnBatchEnd records on sampled steps.
func (p *Percentiles) OnBatchEnd(_, _ int, _ model.Logs) error {
	p.step++
	if p.step%p.every == 0 {
		p.record(p.output())
	}
	return nil
}

// Series returns the steps recorded for unit and, for each quantile of Qs,
// its values at those steps: bands[k][i] is quantile Qs[k] at steps[i].
func (p *Percentiles) Series(unit int) (steps []int, bands [][]float64) {
	bands = make([][]float64, len(p.Qs))
	for _, r := range p.Records {
		if r.Unit != unit {
			continue
		}
		steps = append(steps, r.Step)
		for k, v := range r.Values {
			if k < len(bands) {
				bands[k] = append(bands[k], v)
			}
		}
	}
	return steps, bands
}

// Reset forgets the records and restarts the step count, so that the next
// Fit records Step 0 again.
func (p *Percentiles) Reset() {
	p.Records = p.Records[:0]
	p.step = 0
}

// output runs X up to the tracked layer and returns its output.
func (p *Percentiles) output() *tensor.Tensor {
	p.tp.NoGrad = true
	p.outs = forward(p.outs, p.m, p.tp, p.x, p.Layer+1, !p.Inference, p.PreActivation)
	return p.outs[p.Layer].Value
}

func (p *Percentiles) record(out *tensor.Tensor) {
	units := out.Dim(out.Rank() - 1)
	n := out.Len() / max(units, 1)
	if cap(p.col) < n {
		p.col = make([]float64, n)
	}
	col := p.col[:n]
	for _, u := range p.Units {
		for i := range n {
			col[i] = out.Index(i*units + u)
		}
		slices.Sort(col)
		vals := make([]float64, len(p.Qs))
		for k, q := range p.Qs {
			vals[k] = quantile(col, q)
		}
		p.Records = append(p.Records, PercentileRecord{Step: p.step, Unit: u, Values: vals})
	}
}
