package report

import (
	"fmt"
	"strconv"

	"github.com/myelin-go/myelin/layers"
	"github.com/myelin-go/myelin/model"
	"github.com/myelin-go/myelin/monitor"
	"github.com/myelin-go/myelin/tensor"
)

// Monitors watch a training run for a report: the training curves every
// few steps, the gradient health of every layer and, when the model has
// batch normalization, the batch-norm monitor and the percentiles of a
// hidden layer's activation input on a fixed batch of held-out samples.
// Pass Callbacks to Fit, then AddTo the Run to write.
//
//	ms := report.NewMonitors(m, xTest.Rows(0, 256), steps)
//	h, err := m.Fit(ctx, x, y, model.FitOptions{Callbacks: ms.Callbacks()})
//	run := report.Run{History: *h, Charts: report.HistoryCharts(*h)}
//	ms.AddTo(&run, m)
//	err = report.Write(dir, run)
type Monitors struct {
	Curves      *monitor.Curves
	Health      *monitor.Health
	BatchNorm   *monitor.BatchNorm   // nil without BatchNormalization layers
	Percentiles *monitor.Percentiles // nil without a hidden Dense layer

	within withinEpoch
}

// The monitors' settings, chosen so that together they cost under 5% of
// the founding model's step at batch 32 (monitor's BenchmarkFitOverhead,
// "report"). Health samples every healthEvery steps (a sample costs a copy
// and three norms of the weights). The batch-norm monitor runs up to
// bnHeldOut held-out samples through the model every bnEvery steps, and
// the percentile monitor the first pctHeldOut of them through the layers up
// to the last hidden one, pctPoints times over the run.
const (
	curvesEvery = 10
	healthEvery = 20
	bnHeldOut   = 256
	bnEvery     = 200
	pctHeldOut  = 128
	pctPoints   = 25
	pctUnits    = 3
)

// NewMonitors prepares the monitors for m. heldOut holds samples, one per
// row, that training never sees (test images); the batch-norm and
// percentile monitors use its first rows and are left out when it has
// fewer than two (they need a batch). steps is about how many steps
// training will take, to space the percentile records. An unbuilt m is
// built for heldOut's feature shape. Set Health.Output to print
// gradient-health flags as they happen.
func NewMonitors(m *model.Sequential, heldOut *tensor.Tensor, steps int) *Monitors {
	ms := &Monitors{Curves: &monitor.Curves{Every: curvesEvery}, Health: &monitor.Health{Every: healthEvery}}
	if heldOut == nil || heldOut.Dim(0) < 2 {
		return ms
	}
	if !m.Built() {
		// The percentile monitor needs the layers' output shapes; Fit
		// would build m from the same feature shape, and fails the same
		// way if it cannot.
		if err := m.Build(heldOut.Shape()[1:]...); err != nil {
			return ms
		}
	}
	held := heldOut.Rows(0, min(bnHeldOut, heldOut.Dim(0)))
	for _, l := range m.Layers {
		if _, ok := l.(layers.Normalizer); ok {
			ms.BatchNorm = &monitor.BatchNorm{X: held, Every: bnEvery}
			break
		}
	}
	// The input of the last hidden layer's activation: Figure 1(b, c) of
	// Ioffe and Szegedy, for this model.
	for i := len(m.Layers) - 2; i >= 0; i-- {
		if units, ok := activatedUnits(m, i); ok {
			tracked := make([]int, min(pctUnits, units))
			for u := range tracked {
				tracked[u] = u
			}
			ms.Percentiles = &monitor.Percentiles{X: held.Rows(0, min(pctHeldOut, held.Dim(0))), Layer: i,
				PreActivation: true, Units: tracked, Every: max(10, steps/pctPoints)}
			break
		}
	}
	return ms
}

// activatedUnits reports whether layer i of m has weights and ends in an
// activation (layers.Activated), so that the percentile monitor can read
// its activation's input, and its number of units (the output's last axis).
func activatedUnits(m *model.Sequential, i int) (int, bool) {
	a, ok := m.Layers[i].(layers.Activated)
	if !ok || len(a.Weights()) == 0 {
		return 0, false
	}
	s := m.LayerShape(i)
	if len(s) == 0 {
		return 0, false
	}
	return s[len(s)-1], true
}

// Callbacks returns the callbacks to pass to Fit.
func (ms *Monitors) Callbacks() []model.Callback {
	cbs := []model.Callback{ms.Curves, &ms.within, ms.Health}
	if ms.BatchNorm != nil {
		cbs = append(cbs, ms.BatchNorm)
	}
	if ms.Percentiles != nil {
		cbs = append(cbs, ms.Percentiles)
	}
	return cbs
}

// AddTo adds to run what the monitors recorded: the step logs and their
// charts, the gradient-health charts, table, notes and CSV data, and
// those of the batch-norm and percentile monitors when present. m is the
// model they watched, for its layer names.
func (ms *Monitors) AddTo(run *Run, m *model.Sequential) {
	for _, p := range ms.Curves.Points {
		if !p.EpochEnd {
			run.Steps = append(run.Steps, StepLog{Step: p.Step, Epoch: p.Epoch, Logs: p.Logs})
		}
	}
	for _, c := range StepCharts(ms.WindowMeans()) {
		c.Title = fmt.Sprintf("%s, mean of each %d steps", c.YLabel, every(ms.Curves.Every))
		run.Charts = append(run.Charts, c)
	}
	addHealth(run, ms.Health)
	if ms.BatchNorm != nil {
		addBatchNorm(run, ms.BatchNorm)
	}
	if ms.Percentiles != nil {
		addPercentiles(run, ms.Percentiles, m.Layers[ms.Percentiles.Layer].Name())
	}
}

// every is monitor.Curves's sampling period: 0 means 10.
func every(n int) int {
	if n <= 0 {
		return 10
	}
	return n
}

// withinEpoch remembers, for each step counted from 1 across epochs as
// the monitors count them, its place in its epoch, as Fit reports it.
type withinEpoch struct {
	model.BaseCallback
	step []int32 // step[i] is global step i+1's step in its epoch
}

func (w *withinEpoch) OnBatchEnd(_, step int, _ model.Logs) error {
	w.step = append(w.step, int32(step))
	return nil
}

// WindowMeans turns the running means that Curves records (since the start
// of each epoch, as Fit's logs hold them) into the mean over each window
// between two records: after n steps of an epoch n·M(n) is the sum so far,
// so the window (n1, n2] has mean (n2·M2 − n1·M1)/(n2 − n1). That is exact
// while batches have one size, that is for all but an epoch's last one.
// The running means restart at each epoch, so plotted as they are they
// jump at every epoch boundary.
func (ms *Monitors) WindowMeans() []StepLog {
	var out []StepLog
	var prev map[string]float64
	prevN, prevEpoch := 0, 0
	for _, p := range ms.Curves.Points {
		if p.EpochEnd || p.Step < 1 || p.Step > len(ms.within.step) {
			continue
		}
		n := int(ms.within.step[p.Step-1])
		if p.Epoch != prevEpoch || n <= prevN {
			prev, prevN, prevEpoch = nil, 0, p.Epoch
		}
		w := StepLog{Step: p.Step, Epoch: p.Epoch, Logs: map[string]float64{}}
		for k, v := range p.Logs {
			if pv, ok := prev[k]; ok {
				v = (float64(n)*v - float64(prevN)*pv) / float64(n-prevN)
			} else if prevN > 0 {
				continue // no running mean at the window's start
			}
			w.Logs[k] = v
		}
		out = append(out, w)
		prev, prevN = p.Logs, n
	}
	return out
}

// bySeries groups values per layer, in the order layers first appear.
type bySeries struct {
	order []string
	s     map[string]*Series
}

func (b *bySeries) add(layer string, x, y float64) {
	if b.s == nil {
		b.s = map[string]*Series{}
	}
	s, ok := b.s[layer]
	if !ok {
		s = &Series{Name: layer}
		b.s[layer] = s
		b.order = append(b.order, layer)
	}
	s.X, s.Y = append(s.X, x), append(s.Y, y)
}

func (b *bySeries) series() []Series {
	out := make([]Series, 0, len(b.order))
	for _, k := range b.order {
		out = append(out, *b.s[k])
	}
	return out
}

// num is a number for reading; raw64 one that reads back exactly.
func num(v float64) string   { return strconv.FormatFloat(v, 'g', 4, 64) }
func raw64(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
